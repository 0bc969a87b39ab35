"""Two people at once through HAProxy in front of three `serve --auth oauth` workers sharing Redis.

Stateless streamable HTTP, round-robin: consecutive calls land on different workers, so everything a call
relies on from an earlier one (handles, confirmations, the Graph token cache) must come from Redis.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import signal
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import redis

from tests.instants import suite_instant
from tests.remote.oauth_client import Person
from tests.remote.services import (
    STATE_KEY,
    Cluster,
    RemoteSandbox,
    child,
    cluster,
    events_of,
    oauth_env,
    redis_server,
    remote_sandbox,
)
from tests.servers import free_port

pytestmark = [pytest.mark.slow, pytest.mark.anyio]

DANA, ALEX = "dana@contoso.com", "alex@contoso.com"
# a JWT (access or id token), a sandbox refresh token, a Fernet-less msal cache entry
SECRET_SHAPES = re.compile(r"eyJ[\w-]{10,}\.[\w-]{10,}\.[\w-]+|\brt\.[\w-]{40,}|\"secret\":")


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[RemoteSandbox, Cluster]]:
    tmp = tmp_path_factory.mktemp("lb")
    with redis_server(tmp) as url, remote_sandbox(tmp) as sandbox, cluster(tmp, sandbox, url, 3) as lb:
        yield sandbox, lb


def when(days: int, hour: int) -> str:
    day = suite_instant().date() + dt.timedelta(days=days)
    return f"{day.isoformat()}T{hour:02d}:00"


def text(result) -> str:
    return " ".join(getattr(c, "text", "") for c in result.content)


async def test_two_people_handles_confirmations_and_a_killed_worker(stack: tuple[RemoteSandbox, Cluster]) -> None:
    sandbox, lb = stack
    dana, alex = Person(DANA, lb.url, sandbox.ssl()), Person(ALEX, lb.url, sandbox.ssl())
    async with dana.client() as d, alex.client() as a:
        made = await d.call_tool("create_event", {"subject": "Dana's dentist", "start": when(1, 9), "end": when(1, 10)})
        assert not made.is_error, text(made)
        handle = made.structured_content["event"]["handle"]

        # each sees only their own calendar
        dana_view = await d.call_tool("calendar_view", {"start": when(1, 0), "end": when(2, 0)})
        alex_view = await a.call_tool("calendar_view", {"start": when(1, 0), "end": when(2, 0)})
        assert "Dana's dentist" in {e["subject"] for e in dana_view.structured_content["events"]}
        assert "Dana's dentist" not in {e["subject"] for e in alex_view.structured_content["events"]}
        # and in their own time zone (each worker caches zones per person: 'me' is someone else for each)
        for _ in range(3):
            assert (await d.call_tool("calendar_view", {})).structured_content["time_zone"] == "America/New_York"
            assert (await a.call_tool("calendar_view", {})).structured_content["time_zone"] == "America/Los_Angeles"

        # the handle resolves on every worker for Dana (three calls: round robin), never for Alex
        for _ in range(3):
            got = await d.call_tool("get_event", {"event": handle})
            assert not got.is_error and got.structured_content["event"]["subject"] == "Dana's dentist"
        stolen = await a.call_tool("get_event", {"event": handle})
        assert stolen.is_error and "unknown handle" in text(stolen)

        # sync state: Dana's second sync continues her first (on another worker); Alex's first sync is his own
        window = {"start": when(1, 0), "end": when(3, 0)}
        first = await d.call_tool("sync_events", window)
        assert first.structured_content["first_sync"] is True, text(first)
        again = await d.call_tool("sync_events", {})  # the last window: from Redis, whichever worker answers
        assert not again.structured_content.get("first_sync") and again.structured_content["added"] == []
        assert again.structured_content["window_start"] == first.structured_content["window_start"]
        theirs = await a.call_tool("sync_events", window)
        assert theirs.structured_content["first_sync"] is True
        assert "Dana's dentist" not in {e["subject"] for e in theirs.structured_content["added"]}

        # a confirmation token: minted through one worker, refused for Alex, accepted for Dana on another
        invite = {"subject": "Dana invites Alex", "start": when(2, 11), "end": when(2, 12), "attendees": [{"email": ALEX}]}
        preview = await d.call_tool("create_event", invite)
        assert not preview.is_error and preview.structured_content, text(preview)  # a preview is a success
        assert preview.structured_content["needs_confirmation"] is True
        token = preview.structured_content["confirm"]
        replay = await a.call_tool("create_event", {**invite, "confirm": token})
        assert replay.structured_content["needs_confirmation"] and "does not match" in text(replay)  # a new preview
        assert events_of(sandbox.db, "Dana invites Alex", ALEX) == []

        # one worker dies mid-run: the others carry on with everything Redis holds
        victim = lb.workers[1].proc
        victim.send_signal(signal.SIGKILL)
        victim.wait(timeout=10)
        done = await d.call_tool("create_event", {**invite, "confirm": token})
        assert not done.is_error, text(done)
        for _ in range(4):
            got = await d.call_tool("get_event", {"event": handle})
            assert not got.is_error, text(got)
        assert len(events_of(sandbox.db, "Dana invites Alex", DANA)) == 1
        again = await d.call_tool("create_event", {**invite, "confirm": token})  # single use, on every worker
        assert again.structured_content["needs_confirmation"] and "already used" in text(again), text(again)
        assert len(events_of(sandbox.db, "Dana invites Alex", DANA)) == 1

    # Dana's calls crossed all three workers, yet her token was exchanged once: the others found her Graph
    # token in the shared (encrypted) cache
    stats = httpx.get(f"{sandbox.https}/sandbox/identity/stats", verify=sandbox.ssl()).json()["on_behalf_of"]
    assert stats[DANA] == 1 and stats[ALEX] == 1, stats

    # no token, refresh token or secret in Redis in clear, nor in any worker's log
    raw = redis.Redis.from_url(lb.redis_url)
    stored = b" ".join(raw.get(k) or b"" for k in raw.keys("*"))
    assert b"msal-cache" in b" ".join(raw.keys("*"))  # the token caches are there, sealed
    server_secret = json.loads((sandbox.ca.parent / "server-app.json").read_text())["client_secret"]
    results = " ".join(text(r) + json.dumps(r.structured_content) for r in (made, dana_view, alex_view, got, preview, done))
    logs = lb.logs()
    for where, haystack in (("redis", stored.decode("latin-1")), ("logs", logs), ("results", results)):
        for secret in (dana.storage.tokens.access_token, alex.storage.tokens.access_token, server_secret, STATE_KEY):
            assert secret not in haystack, where
        assert not SECRET_SHAPES.search(haystack), (where, SECRET_SHAPES.search(haystack))


def test_the_redis_data_is_per_person(stack: tuple[RemoteSandbox, Cluster]) -> None:
    _, lb = stack
    keys = {k.decode() for k in redis.Redis.from_url(lb.redis_url).keys("*")}
    # keys are outlook-mcp:handle:<tenant id>:<user object id>:<handle>: Dana's and Alex's apart
    people = {tuple(k.split(":")[2:4]) for k in keys if k.startswith("outlook-mcp:handle:")}
    assert len(people) == 2, keys


def test_the_audit_trail_is_per_person(stack: tuple[RemoteSandbox, Cluster]) -> None:
    """<data dir>/audit/<tid:oid>.jsonl: one file per person (every worker appends to it), only their own calls."""
    sandbox, lb = stack
    trails = sorted((Path(sandbox.env["OUTLOOK_MCP_DATA_DIR"]) / "audit").glob("*.jsonl"))
    assert len(trails) == 2, trails
    entries = {t.name: [json.loads(line) for line in t.read_text().splitlines()] for t in trails}
    users = {name: {e["user"] for e in lines} for name, lines in entries.items()}
    assert all(len(u) == 1 for u in users.values()) and len(set.union(*users.values())) == 2, users
    assert all(re.fullmatch(r"[\w-]+:[\w-]+", next(iter(u))) for u in users.values())  # tenant id:user object id
    by_outcome = {name: sorted(e["outcome"] for e in lines) for name, lines in entries.items()}
    # Dana: her event, the preview, the confirmed invitation, the spent token's new preview; Alex: his replay
    assert sorted(by_outcome.values()) == [["ok", "ok", "preview", "preview"], ["preview"]], by_outcome
    dana = next(lines for lines in entries.values() if len(lines) == 4)
    assert all(r["method"] == "POST" and r["outcome"] == "ok" for e in dana for r in e["requests"])
    assert sum(len(e["requests"]) for e in dana) == 2
    everything = " ".join(t.read_text() for t in trails)
    assert not SECRET_SHAPES.search(everything) and STATE_KEY not in everything
    assert "Dana" not in everything  # subjects are not written down, only targets
    _ = lb


def children_of(pid: int) -> list[int]:
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.append(int(stat.parent.name))
    return found


async def test_serve_workers_runs_n_processes_on_one_port(stack: tuple[RemoteSandbox, Cluster], tmp_path: Path) -> None:
    sandbox, lb = stack
    port = free_port()
    env = oauth_env(sandbox, OUTLOOK_MCP_STATE_URL=lb.redis_url, OUTLOOK_MCP_STATE_KEY=STATE_KEY)
    args = ["serve", "--transport", "http", "--auth", "oauth", "--workers", "2", "--port", str(port)]
    with child(args, env, port, tmp_path / "workers.log") as server:
        url = f"http://127.0.0.1:{port}/mcp"
        async with Person(DANA, url, sandbox.ssl()).client() as d:
            view = await d.call_tool("calendar_view", {"start": when(1, 0), "end": when(2, 0)})
            assert not view.is_error, text(view)
            handle = next(e["handle"] for e in view.structured_content["events"] if e["subject"] == "Dana's dentist")
            for _ in range(4):
                got = await d.call_tool("get_event", {"event": handle})
                assert not got.is_error, text(got)
        assert len([p for p in children_of(server.proc.pid) if "spawn" in Path(f"/proc/{p}/cmdline").read_text()]) == 2
