"""The per-person limit on tool calls (``OUTLOOK_MCP_RATE_LIMIT`` calls a minute; 0 = no limit).

A sliding limit (the generic cell rate algorithm, :meth:`~..state.StateStore.throttle`): a person may make
the whole minute's calls at once, then one more every ``60 / limit`` seconds as they fall out of the last
minute; never more than the limit in any 60 seconds (a fixed window per clock minute allowed twice the limit
across a minute's boundary). One value per person is kept in the one state store under
``rate:<person>`` (when the person's next call would be due, and the latest time a call brought, in
microseconds: workers whose clocks differ count on the later one), updated in one atomic step per call (one
SQL statement; one Lua script in Redis, awaited without blocking the event loop), so every worker sharing
Redis counts the same calls. The time is the server's one clock (``Clock``): the
store reads none. The person is :func:`..state.user_key` (``tenant id:user object id`` in remote mode,
``local`` otherwise). The error boundary (:mod:`.common`) takes a call from the limit before anything else,
so a refused call sends nothing to Graph.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass

from mcp.server.mcpserver.exceptions import ToolError

from ..clock import Clock
from ..state import StateStore, StateUnavailable, user_key

__all__ = ["WINDOW_S", "RateLimit", "RateLimited"]

WINDOW_S = 60
log = logging.getLogger("outlook_calendar_mcp.rate")


class RateLimited(ToolError):
    """A call over the person's limit: nothing was done."""


@dataclass
class RateLimit:
    per_minute: int
    store: StateStore
    clock: Clock

    async def take(self, tool: str) -> None:
        """Let one call of the current person through; raise :class:`RateLimited` when it is over the limit
        (nothing is counted then), a ``ToolError`` when the store does not answer."""
        if self.per_minute <= 0:
            return
        person = user_key()
        interval_us = max(1, round(WINDOW_S * 1_000_000 / self.per_minute))
        now_us = round(self.clock.timestamp() * 1_000_000)
        try:
            turn = await self.store.throttle(f"rate:{person}", now_us, interval_us, self.per_minute)
        except StateUnavailable as e:
            raise ToolError(
                f"The rate limit could not be checked: {e}. {tool} was not run and nothing was changed; try again "
                "in a moment, or ask the administrator to check the state store (OUTLOOK_MCP_STATE_URL)."
            ) from None
        if turn.allowed:
            return
        wait_s = max(1, math.ceil(turn.wait_us / 1_000_000))
        if turn.first_refusal:  # one line per person and minute, across workers, not one per refused call
            log.warning("rate limit: %s reached %d tool calls a minute (%s refused)", person, self.per_minute, tool)
        raise RateLimited(
            f"Rate limit reached: at most {self.per_minute} tool calls per minute per person, and the last "
            f"minute's are used up. {tool} was not run and nothing was changed; try again in {wait_s} s."
        )
