"""One scenario over every transport: list tools, create, view, move, view, delete, view.

In memory (the SDK's direct in-process path, and the JSON-RPC in-memory streams
of ``mode="legacy"``), then subprocess servers over stdio, SSE and streamable
HTTP (with sessions and ``--stateless``). Each step is checked twice: on the
tool's structuredContent and on what the sandbox database holds.
"""

from __future__ import annotations

import sys
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from mcp import Client
from mcp.client.sse import sse_client
from mcp.client.stdio import StdioServerParameters, stdio_client

from tests.servers import serve_args, server_env, spawned

from .conftest import (
    EVENT_HANDLE_RE,
    LA,
    LOCAL_RE,
    TOOL_NAMES,
    failure,
    open_harness,
    read_rows,
    structured,
)

pytestmark = pytest.mark.anyio

Rows = Callable[[str], list[dict[str, Any]]]


async def check_tool_list(client: Client) -> None:
    listed = await client.list_tools()
    tools = {t.name: t for t in listed.tools}
    assert set(TOOL_NAMES) <= set(tools), f"missing: {set(TOOL_NAMES) - set(tools)}"
    for name in TOOL_NAMES:
        tool = tools[name]
        assert tool.description, name
        assert tool.input_schema["type"] == "object", name
        assert tool.output_schema and tool.output_schema.get("type") == "object", name
        hints = tool.annotations
        assert hints is not None, name
        for hint in ("read_only_hint", "destructive_hint", "idempotent_hint", "open_world_hint"):
            assert isinstance(getattr(hints, hint), bool), f"{name}: {hint} not set"
    assert tools["calendar_view"].annotations.read_only_hint is True
    assert tools["delete_event"].annotations.destructive_hint is True
    assert tools["create_event"].annotations.idempotent_hint is False
    assert {"subject", "start"} <= set(tools["create_event"].input_schema["required"])


async def scenario(client: Client, rows: Rows) -> None:
    """The whole life of one event, seen through the tools and in the sandbox."""
    await check_tool_list(client)
    subject = f"E2E transport {uuid.uuid4().hex[:8]}"

    created = structured(await client.call_tool("create_event", {
        "subject": subject, "start": "2027-03-10T09:00", "end": "2027-03-10T10:00", "time_zone": LA,
        "location": "Conf Room Adams"}))
    assert created["time_zone"] == LA
    event = created["event"]
    handle = event["handle"]
    assert EVENT_HANDLE_RE.match(handle)
    assert (event["subject"], event["start"], event["end"]) == (
        subject, "2027-03-10T09:00:00-08:00", "2027-03-10T10:00:00-08:00")
    assert event["location"] == "Conf Room Adams"
    [row] = rows(subject)
    assert (row["kind"], row["start_utc"], row["end_utc"]) == ("singleInstance", "2027-03-10T17:00:00",
                                                               "2027-03-10T18:00:00")

    async def view(start: str, end: str) -> list[dict[str, Any]]:
        result = structured(await client.call_tool("calendar_view", {"start": start, "end": end, "time_zone": LA}))
        assert result["time_zone"] == LA
        for e in result["events"]:
            assert LOCAL_RE.match(e["start"]) or e.get("all_day"), e
        return [e for e in result["events"] if e["subject"] == subject]

    [seen] = await view("2027-03-10", "2027-03-11")
    assert seen["handle"] == handle and seen["start"] == "2027-03-10T09:00:00-08:00"

    # Move it across the DST change: a week later, 14:00-15:30 local.
    moved = structured(await client.call_tool("update_event", {
        "event": handle, "start": "2027-03-17T14:00", "end": "2027-03-17T15:30", "time_zone": LA}))
    assert moved["event"]["handle"] == handle
    assert (moved["event"]["start"], moved["event"]["end"]) == ("2027-03-17T14:00:00-07:00",
                                                                "2027-03-17T15:30:00-07:00")
    [row] = rows(subject)
    assert (row["start_utc"], row["end_utc"]) == ("2027-03-17T21:00:00", "2027-03-17T22:30:00")
    assert await view("2027-03-10", "2027-03-11") == []
    [seen] = await view("2027-03-17", "2027-03-18")
    assert (seen["handle"], seen["start"], seen["end"]) == (handle, "2027-03-17T14:00:00-07:00",
                                                            "2027-03-17T15:30:00-07:00")

    deleted = structured(await client.call_tool("delete_event", {"event": handle}))
    assert deleted == {"deleted": handle, "subject": subject}
    assert rows(subject) == []
    assert await view("2027-03-17", "2027-03-18") == []
    gone = failure(await client.call_tool("get_event", {"event": handle}))
    assert "not found" in gone.lower()


@pytest.mark.parametrize("mode", ["auto", "legacy"], ids=["in-memory-direct", "in-memory-jsonrpc"])
async def test_in_memory(tmp_path: Path, mode: str) -> None:
    async with open_harness(tmp_path, mode=mode) as h:
        await scenario(h.client, h.rows)


@pytest.mark.slow
async def test_stdio(tmp_path: Path) -> None:
    db = tmp_path / "sandbox-stdio.db"
    params = StdioServerParameters(command=sys.executable, args=serve_args("stdio", db), env=server_env(tmp_path))
    errlog = tmp_path / "stdio.stderr"
    with errlog.open("w") as err:
        async with Client(stdio_client(params, errlog=err)) as client:
            await scenario(client, lambda subject: read_rows(db, subject))
    banner = errlog.read_text()
    assert "serving over stdio" in banner and "sandbox" in banner


@pytest.mark.slow
async def test_sse(tmp_path: Path) -> None:
    with spawned(tmp_path, "sse") as server:
        async with Client(sse_client(server.url)) as client:
            await scenario(client, lambda subject: read_rows(server.db, subject))
    assert "listening on http://127.0.0.1:" in server.stderr.read_text()


@pytest.mark.slow
@pytest.mark.parametrize("extra", [(), ("--stateless",)], ids=["sessions", "stateless"])
async def test_streamable_http(tmp_path: Path, extra: tuple[str, ...]) -> None:
    with spawned(tmp_path, "http", *extra) as server:
        async with Client(server.url) as client:
            await scenario(client, lambda subject: read_rows(server.db, subject))
