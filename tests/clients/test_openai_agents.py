"""openai-agents' MCP clients drive list tools -> create -> view -> delete over stdio, SSE and streamable HTTP.

The tools are called through the client objects an ``Agent`` holds
(``MCPServerStdio``, ``MCPServerSse``, ``MCPServerStreamableHttp``), no model
involved. The agent's own view of the tools is checked too: ``Agent.get_mcp_tools``
turns every MCP tool into a function tool for a model, with OpenAI's strict
JSON schema where the input schema allows it.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from tests.servers import spawned, stdio_command, stdio_env

from .conftest import TOOLS_AT_LEAST, check_event, shown_times

agents = pytest.importorskip("agents", reason="openai-agents is a dev dependency: pip install -e '.[dev]'")
from agents import Agent, RunContextWrapper  # noqa: E402
from agents.mcp import MCPServerSse, MCPServerStdio, MCPServerStreamableHttp  # noqa: E402
from mcp.shared.exceptions import MCPError  # noqa: E402

pytestmark = pytest.mark.anyio
WINDOW = {"start": "2027-03-08T00:00", "end": "2027-03-13T00:00"}


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@contextlib.asynccontextmanager
async def connected(transport: str, tmp_path: Path) -> AsyncIterator[Any]:
    if transport == "stdio":
        command, *args = stdio_command(tmp_path)
        server: Any = MCPServerStdio({"command": command, "args": args, "env": stdio_env(tmp_path)},
                                     name="outlook", client_session_timeout_seconds=60)
        async with server:
            yield server
        return
    with spawned(tmp_path, transport) as child:
        url = child.url
        cls = MCPServerSse if transport == "sse" else MCPServerStreamableHttp
        async with cls({"url": url}, name="outlook", client_session_timeout_seconds=60) as server:
            yield server


def structured(result: Any) -> dict[str, Any]:
    assert not result.is_error, result.content
    return result.structured_content


@pytest.mark.parametrize("transport", ["stdio", "sse", "http"])
async def test_list_create_view_delete(transport: str, tmp_path: Path):
    subject = f"openai-agents over {transport}"
    async with connected(transport, tmp_path) as server:
        tools = {tool.name: tool for tool in await server.list_tools()}
        assert set(tools) >= TOOLS_AT_LEAST

        event = structured(await server.call_tool("create_event", {
            "subject": subject, "start": "2027-03-09T14:00", "end": "2027-03-09T14:45",
            "time_zone": "Europe/Berlin"}))["event"]
        check_event(event, subject)
        assert (event["start"], event["end"]) == ("2027-03-09T14:00:00+01:00", "2027-03-09T14:45:00+01:00")

        shown = structured(await server.call_tool("get_event", {"event": event["handle"], "detail": "full"}))
        check_event(shown["event"], subject)
        view = structured(await server.call_tool("calendar_view", WINDOW))
        assert [e["handle"] for e in view["events"] if e["subject"] == subject] == [event["handle"]]
        assert all(shown_times(e) for e in view["events"])

        structured(await server.call_tool("delete_event", {"event": event["handle"]}))
        view = structured(await server.call_tool("calendar_view", WINDOW))
        assert not [e for e in view["events"] if e["subject"] == subject]
        gone = await server.call_tool("get_event", {"event": event["handle"]})
        assert gone.is_error and gone.content[0].text

        with pytest.raises(MCPError) as info:
            await server.call_tool("no_such_tool", {})
        assert info.value.error.code == -32602


async def test_agent_turns_every_tool_into_a_function_tool(tmp_path: Path):
    async with connected("http", tmp_path) as server:
        agent = Agent(name="calendar", mcp_servers=[server], mcp_config={"convert_schemas_to_strict": True})
        tools = {tool.name: tool for tool in await agent.get_mcp_tools(RunContextWrapper(context=None))}
        assert set(tools) >= TOOLS_AT_LEAST
        for name, tool in tools.items():
            assert tool.params_json_schema["type"] == "object", name
            assert tool.description, name
