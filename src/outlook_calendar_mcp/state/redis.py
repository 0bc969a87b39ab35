"""The shared state store: Redis (``OUTLOOK_MCP_STATE_URL=redis://host:6379/0``), for several workers.

Keys are prefixed (``outlook-mcp:``) so the server can share a Redis database; ``claim`` is ``SET NX EX``,
atomic across every worker; ``incr`` is ``INCR`` + ``EXPIRE NX`` in one transaction (Redis 7). Secret values (the msal token cache) are encrypted by the caller
(:mod:`.tokens`) before they get here: this module stores what it is given.
"""

from __future__ import annotations

import math
from urllib.parse import urlsplit

import redis

__all__ = ["RedisState"]

PREFIX = "outlook-mcp:"


class RedisState:
    def __init__(self, url: str) -> None:
        parts = urlsplit(url)
        self.description = f"Redis {parts.hostname}:{parts.port or 6379}{parts.path or '/0'}"  # no password
        self._redis = redis.Redis.from_url(url, decode_responses=True, socket_timeout=10, health_check_interval=30)

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

    def incr(self, key: str, ttl_s: float) -> int:
        pipe = self._redis.pipeline(transaction=True)  # MULTI/EXEC: the count and its expiry together
        pipe.incr(PREFIX + key)
        pipe.expire(PREFIX + key, self._ttl(ttl_s) or 1, nx=True)  # only a new counter gets an expiry
        count, _ = pipe.execute()
        return int(count)

    def ping(self) -> None:
        self._redis.ping()

    def close(self) -> None:
        self._redis.close()
