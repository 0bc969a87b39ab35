"""Event endpoints: list, get, create, update, delete, calendarView, instances.

Every write runs its effects through :func:`.effects.after_write`; a read of one event
expands what it asks for through :func:`.effects.expand_event`.
"""

from __future__ import annotations

import copy
import json
from typing import Any

from starlette.responses import Response

from .. import effects
from ..ctx import Ctx
from ..errors import GraphHTTPError, bad_request
from ..models import events as ev
from ..models import meetings, odata
from ..models.lookup import (
    drop_exceptions,
    find_event,
    instance_doc,
    load_doc,
    remove_event_rows,
    store_exception,
    window,
    window_instances,
)
from ..models.rows import CalendarRow, EventRow
from . import attachments, series
from .actions import action_body
from .common import (
    EVENT_EXPANDABLE,
    EVENT_PROPERTIES,
    LIST_OPTIONS,
    SNAPSHOT,
    WINDOW_PARAMS,
    check_if_match,
    filtered,
    mailbox_context,
    parse_query,
    require_window,
    respond_page,
    respond_window_page,
)


def list_events(ctx: Ctx, calendar: CalendarRow) -> Response:
    query = parse_query(ctx, LIST_OPTIONS, EVENT_PROPERTIES, "microsoft.graph.event")
    rows = ctx.store.top_level_events(calendar["id"], ordered=True)
    items = filtered(query, [(r["id"], load_doc(ctx, r)) for r in rows])
    return respond_page(ctx, items, query, f"{mailbox_context(ctx)}/events")


def get_event(ctx: Ctx, event_id: str, calendar: CalendarRow | None) -> Response:
    query = parse_query(
        ctx, {"$select", "$expand"}, EVENT_PROPERTIES, "microsoft.graph.event", expandable=EVENT_EXPANDABLE
    )
    doc, _, _ = find_event(ctx, event_id, calendar)
    body = odata.project(ev.render(doc, event_id, ctx.view), query.select)
    body = {"@odata.context": ctx.context_url(f"{mailbox_context(ctx)}/events/$entity"), **body}
    series.on_get(ctx, event_id, doc, body, query)  # /beta occurrenceId, exception/cancelledOccurrences
    attachments.expand_on_event(ctx, event_id, doc, body, query)  # $expand=attachments
    return ctx.respond(body)


def create_event(ctx: Ctx, calendar: CalendarRow) -> Response:
    query = parse_query(ctx, {"$select"}, EVENT_PROPERTIES, "microsoft.graph.event")
    body = ev.check_event_body(ctx.json())
    if body.get("transactionId"):
        existing = _by_transaction(ctx, calendar, body["transactionId"])
        if existing is not None:  # a retried create: answer with the event the first try made
            return ctx.respond(
                odata.project(ev.render(load_doc(ctx, existing), existing["id"], ctx.view), query.select), 201
            )
    organizer = {"name": json.loads(ctx.mailbox["doc"])["displayName"], "address": ctx.mailbox["address"]}
    doc = ev.new_event_doc(body, organizer, ctx.now)
    event_id = ev.store_event(ctx.store, ctx.mailbox["id"], calendar["id"], doc)
    effects.after_write(ctx, "create", None, doc, event_id)
    out = odata.project(ev.render(doc, event_id, ctx.view), query.select)
    return ctx.respond(
        {"@odata.context": ctx.context_url(f"{mailbox_context(ctx)}/events/$entity"), **out},
        201,
        {"Location": f"{ctx.base_url()}/{ctx.path_prefix}/events('{event_id}')"},
    )


def _by_transaction(ctx: Ctx, calendar: CalendarRow, transaction_id: str) -> Any | None:
    for row in ctx.store.top_level_events(calendar["id"]):
        if load_doc(ctx, row).get("transactionId") == transaction_id:
            return row
    return None


def patch_event(ctx: Ctx, event_id: str, calendar: CalendarRow | None) -> Response:
    query = parse_query(ctx, {"$select"}, EVENT_PROPERTIES, "microsoft.graph.event")
    body = ev.check_event_body(ctx.json())
    doc, row, master = find_event(ctx, event_id, calendar)
    check_if_match(ctx, doc["changeKey"])
    if "recurrence" in body and doc.get("type") in ("occurrence", "exception"):
        raise bad_request(
            "recurrence cannot be set on one occurrence of a series; update the series master "
            f"({doc.get('seriesMasterId')}) instead."
        )
    before = doc
    doc = copy.deepcopy(doc)
    doc = {k: v for k, v in doc.items() if not k.startswith("_")}
    ev.apply_changes(doc, body)
    ev.touch(doc, ctx.now)
    if row is None or row["kind"] == "exception":  # an occurrence becomes (or stays) an exception
        assert master is not None  # an occurrence or an exception has its series master
        store_exception(ctx, master, row, event_id, doc)
    else:
        if row["kind"] == "seriesMaster" and _series_shape_changed(before, doc):
            drop_exceptions(ctx, row["id"], doc if _only_range_changed(before, doc) else None)
        if doc["type"] == "singleInstance" and row["kind"] == "seriesMaster":
            drop_exceptions(ctx, row["id"])
        ev.store_event(ctx.store, ctx.mailbox["id"], row["calendar_id"], doc, event_id)
    effects.after_write(ctx, "update", before, doc, event_id)
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


