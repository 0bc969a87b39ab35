"""The per-person rate limit (OUTLOOK_MCP_RATE_LIMIT) on a local server: the person is ``local``.

In process (a real MCP client, the server, the sandbox behind it, every request to Graph recorded) and over
stdio (a subprocess server, its stderr log and its audit trail). The remote, load-balanced case with two
people and three workers sharing Redis is tests/remote/test_load_balanced.py.
"""

from __future__ import annotations

import datetime as dt
import json
import sys
from pathlib import Path

import pytest
from mcp import Client
from mcp.client.stdio import StdioServerParameters, stdio_client

from outlook_calendar_mcp.clock import Clock
from outlook_calendar_mcp.ids import Handles
from outlook_calendar_mcp.sandbox import Sandbox
from outlook_calendar_mcp.server import build_graph, create_server
from tests.instants import suite_instant
from tests.servers import serve_args, server_env

from .conftest import failure, read_rows, rows_of, sandbox_settings, structured

pytestmark = pytest.mark.anyio


def on_a_minute() -> dt.datetime:
    """The suite's day and hour, at the start of a minute."""
    return suite_instant().replace(second=0, microsecond=0)


def slot(hour: int) -> dict[str, str]:
    day = (suite_instant() + dt.timedelta(days=2)).date().isoformat()
    return {"start": f"{day}T{hour:02d}:00", "end": f"{day}T{hour:02d}:30"}


async def test_over_the_limit_nothing_reaches_graph_until_a_call_falls_out_of_the_last_minute(tmp_path: Path) -> None:
    clock = Clock(on_a_minute() + dt.timedelta(seconds=20), frozen=True)
    sandbox = Sandbox(":memory:", clock=clock)
    sent: list[str] = []
    settings = sandbox_settings(tmp_path, rate_limit=3)
    graph = build_graph(settings, clock=clock, sandbox=sandbox, on_request=[lambda m, url, h, b: sent.append(m)])
    handles = Handles()
    server = create_server(settings, graph, handles=handles)
    try:
        async with Client(server) as client:
            for _ in range(3):  # the whole minute's calls at once
                structured(await client.call_tool("calendar_view", {}))
            before = len(sent)
            # one call frees every 60 / 3 = 20 s: the first of the three leaves the last minute at +60 s,
            # and a fourth would be due then + 20 s
            refused = failure(await client.call_tool("create_event", {"subject": "Over the limit", **slot(9)}))
            assert "at most 3 tool calls per minute per person" in refused and "try again in 20 s" in refused
            assert len(sent) == before and rows_of(sandbox.store.db, "Over the limit") == []
            # one value for the person in the one state store, under the local person's key: when their next
            # call would be due (microseconds on the server's clock); a refused call did not move it
            now = int(clock.now().timestamp() * 1_000_000)
            assert handles.store.get("rate:local") == f"{now + 60_000_000} {now}"  # and the latest "now" it saw

            clock.set(clock.now() + dt.timedelta(seconds=19))
            refused = failure(await client.call_tool("create_event", {"subject": "Over the limit", **slot(9)}))
            assert "try again in 1 s" in refused
            clock.set(clock.now() + dt.timedelta(seconds=1))  # 20 s on: one call is free again, not three
            structured(await client.call_tool("create_event", {"subject": "Twenty seconds on", **slot(10)}))
            assert len(rows_of(sandbox.store.db, "Twenty seconds on")) == 1
            failure(await client.call_tool("calendar_view", {}))
    finally:
        await graph.aclose()


async def test_a_minute_boundary_does_not_double_the_limit(tmp_path: Path) -> None:
    """The case a counter per clock minute gets wrong: the limit at 12:00:59, the limit again at 12:01:00."""
    clock = Clock(on_a_minute() + dt.timedelta(seconds=59), frozen=True)
    sandbox = Sandbox(":memory:", clock=clock)
    sent: list[str] = []
    settings = sandbox_settings(tmp_path, rate_limit=4)
    graph = build_graph(settings, clock=clock, sandbox=sandbox, on_request=[lambda m, url, h, b: sent.append(m)])
    try:
        async with Client(create_server(settings, graph, handles=Handles())) as client:
            for _ in range(4):
                structured(await client.call_tool("get_mailbox_settings", {}))
            let_through, refusals = 4, []
            for second in range(1, 61):  # the next minute, second by second: one call a second
                clock.set(on_a_minute() + dt.timedelta(seconds=59 + second))
                before = len(sent)
                got = await client.call_tool("calendar_view", {})
                if got.is_error:
                    refusals.append(failure(got))
                    assert len(sent) == before  # nothing reached Graph
                else:
                    let_through += 1
            # any 60 s hold at most 4 calls: the 4 at :59 leave the window one every 15 s from 12:01:14 on
            assert let_through == 4 + 4, (let_through, refusals)
            assert "try again in 14 s" in refusals[0], refusals[0]
    finally:
        await graph.aclose()


async def test_off_when_zero(tmp_path: Path) -> None:
    clock = Clock(on_a_minute(), frozen=True)
    sandbox = Sandbox(":memory:", clock=clock)
    settings = sandbox_settings(tmp_path, rate_limit=0)
    graph = build_graph(settings, clock=clock, sandbox=sandbox)
    try:
        async with Client(create_server(settings, graph, handles=Handles())) as client:
            for _ in range(12):
                structured(await client.call_tool("get_mailbox_settings", {}))
    finally:
        await graph.aclose()


@pytest.mark.slow
async def test_stdio_server_refuses_and_logs_one_line(tmp_path: Path) -> None:
    db = tmp_path / "sandbox-stdio.db"
    env = server_env(tmp_path)
    env.update(OUTLOOK_MCP_RATE_LIMIT="2", OUTLOOK_MCP_NOW=on_a_minute().isoformat())
    params = StdioServerParameters(command=sys.executable, args=serve_args("stdio", db), env=env)
    errlog = tmp_path / "stdio.stderr"
    with errlog.open("w") as err:
        async with Client(stdio_client(params, errlog=err)) as client:
            structured(await client.call_tool("create_event", {"subject": "Within", **slot(9)}))
            structured(await client.call_tool("calendar_view", {}))
            for _ in range(2):
                refused = failure(await client.call_tool("create_event", {"subject": "Beyond", **slot(11)}))
                assert "at most 2 tool calls per minute per person" in refused and "try again in" in refused
    assert len(read_rows(db, "Within")) == 1 and read_rows(db, "Beyond") == []
    log = errlog.read_text()
    assert log.count("rate limit: local reached 2 tool calls a minute") == 1, log  # one line, not one per call
    # the audit trail of writes has the refused ones, marked so
    (trail,) = (Path(env["OUTLOOK_MCP_DATA_DIR"]) / "audit").glob("*.jsonl")
    outcomes = [json.loads(line)["outcome"] for line in trail.read_text().splitlines()]
    assert outcomes == ["ok", "rate_limited", "rate_limited"], outcomes
