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
from ..models.snapshots import DERIVED
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
    parent: str | None = None,
) -> str:
    token = secrets.token_urlsafe(18)
    ctx.store.drop_delta_states_before(graph_timestamp(ctx.now - TOKEN_LIFETIME))
    ctx.store.add_delta_state(
        token, kind, calendar["mailbox_id"], calendar["id"], window, doc, graph_timestamp(ctx.now), at_version, parent
    )
    return token


MAX_CHAIN = 32  # states written as changes from another, in a row, before one is written whole
CHAIN_CHANGES = 256  # changes a state may be written as (or an eighth of what the client holds, if more)


def _known(ctx: Ctx, token: str) -> tuple[dict[str, str], int]:
    """(id -> version of what the client of delta token ``token`` holds, how many states in a row are written as
    changes up to it: 0 for one written whole). Kept parsed for the few tokens used last (a dict of strings, which
    the garbage collector never tracks); a state written as changes is its parent's with them applied."""
    found = ctx.store.known_states.get(token)
    if found is not None:
        return found
    text = ctx.store.delta_state_doc(token)
    if text is None:
        raise GraphHTTPError(
            410,
            "SyncStateNotFound",
            "The sync state behind this token is unknown or has expired. Start a new round of change tracking: "
            "request the calendar view without a token.",
        )
    doc = json.loads(text)
    if "known" in doc:
        made = (doc["known"], 0)
    else:
        parent, _ = _known(ctx, doc["parent"])
        made = (apply(parent, [(c[0], c[1], c[2]) for c in doc["changes"]]), doc["depth"])
    return ctx.store.known_states.put(token, made)