def delete_event(ctx: Ctx, event_id: str, calendar: CalendarRow | None) -> Response:
    parse_query(ctx, set(), None, "microsoft.graph.event")
    doc, row, master = find_event(ctx, event_id, calendar)
    check_if_match(ctx, doc["changeKey"])
    remove_event(ctx, event_id, doc, row, master)
    return ctx.respond(None, 204)


def remove_event(ctx: Ctx, event_id: str, doc: dict[str, Any], row: EventRow | None, master: EventRow | None) -> None:
    """Delete a single event or series, or cancel one occurrence, then run the delete's effects."""
    remove_event_rows(ctx, event_id, doc, row, master)
    effects.after_write(ctx, "delete", doc, None, event_id)


def _window_page(
    ctx: Ctx, query: odata.Query, context: str, calendar_ids: list[str], master_id: str | None = None
) -> Response:
    """One page of a window's instances, cut from the snapshot the first page was (models/snapshots.py). Without
    $filter and $orderby the page is cut from the window's own snapshot (its instances, in their order): a write
    brings it forward rather than expanding the window again (lookup.window)."""
    start, end = require_window(ctx)
    asked = ctx.params.get(SNAPSHOT)
    if query.filter is None and not query.orderby:
        snapshot, instances = window(ctx, calendar_ids, start, end, master_id, asked)
        return respond_window_page(ctx, instances, query, context, snapshot)
    shape = (
        ctx.mailbox["id"],
        tuple(calendar_ids),
        master_id,
        start,
        end,
        ctx.params.get("$filter"),
        ctx.params.get("$orderby"),
    )

    def build() -> list[tuple[str, Any]]:
        docs = [
            (i[ev.EVENT_ID], instance_doc(ctx, i)) for i in window_instances(ctx, calendar_ids, start, end, master_id)
        ]
        return filtered(query, docs)

    snapshot, items = ctx.store.snapshots.items(shape, ctx.store.data_version(), asked, build)
    return respond_window_page(ctx, items, query, context, snapshot)


def calendar_view(ctx: Ctx, calendar: CalendarRow) -> Response:
    query = parse_query(ctx, LIST_OPTIONS, EVENT_PROPERTIES, "microsoft.graph.event", WINDOW_PARAMS)
    return _window_page(ctx, query, f"{mailbox_context(ctx)}/calendarView", [calendar["id"]])


def list_instances(ctx: Ctx, event_id: str, calendar: CalendarRow | None) -> Response:
    query = parse_query(ctx, LIST_OPTIONS, EVENT_PROPERTIES, "microsoft.graph.event", WINDOW_PARAMS)
    require_window(ctx)
    doc, row, _ = find_event(ctx, event_id, calendar)
    if row is None or row["kind"] != "seriesMaster":
        raise bad_request(
            "instances is only available on a series master event (type 'seriesMaster'); "
            f"this event is of type '{doc.get('type')}'.",
            "ErrorInvalidRequest",
        )
    context = f"{mailbox_context(ctx)}/events('{event_id}')/instances"
    return _window_page(ctx, query, context, [], master_id=row["id"])


def cancel_event(ctx: Ctx, event_id: str, calendar: CalendarRow | None) -> Response:
    """``POST .../events/{id}/cancel``: the organizer deletes a meeting; the attendees' copies are cancelled with
    the comment (the delete's meeting effect reads it from ``ctx.extra``)."""
    params = action_body(ctx, "cancel", {"comment": "string"})
    doc, row, master = find_event(ctx, event_id, calendar)
    if not doc.get("isOrganizer"):
        raise GraphHTTPError(400, "ErrorCalendarIsNotOrganizer", meetings.NOT_ORGANIZER)
    ctx.extra[meetings.CANCEL_COMMENT] = params.get("comment")
    try:
        remove_event(ctx, event_id, doc, row, master)  # Deleted Items; the delete's effects cancel the copies
    finally:
        ctx.extra.pop(meetings.CANCEL_COMMENT, None)
    return ctx.respond(None, 202)
