"""The per-person rate limit counted in a real Redis by several servers (workers) at once, on the one clock.

Three in-process servers, each with its own Redis connections (as three worker processes have), the same
sandbox behind them, a real MCP client on each; the calls of one person go round the three. Time is the
injectable clock, moved by the test: the limit slides (a minute's boundary does not double it), refusals
reach no Graph, and one warning is logged for the person, whichever worker refused first. The same through
HAProxy and worker processes: tests/remote/test_rate_limit_lb.py.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
from pathlib import Path

import pytest
import redis
from mcp import Client

from outlook_calendar_mcp.clock import Clock
from outlook_calendar_mcp.ids import Handles
from outlook_calendar_mcp.sandbox import Sandbox
from outlook_calendar_mcp.server import build_graph, create_server
from outlook_calendar_mcp.state.redis import PREFIX, RedisState
from tests.e2e.conftest import failure, sandbox_settings, structured
from tests.instants import suite_instant

pytestmark = pytest.mark.anyio

LIMIT = 6


async def test_workers_sharing_redis_hold_one_sliding_limit(
    tmp_path: Path, redis_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    minute = suite_instant().replace(second=0, microsecond=0)
    clock = Clock(minute + dt.timedelta(seconds=50), frozen=True)
    sandbox = Sandbox(":memory:", clock=clock)
    sent: list[str] = []
    stores = [RedisState(redis_url) for _ in range(3)]
    async with contextlib.AsyncExitStack() as stack:
        clients = []
        for i, store in enumerate(stores):
            settings = sandbox_settings(tmp_path / f"w{i}", rate_limit=LIMIT)
            graph = build_graph(settings, clock=clock, sandbox=sandbox, on_request=[lambda m, u, h, b: sent.append(u)])
            stack.push_async_callback(graph.aclose)
            stack.push_async_callback(store.aclose)
            clients.append(await stack.enter_async_context(Client(create_server(settings, graph, handles=Handles(store)))))

        async def call(n: int) -> str | None:
            """The n-th call, on worker n % 3: None when let through, else the refusal."""
            before = len(sent)
            got = await clients[n % 3].call_tool("calendar_view", {})
            if got.is_error:
                assert len(sent) == before, sent[before:]  # a refused call reaches no Graph
                return failure(got)
            structured(got)
            return None

        caplog.set_level(logging.WARNING, "outlook_calendar_mcp.rate")
        assert [await call(n) for n in range(LIMIT)] == [None] * LIMIT  # at :50, on all three workers
        refusals = [await call(n) for n in range(LIMIT, LIMIT + 3)]  # one more on each: all refused
        assert all(r and f"at most {LIMIT} tool calls per minute per person" in r and "try again in 10 s" in r
                   for r in refusals), refusals

        # 10 s on, a new clock minute: a counter per minute would start over and let 6 more through; the
        # sliding limit has freed one call (60 / 6 = 10 s) since :50
        clock.set(minute + dt.timedelta(minutes=1))
        answers = [await call(n) for n in range(3)]
        assert answers[0] is None and all(a and "try again in 10 s" in a for a in answers[1:]), answers

    logged = [r.getMessage() for r in caplog.records if "rate limit" in r.getMessage()]
    assert logged == [f"rate limit: local reached {LIMIT} tool calls a minute (calendar_view refused)"], logged
    raw = redis.Redis.from_url(redis_url, decode_responses=True)
    assert sorted(raw.keys(PREFIX + "rate*")) == [PREFIX + "rate:local", PREFIX + "rate:local:refused"]
    last = int((minute + dt.timedelta(minutes=1)).timestamp() * 1_000_000)  # the last call let through
    assert raw.get(PREFIX + "rate:local") == f"{last + 60_000_000} {last}"
