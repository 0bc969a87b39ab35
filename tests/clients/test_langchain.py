"""langchain-mcp-adapters, on the previous major version of the MCP SDK (mcp<2), in its own venv.

clients/langchain/flow.py runs in clients/langchain/.venv (made by
clients/setup.sh from clients/langchain/requirements.txt) and drives list tools
-> create -> view -> delete as LangChain tools (ToolCall in, ToolMessage with the
structured artifact out), then sends a call to an unknown tool on a raw session.
Over stdio, SSE and streamable HTTP.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.servers import spawned, stdio_command, stdio_env

from .conftest import (
    CLIENTS,
    LANGCHAIN_PYTHON,
    TOOLS_AT_LEAST,
    check_event,
    explain,
    require,
    run,
    shown_times,
)

FLOW = CLIENTS / "langchain" / "flow.py"
SUBJECT = "langchain flow"


@pytest.mark.parametrize("transport", ["stdio", "sse", "streamable_http"])
def test_list_create_view_delete_with_an_mcp_1x_client(transport: str, tmp_path: Path):
    python = str(require(LANGCHAIN_PYTHON, "the langchain-mcp-adapters venv"))
    if transport == "stdio":
        proc = run([python, str(FLOW), "stdio", json.dumps(stdio_env(tmp_path)), "--", *stdio_command(tmp_path)])
    else:
        with spawned(tmp_path, "sse" if transport == "sse" else "http") as child:
            url = child.url
            proc = run([python, str(FLOW), transport, url])
    assert proc.returncode == 0, explain(proc)
    seen = json.loads(proc.stdout)

    assert seen["versions"]["mcp"].startswith("1."), seen["versions"]
    assert seen["protocol_version"] == "2025-11-25"
    assert set(seen["tools"]) >= TOOLS_AT_LEAST
    created = seen["created"]
    assert created["status"] == "success", created
    event = created["structured"]["event"]
    check_event(event, SUBJECT)
    assert (event["start"], event["end"]) == ("2027-03-23T16:00:00-04:00", "2027-03-23T17:00:00-04:00")
    assert json.loads(created["text"][0]) == created["structured"]
    check_event(seen["shown"]["structured"]["event"], SUBJECT)
    before = seen["view_before"]["structured"]["events"]
    assert [e["handle"] for e in before if e["subject"] == SUBJECT] == [event["handle"]]
    assert all(shown_times(e) for e in before)
    assert seen["deleted"]["status"] == "success", seen["deleted"]
    assert not [e for e in seen["view_after"]["structured"]["events"] if e["subject"] == SUBJECT]
    assert seen["get_deleted"]["status"] == "error" and seen["get_deleted"]["text"][0]
    assert seen["unknown_tool"] == {"code": -32602, "message": "Unknown tool: no_such_tool"}
