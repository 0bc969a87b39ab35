"""Finding events: one event (or occurrence) by id, the instances in a window, and removing events.

No HTTP here beyond the Graph errors for an id that is not found; what a write sets off
(delivery, reminders, attachments) is :mod:`.effects`' business, called by the handlers.
"""

from __future__ import annotations

import base64
import bisect
import copy
import datetime as dt
import json
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from ..errors import GraphHTTPError, not_found
from . import events as ev
from .rows import CalendarRow, EventRow
from .session import Session
from .snapshots import DERIVED, Updated
from .store import occurrence_start, parse_occurrence_id, utc_key


def load_doc(ctx: Session, row: EventRow) -> dict[str, Any]:
    """A stored document, parsed once per stored version: treat the result as read-only."""
    return parsed(ctx, row["id"], row["doc"])


def parsed(ctx: Session, event_id: str, text: str) -> dict[str, Any]:
    """The document ``text`` of event ``event_id``, parsed once per stored version: treat it as read-only."""
    cache = ctx.store.documents
    # Keyed on the stored text itself: seq numbers can repeat after a rollback or a restored database.
    key = (event_id, text)
    doc = cache.get(key)
    if doc is None:
        if len(cache) > 50_000:
            cache.clear()
        doc = cache[key] = json.loads(text)
    return doc


def series_of(ctx: Session, row: EventRow) -> ev.Series:
    """What expanding the series of master ``row`` needs (:data:`.events.Series`), made once per stored version."""
    return _series(ctx, row["id"], row["doc"])


def occurrence_series(ctx: Session, inst: ev.Instance) -> ev.Series:
    """The :data:`.events.Series` of a window's occurrence's master (made when the window was expanded)."""
    master_id = inst[ev.MASTER_ID]
    assert master_id is not None  # an occurrence has its master
    return _series(ctx, master_id, inst[ev.TEXT])


def _series(ctx: Session, master_id: str, text: str) -> ev.Series:
    cache = ctx.store.series
    key = (master_id, text)  # keyed on the stored text, as :func:`parsed` is
    found = cache.get(key)
    if found is None:
        if len(cache) > 50_000:
            cache.clear()
        found = cache[key] = ev.series_of(json.loads(text))
    return found


def instance_doc(ctx: Session, inst: ev.Instance) -> dict[str, Any]:
    """The stored-form document of a window's instance, parsed anew: a single's or exception's from its text, an
    occurrence's derived from its master's. Not kept: what is rendered from it is what a window keeps, and a
    large window's parsed documents, kept, would be hundreds of thousands of objects for the garbage collector
    to walk at every full collection (a series master's document is parsed in microseconds)."""
    if inst[ev.KIND] != "occurrence":
        return json.loads(inst[ev.TEXT])
    master_id, original, start_utc, duration = (
        inst[ev.MASTER_ID],
        inst[ev.ORIGINAL],
        inst[ev.START_UTC],
        inst[ev.DURATION],
    )
    assert master_id and original and start_utc and duration is not None  # an occurrence has them all
    return ev.occurrence_from(master_id, json.loads(inst[ev.TEXT]), original, start_utc, duration)


def find_event(
    ctx: Session, event_id: str, calendar: CalendarRow | None = None
) -> tuple[dict[str, Any], EventRow | None, EventRow | None]:
    """(stored-form doc, its row or None for a derived occurrence, the master row or None)."""
    row = ctx.store.event_row(ctx.mailbox["id"], event_id)
    if row is not None:
        if row["kind"] == "cancelled" or (calendar is not None and row["calendar_id"] != calendar["id"]):
            raise not_found()
        master = ctx.store.event_row(ctx.mailbox["id"], row["series_master_id"]) if row["series_master_id"] else None
        return load_doc(ctx, row), row, master
    parsed = parse_occurrence_id(event_id)
    if parsed is None:
        if not _looks_like_id(event_id):
            raise GraphHTTPError(400, "ErrorInvalidIdMalformed", "Id is malformed.")
        raise not_found()
    master_id, original = parsed
    master = ctx.store.event_row(ctx.mailbox["id"], master_id)
    if (
        master is None
        or master["kind"] != "seriesMaster"
        or (calendar is not None and master["calendar_id"] != calendar["id"])
    ):
        raise not_found()
    doc = load_doc(ctx, master)
    times = ev.event_times(doc)
    zone_name = doc["recurrence"]["range"].get("recurrenceTimeZone") or "UTC"
    zone = ev.zone_of(zone_name, "recurrence")
    if not ev.rec.occurrence_at(doc["recurrence"], ev.series_start(doc, times, zone), zone, original):
        raise not_found()
    return ev.occurrence_doc(master_id, doc, original, zone_name, times.duration), None, master


