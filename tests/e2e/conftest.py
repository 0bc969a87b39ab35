"""End to end: the SDK's real ``mcp.Client`` against the real server, backed by the sandbox.

In process, :func:`open_harness` builds the server the way ``serve`` does
(``build_graph`` + ``create_server``) on a fresh in-memory sandbox and connects
a ``Client`` to it. The :class:`Harness` it yields calls tools (``call`` for a
success, ``fail`` for an expected ``isError``), reads the sandbox's SQLite
store directly (``rows``), and takes :meth:`Harness.snapshot` of every table
to prove a rejected call changed nothing.

Subprocess servers come from tests/servers.py (``spawned``, ``server_env``);
:func:`read_rows` opens a served sandbox file read-only.

Every event the tests create lives in March 2027 (the US switches to daylight
time on 2027-03-14) and is found by its own subject, so the seeded data never
decides an assertion, even at the instants whose seeded week is in that month.
The server and sandbox run on the suite's instant (tests/instants.py); a test
that needs March 2027 to lie ahead (finding times, snoozing) gives its harness
a clock of its own (``clock_at(BEFORE_MARCH_2027)``).
"""

from __future__ import annotations

import contextlib
import json
import re
import sqlite3
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from mcp import Client

from outlook_calendar_mcp.clock import Clock
from outlook_calendar_mcp.config import Settings
from outlook_calendar_mcp.ids import Handles
from outlook_calendar_mcp.sandbox import Sandbox
from outlook_calendar_mcp.sandbox.models.store import Store
from outlook_calendar_mcp.server import build_graph, create_server, services_of
from tests.instants import suite_clock

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
        item = dict(zip(names, row, strict=False))
        item["doc"] = json.loads(item["doc"])
        out.append(item)
    return out


def dump(db: sqlite3.Connection) -> dict[str, list[tuple]]:
    """Every row of every table: equal dumps mean nothing changed."""
    tables = [r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")]
    return {t: sorted((tuple(r) for r in db.execute(f"SELECT * FROM {t}")), key=repr)
            for t in tables}


@dataclass
class Harness:
    """A connected client, the server behind it, and the sandbox (and its store) behind that."""

    client: Client
    server: Any
    graph: Any
    handles: Handles
    settings: Settings
    sandbox: Sandbox

    @property
    def store(self) -> Store:
        return self.sandbox.store

    @property
    def clock(self) -> Clock:
        """The one clock of the server and the sandbox."""
        return self.sandbox.clock

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
    """The server as ``serve`` builds it, on a sandbox of its own (``:memory:`` unless ``sandbox_db``), both on
    ``clock`` (default: a fresh one at the suite's instant, tests/instants.py)."""
    config = sandbox_settings(tmp_path, **settings)
    clock = clock or suite_clock()
    sandbox = Sandbox(config.sandbox_db, clock=clock)
    graph = build_graph(config, clock=clock, sandbox=sandbox)
    server = create_server(config, graph, handles=handles if handles is not None else Handles())
    try:
        async with Client(server, mode=mode) as client:
            yield Harness(client=client, server=server, graph=graph, handles=services_of(server).handles,
                          settings=config, sandbox=sandbox)
    finally:
        await graph.aclose()


@pytest.fixture
async def harness(tmp_path: Path, clock: Clock) -> AsyncIterator[Harness]:
    async with open_harness(tmp_path, clock=clock) as opened:
        yield opened


# -- subprocess servers ------------------------------------------------------------------------

def read_rows(db: Path, subject: str) -> list[dict[str, Any]]:
    """Events with this subject in a sandbox file another process is serving (opened read-only)."""
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        return rows_of(conn, subject)
    finally:
        conn.close()
