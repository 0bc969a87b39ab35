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
"""

from __future__ import annotations

import base64
import hashlib
import re
from pathlib import Path
from typing import TYPE_CHECKING

from .state import StateStore, user_key
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


class UnknownHandle(ValueError):
    """A handle this server never issued (or one for another kind of object)."""


class Handles:
    """handle <-> Graph id per person, in a state store (a SQLite path, ``:memory:`` for tests, or a store)."""

    def __init__(self, store: str | Path | StateStore = ":memory:", *, clock: Clock | None = None):
        """``clock``: the server's one clock, by which the SQLite store's entries expire (handles, the single use
        of confirmation tokens); ``None`` follows the system's (a store passed in brings its own)."""
        self.store: StateStore = SqliteState(store, clock=clock) if isinstance(store, (str, Path)) else store
        self._cache: dict[tuple[str, str], str] = {}  # (user, kind:id) -> handle, already stored

    @staticmethod
    def _key(user: str, handle: str) -> str:
        return f"handle:{user}:{handle}"

    def handle(self, kind: str, graph_id: str) -> str:
        """The handle for ``graph_id`` (created and stored for the current person on first sight)."""
        user = user_key()
        found = self._cache.get((user, f"{kind}:{graph_id}"))
        if found:
            return found
        prefix = PREFIXES[kind]
        digest = base64.b32encode(hashlib.sha256(graph_id.encode()).digest()).decode().lower()
        for length in range(6, 17):
            candidate = f"{prefix}_{digest[:length]}"
            key = self._key(user, candidate)
            # claim: atomic across workers, so two of them never give one handle two ids
            if self.store.claim(key, ttl_s=_HANDLE_TTL_S, value=graph_id) or self.store.get(key) == graph_id:
                break
        else:  # pragma: no cover - 80 bits of sha256 colliding
            raise RuntimeError("handle space exhausted")
        self._cache[(user, f"{kind}:{graph_id}")] = candidate
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
            found = self.store.get(self._key(user_key(), value))
            if found is None:
                raise UnknownHandle(
                    f"{argument}: unknown handle '{value}'. Handles come from earlier results; call "
                    f"{_WHAT_GIVES[kind]} to get current ones, or pass the full Graph id."
                )
            return found
        if len(value) < 20 or not re.fullmatch(r"[A-Za-z0-9+/=_\-.@:]+", value):
            raise UnknownHandle(
                f"{argument}: '{value}' is neither a handle (like '{PREFIXES[kind]}_3kf9x2') nor a "
                f"Graph id; get one from {_WHAT_GIVES[kind]}."
            )
        return value

    def close(self) -> None:
        self.store.close()
