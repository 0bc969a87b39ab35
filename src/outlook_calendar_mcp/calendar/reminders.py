"""Event reminders: which go off in a window (reminderView), snoozing one to a later time, dismissing one.

A reminder belongs to one event instance (an occurrence of a series has its own): it is named by that
instance's id, so a reminder handle (rem_...) and an event handle (ev_...) both work.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any
from urllib.parse import quote
from zoneinfo import ZoneInfo

from .. import timezones as tz
from .errors import InputError
from .people import parse_duration
from .services import Services
from .times import parse_time, window

__all__ = ["dismiss", "event_of", "reminders_in", "snooze"]


def event_of(svc: Services, reminder: str) -> str:
    """The Graph id of the event instance a reminder (or event) handle names."""
    value = (reminder or "").strip()
    kind = "reminder" if value.startswith("rem_") else "event"
    return svc.handles.resolve(kind, value, argument="reminder")


def _action(svc: Services, mailbox: str | None, event_id: str, action: str) -> str:
    return f"{svc.mb(mailbox)}/events/{quote(event_id, safe='')}/{action}"


async def reminders_in(
    svc: Services, mailbox: str | None, zone_name: str, zone: ZoneInfo, start: str | None, end: str | None
) -> list[dict[str, Any]]:
    """The reminders of events in ``start``..``end`` (default: now, and 24 hours after the start)."""
    begin = parse_time(start, zone, "start") if start else svc.clock.now(zone).replace(microsecond=0)
    start = begin.isoformat()
    end = end or (begin + dt.timedelta(hours=24)).isoformat()
    window_start, window_end = window(start, end, zone)
    data = await svc.graph.get(
        f"{svc.mb(mailbox)}/reminderView(startDateTime='{window_start}',endDateTime='{window_end}')",
        prefer=svc.prefer(zone_name),
    )
    found: list[dict[str, Any]] = (data or {}).get("value") or []
    return found


_RELATIVE = re.compile(
    r"^\s*\+?\s*(\d+(?:\.\d+)?\s*(h|hr|hrs|hour|hours|m|min|mins|minute|minutes)|PT[\dHMS.]+)\s*$", re.I
)


async def snooze(
    svc: Services, mailbox: str | None, event_id: str, until: str, zone_name: str, zone: ZoneInfo
) -> tuple[dt.datetime, bool]:
    """Make the reminder go off again at ``until``: a time (in the future, on the server's clock), or a
    length of time from now ("10m", "1h", "PT15M"). That instant, and whether it was counted from now."""
    now = svc.clock.now(zone)
    if _RELATIVE.match(until or ""):
        moment = now.replace(microsecond=0) + parse_duration(until.strip().lstrip("+").strip(), "until")
        await svc.graph.post(
            _action(svc, mailbox, event_id, "snoozeReminder"), json={"newReminderTime": tz.to_graph(moment, zone_name)}
        )
        return moment, True
    moment = parse_time(until, zone, "until")
    if moment <= now:
        raise InputError(
            f"until: {until} is not in the future; give a later time, e.g. "
            f"'{(now + dt.timedelta(minutes=10)).strftime('%Y-%m-%dT%H:%M')}', or '10m' from now."
        )
    await svc.graph.post(
        _action(svc, mailbox, event_id, "snoozeReminder"),
        json={"newReminderTime": tz.to_graph(moment, zone_name)},
        retry_post=True,  # sets the reminder time: sending it twice sets it twice
    )
    return moment, False


async def dismiss(svc: Services, mailbox: str | None, event_id: str) -> None:
    await svc.graph.post(_action(svc, mailbox, event_id, "dismissReminder"), retry_post=True)  # idempotent
