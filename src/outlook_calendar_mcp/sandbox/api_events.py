"""Event endpoints: list, get, create, update, delete, calendarView, instances."""

from __future__ import annotations

import copy
import datetime as dt
import json
from typing import Any, Iterable

from starlette.responses import Response

from .. import timezones as tz
from . import events as ev
from . import odata
from .app import Ctx
from .errors import GraphHTTPError, bad_request, not_found
from .store import parse_occurrence_id, utc_key

EVENT_PROPERTIES = {
    "id", "createdDateTime", "lastModifiedDateTime", "changeKey", "categories", "transactionId",
    "originalStartTimeZone", "originalEndTimeZone", "iCalUId", "reminderMinutesBeforeStart", "isReminderOn",
    "hasAttachments", "subject", "bodyPreview", "importance", "sensitivity", "isAllDay", "isCancelled",
    "isOrganizer", "responseRequested", "seriesMasterId", "showAs", "type", "webLink", "onlineMeetingUrl",
    "isOnlineMeeting", "onlineMeetingProvider", "allowNewTimeProposals", "isDraft",
    "hideAttendees", "responseStatus", "body", "start", "end", "location", "locations", "recurrence",
    "attendees", "organizer", "onlineMeeting", "originalStart", "cancelledOccurrences", "exceptionOccurrences",
}
LIST_OPTIONS = {"$select", "$filter", "$orderby", "$top", "$skip", "$count", "$expand"}
VIEW_PARAMS = frozenset({"startDateTime", "endDateTime"})
DEFAULT_PAGE = 10
MAX_TOP = 1000


# -- shared helpers ------------------------------------------------------------

def parse_query(ctx: Ctx, options: set[str], properties: set[str] | None, type_name: str,
                non_dollar: frozenset[str] = frozenset(), expandable: set[str] | None = None) -> odata.Query:
    try:
        return odata.parse(ctx.params, options=options, properties=properties, type_name=type_name,
                           non_dollar=non_dollar, expandable=expandable)
    except odata.ODataError as e:
        raise GraphHTTPError(400, e.code, str(e)) from None


def load_doc(ctx: Ctx, row: Any) -> dict[str, Any]:
    """A stored document, parsed once per stored version: treat the result as read-only."""
    cache = ctx.store.__dict__.setdefault("_doc_cache", {})
    # Keyed on the stored text itself: seq numbers can repeat after a rollback or a restored database.
    key = (row["id"], row["doc"])
    doc = cache.get(key)
    if doc is None:
        if len(cache) > 50_000:
            cache.clear()
        doc = cache[key] = json.loads(row["doc"])
    return doc


def check_if_match(ctx: Ctx, change_key: str, what: str = "event") -> None:
    """412 when If-Match names another version than ``change_key`` (an etag W/"..", the bare key, or *)."""
    wanted = (ctx.request.headers.get("if-match") or "").strip()
    if wanted and wanted != "*" and wanted not in (f'W/"{change_key}"', change_key, f'"{change_key}"'):
        raise GraphHTTPError(
            412, "ErrorIrresolvableConflict",
            "The send or update operation could not be performed because the change key passed in the request does "
            f"not match the current change key for the item. Get the {what} again and retry with its @odata.etag.")


def require_window(ctx: Ctx) -> tuple[dt.datetime, dt.datetime]:
    params = {k.lower(): v for k, v in ctx.params.items()}
    if "startdatetime" not in params or "enddatetime" not in params:
        raise bad_request("This request requires a time window specified by the query string parameters "
                          "StartDateTime and EndDateTime.", "ErrorInvalidParameter")
    start, end = _instant(params["startdatetime"], "startDateTime"), _instant(params["enddatetime"], "endDateTime")
    if end <= start:
        raise bad_request("endDateTime must be later than startDateTime.", "ErrorInvalidParameter")
    return start, end


