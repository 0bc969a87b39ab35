"""Change tracking on a calendar view: ``calendarView/delta`` (and the reference's sync form).

Two spellings of the same service:

* Graph v1.0: ``GET {mb}[/calendars/{id}]/calendarView/delta?startDateTime&endDateTime``,
  then the ``@odata.nextLink`` (``$skiptoken``) of each page, until a page ends
  with ``@odata.deltaLink`` (``$deltatoken``); that link, requested later,
  starts the next round and returns only what changed since.
* The reference (Outlook REST "Sincronizar eventos"): ``GET .../calendarView?
  startDateTime&endDateTime`` with ``Prefer: odata.track-changes``, answered
  with ``Preference-Applied: odata.track-changes``. As the reference shows,
  the *first* response always ends with a deltaLink, even when it holds only
  the first page: the next request, with that ``$deltatoken``, returns the
  rest, through ``$skiptoken`` pages, until a deltaLink again. Its links keep
  startDateTime and endDateTime. (``/delta`` with ``Prefer:
  odata.track-changes`` behaves the same way.)

A client that follows Graph's rules converges with both: whatever a first
response leaves out comes with the next round.

What a round returns: every item of the window the client does not have in
its current version - single events, series masters and exceptions in full
(``@odata.type`` ``#microsoft.graph.event``), occurrences abbreviated to
``id``, ``seriesMasterId``, ``type``, ``start`` and ``end`` (as Graph does:
take the rest from the master) - and, for every item the client has that is
gone from the window (deleted, cancelled, moved out), ``{"id": ...,
"@removed": {"reason": "deleted"}}``. Versions are the store's ``seq`` change
counter (an occurrence's version is its time), so a round's answer is exact:
the state behind each token is what the client was sent (table
``delta_states``). Pages hold ``Prefer: odata.maxpagesize`` items (default
10); removals come first.

``$filter``, ``$select``, ``$top``, ``$skip``, ``$search``, ``$count``,
``$orderby`` and ``$expand`` are refused (400 ``ErrorInvalidUrlQuery``). A
token the sandbox no longer knows is a 410 ``SyncStateNotFound``: start over
without it. Tokens live 30 days. Access is as for calendarView (a sharee with
limitedRead gets the limited fields).
"""

from __future__ import annotations

import datetime as dt
import json
import secrets
from collections.abc import Sequence
from typing import Any

from starlette.responses import Response

from ..ctx import Ctx, encode, parse_prefer
from ..errors import GraphHTTPError, bad_request
from ..models import events as ev
from ..models import lookup, sharing
from ..models.rows import CalendarRow
from ..models.store import graph_timestamp, utc_key
from .common import require_window

DEFAULT_PAGE = 10
TOKEN_LIFETIME = dt.timedelta(days=30)
FORBIDDEN = ("$filter", "$select", "$top", "$skip", "$search", "$count", "$orderby", "$expand")
ALLOWED = {
    "startdatetime": "startDateTime",
    "enddatetime": "endDateTime",
    "$deltatoken": "$deltatoken",
    "$skiptoken": "$skiptoken",
}
TRACK_CHANGES = "odata.track-changes"
EVENT_TYPE = "#microsoft.graph.event"


def wants_sync(ctx: Ctx) -> bool:
    names = {k.lower().lstrip("$") for k in ctx.params}
    return "deltatoken" in names or "skiptoken" in names or TRACK_CHANGES in _prefer(ctx)


def _prefer(ctx: Ctx) -> dict[str, str]:
    return parse_prefer(ctx.request.headers.getlist("prefer"))


def tracks_changes(ctx: Ctx) -> bool:
    """``Prefer: odata.track-changes`` on a calendarView/delta request (the current protocol)."""
    return TRACK_CHANGES in _prefer(ctx)


# -- the query string ---------------------------------------------------------------------------------


def _options(ctx: Ctx) -> dict[str, str]:
    found: dict[str, str] = {}
    refused = []
    for name, value in ctx.params.multi_items():
        folded = name.lower()
        key = folded if folded.startswith("$") or folded in ALLOWED else "$" + folded
        if key in FORBIDDEN:
            refused.append(key)
            continue
        if key not in ALLOWED:
            raise GraphHTTPError(
                400,
                "ErrorInvalidUrlQuery",
                f"The query parameter '{name}' is not supported. Supported query parameters: "
                "startDateTime, endDateTime, $deltatoken, $skiptoken.",
            )
        if ALLOWED[key] in found:
            raise bad_request(
                f"Query option '{name}' was specified more than once, but it must be specified at most once.",
                "BadRequest",
            )
        found[ALLOWED[key]] = value
    if refused:
        raise GraphHTTPError(
            400,
            "ErrorInvalidUrlQuery",
            "The following parameters are not supported with change tracking over the "
            f"'CalendarView' resource: '{', '.join(refused)}'.",
        )
    if "$deltatoken" in found and "$skiptoken" in found:
        raise bad_request("Give either $deltatoken or $skiptoken, not both.", "ErrorInvalidUrlQuery")
    for token in ("$deltatoken", "$skiptoken"):
        if token in found and not found[token]:
            raise bad_request(f"The {token} query option requires a value.", "ErrorInvalidUrlQuery")
    return found


