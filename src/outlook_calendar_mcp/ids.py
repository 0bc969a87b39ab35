"""Short, stable handles for Graph ids.

Graph ids are ~150 characters of base64: expensive for a model to read and
easy to garble when copied. Results show a handle instead (``ev_3kf9x2``);
every tool accepts either the handle or the full id.

A handle is derived from the id (a hash), so the same event gets the same
handle in every session; the table from handle back to id is kept in the
state store (:mod:`.state`: a small SQLite file beside the token cache, or
Redis shared by several workers), so handles survive a restart. The table is
per person (:func:`.state.user_key`): a handle minted for one person does not
resolve for another.

A handle is the id's first 6 hash characters, or more where those are taken by
another id of the same person. A tool call reaches the store twice at most, both
awaited (never holding the event loop on Redis): before the tool runs, the
handles among its arguments are looked up together (:meth:`Handles.prefetch`);
before a result is rendered, the ids its views will show are minted together
(:meth:`Handles.mint`, one ``claim_first``), and the views' synchronous
:meth:`Handles.handle` reads what was minted. Both directions are kept in a
bounded cache per process (:data:`CACHE_SIZE` entries each, least recently used
out first): memory does not grow with every id a long-running server has seen.
"""

from __future__ import annotations

import base64
import hashlib
import re
from collections import OrderedDict
from collections.abc import Iterable, Iterator
from contextvars import ContextVar
from pathlib import Path
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from pydantic import BaseModel

from .state import Claim, StateStore, user_key
from .state.sqlite import SqliteState

if TYPE_CHECKING:
    from .clock import Clock

PREFIXES = {
    "event": "ev",
    "calendar": "cal",
    "group": "grp",
    "attachment": "att",
    "permission": "perm",
    "reminder": "rem",
}
KINDS = {prefix: kind for kind, prefix in PREFIXES.items()}
_HANDLE = re.compile(r"^(ev|cal|grp|att|perm|rem)_[a-z2-7]{6,16}$")
_WHAT_GIVES = {
    "event": "calendar_view, list_events or get_event",
    "calendar": "list_calendars",
    "group": "list_calendar_groups",
    "attachment": "list_attachments",
    "permission": "list_calendar_permissions",
    "reminder": "list_reminders",
}


# A handle lives a year from its minting (a long-lived handle table must not grow without bound in Redis).
_HANDLE_TTL_S = 366 * 24 * 3600
SHORTEST, LONGEST = 6, 16  # characters of the hash a handle shows

# Entries per direction of a process's cache (id -> handle, handle -> id; every person's): each is about 300
# bytes with Graph's ~150-character ids, so ~6 MB each when full; a month's calendar_view shows a few hundred.
CACHE_SIZE = 20_000

# The handles of the current tool call's arguments that the store did not hold (see Handles.prefetch): resolve
# says so without asking the store again. A context variable: each request runs in its own task.
_absent: ContextVar[frozenset[tuple[str, str]]] = ContextVar("outlook_mcp_absent_handles", default=frozenset())

K = TypeVar("K")
V = TypeVar("V")


class Lru(Generic[K, V]):
    """A mapping of at most ``size`` entries: setting one more drops the least recently used."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._items: OrderedDict[K, V] = OrderedDict()

    def get(self, key: K) -> V | None:
        value = self._items.get(key)
        if value is not None:
            self._items.move_to_end(key)
        return value

    def put(self, key: K, value: V) -> None:
        self._items[key] = value
        self._items.move_to_end(key)
        if len(self._items) > self.size:
            self._items.popitem(last=False)

    def __len__(self) -> int:
        return len(self._items)


def strings(value: Any) -> Iterator[str]:
    """Every string in a call's arguments, however nested (what :meth:`Handles.prefetch` is given)."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from strings(item)
    elif isinstance(value, (list, tuple)):
        for item in value:
            yield from strings(item)
    elif isinstance(value, BaseModel):  # a typed argument (attendees)
        yield from strings(dict(value))


class UnknownHandle(ValueError):
    """A handle this server never issued (or one for another kind of object)."""


