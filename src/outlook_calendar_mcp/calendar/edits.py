"""Creating and changing events: the body from tool input, duplicates refused, conflicts found, a change to
an occurrence applied in its scope (:mod:`.series`).

Each waits on at most two Graph round trips, also as a session's first call (the mailbox's zone not yet
known): what does not need the zone is read together with it (:mod:`.together`), the new event's conflicts
in a window holding its time in every zone (:func:`.conflicts.any_zone_window`), a moved event's times and
calendar at once, and what it will overlap while it is being written."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

import anyio

from .. import timezones as tz
from ..graph import BadRequest, MethodNotAllowed
from .bodies import recurrence_body, times_body
from .conflicts import any_zone_window, blocks, duplicates, overlaps, overlaps_any_zone, within
from .errors import InputError
from .events import event_fields, event_path, in_zone, quote_id, recurrence_change, time_changes
from .series import INFO_FIELDS, Split, scope_fits, split_series, update_series
from .series_conflicts import SeriesClash, series_clashes
from .services import Services
from .targets import Target, calendar_path, explain_access, zone_known
from .together import Pending, capture, zone_and

__all__ = ["Created", "Updated", "create_event", "update_event"]

UTC = ZoneInfo("UTC")


@dataclass
class Created:
    """The new event, and the busy events its time overlaps (created anyway: a warning)."""

    doc: dict[str, Any]
    conflicts: list[dict[str, Any]] = field(default_factory=list)
    series: SeriesClash | None = None  # a new series: what its occurrences in the coming year collide with
    zone_name: str = "UTC"  # the zone times were read and are shown in
    zone: ZoneInfo = UTC


@dataclass
class Updated:
    """The changed event (or series, or the new series of a split), and what a moved event now overlaps."""

    doc: dict[str, Any]
    split: Split | None = None  # this_and_following of an occurrence
    series: bool = False  # the change went to the whole series (from one of its occurrences)
    conflicts: list[dict[str, Any]] | None = None
    series_clash: SeriesClash | None = None  # a moved or re-ruled series: its occurrences' collisions
    zone_name: str = "UTC"  # the zone times were read and are shown in
    zone: ZoneInfo = UTC


async def create_event(
    svc: Services,
    t: Target,
    calendar_id: str | None,
    time_zone: str | None,
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
    already at that time; with a transactionId, so a retried POST never creates it twice. Times without
    offset are read in ``time_zone``, else the calendar's zone (:func:`~.targets.zone_for`)."""
    cold = zone_known(svc, t, time_zone) is None  # a bad time_zone fails here, before anything is read
    base = calendar_path(svc, t, calendar_id) if calendar_id else (t.base if t.group else f"{t.base}/calendar")
    wide = any_zone_window(start, end, all_day) if cold else None

    async def early() -> tuple[list[dict[str, Any]], bool] | None:
        if wide is None:
            return None
        with explain_access(t, writing=True):
            return await overlaps_any_zone(svc, base, wide)

    (zone_name, zone), read = await zone_and(svc, t, time_zone, early)
    body: dict[str, Any] = times_body(start, end, all_day, zone_name, zone)
    early_read = read.result()
    overlapping = None
    if early_read is not None:
        begin, finish = (tz.from_graph(body[k], k).astimezone(UTC) for k in ("start", "end"))
        found = within(early_read, begin, finish, zone_name, zone)
        overlapping = None if found is None else [e for e in found if not e.get("isCancelled")]
    if overlapping is None:
        with explain_access(t, writing=True):  # creating needs write access; the check reads first
            overlapping = await overlaps(svc, base, body, zone_name)
    same = duplicates(overlapping, subject, body)
    if same and not allow_duplicate:
        handle = await svc.handles.minted("event", same[0]["id"])
        raise InputError(
            f"subject: '{same[0].get('subject')}' already exists at that time "
            f"({handle}); update that event, or pass "
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
    return Created(doc, [] if clash else busy, clash, zone_name, zone)


async def update_event(
    svc: Services,
    t: Target,
    event_id: str,
    event: str,
    time_zone: str | None,
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
    zone_known(svc, t, time_zone)  # a bad time_zone fails first
    path = event_path(t, event_id)
    changes: dict[str, Any] = {}
    event_fields(changes, **fields)
    if not changes and start is None and end is None and all_day is None and recurrence is None:
        raise InputError("Nothing to change: give at least one field to update (subject, start, end, ...).")
    # Round trip 1, together: the zone, the event's times, type and etag (in UTC: they need no zone; the PATCH
    # carries the etag), and, for a move, the calendar it is on (what it will overlap is that calendar's).
    retimed = start is not None or end is not None or all_day is not None
    want_times = retimed or recurrence is not None or etag is None or scope is not None
    fields_read = "showAs,isCancelled," + (INFO_FIELDS if scope is not None else "start,end,isAllDay,type")

    async def first() -> tuple[Pending[dict[str, Any]], Pending[str]]:
        current: Pending[dict[str, Any]] = Pending()
        calendar: Pending[str] = Pending()
        async with anyio.create_task_group() as tg:
            if retimed or recurrence is not None:
                tg.start_soon(capture, calendar, _calendar_of(svc, t, event_id))
            if want_times:
                await capture(current, svc.graph.get(path, params={"$select": fields_read}, prefer=svc.prefer("UTC")))
        return current, calendar

    (zone_name, zone), firsts = await zone_and(svc, t, time_zone, first)
    current_read, calendar = firsts.result()
    current: dict[str, Any] | None = None
    if scope is not None:
        with explain_access(t, writing=False):
            current = info = scope_fits(in_zone(current_read.result(), zone_name, zone), event, scope, etag)
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
            return Updated(split.doc, split=split, series_clash=clash, zone_name=zone_name, zone=zone)
        if scope in ("series", "this_and_following") and kind != "seriesMaster":
            doc = await update_series(svc, t, info, changes, start, end, all_day, recurrence, zone_name, zone, event)
            moved = start is not None or end is not None or recurrence is not None
            base = await _calendar_of(svc, t, doc["id"]) if moved else ""
            clash = await series_clashes(svc, t, base, doc, zone_name, zone) if moved else None
            return Updated(doc, series=True, series_clash=clash, zone_name=zone_name, zone=zone)
    body = dict(changes)
    with explain_access(t, writing=True):
        if want_times and current is None:
            try:
                current = in_zone(current_read.result() or {}, zone_name, zone)
            except (BadRequest, MethodNotAllowed):
                if retimed or recurrence is not None:
                    raise
                # not readable that way: the PATCH reads its etag itself
        body.update(time_changes(current, start, end, all_day, zone_name, zone))
        await recurrence_change(svc, path, body, recurrence, zone_name, current)
    if_match = etag or (current or {}).get("@odata.etag")
    # Round trip 2, together: the PATCH and, for a single event moved to a busy time, what it will overlap
    # (the events of the new time but itself: the same whether read while it moves or after).
    will_block = blocks({"showAs": changes.get("showAs", (current or {}).get("showAs")), "isCancelled": False})
    ahead = "start" in body and will_block and (current or {}).get("type") != "seriesMaster"

    async def clashes_of() -> list[dict[str, Any]]:
        with explain_access(t, writing=False):
            return await overlaps(svc, calendar.result(), body, zone_name, exclude=event_id)

    clashes: Pending[list[dict[str, Any]]] = Pending()
    patched: Pending[dict[str, Any]] = Pending()
    async with anyio.create_task_group() as tg:
        if ahead:
            tg.start_soon(capture, clashes, clashes_of())
        with explain_access(t, writing=True):
            await capture(patched, svc.graph.patch(path, json=body, if_match=if_match, prefer=svc.prefer(zone_name)))
    with explain_access(t, writing=True):
        doc = patched.result()
    if doc.get("recurrence") and ("start" in body or "recurrence" in body):  # a moved series: every occurrence
        base = calendar.result() if doc.get("id") == event_id else await _calendar_of(svc, t, doc["id"])
        clash = await series_clashes(svc, t, base, doc, zone_name, zone)
        return Updated(doc, series_clash=clash, zone_name=zone_name, zone=zone)
    busy = None
    if "start" in body and blocks(doc):  # moved (an occurrence too): warn about what it now overlaps
        if not ahead or doc.get("id") != event_id:
            clashes = Pending()
            await capture(clashes, _overlaps_of(svc, t, doc, zone_name))
        busy = [e for e in clashes.result() if blocks(e) and e.get("id") != doc.get("id")]
    return Updated(doc, conflicts=busy, zone_name=zone_name, zone=zone)


async def _overlaps_of(svc: Services, t: Target, doc: dict[str, Any], zone_name: str) -> list[dict[str, Any]]:
    """What the event ``doc`` overlaps on its calendar (itself left out)."""
    base = await _calendar_of(svc, t, doc["id"])
    with explain_access(t, writing=False):
        return await overlaps(svc, base, doc, zone_name, exclude=doc.get("id"))


async def _calendar_of(svc: Services, t: Target, event_id: str) -> str:
    """The path of the calendar an event is on (its conflicts are that calendar's)."""
    if t.group:
        return t.base
    with explain_access(t, writing=False):
        cal = await svc.graph.get(f"{event_path(t, event_id)}/calendar", params={"$select": "id"})
    return f"{t.base}/calendars/{quote_id(cal['id'])}"
