"""The per-person limit on tool calls (``OUTLOOK_MCP_RATE_LIMIT`` calls a minute; 0 = no limit).

A fixed one-minute window on the server's one clock: the counter of person ``p`` in the window starting at
minute ``w`` is ``rate:<p>:<w>`` in the one state store (:meth:`~..state.StateStore.incr`), so every worker
sharing Redis counts the same calls. The person is :func:`..state.user_key` (``tenant id:user object id``
in remote mode, ``local`` otherwise). The error boundary (:mod:`.common`) takes a call from the limit before
anything else, so a refused call sends nothing to Graph.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass

from mcp.server.mcpserver.exceptions import ToolError

from ..clock import Clock
from ..state import StateStore, user_key

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

    def take(self, tool: str) -> None:
        """Count one call of the current person; raise :class:`RateLimited` when it is over the limit."""
        if self.per_minute <= 0:
            return
        person = user_key()
        now = self.clock.now().timestamp()
        window = math.floor(now / WINDOW_S)
        count = self.store.incr(f"rate:{person}:{window}", ttl_s=2 * WINDOW_S)
        if count <= self.per_minute:
            return
        wait_s = max(1, math.ceil((window + 1) * WINDOW_S - now))
        if count == self.per_minute + 1:  # one line per person and window, not one per refused call
            log.warning("rate limit: %s reached %d tool calls this minute (%s refused)", person, self.per_minute, tool)
        raise RateLimited(
            f"Rate limit reached: at most {self.per_minute} tool calls per minute per person, and this minute's "
            f"are used up. {tool} was not run and nothing was changed; try again in {wait_s} s."
        )