def _looks_like_id(event_id: str) -> bool:
    try:
        return len(base64.urlsafe_b64decode(event_id.encode())) > 8
    except ValueError:
        return False


def drop_exceptions(ctx: Session, master_id: str, still: dict[str, Any] | None = None) -> None:
    """Delete a series' exceptions and cancellations; with ``still`` (the master's new document), only those of
    occurrences the new recurrence no longer has (ending a series earlier keeps the exceptions before its end)."""
    times = zone = None
    if still is not None:
        times = ev.event_times(still)
        zone = ev.zone_of(still["recurrence"]["range"].get("recurrenceTimeZone") or "UTC", "recurrence")
    for child in ctx.store.series_children(master_id):
        if (
            still is not None
            and times is not None
            and zone is not None
            and child["original_start"]
            and ev.rec.occurrence_at(
                still["recurrence"],
                ev.series_start(still, times, zone),
                zone,
                dt.datetime.fromisoformat(child["original_start"]),
            )
        ):
            continue
        ctx.store.delete_event_row(child)


def remove_event_rows(
    ctx: Session, event_id: str, doc: dict[str, Any], row: EventRow | None, master: EventRow | None
) -> None:
    """Delete a single event or series, or cancel one occurrence (kept as a 'cancelled' row).

    The write's effects are the caller's to run (:func:`.effects.after_write`)."""
    if row is not None and row["kind"] in ("singleInstance", "seriesMaster"):
        if row["kind"] == "seriesMaster":
            drop_exceptions(ctx, row["id"])
        ctx.store.delete_event_row(row)
    else:
        assert master is not None  # an occurrence or an exception has its series master
        cancelled = copy.deepcopy(doc)
        cancelled.pop("_id", None)
        cancelled.update({"type": "cancelled", "isCancelled": True})
        ev.touch(cancelled, ctx.now)
        original = row["original_start"] if row is not None else occurrence_start(event_id).isoformat()
        ev.store_event(
            ctx.store,
            ctx.mailbox["id"],
            master["calendar_id"],
            cancelled,
            event_id,
            "cancelled",
            master["id"],
            original,
        )


def window_instances(
    ctx: Session, calendar_ids: Iterable[str], start: dt.datetime, end: dt.datetime, master_id: str | None = None
) -> tuple[ev.Instance, ...]:
    """Every instance in [start, end) — singles, occurrences, exceptions — sorted by (start, id), built lazily:
    documents are only parsed or derived for what is rendered (:func:`instance_doc`). Built once per data
    version (snapshots.py): a calendarView, a delta round, findMeetingTimes over the same window share it;
    callers read the list, never change it."""
    return window(ctx, calendar_ids, start, end, master_id)[1]


def window(
    ctx: Session,
    calendar_ids: Iterable[str],
    start: dt.datetime,
    end: dt.datetime,
    master_id: str | None = None,
    snapshot_id: str | None = None,
) -> tuple[str, tuple[ev.Instance, ...]]:
    """(snapshot id, :func:`window_instances`): what is derived from the window (a busy timeline, an index by
    id, a calendarView's encoded pages) is kept beside it with ``ctx.store.snapshots.memo(snapshot id, ...)``, for
    as long as the window is. ``snapshot_id``: the snapshot a page before was cut from, read again if it is of
    this window. After a write, the window is brought forward from the one kept before (:func:`_update`)."""
    ids = list(calendar_ids)
    shape = ("instances", tuple(ids), master_id, start, end)
    version = ctx.store.versions()

    def update(prior_id: str, prior: Any, items: tuple[ev.Instance, ...]) -> Updated | None:
        return None if master_id is not None else _update(ctx, ids, start, end, prior_id, prior, version, items)

    return ctx.store.snapshots.items(
        shape, version, snapshot_id, lambda: _expand(ctx, ids, start, end, master_id), update
    )


