"""Inputs cannot hurt the server: every argument is bounded and checked before anything is sent.

Each refused call answers quickly, names the argument and the limit, quotes no megabytes and no server path,
and changes nothing in the sandbox (its whole store is compared before and after).
"""

from __future__ import annotations

import logging

import anyio
import pytest
from mcp import Client
from mcp.server.mcpserver import MCPServer
from pydantic import BaseModel

from outlook_calendar_mcp.tools.common import READ_ONLY, tool
from tests.e2e.conftest import open_harness

pytestmark = [pytest.mark.anyio, pytest.mark.clock]  # on the suite's instant

FAR = "9999-12-31T23:59:59"
BIG_ID = "A" * 70_000


@pytest.mark.parametrize(("name", "args", "words"), [
    ("calendar_view", {"start": FAR}, ["start", "4500-12-31"]),
    ("calendar_view", {"start": "2027-03-01", "end": FAR}, ["end", "4500-12-31"]),
    ("list_reminders", {"start": FAR}, ["start", "4500-12-31"]),
    ("list_reminders", {"start": "2027-01-01T00:00", "end": "2029-01-01T00:00"}, ["end", "366 days"]),
    ("sync_events", {"start": "1500-01-01", "end": "2027-01-01"}, ["start", "1601-01-01"]),
    ("create_event", {"subject": "x", "start": FAR, "end": FAR}, ["start"]),
    ("snooze_reminder", {"reminder": "ev_aaaaaa", "until": "-0001-01-01T00:00"}, ["until"]),
    ("get_event", {"event": BIG_ID}, ["event", "70,000", "1,024"]),
    ("delete_event", {"event": BIG_ID}, ["event", "1,024"]),
    ("get_event", {"event": "ev_abc\x00def"}, ["event", "control character"]),
    ("create_event", {"subject": "S" * 1_000_000, "start": "2027-03-01T10:00"}, ["subject", "255"]),
    ("create_event", {"subject": "x", "start": "2027-03-01T10:00",
                      "attendees": [{"email": f"p{i}@contoso.com"} for i in range(600)]}, ["attendees", "500"]),
    ("forward_event", {"event": "ev_aaaaaa", "to": ["a@contoso.com"] * 501}, ["to", "500"]),
    ("find_people", {"query": "q" * 5000}, ["query", "255"]),
    ("add_file_attachment", {"event": "ev_aaaaaa", "path": "notes\x00.txt"}, ["path", "control character"]),
    ("add_file_attachment", {"event": "ev_aaaaaa", "path": "n.txt", "name": "é" * 200}, ["name", "255 are"]),
    ("get_attachment", {"event": "ev_aaaaaa", "attachment": "att_aaaaaa", "save_as": "x" * 300}, ["save_as"]),
    ("create_calendar", {"name": "c" * 10_000}, ["name", "255"]),
])
async def test_out_of_bounds_is_refused_fast_named_short_and_changes_nothing(tmp_path, name, args, words, caplog):
    caplog.set_level(logging.INFO)
    async with open_harness(tmp_path) as h:
        before = h.snapshot()
        with anyio.fail_after(10):  # no call hangs (list_reminders once did on year 9999)
            message = await h.fail(name, args)
        assert h.snapshot() == before
    for word in words:
        assert word in message, message
    assert len(message) < 1000 and "Error executing tool" in message and "could not handle" not in message
    assert str(tmp_path) not in message
    assert len(caplog.text) < 20_000  # the server never logs the megabyte it was sent


async def test_messages_name_no_server_path(tmp_path):
    async with open_harness(tmp_path) as h:
        created = await h.call("create_event", {"subject": "Paths", "start": "2027-03-05T09:00",
                                                "end": "2027-03-05T09:30"})
        message = await h.fail("add_file_attachment", {"event": created["event"]["handle"], "path": "absent.txt"})
    assert "absent.txt" in message and "<attachments directory>" in message
    assert str(tmp_path) not in message and "/tmp" not in message


class Echo(BaseModel):
    value: int


async def test_the_boundary_turns_a_crash_into_a_message_naming_tool_and_argument(caplog):
    box: list = []

    @tool(box, READ_ONLY, name="divide")
    async def divide(numerator: int, denominator: int) -> Echo:
        """Divide."""
        return Echo(value=numerator // denominator)

    server = MCPServer(name="t", tools=box)
    caplog.set_level(logging.INFO)
    async with Client(server) as client:
        result = await client.call_tool("divide", {"numerator": 7, "denominator": 0})
    text = result.content[0].text
    assert result.is_error and "divide" in text and "ZeroDivisionError" in text and "argument '" in text
    ours = [r for r in caplog.records if r.name == "outlook_calendar_mcp.tools"]
    assert len(ours) == 1 and "divide" in ours[0].getMessage() and "\n" not in ours[0].getMessage()
