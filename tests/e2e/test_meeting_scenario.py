"""Meetings across mailboxes through MCP clients: two people, one sandbox.

Adele (organizer) and Dana (attendee) each talk to their own server instance;
both servers' Graph clients reach the same in-process sandbox, as two Outlook
users reach one Exchange organization. Every step is asserted on what the tools
return and on what the sandbox holds (the attendee's copy, the outbox).
"""

from __future__ import annotations

import json
from contextlib import AsyncExitStack

import pytest
from mcp import Client

from outlook_calendar_mcp.ids import Handles
from outlook_calendar_mcp.sandbox import Sandbox
from outlook_calendar_mcp.sandbox.models.store import Store
from outlook_calendar_mcp.server import build_graph, create_server
from tests.instants import suite_clock

from .conftest import failure, sandbox_settings, structured

pytestmark = pytest.mark.anyio

ADELE, DANA, ROOM = "adele@contoso.com", "dana@contoso.com", "hood@contoso.com"


def outbox(store: Store, kind: str | None = None) -> list[dict]:
    rows = store.outbox()
    return [r for r in rows if kind is None or r["kind"] == kind]


def copies(store: Store, address: str, subject: str) -> list[dict]:
    """The events in a mailbox about ``subject`` (Exchange prefixes a cancelled copy with "Canceled: ")."""
    mailbox = store.mailbox(address)["id"]
    rows = store.db.execute("SELECT doc FROM events WHERE mailbox_id = ?", (mailbox,)).fetchall()
    return [d for d in (json.loads(r["doc"]) for r in rows) if d.get("subject") in (subject, f"Canceled: {subject}")]


async def test_invite_decline_propose_move_cancel(tmp_path):
    sandbox = Sandbox(":memory:", clock=suite_clock())
    store = sandbox.store
    handles = Handles()
    async with AsyncExitStack() as stack:
        clients = {}
        for who in (ADELE, DANA):
            settings = sandbox_settings(tmp_path / who.split("@")[0], sandbox_user=who)
            graph = build_graph(settings, clock=sandbox.clock, sandbox=sandbox)
            stack.push_async_callback(graph.aclose)
            clients[who] = await stack.enter_async_context(Client(create_server(settings, graph, handles=handles)))
        adele, dana = clients[ADELE], clients[DANA]
        subject = "Roadmap review"

        # A invites B and a room.
        created = structured(await adele.call_tool("create_event", {
            "subject": subject, "start": "2027-03-02T10:00", "end": "2027-03-02T11:00",
            "location": "Conf Room Hood",
            "attendees": [{"email": DANA}, {"email": ROOM, "type": "resource"}]}))
        assert sorted(created["notified"]) == sorted([DANA, ROOM])
        assert [m["recipient"] for m in outbox(store, "invitation")] == [DANA, ROOM] or \
            sorted(m["recipient"] for m in outbox(store, "invitation")) == sorted([DANA, ROOM])

        # B sees it in calendar_view (in B's own zone: New York).
        view = structured(await dana.call_tool("calendar_view", {"start": "2027-03-02", "end": "2027-03-03"}))
        assert view["time_zone"] == "America/New_York"
        mine = [e for e in view["events"] if e["subject"] == subject]
        assert len(mine) == 1 and mine[0]["start"] == "2027-03-02T13:00:00-05:00"
        assert mine[0]["organizer"].endswith(f"<{ADELE}>")

        # The room has accepted (resource booking: it was free).
        event = structured(await adele.call_tool("get_event", {"event": created["event"]["handle"]}))["event"]
        responses = {a["email"]: a.get("response") for a in event["attendee_list"]}
        assert responses[ROOM] == "accepted" and responses[DANA] == "none"

        # B declines, proposing a new time.
        declined = structured(await dana.call_tool("decline_event", {
            "event": mine[0]["handle"], "comment": "Clash with a customer call",
            "proposed_start": "2027-03-02T15:00", "proposed_end": "2027-03-02T16:00"}))
        assert declined["response"] == "declined" and declined["notified"] == [ADELE]
        assert [(m["sender"], m["recipient"]) for m in outbox(store, "response")][-1] == (DANA, ADELE)

        # A sees B's response and proposal (15:00 New York = 12:00 Los Angeles).
        event = structured(await adele.call_tool("get_event", {"event": created["event"]["handle"]}))["event"]
        dana_seen = next(a for a in event["attendee_list"] if a["email"] == DANA)
        assert dana_seen["response"] == "declined"
        assert dana_seen["proposed_start"] == "2027-03-02T12:00:00-08:00"
        assert dana_seen["proposed_end"] == "2027-03-02T13:00:00-08:00"
        assert f"{DANA} (declined)" in event["attendees"]["names"]

        # A moves the meeting to the proposed time; B's copy moves.
        structured(await adele.call_tool("update_event", {"event": created["event"]["handle"],
                                                          "start": "2027-03-02T12:00", "end": "2027-03-02T13:00"}))
        (copy,) = copies(store, DANA, subject)
        view = structured(await dana.call_tool("calendar_view", {"start": "2027-03-02", "end": "2027-03-03"}))
        moved = [e for e in view["events"] if e["subject"] == subject]
        assert moved and moved[0]["start"] == "2027-03-02T15:00:00-05:00"
        assert copy["iCalUId"] == event.get("ical_uid", copy["iCalUId"])

        # Only the organizer may cancel.
        refused = failure(await dana.call_tool("cancel_event", {"event": moved[0]["handle"], "comment": "no"}))
        assert "organizer" in refused

        # A cancels with a comment; B's copy is cancelled; the outbox has each message.
        cancelled = structured(await adele.call_tool("cancel_event", {"event": created["event"]["handle"],
                                                                     "comment": "Postponed to next quarter"}))
        assert DANA in cancelled["notified"]
        (copy,) = copies(store, DANA, subject)
        assert copy["isCancelled"] is True
        kinds = [(m["kind"], m["recipient"]) for m in outbox(store)]
        assert ("invitation", DANA) in kinds and ("response", ADELE) in kinds and ("cancellation", DANA) in kinds
        last = [m for m in outbox(store, "cancellation") if m["recipient"] == DANA][-1]
        assert last["comment"] == "Postponed to next quarter"