MAX_UPDATE = 256  # changes past which a window is expanded anew rather than brought forward
# What bringing a window forward changed: (ids of the instances dropped, the instances added, sorted by (start,
# id), the series whose instances were all dropped and made again). Tuples of atoms: never tracked for long.
Change = tuple[tuple[str, ...], tuple[ev.Instance, ...], tuple[str, ...]]
# Where a window's instances are, kept beside it once it is brought forward: id -> start key, and series master
# -> the ids of its instances (two memos: a tuple holding dicts would stay tracked by the garbage collector).
# Passed on from a window to the next one brought forward from it, changed in place.
WHERE_STARTS, WHERE_SERIES = ("where", "starts"), ("where", "series")
Where = tuple[dict[str, str], dict[str, tuple[str, ...]]]


def _where(items: tuple[ev.Instance, ...]) -> Where:
    starts: dict[str, str] = {}
    series: dict[str, list[str]] = {}
    for i in items:
        starts[i[ev.EVENT_ID]] = i[ev.START_KEY]
        master = i[ev.MASTER_ID]
        if master:
            series.setdefault(master, []).append(i[ev.EVENT_ID])
    return starts, {m: tuple(v) for m, v in series.items()}


def _update(
    ctx: Session,
    ids: list[str],
    start: dt.datetime,
    end: dt.datetime,
    prior_id: str,
    prior: tuple[int, int],
    now: tuple[int, int],
    items: tuple[ev.Instance, ...],
) -> Updated | None:
    """(the window at versions ``now``, what changed: :data:`Change`, where its instances are) made from ``items``, the
    same window at ``prior``, and the rows written and deleted since: the instances of what changed are dropped
    and made again from the rows as they are now (a series whose master, exception or cancellation changed is
    expanded again, alone). None when that cannot be exact: changes made beside the store's functions (each
    write through them moves the events table's version and the seq counter by one, and leaves its row or
    tombstone with its seq; a change beside them moves the version alone), or too many changes.

    Costs what changed: the instances dropped are found by their start (:data:`WHERE_STARTS`, taken from the prior
    window) and the entries kept are the prior window's own, copied in C (no parsing, no expansion, nothing
    the garbage collector counts)."""
    (events_then, seq_then), (events_now, seq_now) = prior, now
    changes = seq_now - seq_then
    if changes <= 0 or changes > MAX_UPDATE or events_now - events_then != changes:
        return None
    written, deleted = ctx.store.changed_since(seq_then)
    if not written and not deleted:  # the counters moved, not the rows: not the store's writes
        return None
    # Fewer rows than changes: a row written again, or written and deleted, since (its last write stands for all).
    gone: set[str] = set()  # instances to drop, by id
    series: set[str] = set()  # series to expand again (their occurrences and exceptions dropped)
    singles = []
    for row in written:
        gone.add(row["id"])
        series.add(row["id"])  # it may have been a series master before (a series made a single event)
        if row["series_master_id"]:
            series.add(row["series_master_id"])
        if row["kind"] == "singleInstance" and row["calendar_id"] in ids:
            singles.append(row)
    for event_id, _ in deleted:
        gone.add(event_id)
        series.add(event_id)
        occurrence = parse_occurrence_id(event_id)  # an exception or cancellation gone: the occurrence is back
        if occurrence is not None:
            series.add(occurrence[0])
    starts = ctx.store.snapshots.take(prior_id, WHERE_STARTS)
    by_series = ctx.store.snapshots.take(prior_id, WHERE_SERIES)
    if starts is None or by_series is None:
        starts, by_series = _where(items)
    dropped = {i for i in gone if i in starts}
    for master in series:
        dropped.update(by_series.pop(master, ()))
    out = list(items)
    for at in sorted((bisect.bisect_left(items, (starts[i], i)) for i in dropped), reverse=True):
        del out[at]
    for i in dropped:
        del starts[i]
    ws, we = utc_key(start), utc_key(end)
    added = [ev.row_instance(r) for r in singles if _overlaps(r["start_utc"] or "", r["end_utc"] or "", ws, we)]
    # as _expand finds them: exceptions by the window (their series need not reach it), masters by their reach
    added.extend(ev.row_instance(r) for r in ctx.store.exceptions_in(ids, sorted(series), ws, we))
    masters = ctx.store.masters_in(ids, sorted(series), ws, we)
    if masters:
        master_ids = [m["id"] for m in masters]
        skip = ctx.store.series_child_ids(master_ids)
        for m in masters:
            added.extend(ev.expand_master(m, series_of(ctx, m), start, end, skip))
    added.sort()
    for inst in added:
        bisect.insort(out, inst)
        starts[inst[ev.EVENT_ID]] = inst[ev.START_KEY]
        of = inst[ev.MASTER_ID]
        if of:
            by_series[of] = (*by_series.get(of, ()), inst[ev.EVENT_ID])
    what = (tuple(dropped), tuple(added), tuple(sorted(series)))
    return out, what, {WHERE_STARTS: starts, WHERE_SERIES: by_series}


