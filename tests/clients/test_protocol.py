"""Protocol behaviour of src/outlook_calendar_mcp/protocol.py: unknown names, completion, logging/setLevel.

Unknown names are JSON-RPC errors -32602 (invalid params), as the protocol requires, on the wire.

server/tools "Error Handling": a call to an unknown tool is a protocol error
(-32602), not an ``isError`` result; server/prompts: an unknown prompt or a
missing required argument is -32602 as well. Pinned as exact JSON-RPC on the
handshake era over streamable HTTP and stdio, and through the SDK client on the
2026-07-28 era (in process). The third-party clients check the same for
themselves (test_openai_agents, test_langchain). Completion and logging/setLevel
through the SDK client; the conformance suite checks both too.
"""

from __future__ import annotations

import json
import subprocess
import threading
from pathlib import Path
from typing import Any

import httpx
import pytest
from mcp import Client
from mcp.shared.exceptions import MCPError
from mcp_types import PromptReference

from outlook_calendar_mcp.config import Settings
from outlook_calendar_mcp.ids import Handles
from outlook_calendar_mcp.server import build_graph, create_server
from tests.instants import suite_clock
from tests.servers import server_env, spawned, stdio_command

INITIALIZE = {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
    "protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "wire-test", "version": "1"}}}
INITIALIZED = {"jsonrpc": "2.0", "method": "notifications/initialized"}
REQUESTS = [
    ({"jsonrpc": "2.0", "id": 2, "method": "tools/call", "params": {"name": "no_such_tool", "arguments": {}}},
     {"jsonrpc": "2.0", "id": 2, "error": {"code": -32602, "message": "Unknown tool: no_such_tool"}}),
    ({"jsonrpc": "2.0", "id": 3, "method": "prompts/get", "params": {"name": "no_such_prompt"}},
     {"jsonrpc": "2.0", "id": 3, "error": {"code": -32602, "message": "Unknown prompt: no_such_prompt"}}),
]


def _sse_json(response: httpx.Response) -> dict[str, Any]:
    if response.headers["content-type"].startswith("application/json"):
        return response.json()
    data = [line[5:].strip() for line in response.text.splitlines() if line.startswith("data:")]
    return json.loads(data[-1])


def test_unknown_names_over_streamable_http(tmp_path: Path):
    headers = {"Accept": "application/json, text/event-stream", "Content-Type": "application/json"}
    with spawned(tmp_path, "http") as child, httpx.Client(timeout=30) as http:
        url = child.url
        init = http.post(url, json=INITIALIZE, headers=headers)
        assert init.status_code == 200, init.text
        headers |= {"mcp-session-id": init.headers["mcp-session-id"], "mcp-protocol-version": "2025-11-25"}
        assert http.post(url, json=INITIALIZED, headers=headers).status_code == 202
        for request, expected in REQUESTS:
            assert _sse_json(http.post(url, json=request, headers=headers)) == expected


def test_unknown_names_over_stdio(tmp_path: Path):
    proc = subprocess.Popen(stdio_command(tmp_path), stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL, text=True, env=server_env(tmp_path))
    watchdog = threading.Timer(60, proc.kill)  # a server that never answers ends the read, not the test run
    watchdog.start()
    try:
        def ask(message: dict[str, Any]) -> dict[str, Any] | None:
            proc.stdin.write(json.dumps(message) + "\n")
            proc.stdin.flush()
            if "id" not in message:
                return None
            while True:  # skip notifications the server may send first
                answer = json.loads(proc.stdout.readline())
                if answer.get("id") == message["id"]:
                    return answer

        assert ask(INITIALIZE)["result"]["protocolVersion"] == "2025-11-25"
        ask(INITIALIZED)
        for request, expected in REQUESTS:
            assert ask(request) == expected
    finally:
        watchdog.cancel()
        proc.stdin.close()
        proc.wait(timeout=30)


@pytest.mark.anyio
@pytest.mark.parametrize("anyio_backend", ["asyncio"])
async def test_unknown_names_through_the_sdk_client_on_2026_07_28(tmp_path: Path, anyio_backend: str):
    settings = Settings(backend="sandbox", sandbox_db=":memory:", data_dir=tmp_path, cache_dir=tmp_path)
    graph = build_graph(settings, clock=suite_clock())
    try:
        async with Client(create_server(settings, graph, handles=Handles(clock=graph.clock))) as client:
            assert client.protocol_version == "2026-07-28"
            with pytest.raises(MCPError) as tool:
                await client.call_tool("no_such_tool", {})
            with pytest.raises(MCPError) as prompt:
                await client.get_prompt("schedule_meeting", {})
    finally:
        await graph.aclose()
    assert (tool.value.error.code, tool.value.error.message) == (-32602, "Unknown tool: no_such_tool")
    assert prompt.value.error.code == -32602 and "Missing required arguments" in prompt.value.error.message


@pytest.mark.anyio
@pytest.mark.parametrize("anyio_backend", ["asyncio"])
@pytest.mark.filterwarnings("ignore:The logging capability is deprecated")  # it is, as of 2026-07-28: not here
async def test_completion_and_log_level(tmp_path: Path, anyio_backend: str):
    settings = Settings(backend="sandbox", sandbox_db=":memory:", data_dir=tmp_path, cache_dir=tmp_path)
    graph = build_graph(settings, clock=suite_clock())
    try:
        async with Client(create_server(settings, graph, handles=Handles(clock=graph.clock)), mode="legacy") as client:
            assert client.server_capabilities.completions is not None
            assert client.server_capabilities.logging is not None
            durations = await client.complete(PromptReference(type="ref/prompt", name="schedule_meeting"),
                                              {"name": "duration", "value": "1"})
            topics = await client.complete(PromptReference(type="ref/prompt", name="schedule_meeting"),
                                           {"name": "topic", "value": ""})
            unknown = await client.complete(PromptReference(type="ref/prompt", name="no_such_prompt"),
                                            {"name": "arg1", "value": "x"})
            await client.set_logging_level("warning")
    finally:
        await graph.aclose()
    assert durations.completion.values == ["15m", "1h"]
    assert topics.completion.values == [] and unknown.completion.values == []