# -- state ---------------------------------------------------------------------------------------------


def _save(
    ctx: Ctx,
    kind: str,
    calendar: CalendarRow,
    window: tuple[str, str],
    doc: dict[str, Any],
    at_version: int | None = None,
) -> str:
    token = secrets.token_urlsafe(18)
    ctx.store.drop_delta_states_before(graph_timestamp(ctx.now - TOKEN_LIFETIME))
    ctx.store.add_delta_state(
        token, kind, calendar["mailbox_id"], calendar["id"], window, doc, graph_timestamp(ctx.now), at_version
    )
    return token


def _load(ctx: Ctx, token: str, kind: str, calendar: CalendarRow, option: str) -> Any:
    row = ctx.store.delta_state(token, kind)
    if row is None:
        raise GraphHTTPError(
            410,
            "SyncStateNotFound",
            f"The sync state behind this {option} is unknown or has expired. Start a new round of "
            "change tracking: request the calendar view without a token.",
        )
    if row["calendar_id"] != calendar["id"]:
        raise bad_request(
            f"This {option} belongs to another calendar view: follow the links of this calendar view, "
            "or start again without a token.",
            "ErrorInvalidUrlQuery",
        )
    return row


def _window_of(ctx: Ctx, options: dict[str, str], stored: tuple[str, str] | None) -> tuple[dt.datetime, dt.datetime]:
    if stored is None or "startDateTime" in options or "endDateTime" in options:
        start, end = require_window(ctx)
        if stored is not None and (utc_key(start), utc_key(end)) != stored:
            raise bad_request(
                "startDateTime and endDateTime must be those of the round's first request (they are "
                "encoded in its tokens): leave them out, or start a new round.",
                "ErrorInvalidUrlQuery",
            )
        return start, end
    return tuple(dt.datetime.fromisoformat(v).replace(tzinfo=dt.UTC) for v in stored)  # type: ignore


# -- what the window holds -------------------------------------------------------------------------------


Items = tuple[dict[str, str], dict[str, str]]  # (id -> version, id -> kind), in the order a round sends them


def snapshot(ctx: Ctx, calendar: CalendarRow, start: dt.datetime, end: dt.datetime) -> Items:
    """Every item a sync of the window returns, as (id -> version, id -> kind) in the order a round sends them;
    made once per data version, kept beside the window's instances (dicts of strings: the garbage collector never
    tracks them, and making them allocates nothing it counts)."""
    snapshot_id, instances = lookup.window(ctx, [calendar["id"]], start, end)
    kinds: dict[str, str] = ctx.store.snapshots.memo(snapshot_id, ("delta kinds",), dict)  # kept apart: a tuple
    versions = ctx.store.snapshots.memo(snapshot_id, ("delta versions",), lambda: _versions(ctx, instances, kinds))
    return versions, kinds  # of dicts would stay tracked


def _versions(ctx: Ctx, instances: tuple[ev.Instance, ...], kinds: dict[str, str]) -> dict[str, str]:
    """The window's items in the order a round sends them: by start, a series master first at its first start
    (before the instances starting with it), then by id; the instances come sorted by (start, id). Their kinds
    go into ``kinds``."""
    first: dict[str, str] = {}  # series master -> the start of its first instance in the window
    master_seqs: dict[str, int] = {}  # an occurrence carries its master's version
    for inst in instances:
        master = inst[ev.MASTER_ID]
        if master:
            if master not in first:
                first[master] = inst[ev.START_KEY]
            if inst[ev.KIND] == "occurrence":
                master_seqs[master] = inst[ev.SEQ]
    unknown = [m for m in first if m not in master_seqs]  # series seen here only through their exceptions
    master_seqs.update(ctx.store.event_seqs_of(unknown) if unknown else {})
    starting: dict[str, list[str]] = {}  # start -> the masters first seen there
    for master, at in first.items():
        if master in master_seqs:
            starting.setdefault(at, []).append(master)
    versions: dict[str, str] = {}
    key = None
    for inst in instances:
        if inst[ev.START_KEY] != key:
            key = inst[ev.START_KEY]
            for master in sorted(starting.get(key, ())):
                versions[master], kinds[master] = str(master_seqs[master]), "seriesMaster"
        event_id = inst[ev.EVENT_ID]
        if inst[ev.KIND] == "occurrence":
            duration = inst[ev.DURATION]
            assert duration is not None  # an occurrence carries its duration
            versions[event_id], kinds[event_id] = f"o:{key}:{int(duration.total_seconds())}", "occurrence"
        else:
            kinds[event_id] = "exception" if inst[ev.KIND] == "exception" else "singleInstance"
            versions[event_id] = str(inst[ev.SEQ])
    return versions


