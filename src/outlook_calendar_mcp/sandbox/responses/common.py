"""What the HTTP handlers share: OData query options, pages of results, If-Match, time windows."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from starlette.responses import Response

from ... import timezones as tz
from ..ctx import Ctx, encode
from ..errors import GraphHTTPError, bad_request
from ..models import events as ev
from ..models import lookup, odata

EVENT_PROPERTIES = {
    "id",
    "createdDateTime",
    "lastModifiedDateTime",
    "changeKey",
    "categories",
    "transactionId",
    "originalStartTimeZone",
    "originalEndTimeZone",
    "iCalUId",
    "reminderMinutesBeforeStart",
    "isReminderOn",
    "hasAttachments",
    "subject",
    "bodyPreview",
    "importance",
    "sensitivity",
    "isAllDay",
    "isCancelled",
    "isOrganizer",
    "responseRequested",
    "seriesMasterId",
    "showAs",
    "type",
    "webLink",
    "onlineMeetingUrl",
    "isOnlineMeeting",
    "onlineMeetingProvider",
    "allowNewTimeProposals",
    "isDraft",
    "hideAttendees",
    "responseStatus",
    "body",
    "start",
    "end",
    "location",
    "locations",
    "recurrence",
    "attendees",
    "organizer",
    "onlineMeeting",
    "originalStart",
    "cancelledOccurrences",
    "exceptionOccurrences",
    "occurrenceId",  # /beta only (sandbox.series)
}
LIST_OPTIONS = {"$select", "$filter", "$orderby", "$top", "$skip", "$count", "$expand"}
VIEW_PARAMS = frozenset({"startDateTime", "endDateTime"})
SNAPSHOT = "snapshot"  # a window page's nextLink names the snapshot it pages through (models/snapshots.py)
WINDOW_PARAMS = VIEW_PARAMS | {SNAPSHOT}
DEFAULT_PAGE = 10
MAX_TOP = 1000
EVENT_EXPANDABLE = EVENT_PROPERTIES | {"attachments"}  # what $expand takes on an event (sandbox.effects expands)


def parse_query(
    ctx: Ctx,
    options: set[str],
    properties: set[str] | None,
    type_name: str,
    non_dollar: frozenset[str] = frozenset(),
    expandable: set[str] | None = None,
) -> odata.Query:
    try:
        return odata.parse(
            ctx.params,
            options=options,
            properties=properties,
            type_name=type_name,
            non_dollar=non_dollar,
            expandable=expandable,
        )
    except odata.ODataError as e:
        raise GraphHTTPError(400, e.code, str(e)) from None


def check_if_match(ctx: Ctx, change_key: str, what: str = "event") -> None:
    """412 when If-Match names another version than ``change_key`` (an etag W/"..", the bare key, or *)."""
    wanted = (ctx.request.headers.get("if-match") or "").strip()
    if wanted and wanted != "*" and wanted not in (f'W/"{change_key}"', change_key, f'"{change_key}"'):
        raise GraphHTTPError(
            412,
            "ErrorIrresolvableConflict",
            "The send or update operation could not be performed because the change key passed in the request does "
            f"not match the current change key for the item. Get the {what} again and retry with its @odata.etag.",
        )


def require_window(ctx: Ctx) -> tuple[dt.datetime, dt.datetime]:
    params = {k.lower(): v for k, v in ctx.params.items()}
    if "startdatetime" not in params or "enddatetime" not in params:
        raise bad_request(
            "This request requires a time window specified by the query string parameters "
            "StartDateTime and EndDateTime.",
            "ErrorInvalidParameter",
        )
    start, end = (
        window_instant(params["startdatetime"], "startDateTime"),
        window_instant(params["enddatetime"], "endDateTime"),
    )
    if end <= start:
        raise bad_request("endDateTime must be later than startDateTime.", "ErrorInvalidParameter")
    return start, end


def window_instant(value: str, label: str) -> dt.datetime:
    try:
        moment = tz.parse_graph_datetime(value.replace(" ", "+"))
    except ValueError:
        raise bad_request(
            f"The value '{value}' of the query parameter {label} is not a valid date and time; "
            "use ISO 8601, e.g. 2026-11-23T00:00:00Z.",
            "ErrorInvalidParameter",
        ) from None
    # Without an offset Graph reads these as UTC, whatever Prefer: outlook.timezone says.
    return moment.replace(tzinfo=dt.UTC) if moment.tzinfo is None else moment.astimezone(dt.UTC)


def respond_page(
    ctx: Ctx,
    items: list[tuple[str, dict[str, Any]]],
    query: odata.Query,
    context: str,
    default_page: int = DEFAULT_PAGE,
    render: Any = None,
    snapshot: str | None = None,
) -> Response:
    """Filter/sort already done: slice a page, render it, add nextLink/count (naming ``snapshot``, if given)."""
    size = query.top or ctx.max_page_size or default_page
    if ctx.max_page_size and query.top:
        size = min(query.top, ctx.max_page_size)
    page = items[query.skip : query.skip + size]
    render = render or (
        lambda event_id, doc: ev.render(
            lookup.instance_doc(ctx, doc) if isinstance(doc, tuple) else doc, event_id, ctx.view
        )
    )
    body: dict[str, Any] = {"@odata.context": ctx.context_url(context)}
    if query.count:
        body["@odata.count"] = len(items)
    body["value"] = [odata.project(render(event_id, doc), query.select) for event_id, doc in page]
    if query.skip + size < len(items):
        more = {"$skip": query.skip + size} | ({SNAPSHOT: snapshot} if snapshot else {})
        body["@odata.nextLink"] = ctx.link("/".join(ctx.segments), **more)
    return ctx.respond(body)


def respond_window_page(ctx: Ctx, items: Sequence[Any], query: odata.Query, context: str, snapshot: str) -> Response:
    """A page of a window's snapshot (as :func:`respond_page` answers it), each instance rendered and encoded once
    per way of showing it (zone, body type, $select) and kept with the snapshot: reading the window again, page
    by page, joins bytes already made. ``items``: the window's instances (:data:`.events.Instance`), or
    (id, stored-form document) pairs (a $filter or $orderby has read them)."""
    size = query.top or ctx.max_page_size or DEFAULT_PAGE
    if ctx.max_page_size and query.top:
        size = min(query.top, ctx.max_page_size)
    select = tuple(query.select) if query.select is not None else None
    how = ("page", ctx.view.zone_name, ctx.view.body_type, select)
    # by id; a dict of bytes, which the garbage collector never tracks (a list of them it would walk). A window
    # brought forward after a write takes what the window before had encoded of what did not change.
    encoded: dict[str, bytes] | None = ctx.store.snapshots.peek(snapshot, how)
    if encoded is None:
        encoded = lookup.carry(ctx, snapshot, how) or {}
        ctx.store.snapshots.put(snapshot, how, encoded)
    parts, made = [], 0
    for n in range(query.skip, min(query.skip + size, len(items))):
        entry = items[n]
        event_id = entry[0] if len(entry) == 2 else entry[ev.EVENT_ID]
        part = encoded.get(event_id)
        if part is None:
            doc = entry[1] if len(entry) == 2 else lookup.instance_doc(ctx, entry)
            shown = ev.render(doc, event_id, ctx.view)
            part = encoded[event_id] = encode(odata.project(shown, query.select))
            made += len(part)
        parts.append(part)
    if made:
        ctx.store.snapshots.add_bytes(snapshot, made, how)
    head: dict[str, Any] = {"@odata.context": ctx.context_url(context)}
    if query.count:
        head["@odata.count"] = len(items)
    tail = b"}"
    if query.skip + size < len(items):
        link = ctx.link("/".join(ctx.segments), **{"$skip": query.skip + size, SNAPSHOT: snapshot})
        tail = b',"@odata.nextLink":' + encode(link) + b"}"
    return ctx.respond_encoded(encode(head)[:-1] + b',"value":[' + b",".join(parts) + b"]" + tail)


def respond_docs(
    ctx: Ctx, docs: list[dict[str, Any]], query: odata.Query, context: str, default_page: int = DEFAULT_PAGE
) -> Response:
    """$filter, $orderby and a page over documents already rendered (calendars, users, places...)."""
    if query.filter is not None:
        docs = [d for d in docs if odata.matches(query.filter, d)]
    if query.orderby:
        docs = odata.sort(docs, query.orderby)
    return respond_page(
        ctx, [(d["id"], d) for d in docs], query, context, default_page=default_page, render=lambda _i, d: d
    )


def filtered(query: odata.Query, items: list[tuple[str, dict[str, Any]]]) -> list[tuple[str, dict[str, Any]]]:
    if query.filter is not None:
        items = [(i, d) for i, d in items if odata.matches(query.filter, {**ev.utc_form(d), "id": i})]
    if query.orderby:
        keyed = {id(d): (i, d) for i, d in items}
        ordered = odata.sort([{**ev.utc_form(d), "id": i, "_key": id(d)} for i, d in items], query.orderby)
        items = [keyed[o["_key"]] for o in ordered]
    return items


def mailbox_context(ctx: Ctx) -> str:
    return f"users('{ctx.mailbox['id']}')"
