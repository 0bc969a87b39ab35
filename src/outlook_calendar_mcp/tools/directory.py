"""Who and when: get_mailbox_settings (time zone, working hours, the local time now) and find_people."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from .. import timezones as tz
from ..calendar import Services
from ..calendar.people import find_people as find_people_in
from ..views import Compact
from .common import READ_ONLY, Mailbox, Toolbox, tool
from .policy import Policy


class WorkingHours(Compact):
    days: list[str]
    start: str
    end: str
    time_zone: str


class MailboxSettings(Compact):
    time_zone: str = Field(description="IANA name")
    windows_time_zone: str | None = None
    now: str = Field(description="Current local time with offset")
    today: str
    weekday: str
    working_hours: WorkingHours | None = None
    date_format: str | None = None
    time_format: str | None = None


class Person(Compact):
    name: str
    email: str
    job_title: str | None = None
    office: str | None = None
    kind: str | None = Field(None, description="room, external (outside guest) or contact; absent: a colleague")


class People(Compact):
    people: list[Person]


def register(box: Toolbox, svc: Services, enabled: Policy | None = None) -> None:
    """Add this module's tools to ``box``."""

    @tool(box, READ_ONLY, enabled=enabled, name="get_mailbox_settings")
    async def get_mailbox_settings(mailbox: Mailbox = None) -> MailboxSettings:
        """Use once to learn the user's time zone and working hours (results about now carry the local time). Returns them."""
        doc = await svc.mailbox_settings(mailbox)  # read once per session
        name = doc.get("timeZone") or "UTC"
        zone = tz.resolve(name)
        now = svc.clock.now(zone)
        hours = doc.get("workingHours") or {}
        wh = None
        if hours:
            wh = WorkingHours(
                days=hours.get("daysOfWeek") or [],
                start=(hours.get("startTime") or "")[:5],
                end=(hours.get("endTime") or "")[:5],
                time_zone=tz.iana_name((hours.get("timeZone") or {}).get("name") or name),
            )
        return MailboxSettings(
            time_zone=tz.iana_name(name),
            windows_time_zone=tz.windows_name(name),
            now=tz.format_local(now, zone),
            today=now.date().isoformat(),
            weekday=now.strftime("%A"),
            working_hours=wh,
            date_format=doc.get("dateFormat"),
            time_format=doc.get("timeFormat"),
        )

    @tool(box, READ_ONLY, enabled=enabled, name="find_people")
    async def find_people(
        query: Annotated[str, Field(min_length=1, description="A name or part of one, or an address")],
        max_results: Annotated[int, Field(ge=1, le=50, strict=True)] = 10,
    ) -> People:
        """Use to turn a name into an email address: colleagues, rooms, and outside people the user meets. Returns matches, most relevant first."""
        found = await find_people_in(svc, query, max_results)
        return People(people=[Person(**p) for p in found])
