"""Read-only mode, tool selection, and confirmation before anything reaches other people.

Each test asserts on what the sandbox holds and what was "mailed" (the outbox):
nothing may be written or sent until the mode is lifted or the preview confirmed.
"""

from __future__ import annotations

import json

import pytest
from mcp import Client, MCPError

from outlook_calendar_mcp.ids import Handles
from outlook_calendar_mcp.sandbox import Sandbox
from outlook_calendar_mcp.server import build_graph, create_server
from outlook_calendar_mcp.tools.policy import PolicyError
from tests.instants import suite_clock

from .conftest import sandbox_settings, structured

pytestmark = pytest.mark.anyio

INVITE = {"subject": "Safety review", "start": "2027-03-03T10:00", "end": "2027-03-03T10:30",
          "attendees": [{"email": "dana@contoso.com"}]}


def build(tmp_path, **settings):
    s = sandbox_settings(tmp_path, **settings)
    sandbox = Sandbox(s.sandbox_db, clock=suite_clock())
    graph = build_graph(s, clock=sandbox.clock, sandbox=sandbox)
    return create_server(s, graph, handles=Handles()), sandbox.store


def state(store) -> tuple:
    events = store.db.execute("SELECT id, seq FROM events ORDER BY id").fetchall()
    return [tuple(r) for r in events], store.outbox()


async def test_read_only_registers_no_write_tool(tmp_path):
    server, store = build(tmp_path, read_only=True)
    async with Client(server) as client:
        tools = (await client.list_tools()).tools
        assert tools and all(t.annotations.read_only_hint for t in tools)
        names = {t.name for t in tools}
        assert "calendar_view" in names and not names & {"create_event", "delete_event", "decline_event"}
        before = state(store)
        try:  # an unknown tool: a JSON-RPC error (-32602) from the server, or an isError result
            result = await client.call_tool("create_event", INVITE)
            assert result.is_error and "create_event" in result.content[0].text
        except MCPError as e:
            assert "create_event" in str(e)
        assert state(store) == before


async def test_tools_selection_and_unknown_names(tmp_path):
    server, _ = build(tmp_path, tools="scheduling,delete_event")
    async with Client(server) as client:
        names = {t.name for t in (await client.list_tools()).tools}
    assert names == {"calendar_view", "get_event", "find_people", "get_mailbox_settings", "find_meeting_times",
                     "get_schedule", "list_rooms", "list_room_lists", "create_event", "update_event", "delete_event"}
    with pytest.raises(PolicyError, match=r"unknown tool.*calendar_veiw"):
        build(tmp_path, tools="core,calendar_veiw")


async def test_confirm_sends_previews_then_acts_only_with_the_token(tmp_path):
    server, store = build(tmp_path, confirm_sends=True)
    async with Client(server) as client:
        before = state(store)
        preview = await client.call_tool("create_event", INVITE)
        assert not preview.is_error  # a preview is an answer, not a failure (issue 12)
        data = preview.structured_content
        assert data["needs_confirmation"] and data["notify"] == ["dana@contoso.com"]
        assert "dana@contoso.com" in preview.content[0].text and data["confirm"] in preview.content[0].text
        assert state(store) == before  # nothing written, nothing sent

        # A token confirms exactly what was previewed: other arguments, or a made-up token, do not pass.
        changed = await client.call_tool("create_event", {**INVITE, "subject": "Other", "confirm": data["confirm"]})
        assert changed.structured_content["needs_confirmation"] and "does not match" in changed.content[0].text
        assert state(store) == before

        done = structured(await client.call_tool("create_event", {**INVITE, "confirm": data["confirm"]}))
        assert done["notified"] == ["dana@contoso.com"]
        assert [(m["kind"], m["recipient"]) for m in store.outbox()] == [("invitation", "dana@contoso.com")]

        # Deleting a meeting you organize reaches the attendees too: previewed first.
        handle = done["event"]["handle"]
        preview = await client.call_tool("delete_event", {"event": handle})
        assert preview.structured_content["needs_confirmation"]
        assert preview.structured_content["notify"] == ["dana@contoso.com"]
        assert len(store.outbox()) == 1
        structured(await client.call_tool("delete_event", {"event": handle,
                                                           "confirm": preview.structured_content["confirm"]}))
        assert [m["kind"] for m in store.outbox()] == ["invitation", "cancellation"]


async def test_confirm_sends_lets_private_changes_through(tmp_path):
    server, store = build(tmp_path, confirm_sends=True)
    async with Client(server) as client:
        solo = structured(await client.call_tool("create_event", {**INVITE, "attendees": []}))
        assert solo["event"]["subject"] == "Safety review" and not store.outbox()
        tools = {t.name: t for t in (await client.list_tools()).tools}
        assert "confirm" in tools["create_event"].input_schema["properties"]
        assert "confirm" not in tools["calendar_view"].input_schema["properties"]
        assert json.loads((await client.call_tool("calendar_view", {})).content[0].text)["time_zone"]


async def test_conflicts_are_warned_and_duplicates_refused(tmp_path):
    server, store = build(tmp_path)
    async with Client(server) as client:
        first = structured(await client.call_tool("create_event", {
            "subject": "Budget review", "start": "2027-03-04T10:00", "end": "2027-03-04T11:00"}))
        assert "conflicts" not in first
        # Same subject, same time: refused (nothing written) unless the caller insists.
        before = state(store)
        again = await client.call_tool("create_event", {
            "subject": "budget review", "start": "2027-03-04T10:00", "end": "2027-03-04T11:00"})
        assert again.is_error and "allow_duplicate" in again.content[0].text
        assert first["event"]["handle"] in again.content[0].text
        assert state(store) == before
        insisted = structured(await client.call_tool("create_event", {
            "subject": "Budget review", "start": "2027-03-04T10:00", "end": "2027-03-04T11:00",
            "allow_duplicate": True}))
        assert [c["handle"] for c in insisted["conflicts"]] == [first["event"]["handle"]]
        # A different event in a busy slot is created, with the clash named.
        clash = structured(await client.call_tool("create_event", {
            "subject": "Dentist", "start": "2027-03-04T10:30", "end": "2027-03-04T11:30"}))
        assert sorted(c["subject"] for c in clash["conflicts"]) == ["Budget review", "Budget review"]
        # Free time does not clash; moving an event into a busy slot warns too.
        free = structured(await client.call_tool("create_event", {
            "subject": "Lunch", "start": "2027-03-04T12:00", "end": "2027-03-04T13:00"}))
        assert "conflicts" not in free
        moved = structured(await client.call_tool("update_event", {"event": free["event"]["handle"],
                                                                   "start": "2027-03-04T11:00"}))
        assert [c["subject"] for c in moved["conflicts"]] == ["Dentist"]
