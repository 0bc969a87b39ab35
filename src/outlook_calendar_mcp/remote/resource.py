"""The MCP server as an OAuth 2.1 protected resource (MCP authorization spec; RFC 9728, RFC 6750).

:class:`JwtVerifier` accepts only access tokens issued for this server: signed by a key of the issuer's JWKS
(fetched once, fetched again when a token names an unknown key, at most once a minute), ``iss`` the
configured issuer, ``aud`` one of the server's audiences (its application ID URI or client id), within
``nbf``..``exp`` on the server's clock, a delegated (``scp``) token carrying the required scope.
Microsoft Graph's tokens, and any other audience's, are refused: the server never accepts, nor forwards,
a token meant for someone else.

:func:`protect` wraps the transport's ASGI app: Protected Resource Metadata at
``/.well-known/oauth-protected-resource`` and ``/.well-known/oauth-protected-resource/mcp``; every other
request needs ``Authorization: Bearer <token>``, answered otherwise with 401 and
``WWW-Authenticate: Bearer resource_metadata="…"`` (``error="invalid_token"`` when a token was given and
failed, ``error="insufficient_scope"`` with 403); a browser ``Origin`` other than the server's own (or a
configured one) gets 403. A request that passes runs as its person (``tid:oid``), its token available to
the on-behalf-of exchange (:func:`caller_token`) and nowhere else: it is never logged.
"""

from __future__ import annotations

import json
import logging
import ssl
import threading
import time
from collections.abc import Awaitable, Callable, MutableMapping
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import anyio.to_thread
import httpx
import jwt

from ..clock import Clock
from ..state import acting_as

__all__ = ["Caller", "JwtVerifier", "Refused", "ResourceConfig", "caller_token", "protect"]

log = logging.getLogger("outlook_calendar_mcp.remote")

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]
App = Callable[[Scope, Receive, Send], Awaitable[None]]

_LEEWAY_S = 60  # clock skew allowed on exp/nbf
_JWKS_REFRESH_S = 60.0
_caller: ContextVar[str | None] = ContextVar("outlook_mcp_caller_token", default=None)


def caller_token() -> str | None:
    """The current request's validated bearer token (for the on-behalf-of exchange only)."""
    return _caller.get()


@dataclass(frozen=True)
class ResourceConfig:
    issuer: str
    audiences: tuple[str, ...]
    scope: str  # the scope (scp) every token must carry, e.g. access_as_user
    resource: str  # the MCP endpoint's public URL, e.g. https://mcp.contoso.com/mcp
    scopes_supported: tuple[str, ...] = ()  # the full scope names clients ask for (api://…/access_as_user)
    allowed_origins: tuple[str, ...] = ()
    verify: ssl.SSLContext | bool = True  # TLS trust for fetching the issuer's metadata and keys

    @property
    def metadata_url(self) -> str:
        parts = urlsplit(self.resource)
        return f"{parts.scheme}://{parts.netloc}/.well-known/oauth-protected-resource{parts.path.rstrip('/')}"

    def metadata(self) -> dict[str, Any]:
        return {
            "resource": self.resource,
            "authorization_servers": [self.issuer],
            "scopes_supported": list(self.scopes_supported or (self.scope,)),
            "bearer_methods_supported": ["header"],
            "resource_name": "Outlook Calendar MCP",
        }


class Refused(Exception):
    """A token this server does not accept; ``error`` is RFC 6750's code."""

    def __init__(self, description: str, error: str = "invalid_token", status: int = 401) -> None:
        super().__init__(description)
        self.description, self.error, self.status = description, error, status


@dataclass(frozen=True)
class Caller:
    user_key: str  # tid:oid
    username: str | None
    client_id: str | None
    scopes: tuple[str, ...]


