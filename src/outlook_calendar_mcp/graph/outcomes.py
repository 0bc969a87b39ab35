"""What became of a write whose reply was lost, and what every tool call's writes were.

A write is *ambiguous* when it was sent and no answer came back (a reset or a timeout after sending, or a
504 from a gateway): Graph may or may not have applied it. :func:`settle` reads back what the write was
meant to change and says whether it is there:

* DELETE: the item is gone (404) → done;
* PATCH: the item holds every value that was sent → done; otherwise the values it holds now;
* POST ``accept`` / ``tentativelyAccept`` / ``decline``: the event's ``responseStatus`` is the answer sent
  (a declined event that is gone counts too); ``cancel``: ``isCancelled`` (or gone);
* POST to ``calendars``, ``calendarGroups``: an item with the name sent; ``calendarPermissions``: a
  permission for the address sent; ``attachments``: an attachment with the name sent, made since the write;
* anything else (``forward``: Graph keeps no trace the sender can read): unknown, and the caller says so.

:func:`collect` opens the record of one tool call (the error boundary does it): the client adds each write's
method, path, status and request-id to it (the audit trail's source), and a note for each write whose
reply was lost but whose change was found (the tool's answer then says so).
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import re
from collections.abc import Awaitable, Callable, Iterator
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

__all__ = ["COLLECTIONS", "Calls", "Settled", "Write", "collect", "current", "differences", "settle"]

Getter = Callable[[str, dict[str, str] | None], Awaitable[Any]]  # GET path (relative or absolute), params
NotFoundType = type[Exception]


@dataclass
class Write:
    """One write request as the audit trail records it: never a body, never a query string."""

    method: str
    path: str
    status: int | None
    request_id: str | None
    outcome: str  # ok | recovered | failed | unknown


@dataclass
class Calls:
    """What one tool call sent: its writes, and notes for the ones whose reply was lost but whose change is there."""

    writes: list[Write] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


_CURRENT: ContextVar[Calls | None] = ContextVar("outlook_calendar_mcp_calls", default=None)


@contextlib.contextmanager
def collect() -> Iterator[Calls]:
    """Record the writes of the code run inside (one tool call)."""
    calls = Calls()
    token = _CURRENT.set(calls)
    try:
        yield calls
    finally:
        _CURRENT.reset(token)


def current() -> Calls | None:
    return _CURRENT.get()


@dataclass
class Settled:
    """What reading back found: ``applied`` True/False, or None when it cannot be told; ``observed`` in words;
    ``doc``: the item found (a create that did happen), to answer with."""

    applied: bool | None
    observed: str
    doc: dict[str, Any] | None = None


_ANSWERS = {"accept": "accepted", "tentativelyAccept": "tentativelyAccepted", "decline": "declined"}
_ACTION = re.compile(r"^(?P<item>.+/events/[^/]+)/(?P<action>accept|tentativelyAccept|decline|cancel)$")
COLLECTIONS = ("calendars", "calendarGroups", "calendarPermissions", "attachments")
_COLLECTION = re.compile(rf"^(?P<parent>.*)/(?P<kind>{'|'.join(COLLECTIONS)})$")


async def settle(
    method: str,
    path: str,
    body: Any,
    *,
    get: Getter,
    not_found: NotFoundType,
    since: _dt.datetime | None = None,
) -> Settled:
    """Whether the write ``method path body`` took effect, by reading back (see the module's docstring)."""
    path = path.split("?", 1)[0]
    try:
        if method == "DELETE":
            await get(path, {"$select": "id"})
            return Settled(False, "it is still there")
        if method == "PATCH":
            doc = await get(path, None)
            changed = differences(body or {}, doc or {})
            if not changed:
                return Settled(True, "it holds the values sent", doc)
            return Settled(False, "it now holds " + "; ".join(changed), doc)
        if method == "POST":
            return await _settle_post(path, body or {}, get, not_found, since)
    except not_found:
        if method == "DELETE":
            return Settled(True, "it is gone")
        m = _ACTION.match(path)
        if method == "POST" and m and m["action"] in ("decline", "cancel"):
            return Settled(True, "the event is gone from the calendar")
        return Settled(False, "the item is not there")
    return Settled(None, "nothing to read back")


async def _settle_post(path: str, body: dict, get: Getter, not_found: NotFoundType, since: Any) -> Settled:
    m = _ACTION.match(path)
    if m:
        doc = await get(m["item"], {"$select": "responseStatus,isCancelled"}) or {}
        if m["action"] == "cancel":
            cancelled = bool(doc.get("isCancelled"))
            return Settled(cancelled, "it is cancelled" if cancelled else "it is not cancelled")
        answer = (doc.get("responseStatus") or {}).get("response") or "none"
        return Settled(answer == _ANSWERS[m["action"]], f"your response is '{answer}'")
    m = _COLLECTION.match(path)
    if not m:
        return Settled(None, "Graph keeps no trace of it that can be read back")
    items = (await get(path, None) or {}).get("value") or []
    kind = m["kind"]
    for item in items:
        if kind in ("calendars", "calendarGroups") and item.get("name") == body.get("name"):
            return Settled(True, f"a {kind[:-1]} named '{item.get('name')}' is there", item)
        if kind == "calendarPermissions":
            sent = ((body.get("emailAddress") or {}).get("address") or "").lower()
            have = ((item.get("emailAddress") or {}).get("address") or "").lower()
            if sent and sent == have:
                return Settled(True, f"{have} has a permission", item)
        if kind == "attachments" and item.get("name") == body.get("name") and _since(item, since):
            return Settled(True, f"an attachment named '{item.get('name')}' is there", item)
    return Settled(False, f"no such item among the {len(items)} {kind}")


def _since(item: dict, since: _dt.datetime | None) -> bool:
    stamp = item.get("lastModifiedDateTime")
    if since is None or not isinstance(stamp, str):
        return True
    try:
        when = _dt.datetime.fromisoformat(stamp.replace("Z", "+00:00"))
    except ValueError:
        return True
    return when >= since - _dt.timedelta(seconds=2)


def differences(sent: dict[str, Any], doc: dict[str, Any]) -> list[str]:
    """``key=value`` for each value sent that ``doc`` does not hold (values Graph reshapes are compared as
    Graph shows them: date-times without trailing zero fractions, bodies and recurrences not at all)."""
    out = []
    for key, value in sent.items():
        if key in ("body", "recurrence", "transactionId") or key.startswith("@"):
            continue
        if key not in doc:
            continue
        if _norm(value) != _norm(doc[key]):
            shown = repr(_norm(doc[key]))
            out.append(f"{key}={shown[:80]}")
    return out


def _norm(value: Any) -> Any:
    if isinstance(value, dict):
        if "dateTime" in value:
            text = str(value["dateTime"])
            return text.split(".", 1)[0][:19]
        if "emailAddress" in value:
            return ((value.get("emailAddress") or {}).get("address") or "").lower()
        if "displayName" in value:  # a location: Graph adds its own fields
            return value.get("displayName") or ""
        return {k: _norm(v) for k, v in value.items()}
    if isinstance(value, list):
        return sorted((_norm(v) for v in value), key=repr)
    if isinstance(value, str):
        return value.strip()
    return value
