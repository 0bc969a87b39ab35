"""Short, stable handles for Graph ids.

Graph ids are ~150 characters of base64: expensive for a model to read and
easy to garble when copied. Results show a handle instead (``ev_3kf9x2``);
every tool accepts either the handle or the full id.

A handle is derived from the id (a hash), so the same event gets the same
handle in every session; the table from handle back to id is kept in a small
SQLite file beside the token cache, so handles survive a restart.
"""

from __future__ import annotations

import base64
import hashlib
import re
import sqlite3
import threading
from pathlib import Path

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


class UnknownHandle(ValueError):
    """A handle this server never issued (or one for another kind of object)."""


class Handles:
    """handle <-> Graph id, persisted in SQLite (``:memory:`` for tests)."""

    def __init__(self, path: str | Path = ":memory:"):
        if str(path) != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None)
        self._db.execute("CREATE TABLE IF NOT EXISTS handles (handle TEXT PRIMARY KEY, graph_id TEXT NOT NULL)")
        self._db.execute("CREATE INDEX IF NOT EXISTS handles_id ON handles (graph_id)")
        self._lock = threading.Lock()
        self._cache: dict[str, str] = {}

    def handle(self, kind: str, graph_id: str) -> str:
        """The handle for ``graph_id`` (created and stored on first sight)."""
        key = f"{kind}:{graph_id}"
        found = self._cache.get(key)
        if found:
            return found
        prefix = PREFIXES[kind]
        digest = base64.b32encode(hashlib.sha256(graph_id.encode()).digest()).decode().lower()
        with self._lock:
            for length in range(6, 17):
                candidate = f"{prefix}_{digest[:length]}"
                row = self._db.execute("SELECT graph_id FROM handles WHERE handle = ?", (candidate,)).fetchone()
                if row is None:
                    self._db.execute("INSERT INTO handles VALUES (?, ?)", (candidate, graph_id))
                    break
                if row[0] == graph_id:
                    break
            else:  # pragma: no cover - 80 bits of sha256 colliding
                raise RuntimeError("handle space exhausted")
        self._cache[key] = candidate
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
            row = self._db.execute("SELECT graph_id FROM handles WHERE handle = ?", (value,)).fetchone()
            if row is None:
                raise UnknownHandle(
                    f"{argument}: unknown handle '{value}'. Handles come from earlier results; call "
                    f"{_WHAT_GIVES[kind]} to get current ones, or pass the full Graph id."
                )
            return row[0]
        if len(value) < 20 or not re.fullmatch(r"[A-Za-z0-9+/=_\-.@:]+", value):
            raise UnknownHandle(
                f"{argument}: '{value}' is neither a handle (like '{PREFIXES[kind]}_3kf9x2') nor a "
                f"Graph id; get one from {_WHAT_GIVES[kind]}."
            )
        return value

    def close(self) -> None:
        self._db.close()
