"""Graph tokens on behalf of each caller (Microsoft's on-behalf-of flow, with msal).

:class:`OnBehalfOfProvider` is the Graph client's token provider in remote mode. For the current request's
person (:func:`..state.user_key`) it answers, in order: a token memoized in this process with 5+ minutes left;
a token from that person's msal cache (kept encrypted in the state store, shared by every worker;
msal refreshes it silently with the cached refresh token); else an exchange of the caller's own token
(:func:`.resource.caller_token`, audience: this server) for a Graph token (``acquire_token_on_behalf_of``).
The caller's token is only ever sent to the issuer's token endpoint, never to Graph.

When the exchange fails the tool says what to do: consent missing (AADSTS65001) names the app and the
permissions an administrator grants (or the person consents to), a refused server credential names the
setting to fix.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

import anyio.to_thread
import msal
import requests

from ..graph.errors import AuthenticationFailed, AuthenticationRequired, ConfigurationError, GraphTransportError
from ..state import user_key
from .resource import caller_token

__all__ = ["OnBehalfOfProvider", "TokenCaches"]

log = logging.getLogger("outlook_calendar_mcp.remote")

_REFRESH_MARGIN_S = 300


class TokenCaches:
    """Per-person msal caches: in this process only (``store`` None), or encrypted in a state store."""

    def __init__(self, store: Any | None = None) -> None:
        self._store = store  # a state.tokens.TokenCacheStore
        self._local: dict[str, msal.SerializableTokenCache] = {}

    def load(self, user: str) -> msal.SerializableTokenCache:
        if self._store is None:
            return self._local.setdefault(user, msal.SerializableTokenCache())
        cache: msal.SerializableTokenCache = self._store.load(user)
        return cache

    def save(self, user: str, cache: msal.SerializableTokenCache) -> None:
        if self._store is not None:
            self._store.save(user, cache)


class CaSession(requests.Session):
    """requests lets REQUESTS_CA_BUNDLE override a session's own ``verify``; a configured CA file must win."""

    def merge_environment_settings(self, url: Any, proxies: Any, stream: Any, verify: Any, cert: Any) -> Any:
        merged = super().merge_environment_settings(url, proxies, stream, verify, cert)
        if self.verify is not True:
            merged["verify"] = self.verify
        return merged


class OnBehalfOfProvider:
    app_only = False

    def __init__(
        self,
        *,
        client_id: str,
        credential: str | dict[str, str],
        authority: str,
        scopes: list[str],
        caches: TokenCaches,
        verify: str | bool = True,
        standard_authority: bool = True,
        timeout: float = 30.0,
    ) -> None:
        self.client_id, self._credential, self.authority, self.scopes = client_id, credential, authority, scopes
        self._caches = caches
        self._http = CaSession()
        self._http.verify = verify  # the sandbox's local CA, or the system's trust store
        self._http_cache: dict[Any, Any] = {}  # msal's cache of the authority's metadata, shared by every app
        self._standard = standard_authority
        self._timeout = timeout
        self._memo: dict[str, tuple[str, float]] = {}
        self._locks: dict[str, threading.Lock] = {}
        self._guard = threading.Lock()
        self.description = f"on-behalf-of each caller (app {client_id}, authority {authority})"

    async def get_token(self, *, force_refresh: bool = False) -> str:
        user = user_key()
        memo = self._memo.get(user)
        if not force_refresh and memo and memo[1] - time.monotonic() > _REFRESH_MARGIN_S:
            return memo[0]
        assertion = caller_token()
        if assertion is None:
            raise AuthenticationRequired("No signed-in caller for this request: remote mode needs a bearer token.")
        token, expires_in = await anyio.to_thread.run_sync(self._acquire, user, assertion, force_refresh)
        self._memo[user] = (token, time.monotonic() + float(expires_in or 0))
        return token

    def _app(self, cache: msal.SerializableTokenCache) -> msal.ConfidentialClientApplication:
        try:
            return msal.ConfidentialClientApplication(
                self.client_id,
                client_credential=self._credential,
                authority=self.authority,
                token_cache=cache,
                http_client=self._http,
                http_cache=self._http_cache,
                instance_discovery=None if self._standard else False,
                timeout=self._timeout,
                app_name="outlook-calendar-mcp",
            )
        except (requests.exceptions.RequestException, OSError) as e:
            raise GraphTransportError(
                f"Could not reach the sign-in service at {self.authority} ({type(e).__name__}).",
                code="signInServiceUnreachable",
            ) from e
        except ValueError as e:
            raise ConfigurationError(f"The authority {self.authority} was refused: {e}") from e

    def _acquire(self, user: str, assertion: str, force_refresh: bool) -> tuple[str, float | None]:
        with self._guard:
            lock = self._locks.setdefault(user, threading.Lock())
        with lock:  # one exchange per person at a time; different people in parallel
            cache = self._caches.load(user)
            app = self._app(cache)
            result: dict[str, Any] | None = None
            try:
                accounts = app.get_accounts()
                if accounts and not force_refresh:
                    result = app.acquire_token_silent_with_error(self.scopes, account=accounts[0])
                if not result or "access_token" not in result:
                    result = app.acquire_token_on_behalf_of(user_assertion=assertion, scopes=self.scopes)
            except (requests.exceptions.RequestException, OSError) as e:
                raise GraphTransportError(
                    f"Could not reach the sign-in service at {self.authority} ({type(e).__name__}).",
                    code="signInServiceUnreachable",
                ) from e
            self._caches.save(user, cache)
        if "access_token" not in result:
            raise explain(result, self.client_id, self.scopes)
        return result["access_token"], result.get("expires_in")


def explain(result: dict[str, Any], client_id: str, scopes: list[str]) -> Exception:
    """What the person or an administrator must do about a failed exchange (no token in the message)."""
    error = str(result.get("error") or "error")
    description = str(result.get("error_description") or "").splitlines()[0] if result.get("error_description") else ""
    codes = result.get("error_codes") or []
    permissions = ", ".join(s.rsplit("/", 1)[-1] for s in scopes)
    if result.get("suberror") == "consent_required" or "AADSTS65001" in description or 65001 in codes:
        return AuthenticationFailed(
            f"Microsoft Graph access was not consented for this server (app {client_id}): {description} "
            f"An administrator grants it once for everyone: Entra admin center → Enterprise applications → "
            f"the app {client_id} → Permissions → 'Grant admin consent' for Microsoft Graph ({permissions}). "
            "Or the person signs in to the server's app once and accepts the permissions it asks for.",
            code="consentRequired",
        )
    if error == "invalid_client" or "AADSTS7000215" in description or "AADSTS700027" in description:
        return ConfigurationError(
            f"The sign-in service refused this server's own credentials ({description}). An administrator must "
            "set a current OUTLOOK_MCP_CLIENT_SECRET (or OUTLOOK_MCP_CERTIFICATE_PATH) for app " + client_id + ".",
            code="serverCredentialRefused",
        )
    if error in ("invalid_grant", "interaction_required"):
        return AuthenticationRequired(
            f"The sign-in service did not exchange your token for Graph access ({description}). Sign in to the "
            "MCP server again (your MCP client does this when it gets a 401); if it persists, an administrator "
            "checks the app's API permissions and Conditional Access policies.",
            code="onBehalfOfFailed",
        )
    return AuthenticationFailed(f"The on-behalf-of exchange failed ({error}: {description}).", code="onBehalfOfFailed")
