"""What a scenario file may say: pydantic models, the source of the published JSON Schema.

A scenario declares an organization (people with their zone and working hours, room lists and rooms,
personal contacts, Microsoft 365 groups, calendar sharing) and its calendars: events on days relative to a chosen day
(:class:`Anchor`), series with moved and cancelled occurrences, meetings with their attendees' answers,
all-day and out-of-office items. ``scenario.schema.json`` beside this file is
``Scenario.model_json_schema()`` (``python -m outlook_calendar_mcp.sandbox.scenarios --schema``); a test
keeps the two equal.

Days (:data:`Day`): a number of days from the anchor (``0``, ``-27``), a weekday of the anchor's week
(Monday to Sunday: ``tuesday``), ``next tuesday`` / ``last tuesday`` (a week later or earlier), the
``4th thursday of november`` of the anchor's year, or a date (``2027-03-15``). Times are ``"HH:MM"``
(in quotes: YAML reads an unquoted 10:00 as the number 600).
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, PrivateAttr

from ... import timezones as tz

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
MONTHS = (
    "january",
    "february",
    "march",
    "april",
    "may",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
)
ORDINALS = {"1st": 1, "2nd": 2, "3rd": 3, "4th": 4, "5th": 5, "last": -1}
_WEEKDAY = "|".join(WEEKDAYS)
DAY_RE = re.compile(
    rf"^(?:(?P<rel>next|last)\s+)?(?P<wd>{_WEEKDAY})$"
    rf"|^(?P<ord>1st|2nd|3rd|4th|5th|last)\s+(?P<owd>{_WEEKDAY})\s+of\s+(?P<month>{'|'.join(MONTHS)})$"
    r"|^(?P<date>\d{4}-\d{2}-\d{2})$"
)
TIME_RE = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")
ALIAS_RE = r"^[a-z0-9][a-z0-9._-]*$"


def _time(value: Any) -> Any:
    if isinstance(value, int) and not isinstance(value, bool):
        raise ValueError("write the time in quotes, e.g. '10:00' (YAML reads an unquoted 10:00 as the number 600)")
    if isinstance(value, str) and not TIME_RE.match(value):
        raise ValueError(f"'{value}' is not a time: use 24-hour 'HH:MM', e.g. '09:30' or '14:00'")
    return value


def day_spec(value: Any) -> Any:
    """A day as the model accepts it (normalised text or a number); ValueError says what a day looks like."""
    if isinstance(value, bool):
        raise ValueError("a day is a number of days from the anchor, a weekday, or a date")
    if isinstance(value, dt.date):  # YAML reads an unquoted 2027-03-15 as a date
        return value.isoformat()
    if isinstance(value, str):
        text = " ".join(value.lower().split())
        m = DAY_RE.match(text)
        if m is None:
            raise ValueError(
                f"'{value}' is not a day: use a number of days from the anchor (0, -7), a weekday ('tuesday', "
                "'next tuesday', 'last friday'), '4th thursday of november', or a date ('2027-03-15')"
            )
        if m["date"]:
            dt.date.fromisoformat(m["date"])  # ValueError names a bad date
        return text
    return value


def _zone(value: str) -> str:
    tz.resolve(value)  # TimeZoneError (a ValueError) says how to fix it
    return value


Time = Annotated[str, BeforeValidator(_time), Field(description="24-hour wall time 'HH:MM', in quotes")]
Day = Annotated[
    int | str,
    BeforeValidator(day_spec),
    Field(
        description="days from the anchor (0, -27), a weekday of the anchor's week ('tuesday', 'next tuesday', "
        "'last friday'), '4th thursday of november' (the anchor's year) or a date '2027-03-15'"
    ),
]
Zone = Annotated[str, AfterValidator(_zone), Field(description="Windows or IANA time zone name")]
Alias = Annotated[str, Field(pattern=ALIAS_RE, description="the mailbox's alias: its address is alias@domain")]
Weekday = Literal["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]
Response = Literal["none", "accepted", "tentativelyAccepted", "declined"]
ShowAs = Literal["free", "tentative", "busy", "oof", "workingElsewhere", "unknown"]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


WORKWEEK: list[Weekday] = ["monday", "tuesday", "wednesday", "thursday", "friday"]


class WorkingHours(Strict):
    start: Time
    end: Time
    days: list[Weekday] = Field(default_factory=lambda: list(WORKWEEK))


class Contact(Strict):
    """A personal contact in the person's Contacts folder (someone outside the scenario's directory, usually)."""

    name: str = Field(description="display name, 'Given Surname'")
    address: str = Field(pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$", description="their email address")
    company: str | None = None
    title: str | None = Field(None, description="job title")
    phone: str | None = Field(None, description="mobile phone")
    notes: str | None = None


class Person(Strict):
    alias: Alias
    name: str = Field(description="display name, 'Given Surname'")
    title: str | None = None
    department: str | None = None
    office: str | None = None
    phone: str | None = None
    zone: Zone
    working_hours: WorkingHours
    contacts: list[Contact] = Field(default_factory=list, description="their personal contacts")


class PostalAddress(Strict):
    street: str
    city: str
    state: str | None = None
    country: str
    postal_code: str | None = None


class RoomList(Strict):
    alias: Alias
    name: str
    building: str
    zone: Zone = "Pacific Standard Time"
    address: PostalAddress | None = None
    latitude: float | None = None
    longitude: float | None = None


class Room(Strict):
    alias: Alias
    name: str
    room_list: Alias = Field(description="alias of its room list")
    capacity: int = Field(ge=1)
    floor: int
    device: str | None = Field(None, description="display device name; a room with one has Teams audio and video")
    wheelchair: bool = False
    working_hours: WorkingHours = WorkingHours(start="07:00", end="19:00")


class Group(Strict):
    alias: Alias
    name: str
    visibility: Literal["Public", "Private"] = "Public"
    members: list[Alias]
    description: str | None = None


class Share(Strict):
    owner: Alias = Field(description="whose primary calendar is shared")
    grantee: Alias = Field(alias="with", description="who gets the role")
    role: Literal["freeBusyRead", "limitedRead", "read", "write", "delegateWithoutPrivateEventAccess"]


class Attendee(Strict):
    alias: Alias | None = Field(None, description="a person or room of the scenario")
    address: str | None = Field(None, description="someone outside the scenario's organization")
    name: str | None = None
    type: Literal["required", "optional"] = "required"


class Proposal(Strict):
    day: Day
    start: Time
    end: Time


class Reply(Strict):
    response: Response
    proposed: Proposal | None = Field(None, description="a new time proposed to the organizer")


class Recurrence(Strict):
    type: Literal["daily", "weekly", "absoluteMonthly", "relativeMonthly", "absoluteYearly", "relativeYearly"]
    interval: int = Field(1, ge=1)
    days: list[Weekday] | None = Field(None, description="daysOfWeek (weekly, relative patterns)")
    first_day_of_week: Weekday | None = None
    day_of_month: int | None = Field(None, ge=1, le=31)
    month: int | None = Field(None, ge=1, le=12)
    index: Literal["first", "second", "third", "fourth", "last"] | None = None
    until: Day | None = Field(None, description="the last day (endDate); none and no count: no end")
    count: int | None = Field(None, ge=1, description="numberOfOccurrences")


class Change(Strict):
    """One occurrence of a series changed: moved (another day or time), renamed, re-described."""

    occurrence: Day = Field(description="the day the occurrence falls on in the series")
    day: Day | None = Field(None, description="the day it moves to (default: the same)")
    start: Time | None = None
    end: Time | None = None
    subject: str | None = None
    body: str | None = None
    location: str | None = None


class Event(Strict):
    calendar: Alias = Field(description="the organizer: a person's or a group's alias")
    subject: str
    day: Day
    start: Time | None = Field(None, description="required unless all_day")
    end: Time | None = None
    all_day: bool = False
    days: int = Field(1, ge=1, description="an all-day event's length in days")
    zone: Zone | None = Field(None, description="default: the organizer's time zone")
    show_as: ShowAs | None = None
    sensitivity: Literal["normal", "personal", "private", "confidential"] | None = None
    importance: Literal["low", "normal", "high"] | None = None
    categories: list[str] = Field(default_factory=list)
    body: str | None = None
    body_type: Literal["text", "html"] = "text"
    location: str | None = None
    room: Alias | None = Field(None, description="a room: invited, and the location")
    online: bool = False
    reminder: bool | None = None
    attendees: list[Alias | Attendee] = Field(default_factory=list)
    optional: list[Alias] = Field(default_factory=list, description="optional attendees")
    responses: dict[str, Response | Reply] = Field(
        default_factory=dict, description="attendee alias -> their answer (default: none yet)"
    )
    recurrence: Recurrence | None = None
    exceptions: list[Change] = Field(default_factory=list)
    cancelled: list[Day] = Field(default_factory=list, description="occurrences deleted from the series")


class Anchor(Strict):
    day: Literal["this-week", "today"] | dt.date = Field(
        "this-week",
        description="this-week: Monday of today's work week (next week's at the weekend); today; or a date",
    )
    zone: Zone = Field("UTC", description="the zone whose 'today' the anchor is")


class Scenario(Strict):
    schema_: str | None = Field(None, alias="$schema")
    name: str
    description: str | None = None
    domain: str = Field(pattern=r"^[a-z0-9-]+(\.[a-z0-9-]+)+$")
    anchor: Anchor = Anchor()
    people: list[Person] = Field(min_length=1)
    room_lists: list[RoomList] = Field(default_factory=list)
    rooms: list[Room] = Field(default_factory=list)
    groups: list[Group] = Field(default_factory=list)
    shares: list[Share] = Field(default_factory=list)
    events: list[Event] = Field(default_factory=list)
    # Where it came from (a file name) and the line of each field, for errors found while seeding.
    _source: str = PrivateAttr("<scenario>")
    _lines: dict[tuple[str | int, ...], int] = PrivateAttr(default_factory=dict)

    def locate(self, source: str, lines: dict[tuple[str | int, ...], int]) -> Scenario:
        """Remember the file and the line of each field (the loader's map), for errors found later."""
        self._source, self._lines = source, lines
        return self

    @property
    def source(self) -> str:
        return self._source

    @property
    def lines(self) -> dict[tuple[str | int, ...], int]:
        return self._lines
