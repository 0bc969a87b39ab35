"""The default state store: one SQLite file under the data directory (``:memory:`` for tests).

The file is opened (created, put in WAL mode, its table made) at the first read or write, not when the store
is made: a server builds its stores at start, and listing tools reads none of them (a new file costs several
fsyncs, 15-40 ms here; ``bench/startup.py``).

Expired rows are deleted at most once a minute (on the store's clock), by the first write after that: a
read ignores an expired row, so nothing waits for the sweep, and no call pays a DELETE of its own. A rate
limit (:meth:`SqliteState.throttle`) is one ``INSERT ... ON CONFLICT DO UPDATE ... RETURNING`` per call let
through (SQLite 3.35+).

The awaited operations (what a tool call does: :class:`~.StateStore`) are the same quick local calls (a few
microseconds to a millisecond: a WAL file on this machine), made directly: ``claim_first`` settles a whole
result's handles in one transaction (an ``INSERT OR IGNORE`` of every first candidate and one ``SELECT``; a
longer candidate only where a key holds another value).
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from ..clock import Clock
from ..lazy import lazy_module
from . import Claim, Turn

if TYPE_CHECKING:
    import sqlite3
else:  # imported at the first read or write (see lazy.py)
    sqlite3 = lazy_module("sqlite3")

__all__ = ["SWEEP_S", "SqliteState"]

SWEEP_S = 60.0  # expired rows are deleted at most this often
_CHUNK = 500  # keys per IN (...) list: well under SQLite's limit of bound parameters

# One statement per call let through (see StateStore.throttle): the new theoretical arrival time when it is
# at most the tolerance ahead of now, else no row (refused, nothing changed). The value is "<tat> <latest now>"
# (integer microseconds on the callers' clocks, as text; CAST reads the first), with no expiry: the sweep
# deletes it once its time has passed (an expiry would be one more index to write on every call).
_LATEST = "max(:now, CAST(substr(value, instr(value, ' ') + 1) AS INTEGER))"
_DUE = f"max(CAST(value AS INTEGER), {_LATEST}) + :interval"
_TAKE = (
    f"INSERT INTO kv VALUES (:key, :first, NULL) ON CONFLICT (key) DO UPDATE SET value = ({_DUE}) || ' ' || {_LATEST} "
    f"WHERE {_DUE} - {_LATEST} <= :tolerance RETURNING value"
)
# A refusal marks the key until now + tolerance; a row comes back only for the first refusal in that time.
_MARK = (
    "INSERT INTO kv VALUES (:key, :until, NULL) ON CONFLICT (key) DO UPDATE SET "
    "value = excluded.value WHERE CAST(value AS INTEGER) <= :now RETURNING 1"
)
THROTTLED = ("rate:", "rate;")  # the keys throttle writes: "rate:" <= key < "rate;" (a primary key range)


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
        self._next_sweep = 0.0  # the store's clock (seconds): when expired rows are deleted next

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
        # another's commits at once. Every tool call writes too (the rate limit, tools/rate.py).
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

    def _sweep(self, db: sqlite3.Connection, now: float, now_us: int | None = None) -> None:
        """Delete expired rows if the last sweep was :data:`SWEEP_S` ago (under ``self._lock``); with the
        caller's ``now_us`` (a throttle), also the limits whose time has passed."""
        if now >= self._next_sweep:
            self._next_sweep = now + SWEEP_S
            db.execute("DELETE FROM kv WHERE expires IS NOT NULL AND expires <= ?", (now,))
            if now_us is not None:
                db.execute(
                    "DELETE FROM kv WHERE key >= ? AND key < ? AND CAST(value AS INTEGER) <= ?", (*THROTTLED, now_us)
                )

    def get(self, key: str) -> str | None:
        with self._lock:
            row = self._db.execute("SELECT value, expires FROM kv WHERE key = ?", (key,)).fetchone()
        if row is None or (row[1] is not None and row[1] <= self._now()):
            return None
        return row[0]

    def put(self, key: str, value: str, ttl_s: float | None = None) -> None:
        with self._lock:
            self._sweep(self._db, self._now())
            self._db.execute("INSERT OR REPLACE INTO kv VALUES (?, ?, ?)", (key, value, self._expires(ttl_s)))

    def delete(self, key: str) -> None:
        with self._lock:
            self._db.execute("DELETE FROM kv WHERE key = ?", (key,))

    def claim(self, key: str, ttl_s: float, value: str = "1") -> bool:
        with self._lock:
            self._sweep(self._db, self._now())
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

    async def aget(self, key: str) -> str | None:
        return self.get(key)

    async def aget_many(self, keys: Sequence[str]) -> list[str | None]:
        now = self._now()
        found: dict[str, str] = {}
        with self._lock:
            for i in range(0, len(keys), _CHUNK):
                chunk = list(keys[i : i + _CHUNK])
                marks = ",".join("?" * len(chunk))
                rows = self._db.execute(f"SELECT key, value, expires FROM kv WHERE key IN ({marks})", chunk)
                found |= {k: v for k, v, expires in rows if expires is None or expires > now}
        return [found.get(k) for k in keys]

    async def aput(self, key: str, value: str, ttl_s: float | None = None) -> None:
        self.put(key, value, ttl_s)

    async def adelete(self, key: str) -> None:
        self.delete(key)

    async def aclaim(self, key: str, ttl_s: float, value: str = "1") -> bool:
        return self.claim(key, ttl_s, value)

    async def claim_first(self, claims: Sequence[Claim], ttl_s: float) -> list[int]:
        if not claims:
            return []
        now, expires = self._now(), self._expires(ttl_s)
        taken = [-1] * len(claims)
        with self._lock:
            db = self._db
            self._sweep(db, now)
            db.execute("BEGIN IMMEDIATE")
            try:
                for i in range(0, len(claims), _CHUNK):
                    chunk = claims[i : i + _CHUNK]
                    keys = [c.key for c in chunk]
                    marks = ",".join("?" * len(keys))
                    db.execute(
                        f"DELETE FROM kv WHERE key IN ({marks}) AND expires IS NOT NULL AND expires <= ?", [*keys, now]
                    )
                    db.executemany(
                        "INSERT OR IGNORE INTO kv VALUES (?, ?, ?)", [(c.key, c.value, expires) for c in chunk]
                    )
                    held = dict(db.execute(f"SELECT key, value FROM kv WHERE key IN ({marks})", keys).fetchall())
                    for j, c in enumerate(chunk):
                        taken[i + j] = 0 if held.get(c.key) == c.value else self._claim_longer(db, c, now, expires)
                db.execute("COMMIT")
            except BaseException:
                db.execute("ROLLBACK")
                raise
        return taken

    @staticmethod
    def _claim_longer(db: sqlite3.Connection, claim: Claim, now: float, expires: float | None) -> int:
        """The first longer candidate of ``claim`` that is free or already its own (inside claim_first's
        transaction), or -1."""
        for n in range(1, len(claim.longer) + 1):
            key = claim.key + claim.longer[:n]
            db.execute("DELETE FROM kv WHERE key = ? AND expires IS NOT NULL AND expires <= ?", (key, now))
            db.execute("INSERT OR IGNORE INTO kv VALUES (?, ?, ?)", (key, claim.value, expires))
            if db.execute("SELECT value FROM kv WHERE key = ?", (key,)).fetchone() == (claim.value,):
                return n
        return -1

    async def throttle(self, key: str, now_us: int, interval_us: int, burst: int) -> Turn:
        assert key.startswith(THROTTLED[0]), key  # the sweep finds them by that prefix
        tolerance = interval_us * burst
        with self._lock:
            db = self._db
            self._sweep(db, self._now(), now_us)
            taken = db.execute(
                _TAKE,
                {
                    "key": key,
                    "first": f"{now_us + interval_us} {now_us}",
                    "now": now_us,
                    "interval": interval_us,
                    "tolerance": tolerance,
                },
            ).fetchall()  # to the end: the statement (and its implicit transaction) is done
            if taken:
                return Turn(True, 0, False)
            row = db.execute("SELECT value FROM kv WHERE key = ?", (key,)).fetchone()
            tat, latest = (int(v) for v in row[0].split()) if row else (now_us, now_us)
            now = max(now_us, latest)
            first = db.execute(_MARK, {"key": key + ":refused", "until": str(now + tolerance), "now": now}).fetchall()
        return Turn(False, max(0, max(tat, now) + interval_us - tolerance - now), bool(first))

    async def aclose(self) -> None:
        """Nothing of the event loop's to close (the file: :meth:`close`)."""

    def close(self) -> None:
        with self._lock:
            self._closed = True
            if self._conn is not None:
                self._conn.close()
                self._conn = None