class Handles:
    """handle <-> Graph id per person, in a state store (a SQLite path, ``:memory:`` for tests, or a store)."""

    def __init__(
        self, store: str | Path | StateStore = ":memory:", *, clock: Clock | None = None, cache_size: int = CACHE_SIZE
    ):
        """``clock``: the server's one clock, by which the SQLite store's entries expire (handles, the single use
        of confirmation tokens); ``None`` follows the system's (a store passed in brings its own)."""
        self.store: StateStore = SqliteState(store, clock=clock) if isinstance(store, (str, Path)) else store
        self._handles: Lru[tuple[str, str], str] = Lru(cache_size)  # (user, kind:id) -> handle
        self._ids: Lru[tuple[str, str], str] = Lru(cache_size)  # (user, handle) -> id

    @staticmethod
    def _key(user: str, handle: str) -> str:
        return f"handle:{user}:{handle}"

    @staticmethod
    def _hashed(kind: str, graph_id: str) -> tuple[str, str]:
        """The shortest handle of ``graph_id`` and the characters a longer one adds, in order."""
        digest = base64.b32encode(hashlib.sha256(graph_id.encode()).digest()).decode().lower()
        return f"{PREFIXES[kind]}_{digest[:SHORTEST]}", digest[SHORTEST:LONGEST]

    def _remember(self, user: str, kind: str, graph_id: str, handle: str) -> None:
        self._handles.put((user, f"{kind}:{graph_id}"), handle)
        self._ids.put((user, handle), graph_id)

    async def mint(self, shown: Iterable[tuple[str, str]]) -> None:
        """Give every ``(kind, Graph id)`` a result will show its handle, for the current person, in one store
        round trip for all those not already known (call it before rendering: the views' :meth:`handle` then
        reads them). Raises :class:`~.state.StateUnavailable` when the store does not answer."""
        user = user_key()
        new = {
            (kind, graph_id): None
            for kind, graph_id in shown
            if graph_id and self._handles.get((user, f"{kind}:{graph_id}")) is None
        }
        if not new:
            return
        hashed = [self._hashed(kind, graph_id) for kind, graph_id in new]
        claims = [
            Claim(self._key(user, first), graph_id, longer)
            for (_, graph_id), (first, longer) in zip(new, hashed, strict=True)
        ]
        taken = await self.store.claim_first(claims, _HANDLE_TTL_S)
        for (kind, graph_id), (first, longer), n in zip(new, hashed, taken, strict=True):
            if n < 0:  # pragma: no cover - 80 bits of sha256 colliding
                raise RuntimeError("handle space exhausted")
            self._remember(user, kind, graph_id, first + longer[:n])

    async def minted(self, kind: str, graph_id: str) -> str:
        """The handle of one id, minted (awaited) if it is new: :meth:`mint` of one, then :meth:`handle`."""
        await self.mint([(kind, graph_id)])
        return self.handle(kind, graph_id)

    async def prefetch(self, values: Iterable[str]) -> None:
        """Look up every handle among ``values`` (a call's arguments) for the current person in one store round
        trip, so :meth:`resolve` finds them, or reports the unknown ones, without asking the store again."""
        user = user_key()
        wanted = list(dict.fromkeys(h for h in (v.strip() for v in values) if _HANDLE.match(h)))
        wanted = [h for h in wanted if self._ids.get((user, h)) is None]
        found = await self.store.aget_many([self._key(user, h) for h in wanted]) if wanted else []
        for handle, graph_id in zip(wanted, found, strict=True):
            if graph_id is not None:
                self._remember(user, KINDS[handle.split("_", 1)[0]], graph_id, handle)
        _absent.set(frozenset((user, h) for h, graph_id in zip(wanted, found, strict=True) if graph_id is None))

    def handle(self, kind: str, graph_id: str) -> str:
        """The handle for ``graph_id``: minted by :meth:`mint` (or seen by :meth:`prefetch`) for the current
        person; else created and stored now, one synchronous round trip per candidate (a caller off the event
        loop, or a result whose ids were not minted first)."""
        user = user_key()
        found = self._handles.get((user, f"{kind}:{graph_id}"))
        if found:
            return found
        first, longer = self._hashed(kind, graph_id)
        for n in range(len(longer) + 1):
            candidate = first + longer[:n]
            key = self._key(user, candidate)
            # claim: atomic across workers, so two of them never give one handle two ids
            if self.store.claim(key, ttl_s=_HANDLE_TTL_S, value=graph_id) or self.store.get(key) == graph_id:
                break
        else:  # pragma: no cover - 80 bits of sha256 colliding
            raise RuntimeError("handle space exhausted")
        self._remember(user, kind, graph_id, candidate)
        return candidate

    def resolve(self, kind: str, value: str, *, argument: str) -> str:
        """The Graph id behind a handle, or ``value`` itself when it is already a Graph id."""
        value = (value or "").strip()
        if not value:
            raise UnknownHandle(
                f"{argument}: give a handle such as '{PREFIXES[kind]}_3kf9x2' (from "
                f"{_WHAT_GIVES[kind]}) or a full Graph id."
            )
        if _HANDLE.match(value):
            if not value.startswith(PREFIXES[kind] + "_"):
                raise UnknownHandle(
                    f"{argument}: '{value}' is a handle for another kind of object; expected "
                    f"a {kind} handle starting with '{PREFIXES[kind]}_' (from {_WHAT_GIVES[kind]})."
                )
            user = user_key()
            found = self._ids.get((user, value))
            if found is None and (user, value) not in _absent.get():  # not looked up by this call: ask now
                found = self.store.get(self._key(user, value))
            if found is None:
                raise UnknownHandle(
                    f"{argument}: unknown handle '{value}'. Handles come from earlier results; call "
                    f"{_WHAT_GIVES[kind]} to get current ones, or pass the full Graph id."
                )
            self._remember(user, kind, found, value)
            return found
        if len(value) < 20 or not re.fullmatch(r"[A-Za-z0-9+/=_\-.@:]+", value):
            raise UnknownHandle(
                f"{argument}: '{value}' is neither a handle (like '{PREFIXES[kind]}_3kf9x2') nor a "
                f"Graph id; get one from {_WHAT_GIVES[kind]}."
            )
        return value

    def close(self) -> None:
        self.store.close()
