"""Conflicts and duplicates: what a new or moved event overlaps on its calendar."""

from __future__ import annotations

import datetime as dt
from typing import Any

from .. import timezones as tz
from .services import Services
from .times import utc_text

__all__ = ["blocks", "duplicates", "overlaps", "same_time"]


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
        max_items=50,
    )
    return [e for e in page.items if e.get("id") != exclude and not e.get("isCancelled")]
