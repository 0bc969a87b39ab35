"""list tools -> create -> view -> delete through langchain-mcp-adapters (run in clients/langchain/.venv).

Usage: flow.py stdio JSON_ENV -- COMMAND ARGS...  |  flow.py sse|streamable_http URL

Prints one JSON object with what the client saw; tests/clients/test_langchain.py
checks it. This script only drives the client: it asserts nothing itself.
"""

from __future__ import annotations

import asyncio
import json
import sys
from importlib.metadata import version
from typing import Any

from langchain_mcp_adapters.client import MultiServerMCPClient
from mcp.shared.exceptions import McpError

WINDOW = {"start": "2027-03-22T00:00", "end": "2027-03-27T00:00"}


def connection(argv: list[str]) -> dict[str, Any]:
    transport = argv[0]
    if transport == "stdio":
        env = json.loads(argv[1])
        command, *args = argv[argv.index("--") + 1:]
        return {"transport": "stdio", "command": command, "args": args, "env": env}
    return {"transport": transport, "url": argv[1]}


async def call(tools: dict[str, Any], name: str, args: dict[str, Any]) -> dict[str, Any]:
    """A tool call as an agent makes it: a ToolCall in, a ToolMessage (text + structured artifact) out."""
    message = await tools[name].ainvoke({"type": "tool_call", "id": f"call-{name}", "name": name, "args": args})
    artifact = message.artifact or {}
    return {"status": message.status, "text": [b.get("text") for b in message.content if isinstance(b, dict)],
            "structured": artifact.get("structured_content")}


async def main(argv: list[str]) -> None:
    client = MultiServerMCPClient({"outlook": connection(argv)})
    seen: dict[str, Any] = {"versions": {"mcp": version("mcp"),
                                         "langchain-mcp-adapters": version("langchain-mcp-adapters")}}
    tools = {tool.name: tool for tool in await client.get_tools()}
    seen["tools"] = sorted(tools)
    created = await call(tools, "create_event", {"subject": "langchain flow", "start": "2027-03-23T16:00",
                                                 "end": "2027-03-23T17:00", "time_zone": "America/New_York"})
    seen["created"] = created
    handle = (created["structured"] or {}).get("event", {}).get("handle", "")
    seen["shown"] = await call(tools, "get_event", {"event": handle})
    seen["view_before"] = await call(tools, "calendar_view", WINDOW)
    seen["deleted"] = await call(tools, "delete_event", {"event": handle})
    seen["view_after"] = await call(tools, "calendar_view", WINDOW)
    seen["get_deleted"] = await call(tools, "get_event", {"event": handle})
    async with client.session("outlook", auto_initialize=False) as session:
        init = await session.initialize()
        seen["protocol_version"] = init.protocolVersion
        try:
            await session.call_tool("no_such_tool", {})
            seen["unknown_tool"] = None
        except McpError as e:
            seen["unknown_tool"] = {"code": e.error.code, "message": e.error.message}
    print(json.dumps(seen))


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1:]))
