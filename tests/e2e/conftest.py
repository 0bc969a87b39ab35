"""End to end: the SDK's real ``mcp.Client`` against the real server, backed by the sandbox.

In process, :func:`open_harness` builds the server the way ``serve`` does
(``build_graph`` + ``create_server``) on a fresh in-memory sandbox and connects
a ``Client`` to it. The :class:`Harness` it yields calls tools (``call`` for a
success, ``fail`` for an expected ``isError``), reads the sandbox's SQLite
store directly (``rows``), and takes :meth:`Harness.snapshot` of every table
to prove a rejected call changed nothing.

For subprocess servers, :func:`spawned` starts ``python -m outlook_calendar_mcp
serve`` on a free loopback port, waits until it accepts connections and always
stops it; :func:`read_rows` opens the sandbox file read-only.

Every event the tests create lives in March 2027 (the US switches to daylight
time on 2027-03-14), far from the sandbox's seeded week, and is found by its
own subject, so the seeded data never decides an assertion.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import socket
import sqlite3
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from mcp import Client

from outlook_calendar_mcp.clock import Clock
from outlook_calendar_mcp.config import Settings
from outlook_calendar_mcp.ids import Handles
from outlook_calendar_mcp.server import build_graph, create_server, services_of

TOOL_NAMES = (
    "calendar_view", "list_events", "get_event", "create_event", "update_event", "delete_event",
    "list_event_instances", "list_calendars", "get_calendar", "create_calendar", "update_calendar",
    "delete_calendar", "get_mailbox_settings", "find_people",
    "accept_event", "tentatively_accept_event", "decline_event", "forward_event", "cancel_event",
    "find_meeting_times", "get_schedule", "list_rooms", "list_room_lists",
    # issue 5: sync, calendar groups, sharing (tests/e2e/people.py ISSUE5_TOOLS; bad inputs in their own tests)
    "sync_events", "list_calendar_groups", "get_calendar_group", "create_calendar_group", "update_calendar_group",
    "delete_calendar_group", "list_calendar_permissions", "share_calendar", "update_calendar_permission",
    "remove_calendar_permission",
)
LA = "America/Los_Angeles"
ME = "adele@contoso.com"  # the sandbox's default user (Pacific time)
# Local ISO 8601 with a numeric offset, as results show times (never naive, never "Z").
LOCAL_RE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}[+-]\d{2}:\d{2}$")
DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
EVENT_HANDLE_RE = re.compile(r"^ev_[a-z2-7]{6,16}$")
CALENDAR_HANDLE_RE = re.compile(r"^cal_[a-z2-7]{6,16}$")


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


def sandbox_settings(tmp_path: Path, **overrides: Any) -> Settings:
    values: dict[str, Any] = dict(backend="sandbox", sandbox_db=":memory:", data_dir=tmp_path, cache_dir=tmp_path)
    values.update(overrides)
    return Settings(**values)


def text_of(result: Any) -> str:
    return "\n".join(getattr(c, "text", "") for c in result.content)


def structured(result: Any) -> dict[str, Any]:
    """structuredContent of a successful call (fails the test with the server's message otherwise)."""
    assert not result.is_error, f"tool failed: {text_of(result)}"
    assert result.structured_content is not None, "a result without structuredContent"
    # The text block carries the same JSON, for clients that only read text.
    assert json.loads(result.content[0].text) == result.structured_content
    return result.structured_content


def failure(result: Any) -> str:
    """The message of a call that must fail with isError."""
    assert result.is_error, f"expected isError, got {result.structured_content!r}"
    message = text_of(result)
    assert message.strip(), "an error without a message"
    return message


def rows_of(db: sqlite3.Connection, subject: str, mailbox: str = ME) -> list[dict[str, Any]]:
    """Stored events (masters, singles, exceptions) with this subject in one mailbox, by start.

    (Invitations put copies into attendees' mailboxes: by default only the signed-in user's count.)
    """
    cur = db.execute(
        "SELECT e.id, e.calendar_id, e.kind, e.series_master_id, e.original_start, e.start_utc, e.end_utc, e.seq, "
        "e.doc FROM events e JOIN mailboxes m ON m.id = e.mailbox_id "
        "WHERE json_extract(e.doc, '$.subject') = ? AND m.address = ? ORDER BY e.start_utc", (subject, mailbox))
    names = [d[0] for d in cur.description]
    out = []
    for row in cur.fetchall():
        item = dict(zip(names, row))
        item["doc"] = json.loads(item["doc"])
        out.append(item)
    return out


def dump(db: sqlite3.Connection) -> dict[str, list[tuple]]:
    """Every row of every table: equal dumps mean nothing changed."""
    tables = [r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")]
    return {t: sorted((tuple(r) for r in db.execute(f"SELECT * FROM {t}")), key=repr)  # noqa: S608
            for t in tables}


@dataclass
class Harness:
    """A connected client, the server behind it, and the sandbox store behind that."""

    client: Client
    server: Any
    graph: Any
    handles: Handles
    settings: Settings

    @property
    def store(self) -> Any:
        return self.graph._http._transport.app.state.store

    async def call(self, tool: str, args: dict[str, Any] | None = None) -> dict[str, Any]:
        return structured(await self.client.call_tool(tool, args or {}))

    async def fail(self, tool: str, args: dict[str, Any] | None = None) -> str:
        return failure(await self.client.call_tool(tool, args or {}))

    def graph_id(self, handle: str, kind: str = "event") -> str:
        return self.handles.resolve(kind, handle, argument="test")

    def rows(self, subject: str, mailbox: str = ME) -> list[dict[str, Any]]:
        return rows_of(self.store.db, subject, mailbox)

    def snapshot(self) -> dict[str, list[tuple]]:
        return dump(self.store.db)

    async def sandbox_get(self, path: str) -> dict[str, Any]:
        """GET straight from the sandbox (Graph's JSON, not the tool's view)."""
        return await self.graph.get(path)


@contextlib.asynccontextmanager
async def open_harness(tmp_path: Path, *, handles: Handles | None = None, mode: str = "auto",
                       clock: Clock | None = None, **settings: Any) -> AsyncIterator[Harness]:
    config = sandbox_settings(tmp_path, **settings)
    graph = build_graph(config, clock=clock)
    server = create_server(config, graph, clock=clock, handles=handles if handles is not None else Handles())
    try:
        async with Client(server, mode=mode) as client:
            yield Harness(client=client, server=server, graph=graph, handles=services_of(server).handles,
                          settings=config)
    finally:
        await graph.aclose()


@pytest.fixture
async def harness(tmp_path: Path) -> AsyncIterator[Harness]:
    async with open_harness(tmp_path) as opened:
        yield opened


# -- subprocess servers ------------------------------------------------------------------------

def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def server_env(tmp_path: Path) -> dict[str, str]:
    """The environment of a child server: its own data and cache dirs, no inherited OUTLOOK_MCP_* settings."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("OUTLOOK_MCP_")}
    data = tmp_path / "data"
    data.mkdir(exist_ok=True)
    env.update(OUTLOOK_MCP_DATA_DIR=str(data), OUTLOOK_MCP_CACHE_DIR=str(tmp_path / "cache"),
               PYTHONUNBUFFERED="1")
    return env


def serve_args(transport: str, db: Path, port: int | None = None, *extra: str) -> list[str]:
    args = ["-m", "outlook_calendar_mcp", "serve", "--transport", transport, "--backend", "sandbox",
            "--sandbox-db", str(db)]
    if port is not None:
        args += ["--port", str(port)]
    return [*args, *extra]


def stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)


@dataclass
class Spawned:
    url: str
    db: Path
    proc: subprocess.Popen
    stderr: Path


@contextlib.contextmanager
def spawned(tmp_path: Path, transport: str, *extra: str, timeout: float = 20.0) -> Iterator[Spawned]:
    """``serve --transport sse|http`` on a free loopback port, ready to connect; stopped afterwards."""
    port = free_port()
    db = tmp_path / f"sandbox-{transport}.db"
    errlog = tmp_path / f"server-{transport}.stderr"
    with errlog.open("wb") as err:
        proc = subprocess.Popen([sys.executable, *serve_args(transport, db, port, *extra)], env=server_env(tmp_path),
                                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=err)
    try:
        deadline = time.monotonic() + timeout
        while True:
            if proc.poll() is not None:
                raise AssertionError(f"server exited with {proc.returncode}: {errlog.read_text()}")
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=0.2):
                break
            if time.monotonic() > deadline:
                raise AssertionError(f"server not listening on port {port} after {timeout}s: {errlog.read_text()}")
            time.sleep(0.05)
        path = "/sse" if transport == "sse" else "/mcp"
        yield Spawned(url=f"http://127.0.0.1:{port}{path}", db=db, proc=proc, stderr=errlog)
    finally:
        stop(proc)


def read_rows(db: Path, subject: str) -> list[dict[str, Any]]:
    """Events with this subject in a sandbox file another process is serving (opened read-only)."""
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        return rows_of(conn, subject)
    finally:
        conn.close()
