"""The shared state store: Redis (``OUTLOOK_MCP_STATE_URL=redis://host:6379/0``), for several workers.

Keys are prefixed (``outlook-mcp:``) so the server can share a Redis database; ``claim`` is ``SET NX EX``,
atomic across every worker. What a tool call does goes through redis.asyncio, so its round trip never blocks
the event loop: ``aget_many`` is one ``MGET``, ``claim_first`` (a result's handles) and ``throttle`` (the rate
limit, on every tool call) are one Lua script each (``EVALSHA``). Every command answers within ``timeout_s``
(5 s) or raises :class:`StateUnavailable`: a Redis that is down, stopped or unreachable is an error the caller
can say, never a hang. Secret values (the msal token cache) are encrypted by the caller (:mod:`.tokens`)
before they get here: this module stores what it is given.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Awaitable, Sequence
from typing import Any, TypeVar
from urllib.parse import urlsplit

import redis
from redis.retry import Retry

from . import Claim, StateUnavailable, Turn

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

# StateStore.claim_first in one atomic step. KEYS: each claim's key; ARGV: the time to live (s), then each
# claim's value and its longer characters. A longer candidate is its key plus characters, built here: only a
# key taken by another value (a handle's prefix shared by two ids) tries one (a standalone Redis, not a cluster).
CLAIM_FIRST = """
local ttl, out = tonumber(ARGV[1]), {}
for i, key in ipairs(KEYS) do
  local value, longer = ARGV[2 * i], ARGV[2 * i + 1]
  out[i] = -1
  for n = 0, #longer do
    local candidate = key .. string.sub(longer, 1, n)
    if redis.call('SET', candidate, value, 'NX', 'EX', ttl) or redis.call('GET', candidate) == value then
      out[i] = n
      break
    end
  end
end
return out
"""

T = TypeVar("T")


class RedisState:
    def __init__(self, url: str, *, timeout_s: float = 5.0) -> None:
        parts = urlsplit(url)
        self.description = f"Redis {parts.hostname}:{parts.port or 6379}{parts.path or '/0'}"  # no password
        self._url = url
        self._timeout_s = timeout_s
        self._redis = redis.Redis.from_url(url, decode_responses=True, **self._options(Retry))
        self._async: tuple[asyncio.AbstractEventLoop, Any, dict[str, Any]] | None = None  # (loop, client, scripts)

    def _options(self, retry: Any) -> dict[str, Any]:
        """Every command answers or fails within the timeout: one retry of a dropped connection, none of a
        timeout (a stopped Redis would otherwise be waited on several times over)."""
        from redis.backoff import NoBackoff  # noqa: PLC0415

        return {
            "socket_timeout": self._timeout_s,
            "socket_connect_timeout": self._timeout_s,
            "health_check_interval": 30,
            "retry": retry(NoBackoff(), 1, supported_errors=(redis.ConnectionError,)),
        }

    @staticmethod
    def _ttl(ttl_s: float | None) -> int | None:
        return None if ttl_s is None else max(1, math.ceil(ttl_s))

    # -- awaited (redis.asyncio) ----------------------------------------------------------------------------

    def _aio(self) -> tuple[Any, dict[str, Any]]:
        """A redis.asyncio client of the running event loop and its scripts (a client's connections belong to
        the loop that made them: a server has one, a test suite one per test)."""
        loop = asyncio.get_running_loop()
        if self._async is None or self._async[0] is not loop:
            import redis.asyncio  # noqa: PLC0415 - only a server whose state is in Redis needs it
            import redis.asyncio.retry  # noqa: PLC0415

            options = self._options(redis.asyncio.retry.Retry)
            client = redis.asyncio.Redis.from_url(self._url, decode_responses=True, **options)
            scripts = {"throttle": client.register_script(THROTTLE), "claim_first": client.register_script(CLAIM_FIRST)}
            self._async = (loop, client, scripts)
        return self._async[1], self._async[2]

    async def _answer(self, command: Awaitable[T]) -> T:
        try:
            return await command
        except (redis.ConnectionError, redis.TimeoutError) as e:
            raise StateUnavailable(f"{self.description} did not answer ({type(e).__name__})") from None

    async def aget(self, key: str) -> str | None:
        client, _ = self._aio()
        return await self._answer(client.get(PREFIX + key))

    async def aget_many(self, keys: Sequence[str]) -> list[str | None]:
        if not keys:
            return []
        client, _ = self._aio()
        return list(await self._answer(client.mget([PREFIX + k for k in keys])))

    async def aput(self, key: str, value: str, ttl_s: float | None = None) -> None:
        client, _ = self._aio()
        await self._answer(client.set(PREFIX + key, value, ex=self._ttl(ttl_s)))

    async def adelete(self, key: str) -> None:
        client, _ = self._aio()
        await self._answer(client.delete(PREFIX + key))

    async def aclaim(self, key: str, ttl_s: float, value: str = "1") -> bool:
        client, _ = self._aio()
        return bool(await self._answer(client.set(PREFIX + key, value, nx=True, ex=self._ttl(ttl_s))))

    async def claim_first(self, claims: Sequence[Claim], ttl_s: float) -> list[int]:
        if not claims:
            return []
        _, scripts = self._aio()
        args: list[Any] = [self._ttl(ttl_s)]
        for c in claims:
            args += [c.value, c.longer]
        taken = await self._answer(scripts["claim_first"](keys=[PREFIX + c.key for c in claims], args=args))
        return [int(n) for n in taken]

    async def throttle(self, key: str, now_us: int, interval_us: int, burst: int) -> Turn:
        _, scripts = self._aio()
        allowed, wait, first = await self._answer(
            scripts["throttle"](
                keys=[PREFIX + key, PREFIX + key + ":refused"], args=[now_us, interval_us, interval_us * burst]
            )
        )
        return Turn(bool(allowed), int(wait), bool(first))

    async def aclose(self) -> None:
        """Close the asyncio client of the running loop (the synchronous one: :meth:`close`)."""
        if self._async is not None and self._async[0] is asyncio.get_running_loop():
            await self._async[1].aclose()
            self._async = None

    # -- synchronous (off the event loop) ---------------------------------------------------------------------

    def get(self, key: str) -> str | None:
        value = self._redis.get(PREFIX + key)
        return None if value is None else str(value)

    def put(self, key: str, value: str, ttl_s: float | None = None) -> None:
        self._redis.set(PREFIX + key, value, ex=self._ttl(ttl_s))

    def delete(self, key: str) -> None:
        self._redis.delete(PREFIX + key)

    def claim(self, key: str, ttl_s: float, value: str = "1") -> bool:
        return bool(self._redis.set(PREFIX + key, value, nx=True, ex=self._ttl(ttl_s)))

    def ping(self) -> None:
        self._redis.ping()

    def close(self) -> None:
        self._redis.close()
