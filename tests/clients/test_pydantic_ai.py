"""pydantic-ai's MCPToolset (on the FastMCP client) in an agent run, offline.

* ``TestModel``, pydantic-ai's offline test model, calls the read tools it is
  given with arguments it generates from their input schemas; the agent feeds
  the results back and ends the run.
* ``FunctionModel`` scripts the model's turns: list tools (the tool definitions
  the agent offers the model), create an event, view it, delete it, view again;
  each turn reads the previous tool results from the message history, as a
  model would. Over stdio, SSE and streamable HTTP.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.servers import spawned, stdio_command, stdio_env

from .conftest import TOOLS_AT_LEAST, check_event

pytest.importorskip("pydantic_ai", reason="pydantic-ai-slim[mcp] is a dev dependency: pip install -e '.[dev]'")
from fastmcp.client import Client
from fastmcp.client.transports import StdioTransport
from pydantic_ai import Agent
from pydantic_ai.mcp import MCPToolset
from pydantic_ai.messages import ModelMessage, ModelResponse, TextPart, ToolCallPart, ToolReturnPart
from pydantic_ai.models.function import AgentInfo, FunctionModel
from pydantic_ai.models.test import TestModel

pytestmark = pytest.mark.anyio
WINDOW = {"start": "2027-03-15T00:00", "end": "2027-03-20T00:00"}


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


def toolset(transport: str, tmp_path: Path, url: str | None) -> MCPToolset:
    if transport == "stdio":
        command, *args = stdio_command(tmp_path)
        return MCPToolset(Client(StdioTransport(command=command, args=args, env=stdio_env(tmp_path))))
    return MCPToolset(url)


def returns(messages: list[ModelMessage]) -> list[ToolReturnPart]:
    return [p for m in messages for p in m.parts if isinstance(p, ToolReturnPart)]


class Script:
    """The model's side of list -> create -> view -> delete -> view, one turn per call."""

    def __init__(self, subject: str) -> None:
        self.subject = subject
        self.offered: set[str] = set()
        self.seen: dict[str, Any] = {}

    def __call__(self, messages: list[ModelMessage], info: AgentInfo) -> ModelResponse:
        self.offered = {t.name for t in info.function_tools}
        done = returns(messages)
        self.seen = {}
        for part in done:
            self.seen.setdefault(part.tool_name, []).append(part.content)
        if not done:
            return ModelResponse(parts=[ToolCallPart("create_event", {
                "subject": self.subject, "start": "2027-03-16T11:00", "end": "2027-03-16T11:30",
                "time_zone": "Asia/Tokyo"})])
        handle = self.seen["create_event"][0]["event"]["handle"]
        if len(done) == 1:
            return ModelResponse(parts=[ToolCallPart("get_event", {"event": handle}),
                                        ToolCallPart("calendar_view", WINDOW)])
        if len(done) == 3:
            return ModelResponse(parts=[ToolCallPart("delete_event", {"event": handle})])
        if len(done) == 4:
            return ModelResponse(parts=[ToolCallPart("calendar_view", WINDOW)])
        return ModelResponse(parts=[TextPart("done")])


@pytest.mark.parametrize("transport", ["stdio", "sse", "http"])
async def test_agent_run_list_create_view_delete(transport: str, tmp_path: Path):
    subject = f"pydantic-ai over {transport}"
    script = Script(subject)
    if transport == "stdio":
        await _run(script, toolset(transport, tmp_path, None))
    else:
        with spawned(tmp_path, transport) as child:
            url = child.url
            await _run(script, toolset(transport, tmp_path, url))

    assert script.offered >= TOOLS_AT_LEAST
    created = script.seen["create_event"][0]["event"]
    check_event(created, subject)
    assert (created["start"], created["end"]) == ("2027-03-16T11:00:00+09:00", "2027-03-16T11:30:00+09:00")
    check_event(script.seen["get_event"][0]["event"], subject)
    before, after = script.seen["calendar_view"]
    assert [e["handle"] for e in before["events"] if e["subject"] == subject] == [created["handle"]]
    assert not [e for e in after["events"] if e["subject"] == subject]


async def _run(script: Script, tools: MCPToolset) -> None:
    agent = Agent(FunctionModel(script), toolsets=[tools])
    async with agent:
        result = await agent.run("Book a half hour in Tokyo on 16 March 2027, check it, then remove it.")
    assert result.output == "done"


async def test_test_model_calls_read_tools(tmp_path: Path):
    with spawned(tmp_path, "http") as child:
        url = child.url
        agent = Agent(TestModel(call_tools=["get_mailbox_settings", "list_calendars"]), toolsets=[MCPToolset(url)])
        async with agent:
            result = await agent.run("Which time zone am I in, and which calendars do I have?")
    answers = json.loads(result.output)
    assert answers["get_mailbox_settings"]["time_zone"] == "America/Los_Angeles"
    assert any(c.get("is_default") for c in answers["list_calendars"]["calendars"])
