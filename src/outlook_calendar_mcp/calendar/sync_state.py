"""Where sync_events keeps its delta links: one row per window, with what each item was called."""

from __future__ import annotations

import json
import sqlite3
import threading
from pathlib import Path
from typing import Any

from ..clock import Clock

__all__ = ["SyncState"]


class SyncState:
    """Delta links and what was seen, per window, in a small SQLite file beside the handles."""

    def __init__(self, path: str | Path, clock: Clock):
        if str(path) != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None)
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS sync_state (key TEXT PRIMARY KEY, scope TEXT NOT NULL,"
            " window_start TEXT NOT NULL, window_end TEXT NOT NULL, delta_link TEXT NOT NULL,"
            " known TEXT NOT NULL, updated TEXT NOT NULL)"
        )
        self._lock = threading.Lock()
        self._clock = clock

    def get(self, key: str) -> tuple[str, dict[str, Any], str] | None:
        row = self._db.execute("SELECT delta_link, known, updated FROM sync_state WHERE key = ?", (key,)).fetchone()
        return (row[0], json.loads(row[1]), row[2]) if row else None

    def last_window(self, scope: str) -> tuple[str, str] | None:
        row = self._db.execute(
            "SELECT window_start, window_end FROM sync_state WHERE scope = ? ORDER BY updated DESC, rowid DESC LIMIT 1",
            (scope,),
        ).fetchone()
        return (row[0], row[1]) if row else None

    def put(self, key: str, scope: str, window: tuple[str, str], link: str, known: dict[str, Any]) -> None:
        stamp = self._clock.now().isoformat(timespec="microseconds")
        with self._lock:
            self._db.execute(
                "INSERT OR REPLACE INTO sync_state VALUES (?, ?, ?, ?, ?, ?, ?)",
                (key, scope, window[0], window[1], link, json.dumps(known), stamp),
            )

    def drop(self, key: str) -> None:
        with self._lock:
            self._db.execute("DELETE FROM sync_state WHERE key = ?", (key,))