def brought(ctx: Session, snapshot_id: str, keys: Sequence[Any]) -> tuple[list[Any], list[Change]] | None:
    """(what the nearest window that this one was brought forward from, step by step, keeps under ``keys``,
    taken from it; what each step changed, oldest first), or None when no window on the way keeps them (one built
    from scratch, or dropped, ends the way)."""
    snapshots, steps, here = ctx.store.snapshots, [], snapshot_id
    for _ in range(MAX_UPDATE):
        derived = snapshots.peek(snapshot_id, DERIVED)
        if derived is None:
            return None
        snapshot_id, step = derived
        steps.append(step)
        if all(snapshots.peek(snapshot_id, key) is not None for key in keys):
            return [snapshots.move(snapshot_id, here, key) for key in keys], steps[::-1]
    return None


def carry(
    ctx: Session,
    snapshot_id: str,
    key: Any,
    add: Callable[[dict[str, Any], tuple[ev.Instance, ...]], Any] | None = None,
) -> dict[str, Any] | None:
    """For a window brought forward (snapshots.DERIVED): the dict by id a window it came from keeps under ``key``
    (:func:`brought`), without the instances dropped and the series made again on the way, with ``add``
    putting in those added; None when there is none."""
    found = brought(ctx, snapshot_id, (key,))
    if found is None:
        return None
    (out,), steps = found
    for dropped, added, series in steps:
        for event_id in (*dropped, *series):
            out.pop(event_id, None)
        if add is not None:
            add(out, added)
    return out


def _overlaps(start_key: str, end_key: str, ws: str, we: str) -> bool:
    """Whether an event of [start_key, end_key) is in the window [ws, we) as the SQL of storage.py finds it."""
    return start_key < we and (end_key > ws or (end_key == start_key and start_key >= ws))


def _expand(
    ctx: Session, ids: list[str], start: dt.datetime, end: dt.datetime, master_id: str | None
) -> list[ev.Instance]:
    ws, we = utc_key(start), utc_key(end)
    if master_id is None:
        rows = ctx.store.window_rows(ids, ws, we)
        masters = ctx.store.window_masters(ids, ws, we)
    else:
        rows = ctx.store.series_exceptions_in(master_id, ws, we)
        masters = ctx.store.events_with_id(master_id)
    out = [ev.row_instance(r) for r in rows]  # the SQL found them in the window
    if masters:
        master_ids = [m["id"] for m in masters]
        skip = ctx.store.series_child_ids(master_ids)
        for m in masters:
            out.extend(ev.expand_master(m, series_of(ctx, m), start, end, skip))
    out.sort()  # by (start, id): ids are unique, so the order is total and no later field is compared
    return out


def window_items(
    ctx: Session, calendar_ids: Iterable[str], start: dt.datetime, end: dt.datetime, master_id: str | None = None
) -> list[tuple[str, str, dict[str, Any]]]:
    """(utc start key, id, stored-form doc) of every instance in [start, end), materialized."""
    return [
        (i[ev.START_KEY], i[ev.EVENT_ID], instance_doc(ctx, i))
        for i in window_instances(ctx, calendar_ids, start, end, master_id)
    ]


def store_exception(ctx: Session, master: EventRow, row: EventRow | None, event_id: str, doc: dict[str, Any]) -> None:
    """Store ``doc`` as an exception of ``master``'s series: an occurrence (``row`` None) becomes one, an
    exception (``row``) is rewritten; the original start is the occurrence's own."""
    doc["type"] = "exception"
    original = row["original_start"] if row is not None else occurrence_start(event_id).isoformat()
    ev.store_event(
        ctx.store, ctx.mailbox["id"], master["calendar_id"], doc, event_id, "exception", master["id"], original
    )
