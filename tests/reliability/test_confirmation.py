"""A person confirms what reaches other people: elicitation where the client offers it, else a single-use token.

With ``--confirm-sends``, a tool whose effect reaches other people asks first. Each test looks at what the
sandbox holds and what it "mailed" (its outbox), through a real MCP client:

* a client with the elicitation capability gets ``elicitation/create`` (who, what) and the tool acts only on
  Accept — on both protocol generations (2026-07-28's input-required round trip and the handshake era's
  server-to-client request);
* a client without it gets a *successful* preview (``needs_confirmation``, who, what, a token), and the token
  works once, only in the session it was issued to, only for the same user and arguments, for ten minutes of
  the server's clock.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import mcp_types as types
import pytest
from mcp import Client

from outlook_calendar_mcp.config import Settings
from outlook_calendar_mcp.ids import Handles
from outlook_calendar_mcp.sandbox import Sandbox
from outlook_calendar_mcp.server import build_graph, create_server
from outlook_calendar_mcp.tools.policy import Policy
from tests.instants import suite_clock

pytestmark = [pytest.mark.anyio, pytest.mark.clock]  # on the suite's instant

INVITE = {"subject": "Confirm review", "start": "2027-03-03T10:00", "end": "2027-03-03T10:30",
          "attendees": [{"email": "dana@contoso.com"}]}


def build(tmp_path: Path, *, key: bytes | None = None, sandbox: Sandbox | None = None, **settings):
    s = Settings(backend="sandbox", sandbox_db=":memory:", data_dir=tmp_path, cache_dir=tmp_path,
                 confirm_sends=True, **settings)
    sandbox = sandbox or Sandbox(s.sandbox_db, clock=suite_clock())
    graph = build_graph(s, clock=sandbox.clock, sandbox=sandbox)
    policy = Policy(confirm_sends=True, **({"key": key} if key else {}))
    return create_server(s, graph, handles=Handles(clock=graph.clock), policy=policy), sandbox


def invitations(sandbox: Sandbox) -> list[str]:
    return [m["recipient"] for m in sandbox.store.outbox() if m["kind"] == "invitation"]


def events_named(sandbox: Sandbox, subject: str) -> int:
    return sandbox.store.db.execute(
        "SELECT COUNT(*) FROM events WHERE json_extract(doc, '$.subject') = ?", (subject,)).fetchone()[0]


class Person:
    """An elicitation callback playing the person: records each question, answers as told."""

    def __init__(self, action: str, send: bool = True) -> None:
        self.action, self.send = action, send
        self.questions: list[types.ElicitRequestParams] = []

    async def __call__(self, context, params):
        self.questions.append(params)
        if self.action == "accept":
            return types.ElicitResult(action="accept", content={"send": self.send})
        return types.ElicitResult(action=self.action)


@pytest.mark.parametrize("mode", ["auto", "legacy"])
async def test_with_elicitation_the_person_is_asked_and_accept_sends(tmp_path, mode):
    server, sandbox = build(tmp_path)
    person = Person("accept")
    async with Client(server, mode=mode, elicitation_callback=person) as client:
        result = await client.call_tool("create_event", INVITE)
    assert not result.is_error, result.content
    assert result.structured_content["notified"] == ["dana@contoso.com"]
    assert len(person.questions) == 1
    question = person.questions[0]
    assert "dana@contoso.com" in question.message and "Confirm review" in question.message
    assert invitations(sandbox) == ["dana@contoso.com"] and events_named(sandbox, "Confirm review") == 2


@pytest.mark.parametrize(("action", "send"), [("decline", True), ("cancel", True), ("accept", False)])
async def test_with_elicitation_decline_cancel_or_no_changes_nothing(tmp_path, action, send):
    server, sandbox = build(tmp_path)
    person = Person(action, send)
    async with Client(server, elicitation_callback=person) as client:
        result = await client.call_tool("create_event", INVITE)
    assert result.is_error and "Not done" in result.content[0].text
    assert len(person.questions) == 1
    assert invitations(sandbox) == [] and events_named(sandbox, "Confirm review") == 0
    trail = (tmp_path / "audit").glob("*.jsonl")
    assert '"outcome":"declined"' in "".join(p.read_text() for p in trail)


async def test_with_elicitation_a_change_that_tells_nobody_is_not_asked(tmp_path):
    server, sandbox = build(tmp_path)
    person = Person("decline")
    async with Client(server, elicitation_callback=person) as client:
        result = await client.call_tool("create_event", {**INVITE, "attendees": []})
    assert not result.is_error and person.questions == []
    assert events_named(sandbox, "Confirm review") == 1


async def test_without_elicitation_the_preview_is_a_success_and_the_token_works_once(tmp_path):
    server, sandbox = build(tmp_path)
    async with Client(server) as client:
        preview = await client.call_tool("create_event", INVITE)
        assert not preview.is_error
        data = preview.structured_content
        assert data["needs_confirmation"] is True and data["notify"] == ["dana@contoso.com"]
        assert data["arguments"]["subject"] == "Confirm review" and data["confirm"] in preview.content[0].text
        assert invitations(sandbox) == []

        done = await client.call_tool("create_event", {**INVITE, "confirm": data["confirm"]})
        assert not done.is_error and done.structured_content["notified"] == ["dana@contoso.com"]
        assert events_named(sandbox, "Confirm review") == 2  # organizer's copy and dana's

        again = await client.call_tool("create_event", {**INVITE, "allow_duplicate": True,
                                                        "confirm": data["confirm"]})
        assert again.structured_content.get("needs_confirmation"), "a token confirmed a second, other call"
        replay = await client.call_tool("create_event", {**INVITE, "confirm": data["confirm"]})
        assert replay.structured_content.get("needs_confirmation")
        assert "already used" in replay.content[0].text
    assert invitations(sandbox) == ["dana@contoso.com"]


async def test_a_token_is_bound_to_its_session(tmp_path):
    server, sandbox = build(tmp_path)
    async with Client(server, mode="legacy") as first, Client(server, mode="legacy") as second:
        token = (await first.call_tool("create_event", INVITE)).structured_content["confirm"]
        stolen = await second.call_tool("create_event", {**INVITE, "confirm": token})
        assert stolen.structured_content.get("needs_confirmation") and "this session" in stolen.content[0].text
        assert invitations(sandbox) == []
        done = await first.call_tool("create_event", {**INVITE, "confirm": token})
        assert not done.is_error and invitations(sandbox) == ["dana@contoso.com"]


async def test_a_token_is_bound_to_its_user(tmp_path):
    key = b"k" * 32  # one server key for both: only the user differs
    adele, sandbox = build(tmp_path / "a", key=key)
    async with Client(adele) as client:
        token = (await client.call_tool("create_event", INVITE)).structured_content["confirm"]
    megan, _ = build(tmp_path / "b", key=key, sandbox=sandbox, sandbox_user="megan@contoso.com")
    async with Client(megan) as client:
        refused = await client.call_tool("create_event", {**INVITE, "confirm": token})
    assert refused.structured_content.get("needs_confirmation") and "this user" in refused.content[0].text
    assert invitations(sandbox) == []


async def test_a_token_expires_after_ten_minutes_of_the_servers_clock(tmp_path):
    server, sandbox = build(tmp_path)
    async with Client(server) as client:
        token = (await client.call_tool("create_event", INVITE)).structured_content["confirm"]
        sandbox.clock.set(sandbox.clock.now() + dt.timedelta(minutes=10, seconds=5))
        late = await client.call_tool("create_event", {**INVITE, "confirm": token})
    assert late.structured_content.get("needs_confirmation") and "expired" in late.content[0].text
    assert invitations(sandbox) == []