def _instant(value: str, label: str) -> dt.datetime:
    try:
        moment = tz.parse_graph_datetime(value.replace(" ", "+"))
    except ValueError:
        raise bad_request(f"The value '{value}' of the query parameter {label} is not a valid date and time; "
                          "use ISO 8601, e.g. 2026-11-23T00:00:00Z.", "ErrorInvalidParameter") from None
    # Without an offset Graph reads these as UTC, whatever Prefer: outlook.timezone says.
    return moment.replace(tzinfo=dt.timezone.utc) if moment.tzinfo is None else moment.astimezone(dt.timezone.utc)


def respond_page(ctx: Ctx, items: list[tuple[str, dict[str, Any]]], query: odata.Query, context: str,
                 default_page: int = DEFAULT_PAGE, render: Any = None) -> Response:
    """Filter/sort already done: slice a page, render it, add nextLink/count."""
    size = query.top or ctx.max_page_size or default_page
    if ctx.max_page_size and query.top:
        size = min(query.top, ctx.max_page_size)
    page = items[query.skip: query.skip + size]
    render = render or (lambda event_id, doc: ev.render(
        doc.materialize() if isinstance(doc, ev.Instance) else doc, event_id, ctx.view))
    body: dict[str, Any] = {"@odata.context": ctx.context_url(context)}
    if query.count:
        body["@odata.count"] = len(items)
    body["value"] = [odata.project(render(event_id, doc), query.select) for event_id, doc in page]
    if query.skip + size < len(items):
        body["@odata.nextLink"] = ctx.link("/".join(ctx.segments), **{"$skip": query.skip + size})
    return ctx.respond(body)


def respond_docs(ctx: Ctx, docs: list[dict[str, Any]], query: odata.Query, context: str,
                 default_page: int = DEFAULT_PAGE) -> Response:
    """$filter, $orderby and a page over documents already rendered (calendars, users, places...)."""
    if query.filter is not None:
        docs = [d for d in docs if odata.matches(query.filter, d)]
    if query.orderby:
        docs = odata.sort(docs, query.orderby)
    return respond_page(ctx, [(d["id"], d) for d in docs], query, context, default_page=default_page,
                        render=lambda _i, d: d)


def _filtered(query: odata.Query, items: list[tuple[str, dict[str, Any]]]) -> list[tuple[str, dict[str, Any]]]:
    if query.filter is not None:
        items = [(i, d) for i, d in items if odata.matches(query.filter, {**ev.utc_form(d), "id": i})]
    if query.orderby:
        keyed = {id(d): (i, d) for i, d in items}
        ordered = odata.sort([{**ev.utc_form(d), "id": i, "_key": id(d)} for i, d in items], query.orderby)
        items = [keyed[o["_key"]] for o in ordered]
    return items


def mailbox_context(ctx: Ctx) -> str:
    return f"users('{ctx.mailbox['id']}')"


# -- finding events ----------------------------------------------------------------

def find_event(ctx: Ctx, event_id: str, calendar: Any | None = None) -> tuple[dict[str, Any], Any | None, Any]:
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
    if master is None or master["kind"] != "seriesMaster" or (calendar is not None and master["calendar_id"] != calendar["id"]):
        raise not_found()
    doc = load_doc(ctx, master)
    times = ev.event_times(doc)
    zone_name = doc["recurrence"]["range"].get("recurrenceTimeZone") or "UTC"
    zone = ev.zone_of(zone_name, "recurrence")
    if not ev.rec.occurrence_at(doc["recurrence"], ev.series_start(doc, times, zone), zone, original):
        raise not_found()
    return ev.occurrence_doc(master_id, doc, original, zone_name, times.duration), None, master


def _looks_like_id(event_id: str) -> bool:
    import base64  # noqa: PLC0415
    try:
        return len(base64.urlsafe_b64decode(event_id.encode())) > 8
    except ValueError:
        return False


# -- handlers ------------------------------------------------------------------------

