"""The default state store: one SQLite file under the data directory (``:memory:`` for tests).

The file is opened (created, put in WAL mode, its table made) at the first read or write, not when the store
is made: a server builds its stores at start, and listing tools reads none of them (a new file costs several
fsyncs, 15-40 ms here; ``bench/startup.py``).
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import TYPE_CHECKING

from ..clock import Clock
from ..lazy import lazy_module

if TYPE_CHECKING:
    import sqlite3
else:  # imported at the first read or write (see lazy.py)
    sqlite3 = lazy_module("sqlite3")

__all__ = ["SqliteState"]


class SqliteState:
    """Key -> text with an expiry instant (on the one clock); safe across threads of one process."""

    def __init__(self, path: str | Path = ":memory:", *, clock: Clock | None = None) -> None:
        if str(path) != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        self.description = f"SQLite {path}"
        self._path = str(path)
        self._clock = clock or Clock()
        self._conn: sqlite3.Connection | None = None
        self._closed = False
        self._lock = threading.Lock()

    @property
    def _db(self) -> sqlite3.Connection:
        """The connection, opened at the first use (always under ``self._lock``)."""
        if self._conn is None:
            if self._closed:
                raise sqlite3.ProgrammingError("Cannot operate on a closed database.")
            self._conn = self._open()
        return self._conn

    def _open(self) -> sqlite3.Connection:
        db = sqlite3.connect(self._path, check_same_thread=False, isolation_level=None)
        db.execute("PRAGMA busy_timeout = 5000")
        # Write-ahead log, synced at checkpoints rather than at every commit: a new handle costs ~0.1 ms
        # instead of an fsync (~15 ms here; a month's view mints hundreds). A power cut may lose the last
        # few commits (handles minted again on the next view); workers sharing the file still see one
        # another's commits at once. Every tool call writes too (the rate counter, tools/rate.py).
        if self._path != ":memory:":
            db.execute("PRAGMA journal_mode = WAL")
            db.execute("PRAGMA synchronous = NORMAL")
        db.execute("CREATE TABLE IF NOT EXISTS kv (key TEXT PRIMARY KEY, value TEXT NOT NULL, expires REAL)")
        db.execute("CREATE INDEX IF NOT EXISTS kv_expires ON kv (expires)")
        return db

    def _now(self) -> float:
        return self._clock.now().timestamp()

    def _expires(self, ttl_s: float | None) -> float | None:
        return None if ttl_s is None else self._now() + ttl_s

    def get(self, key: str) -> str | None:
        with self._lock:
            row = self._db.execute("SELECT value, expires FROM kv WHERE key = ?", (key,)).fetchone()
        if row is None or (row[1] is not None and row[1] <= self._now()):
            return None
        return row[0]

    def put(self, key: str, value: str, ttl_s: float | None = None) -> None:
        with self._lock:
            self._db.execute("INSERT OR REPLACE INTO kv VALUES (?, ?, ?)", (key, value, self._expires(ttl_s)))

    def delete(self, key: str) -> None:
        with self._lock:
            self._db.execute("DELETE FROM kv WHERE key = ?", (key,))

    def claim(self, key: str, ttl_s: float, value: str = "1") -> bool:
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                self._db.execute(
                    "DELETE FROM kv WHERE key = ? AND expires IS NOT NULL AND expires <= ?", (key, self._now())
                )
                taken = self._db.execute(
                    "INSERT OR IGNORE INTO kv VALUES (?, ?, ?)", (key, value, self._expires(ttl_s))
                ).rowcount
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
        return taken == 1

    def incr(self, key: str, ttl_s: float) -> int:
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                # expired rows go here (counters of past windows are never read again), by the expiry index
                self._db.execute("DELETE FROM kv WHERE expires IS NOT NULL AND expires <= ?", (self._now(),))
                self._db.execute(
                    "INSERT INTO kv VALUES (?, '1', ?) "
                    "ON CONFLICT (key) DO UPDATE SET value = CAST(CAST(value AS INTEGER) + 1 AS TEXT)",
                    (key, self._expires(ttl_s)),
                )
                (value,) = self._db.execute("SELECT value FROM kv WHERE key = ?", (key,)).fetchone()
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
        return int(value)

    def close(self) -> None:
        with self._lock:
            self._closed = True
            if self._conn is not None:
                self._conn.close()
                self._conn = None
