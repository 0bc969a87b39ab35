"""The shared state store: Redis (``OUTLOOK_MCP_STATE_URL=redis://host:6379/0``), for several workers.

Keys are prefixed (``outlook-mcp:``) so the server can share a Redis database; ``claim`` is ``SET NX EX``,
atomic across every worker; ``throttle`` (the rate limit, on every tool call) is one Lua script
(``EVALSHA``) on redis.asyncio, so a call's round trip to Redis never blocks the event loop. Secret values
(the msal token cache) are encrypted by the caller (:mod:`.tokens`) before they get here: this module
stores what it is given.
"""

from __future__ import annotations

import asyncio
import math
from typing import Any
from urllib.parse import urlsplit

import redis

from . import StateUnavailable, Turn

__all__ = ["RedisState"]

PREFIX = "outlook-mcp:"

# StateStore.throttle in one atomic step. KEYS: "<theoretical arrival time> <latest now>", the refusal mark.
# ARGV: now, interval, tolerance (= burst * interval), all integer microseconds on the caller's clock: the
# script reads no clock (Redis's TIME would not be the server's injectable one). Lua numbers are doubles:
# integers are exact below 2^53 (microseconds since 1970 are ~1.8e15), written back with %.0f.
THROTTLE = """
local now, interval, tolerance = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local tat, latest = string.match(redis.call('GET', KEYS[1]) or '', '^(%d+) (%d+)$')
now = math.max(now, tonumber(latest) or 0)
tat = math.max(tonumber(tat) or 0, now)
if tat + interval - now <= tolerance then
  redis.call('SET', KEYS[1], string.format('%.0f %.0f', tat + interval, now), 'PX',
             math.ceil((tat + interval - now) / 1000))
  return {1, 0, 0}
end
local first = 0
if tonumber(redis.call('GET', KEYS[2]) or '0') <= now then
  redis.call('SET', KEYS[2], string.format('%.0f', now + tolerance), 'PX', math.ceil(tolerance / 1000))
  first = 1
end
return {0, tat + interval - tolerance - now, first}
"""


class RedisState:
    def __init__(self, url: str) -> None:
        parts = urlsplit(url)
        self.description = f"Redis {parts.hostname}:{parts.port or 6379}{parts.path or '/0'}"  # no password
        self._url = url
        self._redis = redis.Redis.from_url(url, decode_responses=True, socket_timeout=10, health_check_interval=30)
        self._async: tuple[asyncio.AbstractEventLoop, Any, Any] | None = None  # (loop, client, script)

    @staticmethod
    def _ttl(ttl_s: float | None) -> int | None:
        return None if ttl_s is None else max(1, math.ceil(ttl_s))

    def get(self, key: str) -> str | None:
        value = self._redis.get(PREFIX + key)
        return None if value is None else str(value)

    def put(self, key: str, value: str, ttl_s: float | None = None) -> None:
        self._redis.set(PREFIX + key, value, ex=self._ttl(ttl_s))

    def delete(self, key: str) -> None:
        self._redis.delete(PREFIX + key)

    def claim(self, key: str, ttl_s: float, value: str = "1") -> bool:
        return bool(self._redis.set(PREFIX + key, value, nx=True, ex=self._ttl(ttl_s)))

    def _script(self) -> Any:
        """The throttle script on a redis.asyncio client of the running event loop (a client's connections
        belong to the loop that made them: a server has one, a test suite one per test)."""
        loop = asyncio.get_running_loop()
        if self._async is None or self._async[0] is not loop:
            import redis.asyncio  # noqa: PLC0415 - only a server whose rate limit is counted in Redis needs it

            client = redis.asyncio.Redis.from_url(self._url, socket_timeout=10, health_check_interval=30)
            self._async = (loop, client, client.register_script(THROTTLE))
        return self._async[2]

    async def throttle(self, key: str, now_us: int, interval_us: int, burst: int) -> Turn:
        script = self._script()
        try:
            allowed, wait, first = await script(
                keys=[PREFIX + key, PREFIX + key + ":refused"], args=[now_us, interval_us, interval_us * burst]
            )
        except (redis.ConnectionError, redis.TimeoutError) as e:
            raise StateUnavailable(f"{self.description} did not answer ({type(e).__name__})") from None
        return Turn(bool(allowed), int(wait), bool(first))

    async def aclose(self) -> None:
        """Close the asyncio client of the running loop (the synchronous one: :meth:`close`)."""
        if self._async is not None and self._async[0] is asyncio.get_running_loop():
            await self._async[1].aclose()
            self._async = None

    def ping(self) -> None:
        self._redis.ping()

    def close(self) -> None:
        self._redis.close()
