"""What the server keeps between calls, behind one small interface, and whose it is.

:class:`StateStore` is the interface: ``get``/``put``/``delete`` of text values with an optional time to
live, ``claim(key, ttl_s)`` (set if absent, atomically: single-use tokens), ``claim_first`` (many claims, each
taking the first free key of its candidates, in one round trip: a result's handles, :mod:`..ids`) and
``throttle`` (a sliding limit on calls, one atomic step per call: rate limits, :mod:`..tools.rate`).

Every operation a tool call makes is awaited (``aget``, ``aget_many``, ``aput``, ``adelete``, ``aclaim``,
``claim_first``, ``throttle``): on Redis it goes through redis.asyncio, so a round trip never holds the event
loop (and every other request of the process) while it waits. The synchronous ``get``/``put``/``delete``/
``claim`` are for code off the event loop: the command line, and msal's token cache, which is read and written
in the worker thread that runs msal (:mod:`..remote.obo`). Two implementations:

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
from collections.abc import Iterator, Sequence
from contextvars import ContextVar
from typing import NamedTuple, Protocol

__all__ = ["LOCAL_USER", "Claim", "StateStore", "StateUnavailable", "Turn", "acting_as", "user_key"]

LOCAL_USER = "local"
_user: ContextVar[str] = ContextVar("outlook_mcp_user", default=LOCAL_USER)


class StateUnavailable(RuntimeError):
    """The store did not answer (Redis down or unreachable) within its timeout: the operation was not done."""


class Claim(NamedTuple):
    """One claim of :meth:`StateStore.claim_first`: ``key``, else ``key + longer[:1]``, ``key + longer[:2]``, ...
    (up to ``key + longer``), whichever is first absent (it is then set to ``value``) or already holds ``value``."""

    key: str
    value: str
    longer: str = ""


class Turn(NamedTuple):
    """What :meth:`StateStore.throttle` decided for one call."""

    allowed: bool
    wait_us: int  # refused: microseconds (on the caller's clock) until a call would be let through; else 0
    first_refusal: bool  # refused, and no other refusal of this key in the last burst * interval


class StateStore(Protocol):
    """Text values by key, each with an optional time to live in seconds."""

    description: str

    # -- awaited: the request path (a tool call) ------------------------------------------------------

    async def aget(self, key: str) -> str | None: ...

    async def aget_many(self, keys: Sequence[str]) -> list[str | None]:
        """The values of ``keys`` (None where absent), in one round trip."""
        ...

    async def aput(self, key: str, value: str, ttl_s: float | None = None) -> None: ...

    async def adelete(self, key: str) -> None: ...

    async def aclaim(self, key: str, ttl_s: float, value: str = "1") -> bool:
        """:meth:`claim`, awaited."""
        ...

    async def claim_first(self, claims: Sequence[Claim], ttl_s: float) -> list[int]:
        """Settle every :class:`Claim` in one round trip, atomically each (two workers never give one key two
        values): for each, how many characters of ``longer`` its key took (0: ``key`` itself), or -1 when every
        candidate holds another value."""
        ...

    async def throttle(self, key: str, now_us: int, interval_us: int, burst: int) -> Turn:
        """Let one call through ``key``'s limit, or refuse it, in one atomic step across every process sharing
        the store: the generic cell rate algorithm (GCRA). The value kept per key is its theoretical
        arrival time ``tat`` (microseconds on the callers' clocks) and the latest ``now_us`` a call brought;
        a call's time is the later of its own and that one, so a worker whose clock is behind another's (or
        a clock set back) does not refuse what the limit allows. A call at that time would move ``tat`` to
        ``max(tat, now_us) + interval_us``, and is let through when that is at most ``burst * interval_us``
        ahead of ``now_us`` (so ``burst`` calls at once, then one per interval: a sliding window, never twice
        the limit across a boundary). A refused call changes nothing but marks the key's first refusal in
        ``burst * interval_us`` (one log line per person and window). ``now_us`` is the caller's: the store
        reads no clock to decide. The value expires once ``tat`` has passed (it then says no more than an
        absent one)."""
        ...

    # -- synchronous: off the event loop (the command line; msal's token cache in its worker thread) -----

    def get(self, key: str) -> str | None: ...

    def put(self, key: str, value: str, ttl_s: float | None = None) -> None: ...

    def delete(self, key: str) -> None: ...

    def claim(self, key: str, ttl_s: float, value: str = "1") -> bool:
        """Set ``key`` only if it is absent (or expired); True for the one caller that set it."""
        ...

    def close(self) -> None: ...

    async def aclose(self) -> None:
        """Close what the running event loop holds (Redis's asyncio connections)."""
        ...


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