def _save_known(
    ctx: Ctx,
    calendar: CalendarRow,
    window: tuple[str, str],
    known: dict[str, str],
    base_token: str | None,
    base_depth: int | None,
    sent: Sequence[Change],
    exact: int | None,
) -> str:
    """A delta token for a client holding ``known``: its state written as the changes ``sent`` since the state of
    ``base_token`` (what the client held before) when they are few, else whole. A round after a write then
    writes what changed, not the whole window again."""
    depth = 0
    if base_depth is not None and len(sent) <= max(CHAIN_CHANGES, len(known) // 8):
        depth = base_depth + 1
    if 0 < depth <= MAX_CHAIN:
        doc: dict[str, Any] = {"parent": base_token, "depth": depth, "changes": list(sent)}
        token = _save(ctx, "delta", calendar, window, doc, exact, base_token)
    else:
        depth = 0
        token = _save(ctx, "delta", calendar, window, {"known": known}, exact)
    ctx.store.known_states.put(token, (known, depth))
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


# What a sync of the window returns, by id: its version, its kind, its start key (a series master: its first
# instance's in the window), and whether the first dict is in the order a round sends them (made from scratch) or
# not (brought forward after a write). Dicts of strings: the garbage collector never tracks them, and making them
# allocates nothing it counts.
Items = tuple[dict[str, str], dict[str, str], dict[str, str], bool]
ITEM_KEYS = (("delta versions",), ("delta kinds",), ("delta starts",), ("delta ordered",))


def snapshot(ctx: Ctx, calendar: CalendarRow, start: dt.datetime, end: dt.datetime) -> tuple[str, Items]:
    """(the window's snapshot id, every item a sync of the window returns: :data:`Items`): made once per data
    version, kept beside the window's instances; after a write, brought forward from the window's before (only
    what changed is redone)."""
    snapshot_id, instances = lookup.window(ctx, [calendar["id"]], start, end)
    snapshots = ctx.store.snapshots
    found = [snapshots.peek(snapshot_id, key) for key in ITEM_KEYS]
    if all(v is not None for v in found):
        return snapshot_id, (found[0], found[1], found[2], found[3])
    made = _carried(ctx, snapshot_id) or _versions(ctx, instances)
    for key, value in zip(ITEM_KEYS, made, strict=True):
        snapshots.put(snapshot_id, key, value)
    return snapshot_id, made


def _in_order(ctx: Ctx, calendar: CalendarRow, start: dt.datetime, end: dt.datetime) -> Items:
    """The window's :data:`Items` in the order a round sends them, for a first round (which sends them all): made
    again from the instances when they were brought forward (in no order), and kept so."""
    snapshot_id, instances = lookup.window(ctx, [calendar["id"]], start, end)
    made = _versions(ctx, instances)
    for key, value in zip(ITEM_KEYS, made, strict=True):
        ctx.store.snapshots.put(snapshot_id, key, value)
    return made


def _versions(ctx: Ctx, instances: tuple[ev.Instance, ...]) -> Items:
    """The window's items in the order a round sends them: by start, a series master first at its first start
    (before the instances starting with it), then by id; the instances come sorted by (start, id)."""
    first, master_seqs = _masters(ctx, instances)
    starting: dict[str, list[str]] = {}  # start -> the masters first seen there
    for master, at in first.items():
        if master in master_seqs:
            starting.setdefault(at, []).append(master)
    versions: dict[str, str] = {}
    kinds: dict[str, str] = {}
    starts: dict[str, str] = {}
    key = None
    for inst in instances:
        if inst[ev.START_KEY] != key:
            key = inst[ev.START_KEY]
            for master in sorted(starting.get(key, ())):
                versions[master], kinds[master], starts[master] = str(master_seqs[master]), "seriesMaster", key
        _put(inst, versions, kinds, starts)
    return versions, kinds, starts, True


def _masters(ctx: Ctx, instances: tuple[ev.Instance, ...]) -> tuple[dict[str, str], dict[str, int]]:
    """(series master -> the start of its first instance in ``instances``, master -> its seq, its version)."""
    first: dict[str, str] = {}
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
    return first, master_seqs


def _put(inst: ev.Instance, versions: dict[str, str], kinds: dict[str, str], starts: dict[str, str]) -> None:
    event_id, key = inst[ev.EVENT_ID], inst[ev.START_KEY]
    starts[event_id] = key
    if inst[ev.KIND] == "occurrence":
        duration = inst[ev.DURATION]
        assert duration is not None  # an occurrence carries its duration
        versions[event_id], kinds[event_id] = f"o:{key}:{int(duration.total_seconds())}", "occurrence"
    else:
        kinds[event_id] = "exception" if inst[ev.KIND] == "exception" else "singleInstance"
        versions[event_id] = str(inst[ev.SEQ])


def _carried(ctx: Ctx, snapshot_id: str) -> Items | None:
    """The :data:`Items` of a window brought forward (snapshots.DERIVED), from those of the window it was brought
    from (or the nearest before it that has them), taken from it and changed in place: what was dropped taken
    out, what was added put in (the cost of what changed). None when there are none to bring forward."""
    found = lookup.brought(ctx, snapshot_id, ITEM_KEYS[:3])
    if found is None:
        return None
    (versions, kinds, starts), steps = found
    for dropped, added, series in steps:
        for event_id in (*dropped, *series):  # the instances dropped, and the series made again (their masters)
            versions.pop(event_id, None)
            kinds.pop(event_id, None)
            starts.pop(event_id, None)
        for inst in added:
            _put(inst, versions, kinds, starts)
        first, master_seqs = _masters(ctx, added)  # every instance of a series in ``series`` was added again
        for master, at in first.items():
            if master in master_seqs:
                versions[master], kinds[master], starts[master] = str(master_seqs[master]), "seriesMaster", at
    return versions, kinds, starts, False


Change = tuple[str, str | None, str]  # (id, version or None when removed, kind): a tuple, which the garbage
# collector untracks (a round's changes are kept parsed while it is paged: tens of thousands for a large window)


def changes_since(known: dict[str, str], now: Items, touched: set[str] | None = None) -> list[Change]:
    """(id, version, kind) to send: removals first (by id), then new and changed items by start (a series
    master before the instances starting with it), then id. ``touched``: when given, the only ids that can
    differ between ``known`` and ``now`` (:func:`_touched`)."""
    versions, kinds, starts, ordered = now
    if touched is not None:
        gone = sorted(i for i in touched if i in known and i not in versions)
        differ = [i for i in touched if i in versions and known.get(i) != versions[i]]
        differ.sort(key=lambda i: (starts[i], kinds[i] != "seriesMaster", i))
        return [(i, None, "removed") for i in gone] + [(i, versions[i], kinds[i]) for i in differ]
    removed: list[Change] = [(i, None, "removed") for i in sorted(i for i in known if i not in versions)]
    if not known and ordered:  # a first round: every item, in the order kept
        return [(i, v, kinds[i]) for i, v in versions.items()]
    changed = [i for i, v in versions.items() if known.get(i) != v]
    if not ordered:
        changed.sort(key=lambda i: (starts[i], kinds[i] != "seriesMaster", i))
    return removed + [(i, versions[i], kinds[i]) for i in changed]


def _touched(ctx: Ctx, snapshot_id: str, at_version: int) -> set[str] | None:
    """The ids of everything that changed in the window since it was at data version ``at_version``, from what
    bringing it forward changed (snapshots.DERIVED), window by window back to the one at that version; None when
    the chain is broken (a window built from scratch, or dropped)."""
    touched: set[str] = set()
    for _ in range(lookup.MAX_UPDATE):
        version = ctx.store.snapshots.version_of(snapshot_id)
        if version is None:
            return None
        if version[0] == at_version:  # type: ignore[index]  # a window's version: (data version, seq)
            return touched
        derived = ctx.store.snapshots.peek(snapshot_id, DERIVED)
        if derived is None:
            return None
        snapshot_id, (dropped, added, series) = derived
        touched.update(dropped, series, (i[ev.EVENT_ID] for i in added))
    return None


def apply(known: dict[str, str], changes: Sequence[Change], in_place: bool = False) -> dict[str, str]:
    """``known`` with ``changes`` applied (a copy, or ``known`` itself changed when ``in_place``)."""
    out = known if in_place else dict(known)
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
    kept beside them (at the current data version); after a write, brought forward from the window's before."""
    snapshot_id, instances = lookup.window(ctx, [calendar["id"]], start, end)
    index = ctx.store.snapshots.peek(snapshot_id, ("by id",))
    if index is None:
        index = lookup.carry(ctx, snapshot_id, ("by id",), lambda kept, added: _indexed(added, kept))
        index = _indexed(instances) if index is None else index
        ctx.store.snapshots.put(snapshot_id, ("by id",), index)
    return snapshot_id, index


def _indexed(instances: tuple[ev.Instance, ...], index: dict[str, ev.Instance] | None = None) -> dict[str, ev.Instance]:
    index = {} if index is None else index
    for i in instances:
        index[i[ev.EVENT_ID]] = i
        master = i[ev.MASTER_ID]
        if i[ev.KIND] == "occurrence" and master and master not in index:
            index[master] = (i[ev.START_KEY], master, "seriesMaster", i[ev.TEXT], i[ev.SEQ], None, None, None, None)
    return index


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
            state = json.loads(ctx.store.delta_state_doc(round_id) or "{}")
            state["changes"] = tuple(tuple(c) for c in state["changes"])  # a tuple of atoms: not tracked by the GC
            ctx.store.round_states.put(round_id, state)
        base_token = state.get("from")  # the delta token the round started from (else the base is kept whole)
        base = state["base"] if base_token is None else _known(ctx, base_token)[0]
        changes, offset = state["changes"], int(offset_text)
        legacy = state.get("legacy", legacy)
        at = state.get("version")  # the data version the round's changes were computed at
    else:
        if "$deltatoken" in options:
            row = _load(ctx, options["$deltatoken"], "delta", calendar, "$deltatoken")
            window = (row["window_start"], row["window_end"])
            start, end = _window_of(ctx, options, window)
            if row["at_version"] == version:  # the client holds the window as it is: nothing to send
                return _unchanged(ctx, legacy, window, row["id"])
            base_token = row["id"]
            base = _known(ctx, base_token)[0]
        else:
            start, end = _window_of(ctx, options, None)
            window = (utc_key(start), utc_key(end))
            base, base_token = {}, None
            if TRACK_CHANGES in _prefer(ctx):
                ctx.applied.append(TRACK_CHANGES)
        snapshot_id, now = snapshot(ctx, calendar, start, end)
        touched = None
        if base_token is not None and row["at_version"] is not None:  # the client holds the window at a version
            touched = _touched(ctx, snapshot_id, row["at_version"])
        elif not base and not now[3]:  # a first round: every item, in order (a sort of them all costs more)
            now = _in_order(ctx, calendar, start, end)
        changes, offset, round_id, at = changes_since(base, now, touched), 0, None, version
    page = changes[offset : offset + size]
    end_offset = offset + len(page)
    parts = _page(ctx, calendar, got, page, start, end) if at == version else None
    links: dict[str, str] = {}
    if end_offset < len(changes) and not (legacy and first_request):
        if round_id is None:
            state = {"changes": changes, "legacy": legacy, "version": at}
            state |= {"from": base_token} if base_token is not None else {"base": base}
            round_id = _save(ctx, "round", calendar, window, state)
            # kept parsed as its next page would parse it (a rolled-back write clears it with the store's caches)
            ctx.store.round_states.put(round_id, state | {"changes": tuple(changes)})
        links["@odata.nextLink"] = _link(ctx, legacy, window, "$skiptoken", f"{round_id}.{end_offset}")
    else:  # the round is over (or, in the reference's first response, its first page is)
        sent = changes[:end_offset]
        depth = None if base_token is None else _known(ctx, base_token)[1]
        # what the client held, kept parsed for its token: the new token's to change in place (read again if asked)
        mine = base_token is not None and ctx.store.known_states.pop(base_token) is not None
        known = apply(base, sent, in_place=mine)
        # Every change sent: the client holds the window as it was at version ``at`` (what next rounds compare).
        exact = at if end_offset == len(changes) else None
        token = _save_known(ctx, calendar, window, known, base_token, depth, sent, exact)
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
    encoded: dict[str, bytes] | None = ctx.store.snapshots.peek(snapshot_id, how)  # by id: never GC-tracked
    if encoded is None:  # after a write, what the window before had encoded of what did not change
        encoded = lookup.carry(ctx, snapshot_id, how) or {}
        ctx.store.snapshots.put(snapshot_id, how, encoded)
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
        ctx.store.snapshots.add_bytes(snapshot_id, made, how)
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