Change = tuple[str, str | None, str]  # (id, version or None when removed, kind): a tuple, which the garbage
# collector untracks (a round's changes are kept parsed while it is paged: tens of thousands for a large window)


def changes_since(known: dict[str, str], now: Items) -> list[Change]:
    """(id, version, kind) to send: removals first, then new and changed items by start."""
    versions, kinds = now
    removed: list[Change] = [(i, None, "removed") for i in sorted(known) if i not in versions]
    changed: list[Change] = [(i, v, kinds[i]) for i, v in versions.items() if known.get(i) != v]
    return removed + changed


def apply(known: dict[str, str], changes: list[Change]) -> dict[str, str]:
    out = dict(known)
    for event_id, version, _ in changes:
        if version is None:
            out.pop(event_id, None)
        else:
            out[event_id] = version
    return out


# -- rendering ------------------------------------------------------------------------------------------------


def _removed(event_id: str) -> dict[str, Any]:
    return {"@odata.type": EVENT_TYPE, "id": event_id, "@removed": {"reason": "deleted"}}


def _index(ctx: Ctx, calendar: CalendarRow, start: dt.datetime, end: dt.datetime) -> tuple[str, dict[str, ev.Instance]]:
    """(the window's snapshot id, the window's instances by id and the series masters their occurrences carry),
    kept beside them (at the current data version)."""

    def build() -> dict[str, ev.Instance]:
        index = {}
        for i in instances:
            index[i[ev.EVENT_ID]] = i
            master = i[ev.MASTER_ID]
            if i[ev.KIND] == "occurrence" and master and master not in index:
                index[master] = (i[ev.START_KEY], master, "seriesMaster", i[ev.TEXT], i[ev.SEQ], None, None, None, None)
        return index

    snapshot_id, instances = lookup.window(ctx, [calendar["id"]], start, end)
    return snapshot_id, ctx.store.snapshots.memo(snapshot_id, ("by id",), build)


def render_change(
    ctx: Ctx,
    calendar: CalendarRow,
    event_id: str,
    version: str | None,
    kind: str,
    index: dict[str, ev.Instance] | None = None,
) -> dict[str, Any]:
    """One item of a page; ``index``: the window's instances when nothing changed since the round's changes were
    computed (an item is rendered from its instance), else each item is looked up as it is now."""
    if version is None:
        return _removed(event_id)
    inst = index.get(event_id) if index is not None else None
    if inst is not None and inst[ev.KIND] == "occurrence":  # in brief, from what the window keeps of its master
        return {"@odata.type": EVENT_TYPE, **ev.occurrence_brief(inst, lookup.occurrence_series(ctx, inst), ctx.view)}
    if inst is not None:
        doc, stored = lookup.instance_doc(ctx, inst), True
    else:
        try:
            doc, row, _ = lookup.find_event(ctx, event_id, calendar)
        except GraphHTTPError:
            return _removed(event_id)  # gone since the round began
        stored = row is not None
    full = {"@odata.type": EVENT_TYPE, **ev.render(doc, event_id, ctx.view)}
    if stored:
        return full
    return {
        "@odata.type": EVENT_TYPE,
        "@odata.etag": full["@odata.etag"],
        "id": event_id,
        "seriesMasterId": full.get("seriesMasterId"),
        "type": "occurrence",
        "start": full["start"],
        "end": full["end"],
    }


def _link(ctx: Ctx, legacy: bool, window: tuple[str, str], option: str, token: str) -> str:
    path = "/".join(ctx.segments)
    query = f"{option}={token}"
    if legacy:
        query = f"startDateTime={window[0]}Z&endDateTime={window[1]}Z&{query}"
    return f"{ctx.base_url()}/{path}?{query}"


