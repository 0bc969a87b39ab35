"""Creating and changing events: the body from tool input, duplicates refused, conflicts found, a change to
an occurrence applied in its scope (:mod:`.series`)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from .. import timezones as tz
from .bodies import recurrence_body, times_body
from .conflicts import blocks, duplicates, overlaps
from .errors import InputError
from .events import event_fields, event_path, quote_id, recurrence_change, time_changes
from .series import Split, series_info, split_series, update_series
from .series_conflicts import SeriesClash, series_clashes
from .services import Services
from .targets import Target, calendar_path, explain_access

__all__ = ["Created", "Updated", "create_event", "update_event"]


@dataclass
class Created:
    """The new event, and the busy events its time overlaps (created anyway: a warning)."""

    doc: dict[str, Any]
    conflicts: list[dict[str, Any]] = field(default_factory=list)
    series: SeriesClash | None = None  # a new series: what its occurrences in the coming year collide with


@dataclass
class Updated:
    """The changed event (or series, or the new series of a split), and what a moved event now overlaps."""

    doc: dict[str, Any]
    split: Split | None = None  # this_and_following of an occurrence
    series: bool = False  # the change went to the whole series (from one of its occurrences)
    conflicts: list[dict[str, Any]] | None = None
    series_clash: SeriesClash | None = None  # a moved or re-ruled series: its occurrences' collisions


async def create_event(
    svc: Services,
    t: Target,
    calendar_id: str | None,
    zone_name: str,
    zone: ZoneInfo,
    *,
    subject: str,
    start: str,
    end: str | None,
    all_day: bool,
    recurrence: str | None,
    allow_duplicate: bool,
    fields: dict[str, Any],
) -> Created:
    """POST a new event (``fields``: :func:`~.events.event_fields`' arguments) unless the same subject is
    already at that time; with a transactionId, so a retried POST never creates it twice."""
    body: dict[str, Any] = times_body(start, end, all_day, zone_name, zone)
    base = calendar_path(svc, t, calendar_id) if calendar_id else (t.base if t.group else f"{t.base}/calendar")
    with explain_access(t, writing=True):  # creating needs write access; the check below reads first
        overlapping = await overlaps(svc, base, body, zone_name)
    same = duplicates(overlapping, subject, body)
    if same and not allow_duplicate:
        raise InputError(
            f"subject: '{same[0].get('subject')}' already exists at that time "
            f"({svc.handles.handle('event', same[0]['id'])}); update that event, or pass "
            "allow_duplicate=true to create a second one."
        )
    event_fields(body, subject=subject, **fields)
    if recurrence is not None:
        first = tz.parse_graph_datetime(body["start"]["dateTime"]).date()
        body["recurrence"] = recurrence_body(recurrence, first, zone_name)
    body["transactionId"] = str(uuid.uuid4())  # a retried POST must not create the event twice
    with explain_access(t, writing=True):
        doc = await svc.graph.post(f"{base}/events", json=body, prefer=svc.prefer(zone_name), retry_post=True)
    clash = None
    if recurrence is not None:  # every occurrence in the coming year, not only the first
        clash = await series_clashes(svc, t, base, doc, zone_name, zone)
    busy = [e for e in overlapping if blocks(e) and body.get("showAs") != "free"]
    return Created(doc, [] if clash else busy, clash)


async def update_event(
    svc: Services,
    t: Target,
    event_id: str,
    event: str,
    zone_name: str,
    zone: ZoneInfo,
    *,
    fields: dict[str, Any],
    start: str | None,
    end: str | None,
    all_day: bool | None,
    recurrence: str | None,
    etag: str | None,
    scope: str | None,
) -> Updated:
    """PATCH only what is given; for an occurrence with ``scope``: it alone, it and the following (a split), or
    the series. A single event moved to another time reports the busy events it now overlaps."""
    path = event_path(t, event_id)
    changes: dict[str, Any] = {}
    event_fields(changes, **fields)
    if not changes and start is None and end is None and all_day is None and recurrence is None:
        raise InputError("Nothing to change: give at least one field to update (subject, start, end, ...).")
    if scope is not None:
        info = await series_info(svc, t, event_id, event, scope, zone_name, etag)
        kind = info.get("type")
        if recurrence is not None and scope == "occurrence":
            raise InputError(
                "recurrence: one occurrence has no recurrence of its own; use scope "
                "'this_and_following' or 'series' to change the rule."
            )
        if scope == "this_and_following" and kind != "seriesMaster":
            split = await split_series(svc, t, info, changes, start, end, all_day, recurrence, zone_name, zone, event)
            moved = start is not None or end is not None or recurrence is not None
            base = await _calendar_of(svc, t, split.doc["id"]) if moved else ""
            clash = await series_clashes(svc, t, base, split.doc, zone_name, zone) if moved else None
            return Updated(split.doc, split=split, series_clash=clash)
        if scope in ("series", "this_and_following") and kind != "seriesMaster":
            doc = await update_series(svc, t, info, changes, start, end, all_day, recurrence, zone_name, zone, event)
            moved = start is not None or end is not None or recurrence is not None
            base = await _calendar_of(svc, t, doc["id"]) if moved else ""
            clash = await series_clashes(svc, t, base, doc, zone_name, zone) if moved else None
            return Updated(doc, series=True, series_clash=clash)
    body = dict(changes)
    with explain_access(t, writing=True):
        body.update(await time_changes(svc, path, start, end, all_day, zone_name, zone))
        await recurrence_change(svc, path, body, recurrence, zone_name)
        doc = await svc.graph.patch(path, json=body, if_match=etag, prefer=svc.prefer(zone_name))
    busy = None
    if doc.get("recurrence") and ("start" in body or "recurrence" in body):  # a moved series: every occurrence
        base = await _calendar_of(svc, t, doc["id"])
        return Updated(doc, series_clash=await series_clashes(svc, t, base, doc, zone_name, zone))
    if "start" in body and blocks(doc):  # moved (an occurrence too): warn about what it now overlaps
        base = await _calendar_of(svc, t, doc["id"])
        with explain_access(t, writing=False):
            clashes = await overlaps(svc, base, doc, zone_name, exclude=doc.get("id"))
        busy = [e for e in clashes if blocks(e)]
    return Updated(doc, conflicts=busy)


async def _calendar_of(svc: Services, t: Target, event_id: str) -> str:
    """The path of the calendar an event is on (its conflicts are that calendar's)."""
    if t.group:
        return t.base
    with explain_access(t, writing=False):
        cal = await svc.graph.get(f"{event_path(t, event_id)}/calendar", params={"$select": "id"})
    return f"{t.base}/calendars/{quote_id(cal['id'])}"
