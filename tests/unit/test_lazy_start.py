"""Listing tools loads nothing it does not need: no sign-in library, no HTTP client, no sandbox.

A fresh interpreter builds the server as ``serve`` does (``build_graph`` + ``create_server`` on the
in-process sandbox backend) and lists its tools; the heavy modules must still be unloaded then (absent,
or the lazy stand-ins of ``outlook_calendar_mcp.lazy`` whose code has not run). (starlette and uvicorn
are not checked: the MCP SDK imports them itself when ``mcp.server.mcpserver`` is imported.) The first Graph
request then loads them and works: the same interpreter calls a tool and sees the sandbox answer.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

SCRIPT = """
import asyncio, datetime, json, sys
from mcp import Client
from outlook_calendar_mcp.clock import Clock
from outlook_calendar_mcp.config import Settings
from outlook_calendar_mcp.server import build_graph, create_server

HEAVY = ("msal", "msal_extensions", "requests", "httpx", "outlook_calendar_mcp.sandbox")

def loaded():
    return sorted(n for n in HEAVY if n in sys.modules and type(sys.modules[n]).__name__ != "_LazyModule")

async def main():
    settings = Settings(backend="sandbox", sandbox_db=sys.argv[1] + "/sandbox.db", data_dir=sys.argv[1],
                        cache_dir=sys.argv[1])
    graph = build_graph(settings, clock=Clock(datetime.datetime.fromisoformat("2027-03-10T09:00:00-08:00")))
    server = create_server(settings, graph)
    tools = await server.list_tools()
    after_listing = loaded()
    async with Client(server) as client:
        result = await client.call_tool("get_mailbox_settings", {})
    await graph.aclose()
    print(json.dumps({"tools": len(tools), "after_listing": after_listing, "after_call": loaded(),
                      "error": result.is_error, "zone": (result.structured_content or {}).get("time_zone")}))

asyncio.run(main())
"""


def test_listing_tools_loads_no_sign_in_http_or_sandbox(tmp_path: Path) -> None:
    out = subprocess.run([sys.executable, "-c", SCRIPT, str(tmp_path)], capture_output=True, text=True, check=True,
                         timeout=120)
    seen = json.loads(out.stdout.strip().splitlines()[-1])
    assert seen["tools"] == 43
    assert seen["after_listing"] == [], f"loaded before any Graph request: {seen['after_listing']}"
    # The first Graph request opens the sandbox through httpx: lazily loaded, and working.
    assert not seen["error"] and seen["zone"]
    assert {"httpx", "outlook_calendar_mcp.sandbox"} <= set(seen["after_call"])
    assert "msal" not in seen["after_call"]  # the sandbox needs no sign-in library at all
