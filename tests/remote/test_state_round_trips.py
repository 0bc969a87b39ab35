"""The state store on the request path, through the real path (an MCP client -> the server -> the sandbox) and a
real Redis: a result's new handles cost one Redis command, awaited; nothing a tool call does reaches Redis through
the synchronous (event-loop-blocking) client; handles resolve on another worker sharing Redis and never for
another person; a Redis that stops answering is said within its timeout, not waited on.

Commands are counted by Redis itself (``INFO commandstats``: what clients sent, and what a script ran inside its one
round trip), and the synchronous client by a counting wrapper around the real one.
"""

from __future__ import annotations

import contextlib
import os
import signal
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
import redis
from mcp import Client, types

from outlook_calendar_mcp.ids import Handles
from outlook_calendar_mcp.server import build_graph, create_server
from outlook_calendar_mcp.state import acting_as
from outlook_calendar_mcp.state.redis import RedisState
from tests.e2e.conftest import Harness, failure, open_harness, structured
from tests.servers import free_port

pytestmark = pytest.mark.anyio
ALICE, BOB = "tenant-1:alice-oid", "tenant-1:bob-oid"
DAY = "2027-03-17"  # a Wednesday; the events below are the only ones with their subjects
WINDOW = {"start": f"{DAY}T00:00:00", "end": f"{DAY}T23:59:00", "time_zone": "America/Los_Angeles"}


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


class Commands:
    """What Redis ran, by command name (``INFO commandstats``), without this counter's own INFO."""

    def __init__(self, url: str) -> None:
        self._redis = redis.Redis.from_url(url)

    def now(self) -> dict[str, int]:
        stats: dict[str, Any] = self._redis.info("commandstats")
        return {k.removeprefix("cmdstat_"): v["calls"] for k, v in stats.items() if k != "cmdstat_info"}

    @contextlib.contextmanager
    def counted(self) -> Iterator[dict[str, int]]:
        before, ran = self.now(), {}
        yield ran
        ran.update({k: n - before.get(k, 0) for k, n in self.now().items() if n != before.get(k, 0)})


def blocking_calls(store: RedisState) -> list[str]:
    """Every command the store's synchronous client sends from now on (the real client, counted)."""
    sent: list[str] = []
    real = store._redis.execute_command

    def counted(*args: Any, **options: Any) -> Any:
        sent.append(str(args[0]))
        return real(*args, **options)

    store._redis.execute_command = counted  # type: ignore[method-assign]
    return sent


async def new_events(h: Harness, count: int, subject: str = "Round trip") -> list[dict[str, Any]]:
    """``count`` events on DAY made through Graph directly (as another client would): new to the server."""
    made = []
    for n in range(count):
        hour, minute = divmod(n * 10, 60)
        made.append(await h.graph.post("me/calendar/events", json={
            "subject": f"{subject} {n}",
            "start": {"dateTime": f"{DAY}T{6 + hour:02d}:{minute:02d}:00", "timeZone": "Pacific Standard Time"},
            "end": {"dateTime": f"{DAY}T{6 + hour:02d}:{minute + 5:02d}:00", "timeZone": "Pacific Standard Time"},
        }))
    return made


async def preview_of(h: Harness, tool: str, arguments: dict[str, Any]) -> dict[str, Any]:
    """The preview a confirmable call answers first (--confirm-sends, a client without elicitation)."""
    answer = await h.client.call_tool(tool, arguments)
    assert not answer.is_error and answer.structured_content, answer
    assert answer.structured_content["needs_confirmation"]
    return answer.structured_content


@contextlib.asynccontextmanager
async def another_worker(h: Harness, handles: Handles, **client: Any) -> AsyncIterator[Client]:
    """A second server process's worth of state (its own Handles and caches) on the same sandbox."""
    graph = build_graph(h.settings, clock=h.clock, sandbox=h.sandbox)
    server = create_server(h.settings, graph, handles=handles)
    try:
        async with Client(server, **client) as client:
            yield client
    finally:
        await graph.aclose()