def sync(ctx: Ctx, calendar: CalendarRow, legacy: bool) -> Response:
    got = sharing.require(ctx, calendar, sharing.LIMITED)
    options = _options(ctx)
    size = ctx.max_page_size or DEFAULT_PAGE
    first_request = "$deltatoken" not in options and "$skiptoken" not in options
    version = ctx.store.data_version()
    if "$skiptoken" in options:
        round_id, _, offset_text = options["$skiptoken"].partition(".")
        row = _load(ctx, round_id, "round", calendar, "$skiptoken")
        if not offset_text.isdigit():
            raise GraphHTTPError(
                410,
                "SyncStateNotFound",
                "The $skiptoken is not one this service issued: start a new round of change tracking without a token.",
            )
        window = (row["window_start"], row["window_end"])
        start, end = _window_of(ctx, options, window)
        state = ctx.store.round_states.get(round_id)  # a round's state never changes: parsed once, not per page
        if state is None:
            state = json.loads(ctx.store.delta_state_doc(round_id))
            state["changes"] = tuple(tuple(c) for c in state["changes"])  # a tuple of atoms: not tracked by the GC
            ctx.store.round_states.put(round_id, state)
        base, changes, offset = state["base"], state["changes"], int(offset_text)
        legacy = state.get("legacy", legacy)
        at = state.get("version")  # the data version the round's changes were computed at
    else:
        if "$deltatoken" in options:
            row = _load(ctx, options["$deltatoken"], "delta", calendar, "$deltatoken")
            window = (row["window_start"], row["window_end"])
            start, end = _window_of(ctx, options, window)
            if row["at_version"] == version:  # the client holds the window as it is: nothing to send
                return _unchanged(ctx, legacy, window, row["id"])
            base = json.loads(ctx.store.delta_state_doc(row["id"]))["known"]
        else:
            start, end = _window_of(ctx, options, None)
            window = (utc_key(start), utc_key(end))
            base = {}
            if TRACK_CHANGES in _prefer(ctx):
                ctx.applied.append(TRACK_CHANGES)
        changes, offset, round_id, at = changes_since(base, snapshot(ctx, calendar, start, end)), 0, None, version
    page = changes[offset : offset + size]
    end_offset = offset + len(page)
    parts = _page(ctx, calendar, got, page, start, end) if at == version else None
    links: dict[str, str] = {}
    if end_offset < len(changes) and not (legacy and first_request):
        if round_id is None:
            state = {"base": base, "changes": changes, "legacy": legacy, "version": at}
            round_id = _save(ctx, "round", calendar, window, state)
            # kept parsed as its next page would parse it (a rolled-back write clears it with the store's caches)
            ctx.store.round_states.put(round_id, state | {"changes": tuple(changes)})
        links["@odata.nextLink"] = _link(ctx, legacy, window, "$skiptoken", f"{round_id}.{end_offset}")
    else:  # the round is over (or, in the reference's first response, its first page is)
        known = apply(base, changes[:end_offset])
        # Every change sent: the client holds the window as it was at version ``at`` (what next rounds compare).
        exact = at if end_offset == len(changes) else None
        token = _save(ctx, "delta", calendar, window, {"known": known}, exact)
        links["@odata.deltaLink"] = _link(ctx, legacy, window, "$deltatoken", token)
    head = {"@odata.context": ctx.context_url("Collection(event)")}
    if parts is None:  # the window changed since the round's changes were computed: each item as it is now
        value = [sharing.redact(render_change(ctx, calendar, c[0], c[1], c[2]), got) for c in page]
        return ctx.respond(head | {"value": value} | links)
    tail = b"," + encode(links)[1:] if links else b"}"
    return ctx.respond_encoded(encode(head)[:-1] + b',"value":[' + b",".join(parts) + b"]" + tail)


def _page(
    ctx: Ctx,
    calendar: CalendarRow,
    got: sharing.Access,
    page: Sequence[Change],
    start: dt.datetime,
    end: dt.datetime,
) -> list[bytes]:
    """The encoded items of ``page`` while the window is as it was when the round's changes were computed: each
    rendered from the window's instance and encoded once per way of showing it (zone, body type, access), kept
    beside the window as a calendarView's pages are, so a round read again (another client, a first round
    started over) joins bytes already made."""
    snapshot_id, index = _index(ctx, calendar, start, end)
    how = ("delta", ctx.view.zone_name, ctx.view.body_type, got)
    encoded: dict[str, bytes] = ctx.store.snapshots.memo(snapshot_id, how, dict)  # by id: never GC-tracked
    parts, made = [], 0
    for event_id, version, kind in page:
        if version is None:
            parts.append(encode(_removed(event_id)))
            continue
        part = encoded.get(event_id)
        if part is None:
            shown = sharing.redact(render_change(ctx, calendar, event_id, version, kind, index), got)
            part = encoded[event_id] = encode(shown)
            made += len(part)
        parts.append(part)
    if made:
        ctx.store.snapshots.add_bytes(snapshot_id, made)
    return parts


def _unchanged(ctx: Ctx, legacy: bool, window: tuple[str, str], token: str) -> Response:
    """A round with nothing changed since ``token``'s state, which was the whole window: no items, and the same
    token again, its lifetime begun anew (the state is the client's still; nothing is parsed or copied, so the
    round costs the same for any size of window)."""
    ctx.store.renew_delta_state(token, graph_timestamp(ctx.now))
    return ctx.respond(
        {
            "@odata.context": ctx.context_url("Collection(event)"),
            "value": [],
            "@odata.deltaLink": _link(ctx, legacy, window, "$deltatoken", token),
        }
    )
