"""The wire under the one httpx client: aiohttp's connection pool and C HTTP parser.

httpx stays the Graph client's interface (requests, responses, and the transports that tests, fault
injection and the in-process sandbox plug in); only the default network transport is aiohttp's. Why:
per request, httpx's own HTTP/1.1 stack (h11, httpcore's pool) costs about three times aiohttp's CPU,
and httpcore's pool polls every idle connection's socket on each request, so its cost grows with the
number of calls in flight (bench/overhead.py, bench/throughput.py).

A failure is given httpx's class by *when* it happened, which is what the client's retry and
lost-reply rules read (client.py, ``_not_sent``):

* before the request left (no connection, DNS, TLS, refused, no pooled connection in time):
  ``ConnectError`` / ``ConnectTimeout``: safe to send again, whatever the method;
* after it may have left (the server closed or reset the connection, the reply stalled or broke off):
  ``RemoteProtocolError`` / ``ReadError`` / ``ReadTimeout``: the request may have been applied.
"""

from __future__ import annotations

import asyncio
import ssl
from typing import Any

import aiohttp
import httpx

KEEPALIVE_S = 5.0  # httpx's default keep-alive expiry; uvicorn (the sandbox) closes idle connections at 5 s
MAX_CONNECTIONS = 100


def _mapped(exc: Exception, request: httpx.Request) -> httpx.TransportError:
    """httpx's class for an aiohttp failure (see the module's docstring); the order matters: subclasses first."""
    message = str(exc) or type(exc).__name__
    if isinstance(exc, aiohttp.ConnectionTimeoutError):
        return httpx.ConnectTimeout(message, request=request)
    if isinstance(exc, aiohttp.ClientConnectorError):  # DNS, refused, TLS handshake and certificate errors
        return httpx.ConnectError(message, request=request)
    if isinstance(exc, aiohttp.ServerTimeoutError | TimeoutError):  # the reply did not come in time
        return httpx.ReadTimeout(message, request=request)
    if isinstance(exc, aiohttp.ServerDisconnectedError | aiohttp.ClientResponseError):
        return httpx.RemoteProtocolError(message, request=request)
    if isinstance(exc, aiohttp.ClientPayloadError | aiohttp.ClientOSError):  # reset or cut mid-reply
        return httpx.ReadError(message, request=request)
    if isinstance(exc, aiohttp.InvalidURL):
        return httpx.UnsupportedProtocol(message, request=request)
    return httpx.TransportError(message, request=request)


class AiohttpTransport(httpx.AsyncBaseTransport):
    """An httpx transport that sends through one ``aiohttp.ClientSession`` (made in the loop that first uses
    it). Responses are read whole, as the Graph client reads every answer; no cookies are kept. Proxies
    are not its business: when the environment names one, the Graph client sends through an httpx client
    on httpx's own transports instead (client.py, ``GraphClient._sender``)."""

    def __init__(self, *, verify: ssl.SSLContext | str | bool = True, max_connections: int = MAX_CONNECTIONS) -> None:
        self._ssl = httpx.create_ssl_context(verify=verify)
        self._max_connections = max_connections
        self._session: aiohttp.ClientSession | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    def _session_here(self) -> aiohttp.ClientSession:
        loop = asyncio.get_running_loop()
        if self._session is None or self._loop is not loop or self._session.closed:
            # A session belongs to one event loop; one made in an earlier loop (a test's) is left to it.
            connector = aiohttp.TCPConnector(
                limit=self._max_connections, keepalive_timeout=KEEPALIVE_S, ssl=self._ssl, enable_cleanup_closed=False
            )
            self._session = aiohttp.ClientSession(
                connector=connector, cookie_jar=aiohttp.DummyCookieJar(), trust_env=False, auto_decompress=False
            )
            self._loop = loop
        return self._session

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        timeout = request.extensions.get("timeout") or {}
        body = request.content or None
        try:
            async with self._session_here().request(
                request.method,
                str(request.url),
                headers=request.headers.multi_items(),
                data=body,
                allow_redirects=False,
                timeout=aiohttp.ClientTimeout(
                    total=None,
                    connect=timeout.get("pool"),
                    sock_connect=timeout.get("connect"),
                    sock_read=timeout.get("read"),
                ),
            ) as answer:
                content = await answer.read()
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise _mapped(exc, request) from exc
        extensions: dict[str, Any] = {"http_version": b"HTTP/1.1"}
        if answer.reason:
            extensions["reason_phrase"] = answer.reason.encode("latin-1", "replace")
        return httpx.Response(
            answer.status, headers=list(answer.raw_headers), content=content, request=request, extensions=extensions
        )

    async def aclose(self) -> None:
        if self._session is not None and not self._session.closed and self._loop is asyncio.get_running_loop():
            await self._session.close()
        self._session = None
