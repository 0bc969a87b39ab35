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

__all__ = ["any_zone_window", "blocks", "duplicates", "overlaps", "overlaps_any_zone", "same_time", "within"]

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
    svc: Services, base: str, window: tuple[dt.datetime, dt.datetime]
) -> tuple[list[dict[str, Any]], bool]:
    """The events of the calendar at ``base`` in ``window`` (times in UTC), and whether more were left out."""
    page = await svc.graph.get_all(
        f"{base}/calendarView",
        params={"startDateTime": utc_text(window[0]), "endDateTime": utc_text(window[1])},
        prefer=svc.prefer("UTC"),
        max_items=CONFLICT_LIMIT,
    )
    return page.items, page.more


def within(
    read: tuple[list[dict[str, Any]], bool], body: dict[str, Any], zone_name: str, zone: ZoneInfo
) -> list[dict[str, Any]] | None:
    """What :func:`overlaps` gives for ``body``'s time, from a read of a window holding it (times in UTC,
    :func:`overlaps_any_zone`), shown in ``zone_name``; None when the read cannot tell: more events than were
    read, a zero-length event on an edge, or an all-day event near an edge (its dates are an instant only
    in the zone it was made in, which the listing does not name)."""
    docs, more = read
    if more:
        return None
    begin, finish = (tz.from_graph(body[k], k).astimezone(dt.UTC) for k in ("start", "end"))
    if finish <= begin:
        return None
    kept = []
    for doc in docs:
        start, end = (tz.from_graph(doc[k], k).astimezone(dt.UTC) for k in ("start", "end"))
        if doc.get("isAllDay"):
            if start + ANY_ZONE < finish and end - ANY_ZONE > begin:
                inside = True
            elif start - ANY_ZONE >= finish or end + ANY_ZONE <= begin:
                inside = False
            else:
                return None
        elif end > start:
            inside = start < finish and end > begin
        elif start in (begin, finish):
            return None
        else:
            inside = begin < start < finish
        if inside and not doc.get("isCancelled"):
            kept.append(in_zone(doc, zone_name, zone))
    return kept
