"""Reminder tools: list_reminders, snooze_reminder, dismiss_reminder.

A reminder belongs to one event instance (an occurrence of a series has its own); its handle (rem_...)
stands for that instance's id, so an event handle (ev_...) works wherever a reminder is asked for.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from .. import timezones as tz
from ..calendar import Services
from ..calendar.reminders import dismiss, event_of, reminders_in, snooze
from ..views import Compact, local_time
from .common import READ_ONLY, Mailbox, TimeZoneArg, Toolbox, tool, writes
from .policy import Policy

ReminderRef = Annotated[str, Field(description="Reminder handle, or the event's handle or id")]


class Reminder(Compact):
    handle: str
    event: str
    subject: str
    start: str
    end: str
    location: str | None = None
    fires_at: str


class ReminderList(Compact):
    time_zone: str
    now: str | None = None  # the local time now, when the window starts from it
    reminders: list[Reminder]


class ReminderChanged(Compact):
    reminder: str
    event: str
    snoozed_until: str | None = None
    now: str | None = None  # the local time now, when the snooze was counted from it
    dismissed: bool | None = None


def register(box: Toolbox, svc: Services, enabled: Policy | None = None) -> None:
    """Add this module's tools to ``box``."""

    @tool(box, READ_ONLY, enabled=enabled, name="list_reminders")
    async def list_reminders(
        start: Annotated[str | None, Field(description="ISO 8601; default now")] = None,
        end: Annotated[str | None, Field(description="ISO 8601; default start + 24 h")] = None,
        mailbox: Mailbox = None,
        time_zone: TimeZoneArg = None,
    ) -> ReminderList:
        """Use to see which event reminders go off between two times. Returns reminders by fire time."""
        zone_name, zone = await svc.zone(mailbox, time_zone)
        reminders = []
        found = await reminders_in(svc, mailbox, zone_name, zone, start, end)
        await svc.handles.mint((kind, r["eventId"]) for r in found for kind in ("reminder", "event"))
        for r in found:
            reminders.append(
                Reminder(
                    handle=svc.handles.handle("reminder", r["eventId"]),
                    event=svc.handles.handle("event", r["eventId"]),
                    subject=r.get("eventSubject") or "(no subject)",
                    start=local_time(r.get("eventStartTime"), zone, False),
                    end=local_time(r.get("eventEndTime"), zone, False),
                    location=(r.get("eventLocation") or {}).get("displayName") or None,
                    fires_at=local_time(r.get("reminderFireTime"), zone, False),
                )
            )
        now = svc.now_text(zone) if start is None else None
        return ReminderList(time_zone=tz.iana_name(zone_name), now=now, reminders=reminders)

    @tool(box, writes(destructive=False, idempotent=True), enabled=enabled, name="snooze_reminder")
    async def snooze_reminder(
        reminder: ReminderRef,
        until: Annotated[str, Field(description="ISO 8601, or from now: '10m', '1h'")],
        mailbox: Mailbox = None,
        time_zone: TimeZoneArg = None,
    ) -> ReminderChanged:
        """Use to postpone an event's reminder to a later time or by some minutes. Returns the new reminder time."""
        event_id = event_of(svc, reminder)
        zone_name, zone = await svc.zone(mailbox, time_zone)
        moment, relative = await snooze(svc, mailbox, event_id, until, zone_name, zone)
        return ReminderChanged(
            reminder=await svc.handles.minted("reminder", event_id),
            event=await svc.handles.minted("event", event_id),
            snoozed_until=tz.format_local(moment, zone),
            now=svc.now_text(zone) if relative else None,
        )

    @tool(box, writes(destructive=False, idempotent=True), enabled=enabled, name="dismiss_reminder")
    async def dismiss_reminder(reminder: ReminderRef, mailbox: Mailbox = None) -> ReminderChanged:
        """Use to dismiss an event's reminder (an occurrence's alone). Returns what was dismissed."""
        event_id = event_of(svc, reminder)
        await dismiss(svc, mailbox, event_id)
        return ReminderChanged(
            reminder=await svc.handles.minted("reminder", event_id),
            event=await svc.handles.minted("event", event_id),
            dismissed=True,
        )
