"""The msal token cache of each person, kept in a state store, encrypted at rest.

On-behalf-of tokens (and their refresh tokens) are secrets: in Redis they are stored as Fernet tokens
(AES-128-CBC + HMAC-SHA256, from ``cryptography``) under a key derived from ``OUTLOOK_MCP_STATE_KEY``, so
the store never holds a token in clear. A value that does not decrypt (another key, tampering) is treated
as an empty cache: the person's next request exchanges a fresh token.
"""

from __future__ import annotations

import base64
import hashlib

import msal
from cryptography.fernet import Fernet, InvalidToken

from . import StateStore

__all__ = ["TokenCacheStore"]

_TTL_S = 90 * 24 * 3600  # refresh tokens of Entra live 90 days at most


class TokenCacheStore:
    """Load and save one person's :class:`msal.SerializableTokenCache`, encrypted with ``secret``."""

    def __init__(self, store: StateStore, secret: str) -> None:
        if len(secret) < 16:
            raise ValueError("the state key must be at least 16 characters (e.g. `openssl rand -base64 32`)")
        self._store = store
        key = hashlib.sha256(b"outlook-calendar-mcp token cache\0" + secret.encode()).digest()
        self._fernet = Fernet(base64.urlsafe_b64encode(key))

    @staticmethod
    def _key(user: str) -> str:
        return f"msal-cache:{user}"

    def load(self, user: str) -> msal.SerializableTokenCache:
        cache = msal.SerializableTokenCache()
        raw = self._store.get(self._key(user))
        if raw:
            try:
                cache.deserialize(self._fernet.decrypt(raw.encode()).decode())
            except (InvalidToken, ValueError):
                pass  # another key, or tampered with: start empty
        return cache

    def save(self, user: str, cache: msal.SerializableTokenCache) -> None:
        if cache.has_state_changed:
            sealed = self._fernet.encrypt(cache.serialize().encode()).decode()
            self._store.put(self._key(user), sealed, ttl_s=_TTL_S)
