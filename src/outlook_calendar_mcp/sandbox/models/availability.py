"""Free/busy of a mailbox: busy items, timelines, working hours (for getSchedule, findMeetingTimes and room booking)."""

from __future__ import annotations

import bisect
import datetime as dt
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from ... import timezones as tz
from . import events as ev
from . import lookup
from .rows import MailboxRow

Span = tuple[dt.datetime, dt.datetime]  # a UTC interval [start, end)


@dataclass(frozen=True)
class Item:
    start: dt.datetime
    end: dt.datetime
    status: str
    doc: dict[str, Any] = field(compare=False, hash=False)  # an occurrence's: its master's (what a schedule shows)


def busy_items(
    ctx: Any, mailbox: MailboxRow, start: dt.datetime, end: dt.datetime, skip_uid: str | None = None
) -> list[Item]:
    """Items that make ``mailbox`` less than free in [start, end), from its default calendar.

    ``ctx`` needs only a ``store`` (the seed calls this outside a request).
    """
    calendar = ctx.store.default_calendar(mailbox["id"])
    if calendar is None:
        return []
    out = []
    stored: dict[str, dict[str, Any]] = {}  # each stored document parsed once (a series' occurrences share one)
    for inst in lookup.window_instances(ctx, [calendar["id"]], start, end):
        text = inst[ev.TEXT]
        doc = stored.get(text)
        if doc is None:
            doc = stored[text] = json.loads(text)
        # an occurrence shows as, is cancelled and has the iCalUId as its master does (occurrence_from)
        status = doc.get("showAs") or "busy"
        if doc.get("isCancelled") or status == "free" or (skip_uid and doc.get("iCalUId") == skip_uid):
            continue
        begin, duration = inst[ev.START_UTC], inst[ev.DURATION]
        if inst[ev.KIND] == "occurrence" and begin is not None and duration is not None and not doc.get("isAllDay"):
            # its instants are the window's (an all-day one's dates are placed in its zone: derived in full)
            item_start, item_end = begin, begin + duration
        else:
            if inst[ev.KIND] == "occurrence":
                doc = lookup.instance_doc(ctx, inst)
            times = ev.event_times(doc)
            item_start, item_end = times.start_utc, times.end_utc
        if item_end <= item_start or item_end <= start or item_start >= end:
            continue
        out.append(Item(item_start, item_end, status if status in SEVERITY else "busy", doc))
    out.sort(key=lambda i: (i.start, i.end))
    return out


def timeline(
    ctx: Any, mailbox: MailboxRow, start: dt.datetime, end: dt.datetime, skip_uid: str | None = None
) -> Timeline:
    """The :class:`Timeline` of :func:`busy_items`, kept beside the window's instances (one per data version):
    asking again about the same window reads it, a write to any event makes the next ask build it anew."""
    calendar = ctx.store.default_calendar(mailbox["id"])
    if calendar is None:
        return Timeline([])
    snapshot, _ = lookup.window(ctx, [calendar["id"]], start, end)
    return ctx.store.snapshots.memo(
        snapshot, ("timeline", skip_uid), lambda: Timeline(busy_items(ctx, mailbox, start, end, skip_uid))
    )


class Timeline:
    """Disjoint segments of a mailbox's time, each with its most severe status: fast slot lookups."""

    def __init__(self, items: Iterable[Item]):
        deltas: dict[dt.datetime, list[int]] = {}
        for item in items:
            if item.end <= item.start:
                continue
            sev = SEVERITY[item.status]
            deltas.setdefault(item.start, [0] * len(STATUSES))[sev] += 1
            deltas.setdefault(item.end, [0] * len(STATUSES))[sev] -= 1
        self.starts: list[dt.datetime] = []
        self.ends: list[dt.datetime] = []
        self.severities: list[int] = []
        active = [0] * len(STATUSES)
        points = sorted(deltas)
        for i, point in enumerate(points[:-1]):
            for k, d in enumerate(deltas[point]):
                active[k] += d
            worst = max((k for k in range(len(STATUSES)) if active[k] > 0), default=0)
            if worst == 0:
                continue
            if self.ends and self.ends[-1] == point and self.severities[-1] == worst:
                self.ends[-1] = points[i + 1]
            else:
                self.starts.append(point)
                self.ends.append(points[i + 1])
                self.severities.append(worst)

    def worst(self, start: dt.datetime, end: dt.datetime) -> str:
        """The least available status anywhere in [start, end)."""
        i = max(bisect.bisect_right(self.starts, start) - 1, 0)
        worst = 0
        while i < len(self.starts) and self.starts[i] < end:
            if self.ends[i] > start and self.severities[i] > worst:
                worst = self.severities[i]
            i += 1
        return STATUSES[worst]