def list_events(ctx: Ctx, calendar: Any) -> Response:
    query = parse_query(ctx, LIST_OPTIONS, EVENT_PROPERTIES, "microsoft.graph.event")
    rows = ctx.store.db.execute(
        "SELECT * FROM events WHERE calendar_id = ? AND kind IN ('singleInstance', 'seriesMaster')"
        " ORDER BY start_utc, id", (calendar["id"],)).fetchall()
    items = _filtered(query, [(r["id"], load_doc(ctx, r)) for r in rows])
    return respond_page(ctx, items, query, f"{mailbox_context(ctx)}/events")


def get_event(ctx: Ctx, event_id: str, calendar: Any | None) -> Response:
    query = parse_query(ctx, {"$select", "$expand"}, EVENT_PROPERTIES, "microsoft.graph.event",
                        expandable=EVENT_PROPERTIES | EVENT_EXPANDABLE)
    doc, _, _ = find_event(ctx, event_id, calendar)
    body = odata.project(ev.render(doc, event_id, ctx.view), query.select)
    body = {"@odata.context": ctx.context_url(f"{mailbox_context(ctx)}/events/$entity"), **body}
    for hook in GET_EVENT_HOOKS:
        hook(ctx, event_id, doc, body, query)
    return ctx.respond(body)


GET_EVENT_HOOKS: list[Any] = []   # later parts add $expand=attachments, exceptionOccurrences, ...
EVENT_EXPANDABLE: set[str] = set()  # navigation properties those hooks expand on get_event ("attachments")
WRITE_HOOKS: list[Any] = []       # later parts add delivery to attendees: hook(ctx, kind, before, after, row_id)


def create_event(ctx: Ctx, calendar: Any) -> Response:
    query = parse_query(ctx, {"$select"}, EVENT_PROPERTIES, "microsoft.graph.event")
    body = ev.check_event_body(ctx.json())
    if body.get("transactionId"):
        existing = _by_transaction(ctx, calendar, body["transactionId"])
        if existing is not None:  # a retried create: answer with the event the first try made
            return ctx.respond(odata.project(ev.render(load_doc(ctx, existing), existing["id"], ctx.view),
                                             query.select), 201)
    organizer = {"name": json.loads(ctx.mailbox["doc"])["displayName"], "address": ctx.mailbox["address"]}
    doc = ev.new_event_doc(body, organizer, ctx.now)
    event_id = ev.store_event(ctx.store, ctx.mailbox["id"], calendar["id"], doc)
    for hook in WRITE_HOOKS:
        hook(ctx, "create", None, doc, event_id)
    out = odata.project(ev.render(doc, event_id, ctx.view), query.select)
    return ctx.respond({"@odata.context": ctx.context_url(f"{mailbox_context(ctx)}/events/$entity"), **out}, 201,
                       {"Location": f"{ctx.base_url()}/{ctx.path_prefix}/events('{event_id}')"})



def _by_transaction(ctx: Ctx, calendar: Any, transaction_id: str) -> Any | None:
    for row in ctx.store.db.execute("SELECT * FROM events WHERE calendar_id = ? AND kind IN"
                                    " ('singleInstance', 'seriesMaster')", (calendar["id"],)):
        if load_doc(ctx, row).get("transactionId") == transaction_id:
            return row
    return None


def patch_event(ctx: Ctx, event_id: str, calendar: Any | None) -> Response:
    query = parse_query(ctx, {"$select"}, EVENT_PROPERTIES, "microsoft.graph.event")
    body = ev.check_event_body(ctx.json())
    doc, row, master = find_event(ctx, event_id, calendar)
    check_if_match(ctx, doc["changeKey"])
    if "recurrence" in body and doc.get("type") in ("occurrence", "exception"):
        raise bad_request("recurrence cannot be set on one occurrence of a series; update the series master "
                          f"({doc.get('seriesMasterId')}) instead.")
    before = doc
    doc = copy.deepcopy(doc)
    doc = {k: v for k, v in doc.items() if not k.startswith("_")}
    ev.apply_changes(doc, body)
    ev.touch(doc, ctx.now)
    if row is None or row["kind"] == "exception":      # an occurrence becomes (or stays) an exception
        doc["type"] = "exception"
        original = row["original_start"] if row is not None else parse_occurrence_id(event_id)[1].isoformat()
        ev.store_event(ctx.store, ctx.mailbox["id"], master["calendar_id"], doc, event_id, "exception",
                       master["id"], original)
    else:
        if row["kind"] == "seriesMaster" and _series_shape_changed(before, doc):
            _drop_exceptions(ctx, row["id"], doc if _only_range_changed(before, doc) else None)
        if doc["type"] == "singleInstance" and row["kind"] == "seriesMaster":
            _drop_exceptions(ctx, row["id"])
        ev.store_event(ctx.store, ctx.mailbox["id"], row["calendar_id"], doc, event_id)
    for hook in WRITE_HOOKS:
        hook(ctx, "update", before, doc, event_id)
    out = odata.project(ev.render(doc, event_id, ctx.view), query.select)
    return ctx.respond({"@odata.context": ctx.context_url(f"{mailbox_context(ctx)}/events/$entity"), **out})


