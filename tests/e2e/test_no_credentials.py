"""With the Graph backend and nobody signed in, a tool answers with how to sign in — nothing crashes,
nothing leaves the machine (no token exists to send)."""

from __future__ import annotations

import pytest
from mcp import Client

from outlook_calendar_mcp.config import Settings
from outlook_calendar_mcp.ids import Handles
from outlook_calendar_mcp.server import build_graph, create_server
from tests.instants import suite_clock

pytestmark = pytest.mark.anyio


async def test_tool_without_credentials_says_how_to_sign_in(tmp_path, monkeypatch):
    for key in ("ACCESS_TOKEN", "CLIENT_SECRET", "CERTIFICATE_PATH", "BACKEND", "AUTH_MODE"):
        monkeypatch.delenv(f"OUTLOOK_MCP_{key}", raising=False)
    settings = Settings(backend="graph", data_dir=tmp_path, cache_dir=tmp_path)
    sent: list[str] = []

    async def record(method, url, headers, body):
        sent.append(url)

    graph = build_graph(settings, clock=suite_clock(), on_request=[record])
    server = create_server(settings, graph, handles=Handles())
    async with Client(server) as client:
        result = await client.call_tool("calendar_view", {"start": "2026-11-23", "end": "2026-11-24",
                                                          "time_zone": "UTC"})
        assert result.is_error
        text = result.content[0].text
        assert "outlook-calendar-mcp auth login" in text
        assert "--backend sandbox" in text or "OUTLOOK_MCP_ACCESS_TOKEN" in text
        # the server is still up and answering
        assert len((await client.list_tools()).tools) >= 14
    assert sent == []  # no request went out without a token
    await graph.aclose()