def mailbox_zone(mailbox: MailboxRow) -> tuple[str, Any]:
    doc = json.loads(mailbox["doc"])
    name = (doc.get("workingHours") or {}).get("timeZone") or doc.get("timeZone") or "UTC"
    if isinstance(name, dict):
        name = name.get("name") or "UTC"
    try:
        return name, tz.resolve(name)
    except tz.TimeZoneError:
        return "UTC", tz.resolve("UTC")


def working_hours(mailbox: MailboxRow) -> dict[str, Any]:
    """The workingHours of a mailbox as Graph shows them (default Mon-Fri 08:00-17:00 in its zone)."""
    doc = json.loads(mailbox["doc"])
    hours = doc.get("workingHours") or {}
    zone_name, _ = mailbox_zone(mailbox)
    return {
        "daysOfWeek": list(hours.get("daysOfWeek") or WEEKDAYS),
        "startTime": hours.get("startTime") or "08:00:00.0000000",
        "endTime": hours.get("endTime") or "17:00:00.0000000",
        "timeZone": {"name": zone_name},
    }


def _time_of_day(text: str) -> dt.time:
    try:
        return dt.time.fromisoformat(text.split(".")[0])
    except ValueError:
        return dt.time(0, 0)


def working_intervals(mailbox: MailboxRow, start: dt.datetime, end: dt.datetime, domain: str) -> list[Span]:
    """The mailbox's working time within [start, end) as UTC intervals, for an activityDomain."""
    if domain == "unrestricted":
        return [(start, end)]
    hours = working_hours(mailbox)
    _, zone = mailbox_zone(mailbox)
    days = set(ALL_DAYS if domain == "personal" else (d.lower() for d in hours["daysOfWeek"]))
    t0, t1 = _time_of_day(hours["startTime"]), _time_of_day(hours["endTime"])
    out = []
    day = start.astimezone(zone).date() - dt.timedelta(days=1)
    last = end.astimezone(zone).date() + dt.timedelta(days=1)
    while day <= last:
        if ALL_DAYS[day.weekday()] in days:
            s = tz.to_utc(dt.datetime.combine(day, t0), zone)
            e = tz.to_utc(dt.datetime.combine(day + dt.timedelta(days=0 if t1 > t0 else 1), t1), zone)
            s, e = max(s, start), min(e, end)
            if s < e:
                out.append((s, e))
        day += dt.timedelta(days=1)
    return out


def intersect(a: list[Span], b: list[Span]) -> list[Span]:
    out, i, j = [], 0, 0
    while i < len(a) and j < len(b):
        s, e = max(a[i][0], b[j][0]), min(a[i][1], b[j][1])
        if s < e:
            out.append((s, e))
        if a[i][1] < b[j][1]:
            i += 1
        else:
            j += 1
    return out


def union(intervals: list[Span]) -> list[Span]:
    out: list[Span] = []
    for s, e in sorted(intervals):
        if out and s <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], e))
        else:
            out.append((s, e))
    return out


def in_organization(ctx: Any, address: str) -> Any | None:
    """The mailbox (person or room) behind an address, or None for anyone outside the organization."""
    row = ctx.store.mailbox(address)
    return row if row is not None and row["kind"] in ("user", "room") else None


UTC = dt.UTC


STATUSES = ["free", "workingElsewhere", "tentative", "unknown", "busy", "oof"]  # least to most severe


SEVERITY = {name: i for i, name in enumerate(STATUSES)}


WEEKDAYS = ["monday", "tuesday", "wednesday", "thursday", "friday"]


ALL_DAYS = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]