def _series_shape_changed(before: dict[str, Any], after: dict[str, Any]) -> bool:
    return any(before.get(k) != after.get(k) for k in ("recurrence", "start", "end", "isAllDay"))


def _only_range_changed(before: dict[str, Any], after: dict[str, Any]) -> bool:
    """The series only ends at another date (or count): its occurrences are unchanged up to the new end."""
    if any(before.get(k) != after.get(k) for k in ("start", "end", "isAllDay")):
        return False
    old, new = before.get("recurrence") or {}, after.get("recurrence") or {}
    if not old or not new or old.get("pattern") != new.get("pattern"):
        return False
    keep = ("startDate", "recurrenceTimeZone")
    return all((old.get("range") or {}).get(k) == (new.get("range") or {}).get(k) for k in keep)


def _drop_exceptions(ctx: Ctx, master_id: str, still: dict[str, Any] | None = None) -> None:
    """Delete a series' exceptions and cancellations; with ``still`` (the master's new document), only those of
    occurrences the new recurrence no longer has (ending a series earlier keeps the exceptions before its end)."""
    times = zone = None
    if still is not None:
        times = ev.event_times(still)
        zone = ev.zone_of(still["recurrence"]["range"].get("recurrenceTimeZone") or "UTC", "recurrence")
    for child in ctx.store.series_children(master_id):
        if still is not None and child["original_start"] and ev.rec.occurrence_at(
                still["recurrence"], ev.series_start(still, times, zone), zone,
                dt.datetime.fromisoformat(child["original_start"])):
            continue
        ctx.store.delete_event_row(child)


def delete_event(ctx: Ctx, event_id: str, calendar: Any | None) -> Response:
    parse_query(ctx, set(), None, "microsoft.graph.event")
    doc, row, master = find_event(ctx, event_id, calendar)
    check_if_match(ctx, doc["changeKey"])
    remove_event(ctx, event_id, doc, row, master)
    return ctx.respond(None, 204)


def remove_event(ctx: Ctx, event_id: str, doc: dict[str, Any], row: Any | None, master: Any | None) -> None:
    """Delete a single event or series, or cancel one occurrence (kept as a 'cancelled' row)."""
    if row is not None and row["kind"] in ("singleInstance", "seriesMaster"):
        if row["kind"] == "seriesMaster":
            _drop_exceptions(ctx, row["id"])
        ctx.store.delete_event_row(row)
    else:
        cancelled = copy.deepcopy(doc)
        cancelled.pop("_id", None)
        cancelled.update({"type": "cancelled", "isCancelled": True})
        ev.touch(cancelled, ctx.now)
        original = row["original_start"] if row is not None else parse_occurrence_id(event_id)[1].isoformat()
        ev.store_event(ctx.store, ctx.mailbox["id"], master["calendar_id"], cancelled, event_id, "cancelled",
                       master["id"], original)
    for hook in WRITE_HOOKS:
        hook(ctx, "delete", doc, None, event_id)


# -- windows ---------------------------------------------------------------------------

