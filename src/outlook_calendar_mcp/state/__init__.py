"""What the server keeps between calls, behind one small interface, and whose it is.

:class:`StateStore` is the interface: ``get``/``put``/``delete`` of text values with an optional time to
live, ``claim(key, ttl_s)`` (set if absent, atomically: single-use tokens) and ``incr(key, ttl_s)`` (an
atomic counter: rate limits). Two implementations:

* :class:`~.sqlite.SqliteState` - a SQLite file under the data directory (the default: one process, one
  person, nothing to run);
* :class:`~.redis.RedisState` - Redis (``OUTLOOK_MCP_STATE_URL=redis://...``), shared by every worker.

Everything kept is per person: :func:`user_key` is the current caller's key (``tenant id:user object id``
in remote mode, ``local`` otherwise), set for a request with :func:`acting_as`. Handles (:mod:`..ids`) and
sync state (:mod:`..calendar.sync_state`) put it in every key, so one person's state never resolves for
another; so do the rate limits (:mod:`..tools.rate`).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from contextvars import ContextVar
from typing import Protocol

__all__ = ["LOCAL_USER", "StateStore", "acting_as", "user_key"]

LOCAL_USER = "local"
_user: ContextVar[str] = ContextVar("outlook_mcp_user", default=LOCAL_USER)


class StateStore(Protocol):
    """Text values by key, each with an optional time to live in seconds."""

    description: str

    def get(self, key: str) -> str | None: ...

    def put(self, key: str, value: str, ttl_s: float | None = None) -> None: ...

    def delete(self, key: str) -> None: ...

    def claim(self, key: str, ttl_s: float, value: str = "1") -> bool:
        """Set ``key`` only if it is absent (or expired); True for the one caller that set it."""
        ...

    def incr(self, key: str, ttl_s: float) -> int:
        """Add one to the counter ``key`` and return its new value, atomically across every process sharing
        the store; a counter that is absent (or expired) starts at 1 and expires ``ttl_s`` after that."""
        ...

    def close(self) -> None: ...


def user_key() -> str:
    """Whose state this is: ``tid:oid`` of the request's signed-in person in remote mode, else ``local``."""
    return _user.get()


@contextlib.contextmanager
def acting_as(key: str) -> Iterator[None]:
    """Run a block (a request) as the person ``key``; handles, sync state and the Graph token follow it."""
    if not key or (":" not in key and key != LOCAL_USER):
        raise ValueError(f"a user key is 'tenant:object id' or '{LOCAL_USER}', not {key!r}")
    token = _user.set(key)
    try:
        yield
    finally:
        _user.reset(token)
