"""What a new or moved series collides with: every occurrence within a year, checked against the calendar.

A single event's conflicts are the busy events its one time overlaps (:mod:`.conflicts`). A series has
many times: after it is written, its occurrences in the coming year (Graph expands them: ``instances``)
are laid against the calendar's busy events in the same span (one ``calendarView`` read), and the
answer says how many occurrences collide, with what, and the first few dates; occurrences that repeat
an event of the same subject at the same time are counted as duplicates.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from .. import timezones as tz
from .conflicts import blocks
from .events import event_path
from .services import Services
from .targets import Target, explain_access
from .times import utc_text

__all__ = ["HORIZON", "SeriesClash", "series_clashes"]

HORIZON = dt.timedelta(days=365)
FIRST_DATES = 3
MAX_OCCURRENCES = 1000


@dataclass
class SeriesClash:
    """Occurrences checked, how many collide (and are duplicates), with what, and the first dates."""

    occurrences: int
    colliding: int = 0
    duplicates: int = 0
    with_: list[str] = field(default_factory=list)  # subjects of the events collided with, most often first
    first_dates: list[str] = field(default_factory=list)


def _span(doc: dict[str, Any]) -> tuple[dt.datetime, dt.datetime]:
    return tz.from_graph(doc["start"], "start").astimezone(dt.UTC), tz.from_graph(doc["end"], "end").astimezone(dt.UTC)


async def series_clashes(
    svc: Services, t: Target, base: str, master: dict[str, Any], zone_name: str, zone: ZoneInfo
) -> SeriesClash | None:
    """Lay the occurrences of ``master`` (a written series) in the year from its first one against the busy
    events of the calendar at ``base``; None when nothing collides."""
    if not blocks(master):
        return None
    first, _ = _span(master)
    begin, until = first - dt.timedelta(days=1), first + HORIZON
    with explain_access(t, writing=False):
        mine = await svc.graph.get_all(
            f"{event_path(t, master['id'])}/instances",
            params={"startDateTime": utc_text(begin), "endDateTime": utc_text(until), "$select": "start,end,subject"},
            max_items=MAX_OCCURRENCES,
        )
        if not mine.items:
            return None
        last = max(_span(o)[1] for o in mine.items)
        others = await svc.graph.get_all(
            f"{base}/calendarView",
            params={
                "startDateTime": utc_text(min(_span(o)[0] for o in mine.items)),
                "endDateTime": utc_text(last),
                "$select": "subject,start,end,showAs,isCancelled,seriesMasterId,type",
            },
            max_items=10 * MAX_OCCURRENCES,
        )
    busy = [
        (e, *_span(e))
        for e in others.items
        if blocks(e) and e.get("id") != master["id"] and e.get("seriesMasterId") != master["id"]
    ]
    subject = (master.get("subject") or "").strip().lower()
    clash = SeriesClash(occurrences=len(mine.items))
    counts: dict[str, int] = {}
    for occurrence in sorted(mine.items, key=lambda o: _span(o)[0]):
        start, end = _span(occurrence)
        hit = [e for e, s, f in busy if s < end and start < f]
        if not hit:
            continue
        clash.colliding += 1
        if any((e.get("subject") or "").strip().lower() == subject and _span(e) == (start, end) for e in hit):
            clash.duplicates += 1
        for e in hit:
            name = e.get("subject") or "(no subject)"
            counts[name] = counts.get(name, 0) + 1
        if len(clash.first_dates) < FIRST_DATES:
            clash.first_dates.append(start.astimezone(zone).date().isoformat())
    if not clash.colliding:
        return None
    clash.with_ = sorted(counts, key=lambda n: (-counts[n], n))[:5]
    return clash