def window_instances(ctx: Ctx, calendar_ids: Iterable[str], start: dt.datetime, end: dt.datetime,
                     master_id: str | None = None) -> list[ev.Instance]:
    """Every instance in [start, end) — singles, occurrences, exceptions — sorted by (start, id), built lazily:
    occurrences are only materialized for the page that is rendered."""
    ws, we = utc_key(start), utc_key(end)
    ids = list(calendar_ids)
    marks = ",".join("?" * len(ids))
    overlap = "start_utc < ? AND (end_utc > ? OR (end_utc = start_utc AND start_utc >= ?))"
    if master_id is None:
        rows = ctx.store.db.execute(
            f"SELECT * FROM events WHERE calendar_id IN ({marks}) AND kind IN ('singleInstance', 'exception')"  # noqa: S608
            f" AND {overlap}", (*ids, we, ws, ws)).fetchall()
        masters = ctx.store.db.execute(
            f"SELECT * FROM events WHERE calendar_id IN ({marks}) AND kind = 'seriesMaster'"  # noqa: S608
            " AND start_utc < ? AND (end_utc IS NULL OR end_utc >= ?)", (*ids, we, ws)).fetchall()
    else:
        rows = ctx.store.db.execute(f"SELECT * FROM events WHERE series_master_id = ? AND kind = 'exception'"
                                    f" AND {overlap}", (master_id, we, ws, ws)).fetchall()
        masters = ctx.store.db.execute("SELECT * FROM events WHERE id = ?", (master_id,)).fetchall()
    out = [ev.Instance(r["start_utc"], r["id"], doc=load_doc(ctx, r)) for r in rows]
    if masters:
        master_ids = [m["id"] for m in masters]
        skip = {r[0] for r in ctx.store.db.execute(
            f"SELECT id FROM events WHERE series_master_id IN ({','.join('?' * len(master_ids))})",  # noqa: S608
            master_ids)}
        for m in masters:
            out.extend(ev.expand_master(m, load_doc(ctx, m), start, end, skip))
    out.sort(key=lambda i: (i.start_key, i.event_id))
    return out


def window_items(ctx: Ctx, calendar_ids: Iterable[str], start: dt.datetime, end: dt.datetime,
                 master_id: str | None = None) -> list[tuple[str, str, dict[str, Any]]]:
    """(utc start key, id, stored-form doc) of every instance in [start, end), materialized."""
    return [(i.start_key, i.event_id, i.materialize())
            for i in window_instances(ctx, calendar_ids, start, end, master_id)]


def _lazy(query: odata.Query, instances: list[ev.Instance]) -> list[tuple[str, Any]]:
    """Entries for respond_page: lazy unless a $filter/$orderby needs every document."""
    if query.filter is None and not query.orderby:
        return [(i.event_id, i) for i in instances]
    return _filtered(query, [(i.event_id, i.materialize()) for i in instances])


def calendar_view(ctx: Ctx, calendar: Any) -> Response:
    query = parse_query(ctx, LIST_OPTIONS, EVENT_PROPERTIES, "microsoft.graph.event", VIEW_PARAMS)
    start, end = require_window(ctx)
    instances = window_instances(ctx, [calendar["id"]], start, end)
    return respond_page(ctx, _lazy(query, instances), query, f"{mailbox_context(ctx)}/calendarView")


def list_instances(ctx: Ctx, event_id: str, calendar: Any | None) -> Response:
    query = parse_query(ctx, LIST_OPTIONS, EVENT_PROPERTIES, "microsoft.graph.event", VIEW_PARAMS)
    start, end = require_window(ctx)
    doc, row, _ = find_event(ctx, event_id, calendar)
    if row is None or row["kind"] != "seriesMaster":
        raise bad_request("instances is only available on a series master event (type 'seriesMaster'); "
                          f"this event is of type '{doc.get('type')}'.", "ErrorInvalidRequest")
    instances = window_instances(ctx, [], start, end, master_id=row["id"])
    return respond_page(ctx, _lazy(query, instances), query, f"{mailbox_context(ctx)}/events('{event_id}')/instances")