@dataclass
class JwtVerifier:
    config: ResourceConfig
    clock: Clock = field(default_factory=Clock)
    _keys: dict[str, Any] = field(default_factory=dict)
    _fetched: float = 0.0
    _jwks_uri: str | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    # -- the issuer's keys ---------------------------------------------------------------------
    def _fetch_keys(self) -> None:
        with httpx.Client(verify=self.config.verify, timeout=10) as http:
            if self._jwks_uri is None:
                meta = http.get(f"{self.config.issuer.rstrip('/')}/.well-known/openid-configuration")
                meta.raise_for_status()
                self._jwks_uri = str(meta.json()["jwks_uri"])
            keys = http.get(self._jwks_uri)
            keys.raise_for_status()
        self.load_keys(keys.json())

    def load_keys(self, jwks: dict[str, Any]) -> None:
        """Use the keys of a JWKS document (what the issuer publishes at its ``jwks_uri``)."""
        self._keys = {
            k["kid"]: jwt.PyJWK(k).key for k in jwks.get("keys", []) if k.get("kid") and k.get("kty") == "RSA"
        }
        self._fetched = time.monotonic()

    def _key(self, kid: str) -> Any:
        with self._lock:
            if kid not in self._keys and time.monotonic() - self._fetched > _JWKS_REFRESH_S:
                try:
                    self._fetch_keys()
                except (httpx.HTTPError, ValueError, KeyError) as e:
                    log.warning("could not fetch the signing keys of %s: %s", self.config.issuer, e)
                    raise Refused("The issuer's signing keys could not be fetched; try again.") from None
            key = self._keys.get(kid)
        if key is None:
            raise Refused("The token is signed by a key the issuer does not publish.")
        return key

    # -- one token ------------------------------------------------------------------------------
    def verify(self, token: str) -> Caller:
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError:
            raise Refused("The bearer token is not a JWT.") from None
        if header.get("alg") != "RS256":
            raise Refused("The token's signing algorithm is not RS256.")
        key = self._key(str(header.get("kid") or ""))
        try:
            claims = jwt.decode(
                token, key, algorithms=["RS256"], audience=list(self.config.audiences), issuer=self.config.issuer,
                options={"verify_exp": False, "verify_nbf": False, "verify_iat": False,
                         "require": ["exp", "iss", "aud"]},
            )  # fmt: skip
        except jwt.InvalidAudienceError:
            raise Refused("The token was issued for another audience (resource), not for this server.") from None
        except jwt.InvalidIssuerError:
            raise Refused("The token was issued by another issuer than this server trusts.") from None
        except jwt.PyJWTError as e:
            raise Refused(f"The token is invalid ({e}).") from None
        now = self.clock.now().timestamp()
        if float(claims["exp"]) < now - _LEEWAY_S:
            raise Refused("The token has expired.")
        if "nbf" in claims and float(claims["nbf"]) > now + _LEEWAY_S:
            raise Refused("The token is not valid yet.")
        scopes = tuple(str(claims.get("scp") or "").split())
        if not scopes or claims.get("idtyp") == "app":
            raise Refused("An application token has no person to act for: sign in as a user.", "invalid_token")
        if self.config.scope not in scopes:
            raise Refused(f"The token lacks the scope {self.config.scope}.", "insufficient_scope", 403)
        tid, oid = claims.get("tid"), claims.get("oid")
        if not tid or not oid:
            raise Refused("The token names no tenant (tid) or user (oid).")
        return Caller(
            user_key=f"{tid}:{oid}",
            username=claims.get("preferred_username") or claims.get("upn"),
            client_id=claims.get("azp") or claims.get("appid"),
            scopes=scopes,
        )


def _challenge(config: ResourceConfig, refused: Refused | None) -> bytes:
    parts = [f'resource_metadata="{config.metadata_url}"']
    if refused is None or refused.error == "insufficient_scope":
        parts.append(f'scope="{" ".join(config.scopes_supported or (config.scope,))}"')
    if refused is not None:
        description = refused.description.replace('"', "'")
        parts = [f'error="{refused.error}"', f'error_description="{description}"', *parts]
    return ("Bearer " + ", ".join(parts)).encode()


async def _json(send: Send, status: int, body: dict[str, Any], headers: tuple[tuple[bytes, bytes], ...] = ()) -> None:
    data = json.dumps(body).encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(data)).encode()),
                            (b"cache-control", b"no-store"), *headers]})  # fmt: skip
    await send({"type": "http.response.body", "body": data})


def protect(app: App, verifier: JwtVerifier) -> App:
    """``app`` behind the bearer check, with the Protected Resource Metadata beside it."""
    config = verifier.config
    own = "{0.scheme}://{0.netloc}".format(urlsplit(config.resource))
    origins = {own, *config.allowed_origins}
    metadata_paths = {"/.well-known/oauth-protected-resource", urlsplit(config.metadata_url).path}

    async def guarded(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await app(scope, receive, send)
            return
        if scope["path"] in metadata_paths:
            await _json(send, 200, config.metadata(), ((b"access-control-allow-origin", b"*"),))
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers") or []}
        origin = headers.get("origin")
        if origin and origin.rstrip("/") not in origins:
            await _json(send, 403, {"error": "forbidden", "error_description": f"Origin {origin} is not allowed."})
            return
        given = headers.get("authorization", "")
        if not given.lower().startswith("bearer ") or not given[7:].strip():
            await _json(send, 401, {"error": "invalid_token", "error_description": "A bearer token is required."},
                        ((b"www-authenticate", _challenge(config, None)),))  # fmt: skip
            return
        token = given[7:].strip()
        try:
            caller = await anyio.to_thread.run_sync(verifier.verify, token)  # a key fetch may block
        except Refused as refused:
            log.info("refused a bearer token: %s", refused.description)
            await _json(send, refused.status, {"error": refused.error, "error_description": refused.description},
                        ((b"www-authenticate", _challenge(config, refused)),))  # fmt: skip
            return
        reset = _caller.set(token)
        try:
            with acting_as(caller.user_key):
                await app(scope, receive, send)
        finally:
            _caller.reset(reset)

    return guarded