async def test_a_view_of_many_new_events_costs_one_redis_command(redis_url: str, tmp_path: Path) -> None:
    store = RedisState(redis_url)
    commands = Commands(redis_url)
    blocking = blocking_calls(store)
    async with open_harness(tmp_path, handles=Handles(store), rate_limit=0) as h:
        await h.call("list_calendars")  # the asyncio connection made, the script loaded
        made = await new_events(h, 40)
        with commands.counted() as ran:
            view = await h.call("calendar_view", WINDOW)
        shown = [e for e in view["events"] if e["subject"].startswith("Round trip")]
        assert len(shown) == 40
        # 40 new handles: one round trip (the script), whose own commands Redis counts too: one SET NX each
        assert ran == {"evalsha": 1, "set": 40}, ran
        with commands.counted() as ran:
            again = await h.call("calendar_view", WINDOW)
        assert again == view and ran == {}  # known handles: no round trip at all
        # every handle is stored, for this person, and names its event
        raw = redis.Redis.from_url(redis_url, decode_responses=True)
        by_subject = {e["subject"]: e["handle"] for e in shown}
        for doc in made:
            assert raw.get(f"outlook-mcp:handle:local:{by_subject[doc['subject']]}") == doc["id"]
        # a handle this process minted is resolved from its cache
        with commands.counted() as ran:
            got = await h.call("get_event", {"event": shown[0]["handle"]})
        assert got["event"]["subject"] == shown[0]["subject"] and ran == {}, ran
    assert blocking == []  # nothing went through the event-loop-blocking client
    await store.aclose()
    store.close()


async def test_tools_never_use_the_blocking_client(redis_url: str, tmp_path: Path) -> None:
    """Reads, writes, sync rounds, groups, reminders, attachments, sharing and a confirmed send: every state store
    operation of a tool call is awaited on redis.asyncio."""
    store = RedisState(redis_url)
    blocking = blocking_calls(store)
    async with open_harness(tmp_path, handles=Handles(store), rate_limit=0, confirm_sends=True) as h:
        await new_events(h, 3, "Blocking")
        view = await h.call("calendar_view", WINDOW)
        first = next(e for e in view["events"] if e["subject"] == "Blocking 0")
        await h.call("get_event", {"event": first["handle"]})
        assert "unknown handle 'ev_abcdefg'" in await h.fail("get_event", {"event": "ev_abcdefg"})
        await h.call("update_event", {"event": first["handle"], "subject": "Blocking 0 moved"})
        await h.call("list_events", {"subject_contains": "Blocking"})
        await h.call("sync_events", {"start": WINDOW["start"], "end": WINDOW["end"]})
        await h.call("sync_events", {"start": WINDOW["start"], "end": WINDOW["end"]})  # from the saved delta link
        calendars = await h.call("list_calendars")
        await h.call("get_calendar", {"calendar_id": calendars["calendars"][0]["handle"]})
        made = await h.call("create_calendar", {"name": "Blocking calendar"})
        await h.call("delete_calendar", {"calendar_id": made["calendar"]["handle"]})
        await h.call("list_calendar_groups")
        await h.call("list_reminders")
        await h.call("list_attachments", {"event": first["handle"]})
        await h.call("list_calendar_permissions")
        invite = {"subject": "Blocking invite", "start": f"{DAY}T15:00:00", "end": f"{DAY}T15:30:00",
                  "time_zone": "America/Los_Angeles", "attendees": [{"email": "alexw@contoso.com"}]}
        preview = await preview_of(h, "create_event", invite)
        created = await h.call("create_event", {**invite, "confirm": preview["confirm"]})
        assert created["event"]["subject"] == "Blocking invite"
        again = await preview_of(h, "create_event", {**invite, "confirm": preview["confirm"]})
        assert again["note"] == "That confirmation token was already used."  # the claim, in Redis
        # a client that can ask its person (elicitation), on a worker that never saw the handle: the question is
        # built (who would be told) from the handle's one awaited look-up, before the error boundary runs
        questions = []

        async def person(context: Any, params: Any) -> Any:
            questions.append(params.message)
            return types.ElicitResult(action="accept", content={"send": True})

        async with another_worker(h, Handles(store), elicitation_callback=person) as asking:
            moved = structured(await asking.call_tool(
                "update_event", {"event": created["event"]["handle"], "subject": "Blocking invite moved"}))
        assert moved["event"]["subject"] == "Blocking invite moved" and "alexw@contoso.com" in questions[0]
        asked = await preview_of(h, "delete_event", {"event": created["event"]["handle"]})
        gone = await h.call("delete_event", {"event": created["event"]["handle"], "confirm": asked["confirm"]})
        assert gone["deleted"] == created["event"]["handle"]
    assert blocking == []
    await store.aclose()
    store.close()


