"""One event: its path, the body fields a change sets, the times and recurrence a PATCH keeps or moves."""

from __future__ import annotations

import datetime as dt
from typing import Any
from urllib.parse import quote
from zoneinfo import ZoneInfo

from .. import timezones as tz
from .bodies import AttendeeInput, attendees_body, locations_body, recurrence_body, times_body
from .services import Services
from .targets import Target
from .times import parse_time

__all__ = ["event_fields", "event_path", "in_zone", "invitees", "quote_id", "recurrence_change", "time_changes"]


def quote_id(value: str) -> str:
    """A Graph id as one path segment."""
    return quote(value, safe="")


def event_path(t: Target, event_id: str) -> str:
    return f"{t.base}/events/{quote_id(event_id)}"


def invitees(doc: dict[str, Any]) -> list[str]:
    """Addresses an organizer's change reaches (everyone invited)."""
    return [
        a["emailAddress"]["address"] for a in doc.get("attendees") or [] if a.get("emailAddress", {}).get("address")
    ]


def event_fields(
    body: dict[str, Any],
    *,
    subject: str | None = None,
    description: str | None = None,
    location: str | None = None,
    locations: list[str] | None = None,
    attendees: list[AttendeeInput] | None = None,
    online_meeting: bool | None = None,
    reminder_minutes: int | None = None,
    show_as: str | None = None,
    sensitivity: str | None = None,
    importance: str | None = None,
    categories: list[str] | None = None,
) -> None:
    """Set in ``body`` the event fields these tool arguments give (those not None)."""
    if subject is not None:
        body["subject"] = subject
    if description is not None:
        body["body"] = {"contentType": "text", "content": description}
    body.update(locations_body(location, locations))
    if attendees is not None:
        body["attendees"] = attendees_body(attendees)
    if online_meeting is not None:
        body["isOnlineMeeting"] = online_meeting
    if reminder_minutes is not None:
        body["isReminderOn"] = reminder_minutes >= 0
        if reminder_minutes >= 0:
            body["reminderMinutesBeforeStart"] = reminder_minutes
    for key, value in (
        ("showAs", show_as),
        ("sensitivity", sensitivity),
        ("importance", importance),
        ("categories", categories),
    ):
        if value is not None:
            body[key] = value


def in_zone(doc: dict[str, Any], zone_name: str, zone: ZoneInfo) -> dict[str, Any]:
    """``doc``, an event read without ``Prefer: outlook.timezone`` (times in UTC), with start and end as Graph
    gives them with that header naming ``zone_name``: the same instants in the zone's wall time, an all-day
    event's dates unchanged (all-day events keep their dates in every zone). A read that must not wait for the
    mailbox's zone is made in UTC and shown through this."""
    out = dict(doc)
    for key in ("start", "end"):
        value = doc.get(key)
        if not value:
            continue
        if doc.get("isAllDay"):
            out[key] = {"dateTime": value["dateTime"], "timeZone": zone_name}
        else:
            moment = tz.from_graph(value, key).astimezone(zone)
            out[key] = {"dateTime": tz.format_graph_datetime(moment), "timeZone": zone_name}
    return out


def time_changes(
    current: dict[str, Any] | None,
    start: str | None,
    end: str | None,
    all_day: bool | None,
    zone_name: str,
    zone: ZoneInfo,
) -> dict[str, Any]:
    """start/end/isAllDay for a PATCH of the event whose times are ``current`` (its start, end and isAllDay,
    shown in ``zone_name``): what is not given is kept."""
    if start is None and end is None and all_day is None:
        return {}
    assert current is not None  # read whenever a time changes
    is_all_day = current.get("isAllDay") if all_day is None else all_day
    cur_start, cur_end = (tz.from_graph(current[k], k) for k in ("start", "end"))
    new_start = start or (cur_start.date().isoformat() if is_all_day else cur_start.isoformat())
    keep = None if start is None or end is not None else (cur_end - cur_start)
    if end is not None or keep is not None:
        new_end = end
    elif is_all_day:
        # Becoming (or staying) all-day: end on the day after the last day touched, at least a day.
        last = cur_end.date() if cur_end.time() == dt.time(0) else cur_end.date() + dt.timedelta(days=1)
        first = parse_time(new_start, zone, "start").date()
        new_end = max(last, first + dt.timedelta(days=1)).isoformat()
    else:
        new_end = cur_end.isoformat()
    return times_body(new_start, new_end, bool(is_all_day), zone_name, zone, duration_default=keep)


async def recurrence_change(
    svc: Services,
    path: str,
    body: dict[str, Any],
    recurrence: str | None,
    zone_name: str,
    current: dict[str, Any] | None = None,
) -> None:
    """The new ``recurrence`` in ``body``, from the event's first day: the new start's, else ``current``'s
    (the event's times shown in ``zone_name``), else read."""
    if recurrence is None:
        return
    first = tz.parse_graph_datetime(body["start"]["dateTime"]).date() if "start" in body else None
    if first is None and current is not None and current.get("start"):
        first = tz.parse_graph_datetime(current["start"]["dateTime"]).date()
    if first is None:
        current = await svc.graph.get(path, params={"$select": "start"}, prefer=svc.prefer(zone_name))
        first = tz.parse_graph_datetime(current["start"]["dateTime"]).date()
    body["recurrence"] = recurrence_body(recurrence, first, zone_name)
