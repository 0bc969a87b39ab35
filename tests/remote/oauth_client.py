"""An MCP client that does the whole OAuth flow itself (the MCP SDK's OAuthClientProvider): discovery from the
401, Protected Resource Metadata, the authorization server's metadata, Dynamic Client Registration, PKCE, the
token; the person "signs in" on the sandbox's authorize endpoint with login_hint + prompt=none, as a script."""

from __future__ import annotations

import contextlib
import ssl
from collections.abc import AsyncIterator
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx2
from mcp import Client
from mcp.client.auth import OAuthClientProvider
from mcp.client.sse import sse_client
from mcp.client.streamable_http import streamable_http_client
from mcp.shared.auth import AuthorizationCodeResult, OAuthClientInformationFull, OAuthClientMetadata, OAuthToken

REDIRECT = "http://127.0.0.1:39871/callback"


class MemoryStorage:
    def __init__(self) -> None:
        self.tokens: OAuthToken | None = None
        self.client: OAuthClientInformationFull | None = None

    async def get_tokens(self) -> OAuthToken | None:
        return self.tokens

    async def set_tokens(self, tokens: OAuthToken) -> None:
        self.tokens = tokens

    async def get_client_info(self) -> OAuthClientInformationFull | None:
        return self.client

    async def set_client_info(self, client_info: OAuthClientInformationFull) -> None:
        self.client = client_info


class Person:
    """One person's MCP client: their OAuth state, and what the flow did (for assertions)."""

    def __init__(self, address: str, url: str, trust: ssl.SSLContext) -> None:
        self.address, self.url, self.trust = address, url, trust
        self.storage = MemoryStorage()
        self.authorize_urls: list[str] = []
        self._answer: AuthorizationCodeResult | None = None

    async def _redirect(self, url: str) -> None:
        self.authorize_urls.append(url)
        async with httpx2.AsyncClient(verify=self.trust) as http:
            answer = await http.get(f"{url}&{urlencode({'login_hint': self.address, 'prompt': 'none'})}")
        assert answer.status_code == 302, answer.text
        query = parse_qs(urlsplit(answer.headers["location"]).query)
        assert "code" in query, query
        self._answer = AuthorizationCodeResult(code=query["code"][0], state=query.get("state", [None])[0])

    async def _callback(self) -> AuthorizationCodeResult:
        assert self._answer is not None
        return self._answer

    def provider(self) -> OAuthClientProvider:
        metadata = OAuthClientMetadata(redirect_uris=[REDIRECT], client_name=f"test client of {self.address}",
                                       grant_types=["authorization_code", "refresh_token"], response_types=["code"],
                                       token_endpoint_auth_method="none")
        return OAuthClientProvider(self.url, metadata, self.storage, redirect_handler=self._redirect,
                                   callback_handler=self._callback)

    @contextlib.asynccontextmanager
    async def client(self) -> AsyncIterator[Client]:
        http = httpx2.AsyncClient(auth=self.provider(), verify=self.trust, timeout=60)
        async with http, Client(streamable_http_client(self.url, http_client=http)) as client:
            yield client

    @contextlib.asynccontextmanager
    async def sse(self) -> AsyncIterator[Client]:
        """The same person over the SSE transport."""

        def factory(headers=None, timeout=None, auth=None) -> httpx2.AsyncClient:
            return httpx2.AsyncClient(headers=headers, timeout=timeout or 60, auth=auth, verify=self.trust)

        async with Client(sse_client(self.url, auth=self.provider(), httpx_client_factory=factory)) as client:
            yield client
