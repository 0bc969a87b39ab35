"""Conflicts and duplicates: what a new or moved event overlaps on its calendar.

Before the mailbox's zone is known (a session's first call) a new event's time cannot be placed: '09:00'
is a different instant in every zone. :func:`any_zone_window` is a window holding it in every zone, read
(:func:`overlaps_any_zone`) together with the mailbox's settings; :func:`within` then keeps what overlaps the
real time, as calendarView would have, or says it cannot tell (then the exact window is read).
"""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

from .. import timezones as tz
from .bodies import times_body
from .errors import InputError
from .events import in_zone
from .services import Services
from .times import utc_text

__all__ = [
    "ANY_ZONE",
    "any_zone_window",
    "blocks",
    "duplicates",
    "overlaps",
    "overlaps_any_zone",
    "same_time",
    "within",
]

# Every zone's UTC offset lies between -12:00 and +14:00: a wall time read in any zone is an instant at most
# 14 hours from the same wall time read in UTC.
ANY_ZONE = dt.timedelta(hours=14)
CONFLICT_LIMIT = 50  # events read for a conflict check


def blocks(event: dict[str, Any]) -> bool:
    """An event that makes its time busy (not free, not cancelled)."""
    return event.get("showAs") not in ("free", None) and not event.get("isCancelled")


def same_time(event: dict[str, Any], body: dict[str, Any]) -> bool:
    """``event`` starts and ends at the same instants as ``body`` (Graph documents, any zones)."""
    try:
        return all(
            tz.from_graph(event[k], k).astimezone(dt.UTC) == tz.from_graph(body[k], k).astimezone(dt.UTC)
            for k in ("start", "end")
        )
    except (KeyError, ValueError):
        return False


def duplicates(overlapping: list[dict[str, Any]], subject: str, body: dict[str, Any]) -> list[dict[str, Any]]:
    """The events among ``overlapping`` with the same subject (any case) at the same time as ``body``."""
    return [
        e
        for e in overlapping
        if (e.get("subject") or "").strip().lower() == subject.strip().lower() and same_time(e, body)
    ]


async def overlaps(
    svc: Services, base: str, body: dict[str, Any], zone_name: str, exclude: str | None = None
) -> list[dict[str, Any]]:
    """Events of the calendar at ``base`` overlapping the body's start-end (all of them, busy or not)."""
    begin, finish = (tz.from_graph(body[k], k).astimezone(dt.UTC) for k in ("start", "end"))
    page = await svc.graph.get_all(
        f"{base}/calendarView",
        params={"startDateTime": utc_text(begin), "endDateTime": utc_text(finish)},
        prefer=svc.prefer(zone_name),
        max_items=CONFLICT_LIMIT,
    )
    return [e for e in page.items if e.get("id") != exclude and not e.get("isCancelled")]


def any_zone_window(start: str, end: str | None, all_day: bool) -> tuple[dt.datetime, dt.datetime] | None:
    """A UTC window holding the event ``start``-``end`` in whatever zone its times are read in (None when
    they do not make an event: the exact check, once the zone is known, says what is wrong)."""
    try:
        body = times_body(start, end, all_day, "UTC", ZoneInfo("UTC"))
    except (InputError, ValueError):
        return None
    begin, finish = (tz.from_graph(body[k], k) for k in ("start", "end"))
    return begin - ANY_ZONE, finish + ANY_ZONE


async def overlaps_any_zone(
    svc: Services,
    base: str,
    window: tuple[dt.datetime, dt.datetime],
    *,
    max_items: int = CONFLICT_LIMIT,
    params: dict[str, str] | None = None,
) -> tuple[list[dict[str, Any]], bool]:
    """The events of the calendar at ``base`` in ``window`` (times in UTC), and whether more were left out."""
    page = await svc.graph.get_all(
        f"{base}/calendarView",
        params={"startDateTime": utc_text(window[0]), "endDateTime": utc_text(window[1]), **(params or {})},
        prefer=svc.prefer("UTC"),
        max_items=max_items,
    )
    return page.items, page.more


def within(
    read: tuple[list[dict[str, Any]], bool],
    begin: dt.datetime,
    finish: dt.datetime,
    zone_name: str,
    zone: ZoneInfo,
) -> list[dict[str, Any]] | None:
    """What calendarView gives for ``begin``-``finish``, in its order, from a read of a window holding it (times
    in UTC, :func:`overlaps_any_zone`), shown in ``zone_name``; None when the read cannot tell: more events than
    were read, a zero-length event on an edge, an all-day event near an edge made in a zone we cannot name."""
    docs, more = read
    if more or finish <= begin:
        return None
    kept = []
    for doc in docs:
        if doc.get("isAllDay"):  # dates: instants in the zone the event was made in (Graph keeps them there)
            span = _all_day_span(doc)
            if span is None:
                return None
            (start_lo, start_hi), (end_lo, end_hi) = span
            if start_hi < finish and end_lo > begin:
                inside = True
            elif start_lo >= finish or end_hi <= begin:
                inside = False
            else:
                return None
        else:
            start, end = (tz.from_graph(doc[k], k).astimezone(dt.UTC) for k in ("start", "end"))
            if end > start:
                inside = start < finish and end > begin
            elif start in (begin, finish):
                return None
            else:
                inside = begin < start < finish
        if inside:
            kept.append(in_zone(doc, zone_name, zone))
    return kept


Span = tuple[dt.datetime, dt.datetime]


def _all_day_span(doc: dict[str, Any]) -> tuple[Span, Span] | None:
    """The earliest and latest instant an all-day event's start and end can be: exact in its own zone
    (originalStartTimeZone), else anywhere a zone can put midnight."""
    out = []
    for key, own in (("start", "originalStartTimeZone"), ("end", "originalEndTimeZone")):
        try:
            wall = tz.parse_graph_datetime(doc[key]["dateTime"]).replace(tzinfo=None)
        except (KeyError, TypeError, tz.TimeZoneError, ValueError):
            return None
        name = doc.get(own) or doc.get("originalStartTimeZone")
        try:
            moment = tz.to_utc(wall, tz.resolve(name)) if name else None
        except (tz.TimeZoneError, ValueError):
            moment = None
        if moment is None:
            utc = wall.replace(tzinfo=dt.UTC)
            out.append((utc - ANY_ZONE, utc + dt.timedelta(hours=12)))
        else:
            out.append((moment, moment))
    return out[0], out[1]
