"""The network transport under the Graph client (graph/wire.py), against real loopback sockets.

What crossed the wire is read on the server side; each failure is staged for real (nothing listening, a
connection closed or reset after the request arrived, a reply that never comes) and must get the httpx
class the client's retry and lost-reply rules read: *not sent* (safe to repeat) or *may have been sent*.
"""

from __future__ import annotations

import asyncio
import gzip
import socket
import struct
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

import httpx
import pytest

from outlook_calendar_mcp.auth import SandboxTokenProvider
from outlook_calendar_mcp.graph import GraphClient, GraphTransportError
from outlook_calendar_mcp.graph.wire import AiohttpTransport

pytestmark = pytest.mark.anyio

Handler = Callable[[bytes, asyncio.StreamWriter], Awaitable[None]]


@asynccontextmanager
async def server(handler: Handler) -> AsyncIterator[tuple[str, list[bytes]]]:
    """A loopback server that reads one request head at a time and lets ``handler`` answer it."""
    seen: list[bytes] = []

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                length = next(
                    (
                        int(line.split(b":")[1])
                        for line in head.split(b"\r\n")
                        if line.lower().startswith(b"content-length")
                    ),
                    0,
                )
                body = await reader.readexactly(length) if length else b""
                seen.append(head + body)
                await handler(head, writer)
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    srv = await asyncio.start_server(serve, "127.0.0.1", 0)
    port = srv.sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}", seen
    finally:
        srv.close()


def answer(status: int, body: bytes, *headers: str) -> bytes:
    head = [f"HTTP/1.1 {status} OK", f"Content-Length: {len(body)}", "Content-Type: application/json", *headers]
    return ("\r\n".join(head) + "\r\n\r\n").encode() + body


async def ok(head: bytes, writer: asyncio.StreamWriter) -> None:
    writer.write(answer(200, b'{"value": [1, 2]}'))
    await writer.drain()


async def test_the_graph_client_sends_through_it_headers_and_body_intact() -> None:
    async with server(ok) as (base, seen):
        graph = GraphClient(base_url=f"{base}/v1.0", token_provider=SandboxTokenProvider(None))
        assert await graph.get("/me/events", params={"$top": "2"}) == {"value": [1, 2]}
        await graph.post("/me/events", json={"subject": "Ünïcode"})
        assert isinstance(graph._transport, AiohttpTransport) and graph._client is None  # no proxy here
        await graph.aclose()
    get, post = seen
    assert get.startswith(b"GET /v1.0/me/events?$top=2 HTTP/1.1\r\n")
    assert b"authorization: bearer " in get.lower() and b"client-request-id: " in get.lower()
    assert post.startswith(b"POST /v1.0/me/events HTTP/1.1\r\n")
    assert post.endswith('{"subject":"Ünïcode"}'.encode())
    assert b"content-type: application/json" in post.lower()


async def test_a_proxy_the_environment_names_carries_the_requests(monkeypatch: pytest.MonkeyPatch) -> None:
    """HTTP_PROXY set: the request goes to the proxy, in absolute form for the Graph host (httpx's proxy
    transport); NO_PROXY naming the host: straight to it, on aiohttp's pool."""
    async with server(ok) as (proxy, via_proxy), server(ok) as (direct, straight):
        host = direct.removeprefix("http://")
        monkeypatch.setenv("HTTP_PROXY", proxy)
        monkeypatch.delenv("NO_PROXY", raising=False)
        monkeypatch.delenv("no_proxy", raising=False)
        graph = GraphClient(base_url=f"{direct}/v1.0", token_provider=SandboxTokenProvider(None))
        assert await graph.get("/me/events") == {"value": [1, 2]}
        assert graph._client is not None
        await graph.aclose()
        monkeypatch.setenv("NO_PROXY", "127.0.0.1")
        graph = GraphClient(base_url=f"{direct}/v1.0", token_provider=SandboxTokenProvider(None))
        assert await graph.get("/me/events") == {"value": [1, 2]}
        await graph.aclose()
    assert len(via_proxy) == 1 and via_proxy[0].startswith(f"GET http://{host}/v1.0/me/events HTTP/1.1".encode())
    assert len(straight) == 1 and straight[0].startswith(b"GET /v1.0/me/events HTTP/1.1")


async def test_repeated_headers_stay_separate_and_gzip_is_decoded() -> None:
    async def zipped(head: bytes, writer: asyncio.StreamWriter) -> None:
        writer.write(answer(200, gzip.compress(b'{"ok": true}'), "Content-Encoding: gzip"))
        await writer.drain()

    async with server(zipped) as (base, seen), httpx.AsyncClient(transport=AiohttpTransport()) as http:
        r = await http.get(
            f"{base}/x", headers=[("Prefer", 'outlook.timezone="UTC"'), ("Prefer", "odata.maxpagesize=5")]
        )
    assert r.json() == {"ok": True}
    assert seen[0].lower().count(b"prefer: ") == 2


async def test_nothing_listening_is_not_sent() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # bound, never listening: refused
    async with httpx.AsyncClient(transport=AiohttpTransport()) as http:
        with pytest.raises(httpx.ConnectError):
            await http.post(f"http://127.0.0.1:{port}/x", content=b"{}")


async def test_a_connection_closed_after_the_request_may_have_been_applied() -> None:
    async def hang_up(head: bytes, writer: asyncio.StreamWriter) -> None:
        writer.close()

    async with server(hang_up) as (base, seen), httpx.AsyncClient(transport=AiohttpTransport()) as http:
        with pytest.raises(httpx.RemoteProtocolError):
            await http.post(f"{base}/x", content=b"{}")
    assert len(seen) == 1  # it arrived


async def test_a_reset_after_the_request_may_have_been_applied() -> None:
    async def reset(head: bytes, writer: asyncio.StreamWriter) -> None:
        sock = writer.get_extra_info("socket")
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))  # close sends RST
        writer.transport.abort()

    async with server(reset) as (base, seen), httpx.AsyncClient(transport=AiohttpTransport()) as http:
        with pytest.raises((httpx.ReadError, httpx.RemoteProtocolError)) as caught:
            await http.post(f"{base}/x", content=b"{}")
    assert not isinstance(caught.value, httpx.ConnectError | httpx.ConnectTimeout)
    assert len(seen) == 1


async def test_a_reply_that_never_comes_is_a_read_timeout() -> None:
    async def silent(head: bytes, writer: asyncio.StreamWriter) -> None:
        await asyncio.sleep(5)

    async with server(silent) as (base, _seen), httpx.AsyncClient(transport=AiohttpTransport()) as http:
        with pytest.raises(httpx.ReadTimeout):
            await http.get(f"{base}/x", timeout=httpx.Timeout(5, read=0.3))


async def test_the_client_reads_back_a_post_whose_reply_was_lost() -> None:
    """The whole rule through the Graph client: a POST cut off after it arrived is not blindly sent again."""

    async def first_lost(head: bytes, writer: asyncio.StreamWriter) -> None:
        if head.startswith(b"POST"):
            writer.close()
            return
        writer.write(answer(200, b'{"value": []}'))
        await writer.drain()

    async with server(first_lost) as (base, seen):
        graph = GraphClient(base_url=f"{base}/v1.0", token_provider=SandboxTokenProvider(None), max_retries=1)
        with pytest.raises(GraphTransportError):
            await graph.post(
                "/me/events/AAMk1=/forward",
                json={"comment": "x", "toRecipients": [{"emailAddress": {"address": "a@contoso.com"}}]},
            )
        await graph.aclose()
    assert [r.split(b" ", 1)[0] for r in seen].count(b"POST") == 1  # never repeated without knowing
