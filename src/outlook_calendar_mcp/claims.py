"""Claim a key once: the one shared primitive that makes a confirmation token single-use.

:class:`Claims` is the whole interface: ``claim(key, ttl_s)`` is True for the first caller of ``key`` within
``ttl_s`` seconds and False for every later one. :class:`SqliteClaims` (a file under the data directory) is the
default; a store shared by several workers (Redis ``SET key 1 NX EX ttl``) plugs in by being passed as
``Policy.claims``.
"""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path
from typing import Protocol

from .clock import Clock

__all__ = ["Claims", "SqliteClaims"]


class Claims(Protocol):
    def claim(self, key: str, ttl_s: float) -> bool: ...


class SqliteClaims:
    """Claims in a SQLite file (``":memory:"`` for one process); expired keys are swept on each claim."""

    def __init__(self, path: Path | str, clock: Clock) -> None:
        if str(path) != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA busy_timeout = 5000")
        self._db.execute("CREATE TABLE IF NOT EXISTS claims (key TEXT PRIMARY KEY, expires REAL NOT NULL)")
        self._clock = clock
        self._lock = threading.Lock()

    def claim(self, key: str, ttl_s: float) -> bool:
        now = self._clock.timestamp()
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                self._db.execute("DELETE FROM claims WHERE expires <= ?", (now,))
                cur = self._db.execute("INSERT OR IGNORE INTO claims (key, expires) VALUES (?, ?)", (key, now + ttl_s))
                self._db.execute("COMMIT")
            except Exception:
                self._db.execute("ROLLBACK")
                raise
        return cur.rowcount == 1

    def close(self) -> None:
        self._db.close()
