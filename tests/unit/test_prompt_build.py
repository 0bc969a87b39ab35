"""The prompts are added without the SDK's ``Prompt.from_function`` (prompts/scheduling.prompt): held here equal
to the SDK's way, as a client lists them and as it renders them."""

from __future__ import annotations

from typing import Any

import pytest
from mcp.server.mcpserver import MCPServer

from outlook_calendar_mcp.prompts import scheduling

pytestmark = pytest.mark.anyio


async def no_tools(name: str, arguments: dict[str, Any]) -> Any:
    raise AssertionError("listing and rendering prompts calls no tool")


def built(monkeypatch: pytest.MonkeyPatch, by_sdk: bool) -> MCPServer:
    server = MCPServer(name="prompts")
    with monkeypatch.context() as patch:
        if by_sdk:
            patch.setattr(scheduling, "prompt", lambda server, title: server.prompt(title=title))
        scheduling.register(server, no_tools)
    return server


async def test_prompts_list_as_the_sdk_lists_them(monkeypatch: pytest.MonkeyPatch):
    ours, sdk = built(monkeypatch, by_sdk=False), built(monkeypatch, by_sdk=True)
    listed = [p.model_dump(exclude_none=True) for p in await ours.list_prompts()]
    assert listed == [p.model_dump(exclude_none=True) for p in await sdk.list_prompts()]
    assert len(listed) == 6
    schedule = next(p for p in listed if p["name"] == "schedule_meeting")
    assert [(a["name"], a["required"]) for a in schedule["arguments"]] == [
        ("people", True), ("topic", True), ("duration", False), ("window", False), ("room_for", False)]
    assert schedule["arguments"][2]["description"] == "e.g. 30m, 1h"


@pytest.mark.parametrize(
    "arguments",
    [{"people": "Dana", "topic": "Q1"}, {"people": "Dana", "topic": "Q1", "room_for": "6", "duration": "1h"}],
)
async def test_prompts_render_as_the_sdk_renders_them(monkeypatch: pytest.MonkeyPatch, arguments: dict[str, str]):
    ours, sdk = built(monkeypatch, by_sdk=False), built(monkeypatch, by_sdk=True)
    rendered = await ours.get_prompt("schedule_meeting", arguments)
    assert rendered.model_dump() == (await sdk.get_prompt("schedule_meeting", arguments)).model_dump()
    assert "Q1" in rendered.messages[0].content.text


@pytest.mark.parametrize("arguments", [{"people": "Dana"}, {"people": "Dana", "topic": "Q1", "bogus": "x"}])
async def test_prompt_arguments_refused_as_the_sdk_refuses_them(
    monkeypatch: pytest.MonkeyPatch, arguments: dict[str, str]
):
    errors = []
    for server in (built(monkeypatch, by_sdk=False), built(monkeypatch, by_sdk=True)):
        with pytest.raises(Exception) as caught:
            await server.get_prompt("schedule_meeting", arguments)
        errors.append((type(caught.value), str(caught.value)))
    assert errors[0] == errors[1]