async def test_handles_resolve_on_another_worker_and_never_for_another_person(redis_url: str, tmp_path: Path) -> None:
    alice_store, bob_store = RedisState(redis_url), RedisState(redis_url)
    shared = Handles(alice_store)  # one process serving both people: its cache must keep them apart too
    with acting_as(ALICE):
        async with open_harness(tmp_path, handles=shared, rate_limit=0) as alice:
            await new_events(alice, 5, "Crossing")
            listed = (await alice.call("calendar_view", WINDOW))["events"]
            handle = next(e["handle"] for e in listed if e["subject"] == "Crossing 2")
            # another worker (its own caches, its own Redis connection) resolves Alice's handle for Alice: one MGET
            # of the call's handles before the tool runs, and nothing after (the event's handle is then known)
            async with another_worker(alice, Handles(bob_store)) as worker:
                await worker.call_tool("list_calendar_groups", {})  # connected, scripts loaded
                with Commands(redis_url).counted() as ran:
                    got = structured(await worker.call_tool("get_event", {"event": handle}))
                assert got["event"]["subject"] == "Crossing 2" and ran == {"mget": 1}, ran
            with acting_as(BOB):
                # Bob, on this same process (Alice's handle in its cache) and on another worker: unknown
                async with another_worker(alice, shared) as same_process, \
                        another_worker(alice, Handles(bob_store)) as other_process:
                    for client in (same_process, other_process):
                        message = failure(await client.call_tool("get_event", {"event": handle}))
                        assert f"unknown handle '{handle}'" in message
                    # what Bob's views mint is his: stored under his key, not Alice's
                    mine = structured(await same_process.call_tool("list_calendars", {}))["calendars"][0]["handle"]
            raw = redis.Redis.from_url(redis_url, decode_responses=True)
            assert raw.get(f"outlook-mcp:handle:{BOB}:{mine}") and raw.get(f"outlook-mcp:handle:{BOB}:{handle}") is None
            assert raw.get(f"outlook-mcp:handle:{ALICE}:{handle}")
    for store in (alice_store, bob_store):
        await store.aclose()
        store.close()


async def test_a_redis_that_stops_answering_is_said_not_waited_on(redis_url: str, tmp_path: Path) -> None:
    store = RedisState(redis_url, timeout_s=1)
    async with open_harness(tmp_path, handles=Handles(store), rate_limit=0) as h:
        await new_events(h, 3, "Stopped")
        await h.call("list_calendars")
        pid = redis.Redis.from_url(redis_url).info("server")["process_id"]
        os.kill(pid, signal.SIGSTOP)  # accepts nothing, answers nothing: a hung or partitioned Redis
        try:
            began = time.monotonic()
            message = await h.fail("calendar_view", WINDOW)
            waited = time.monotonic() - began
        finally:
            os.kill(pid, signal.SIGCONT)
        assert "calendar_view could not finish: the server's state store" in message
        assert "did not answer (TimeoutError)" in message and "OUTLOOK_MCP_STATE_URL" in message
        assert "Nothing was changed." in message
        assert waited < 5, waited  # the 1 s timeout, once: not retried, not hung
        assert (await h.call("calendar_view", WINDOW))["events"]  # answering again: served again
    await store.aclose()
    store.close()


async def test_a_redis_nobody_listens_on_is_said_at_once(tmp_path: Path) -> None:
    store = RedisState(f"redis://127.0.0.1:{free_port()}/0", timeout_s=1)
    async with open_harness(tmp_path, handles=Handles(store), rate_limit=0) as h:
        began = time.monotonic()
        message = await h.fail("list_calendars")
        assert time.monotonic() - began < 5
        assert "state store" in message and "did not answer (ConnectionError)" in message
        message = await h.fail("get_event", {"event": "ev_abcdef"})  # the handle's look-up, before anything else
        assert "did not answer" in message and "Nothing was changed." in message
    store.close()
