"""Where sync_events keeps its delta links: one entry per window and person, with what each item was called.

Kept in the state store (:mod:`..state`: a SQLite file beside the handles, or Redis shared by the workers),
under the current person's key (:func:`..state.user_key`): one person's sync never continues another's.
Every read and write is awaited (the store's ``aget``/``aput``): on Redis, sync_events never holds the event loop.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from ..clock import Clock
from ..state import StateStore, user_key
from ..state.sqlite import SqliteState

__all__ = ["SyncState"]


class SyncState:
    """Delta links and what was seen, per window and person."""

    def __init__(self, store: str | Path | StateStore, clock: Clock):
        self._store: StateStore = SqliteState(store, clock=clock) if isinstance(store, (str, Path)) else store
        self._clock = clock

    @staticmethod
    def _key(key: str) -> str:
        return f"sync:{user_key()}:{key}"

    @staticmethod
    def _scope(scope: str) -> str:
        return f"sync-window:{user_key()}:{scope}"

    async def get(self, key: str) -> tuple[str, dict[str, Any], str] | None:
        raw = await self._store.aget(self._key(key))
        if raw is None:
            return None
        entry = json.loads(raw)
        return entry["link"], entry["known"], entry["updated"]

    async def last_window(self, scope: str) -> tuple[str, str] | None:
        raw = await self._store.aget(self._scope(scope))
        if not raw:
            return None
        start, end = json.loads(raw)
        return start, end

    async def put(self, key: str, scope: str, window: tuple[str, str], link: str, known: dict[str, Any]) -> None:
        stamp = self._clock.now().isoformat(timespec="microseconds")
        entry = {"scope": scope, "window": list(window), "link": link, "known": known, "updated": stamp}
        await self._store.aput(self._key(key), json.dumps(entry))
        await self._store.aput(self._scope(scope), json.dumps(list(window)))

    async def drop(self, key: str) -> None:
        await self._store.adelete(self._key(key))
