"""The meeting tools of issue 4 through a real MCP client, against the sandbox organization.

accept_event, tentatively_accept_event, decline_event, forward_event, cancel_event,
find_meeting_times, get_schedule, list_rooms and list_room_lists, each asserted on what the
tool returns *and* on what the sandbox holds: the attendees' copies, the attendee statuses
on the organizer's event, and the outbox (everything Exchange would have mailed).

Three people use their own server (Adele, the sandbox's default user, in Los Angeles; Dana
and Fanny in New York); all three servers reach one in-process sandbox, as Outlook users
reach one Exchange organization. The servers are built once for the module; before each
test the sandbox is restored to the seeded organization (plus a second "Alex", so that a
name can be ambiguous). Every meeting the tests make lies in March 2027, before the US
switches to daylight time, on days the seeded weekly meetings leave alone (not Tuesdays).

Bad input, table-driven as in test_bad_input.py: each case must give isError with a message
that names the argument and says how to fix it, and leave every sandbox table (outbox too)
exactly as it was.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import sqlite3
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from mcp import Client

from outlook_calendar_mcp import timezones as tz
from outlook_calendar_mcp.graph import GraphClient
from outlook_calendar_mcp.ids import Handles
from outlook_calendar_mcp.sandbox import Sandbox
from outlook_calendar_mcp.sandbox.models.store import Store
from outlook_calendar_mcp.server import build_graph, create_server
from tests.instants import BEFORE_MARCH_2027, clock_at

from .conftest import TOOL_NAMES, dump, failure, sandbox_settings, structured

pytestmark = pytest.mark.anyio

ADELE, DANA, FANNY = "adele@contoso.com", "dana@contoso.com", "fanny@contoso.com"
ALEX, ALEX_J, PAVEL = "alex@contoso.com", "alexj@contoso.com", "pavel@contoso.com"
HOOD, CRYSTAL = "hood@contoso.com", "crystal@contoso.com"
LA, NY = "America/Los_Angeles", "America/New_York"
WHO = {"adele": ADELE, "dana": DANA, "fanny": FANNY}

MEETING_TOOLS = ("accept_event", "tentatively_accept_event", "decline_event", "forward_event", "cancel_event",
                 "find_meeting_times", "get_schedule", "list_rooms", "list_room_lists")
# Tools whose effect reaches other people: openWorldHint, and a `notified` list in the result.
NOTIFYING = ("create_event", "update_event", "delete_event", "accept_event", "tentatively_accept_event",
             "decline_event", "forward_event", "cancel_event")
READ_ONLY_MEETING_TOOLS = ("find_meeting_times", "get_schedule", "list_rooms", "list_room_lists")
EVENT_SOURCES = ("calendar_view", "list_events", "get_event")


# -- the office: one sandbox, three people each with their own server ---------------------------------------

@dataclass
class Office:
    store: Store
    clients: dict[str, Client]
    graphs: dict[str, GraphClient]                   # each person's GraphClient, for raw Graph calls
    template: sqlite3.Connection
    world: sqlite3.Connection | None = None          # the bad-input cases' template (see bad_world)
    _mark: int = 0

    def restore(self) -> None:
        self.store.restore_from(self.template)

    async def call(self, who: str, tool: str, args: dict[str, Any] | None = None) -> dict[str, Any]:
        return structured(await self.clients[who].call_tool(tool, args or {}))

    async def fail(self, who: str, tool: str, args: dict[str, Any] | None = None) -> str:
        return failure(await self.clients[who].call_tool(tool, args or {}))

    def snapshot(self) -> dict[str, list[tuple]]:
        return dump(self.store.db)

    # the outbox --------------------------------------------------------------------------------------------
    def mark(self) -> None:
        """Remember where the outbox ends: :meth:`sent` returns what came after."""
        self._mark = self.store.db.execute("SELECT COALESCE(MAX(seq), 0) FROM outbox").fetchone()[0]

    def sent(self) -> list[dict[str, Any]]:
        return [m for m in self.store.outbox() if m["seq"] > self._mark]

    # mailboxes ---------------------------------------------------------------------------------------------
    def docs(self, address: str, subject: str) -> list[dict[str, Any]]:
        """The events of a mailbox about ``subject`` (a cancelled copy's subject starts with "Canceled: ")."""
        rows = self.store.db.execute(
            "SELECT e.doc FROM events e JOIN mailboxes m ON m.id = e.mailbox_id WHERE m.address = ? "
            "AND json_extract(e.doc, '$.subject') IN (?, ?) ORDER BY e.rowid",
            (address, subject, f"Canceled: {subject}")).fetchall()
        return [json.loads(r[0]) for r in rows]

    def one(self, address: str, subject: str) -> dict[str, Any]:
        found = self.docs(address, subject)
        assert len(found) == 1, f"{address} holds {len(found)} events about {subject!r}"
        return found[0]

    def status(self, subject: str, attendee: str, organizer: str = ADELE) -> dict[str, Any]:
        """The attendee's entry on the organizer's event."""
        doc = self.one(organizer, subject)
        (entry,) = [a for a in doc["attendees"] if a["emailAddress"]["address"].lower() == attendee.lower()]
        return entry

    def hours(self, address: str) -> tuple[set[str], dt.time, dt.time, Any]:
        """(days, start, end, zone) of a mailbox's working hours, as the sandbox holds them."""
        doc = json.loads(self.store.mailbox(address)["doc"])
        wh = doc["workingHours"]
        return ({d.lower() for d in wh["daysOfWeek"]}, dt.time.fromisoformat(wh["startTime"][:8]),
                dt.time.fromisoformat(wh["endTime"][:8]), tz.resolve(wh["timeZone"]))

    # the tools, as the people use them --------------------------------------------------------------------
    async def meeting(self, subject: str, day: str, start: str, end: str, attendees: list[str],
                      who: str = "adele", **extra: Any) -> str:
        """A meeting organized by ``who`` (times in their zone); its handle."""
        people = [{"email": a, **({"type": "resource"} if a in (HOOD, CRYSTAL) else {})} for a in attendees]
        created = await self.call(who, "create_event", {"subject": subject, "start": f"{day}T{start}",
                                                        "end": f"{day}T{end}", "attendees": people, **extra})
        return created["event"]["handle"]

    async def handle(self, who: str, subject: str, day: str) -> str:
        """The handle of ``who``'s copy of a meeting on ``day`` (found with calendar_view)."""
        next_day = (dt.date.fromisoformat(day) + dt.timedelta(days=1)).isoformat()
        view = await self.call(who, "calendar_view", {"start": day, "end": next_day})
        (found,) = [e["handle"] for e in view["events"] if e["subject"] == subject]
        return found


def add_person(store: Store, address: str, name: str, zone: str, hours: tuple[str, str]) -> None:
    with store.transaction():
        mailbox = store.add_mailbox(address, "user", {
            "displayName": name, "givenName": name.split()[0], "surname": name.split()[1], "timeZone": zone,
            "workingHours": {"daysOfWeek": ["monday", "tuesday", "wednesday", "thursday", "friday"],
                             "startTime": f"{hours[0]}:00.0000000", "endTime": f"{hours[1]}:00.0000000",
                             "timeZone": zone}})
        group = store.add_group(mailbox, "My Calendars")
        store.add_calendar(mailbox, group, {"name": "Calendar", "owner": {"name": name, "address": address}},
                           is_default=True)


@pytest.fixture(scope="module")
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(scope="module")
async def office_server(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Office]:
    tmp: Path = tmp_path_factory.mktemp("meeting-tools")
    # The meetings these tests look for are in March 2027: "now" is the week before, whatever the suite's instant.
    sandbox = Sandbox(":memory:", clock=clock_at(BEFORE_MARCH_2027))  # seeds the demo organization
    store = sandbox.store
    add_person(store, ALEX_J, "Alex Johnson", "Pacific Standard Time", ("09:00", "17:00"))
    template = sqlite3.connect(":memory:")
    store.db.backup(template)
    handles = Handles()
    async with AsyncExitStack() as stack:
        clients, graphs = {}, {}
        for who, address in WHO.items():
            settings = sandbox_settings(tmp / who, sandbox_user=address)
            graph = build_graph(settings, clock=sandbox.clock, sandbox=sandbox)
            stack.push_async_callback(graph.aclose)
            graphs[who] = graph
            clients[who] = await stack.enter_async_context(Client(create_server(settings, graph, handles=handles)))
        yield Office(store=store, clients=clients, graphs=graphs, template=template)
    template.close()
    store.close()


@pytest.fixture
def office(office_server: Office) -> Office:
    """The shared servers, their sandbox restored to the seeded organization."""
    office_server.restore()
    office_server.mark()
    return office_server


def at(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text)


def instant(dtz: dict[str, str]) -> dt.datetime:
    return tz.from_graph(dtz, "test").astimezone(dt.UTC)


# -- accept / tentatively accept / decline -------------------------------------------------------------------

RESPONSES = [
    # tool, response, send_response, proposal (Dana's New York time), copy's showAs
    pytest.param("accept_event", "accepted", True, None, "busy", id="accept"),
    pytest.param("accept_event", "accepted", False, None, "busy", id="accept-silently"),
    pytest.param("tentatively_accept_event", "tentativelyAccepted", True, None, "tentative", id="tentative"),
    pytest.param("tentatively_accept_event", "tentativelyAccepted", True, ("15:00", "16:00"), "tentative",
                 id="tentative-proposing"),
    pytest.param("tentatively_accept_event", "tentativelyAccepted", False, None, "tentative",
                 id="tentative-silently"),
    pytest.param("decline_event", "declined", True, None, "free", id="decline"),
    pytest.param("decline_event", "declined", True, ("16:00", "17:00"), "free", id="decline-proposing"),
    pytest.param("decline_event", "declined", False, None, "free", id="decline-silently"),
]
SUBJECT_PREFIX = {"accepted": "Accepted: ", "tentativelyAccepted": "Tentative: ", "declined": "Declined: "}


@pytest.mark.parametrize(("tool", "response", "send", "proposal", "show_as"), RESPONSES)
async def test_a_response_reaches_the_organizer_only_when_sent(office: Office, tool: str, response: str, send: bool,
                                                               proposal: tuple[str, str] | None,
                                                               show_as: str) -> None:
    o = office
    subject = f"Response probe {tool} {send} {bool(proposal)}"
    await o.meeting(subject, "2027-03-03", "10:00", "11:00", [DANA, FANNY])   # 13:00-14:00 in New York
    copy = await o.handle("dana", subject, "2027-03-03")
    o.mark()

    args: dict[str, Any] = {"event": copy, "comment": "Thanks for the invite", "send_response": send}
    if proposal:
        args |= {"proposed_start": f"2027-03-03T{proposal[0]}", "proposed_end": f"2027-03-03T{proposal[1]}"}
    answer = await o.call("dana", tool, args)

    assert answer["event"] == copy and answer["subject"] == subject and answer["response"] == response
    mine = o.one(DANA, subject)
    assert mine["responseStatus"]["response"] == response and mine["showAs"] == show_as
    entry = o.status(subject, DANA)
    if not send:
        assert "notified" not in answer
        assert o.sent() == [], "a response with send_response=false was mailed"
        assert entry["status"]["response"] == "none", "the organizer learned of an unsent response"
        assert o.status(subject, FANNY)["status"]["response"] == "none"
        return
    assert answer["notified"] == [ADELE]
    (message,) = o.sent()
    assert (message["sender"], message["recipient"], message["kind"]) == (DANA, ADELE, "response")
    assert message["comment"] == "Thanks for the invite"
    assert entry["status"]["response"] == response
    assert o.status(subject, FANNY)["status"]["response"] == "none", "another attendee's status moved"
    if proposal:
        # Dana proposed in her zone (New York); Adele's event holds the same instants.
        assert answer["proposed_start"] == f"2027-03-03T{proposal[0]}:00-05:00"
        assert answer["proposed_end"] == f"2027-03-03T{proposal[1]}:00-05:00"
        assert message["subject"] == f"New Time Proposed: {subject}"
        assert instant(entry["proposedNewTime"]["start"]) == at(f"2027-03-03T{proposal[0]}:00-05:00")
        assert instant(entry["proposedNewTime"]["end"]) == at(f"2027-03-03T{proposal[1]}:00-05:00")
        shown = await o.call("adele", "get_event", {"event": await o.handle("adele", subject, "2027-03-03"),
                                                    "detail": "full"})
        (seen,) = [a for a in shown["event"]["attendee_list"] if a["email"] == DANA]
        hour = int(proposal[0][:2]) - 3                     # New York -> Los Angeles
        assert seen["proposed_start"] == f"2027-03-03T{hour:02d}:00:00-08:00"
    else:
        assert message["subject"] == SUBJECT_PREFIX[response] + subject
        assert "proposedNewTime" not in entry and "proposed_start" not in answer


async def test_no_response_is_sent_when_the_organizer_asked_for_none(office: Office) -> None:
    o = office
    subject = "No responses please"
    await o.graphs["adele"].post("me/events", json={
        "subject": subject, "responseRequested": False,
        "start": {"dateTime": "2027-03-03T12:00:00", "timeZone": "Pacific Standard Time"},
        "end": {"dateTime": "2027-03-03T13:00:00", "timeZone": "Pacific Standard Time"},
        "attendees": [{"type": "required", "emailAddress": {"address": DANA}}]})
    copy = await o.handle("dana", subject, "2027-03-03")
    o.mark()
    answer = await o.call("dana", "accept_event", {"event": copy})
    assert answer["response"] == "accepted" and "notified" not in answer and "not sent" in answer["note"]
    assert o.sent() == [] and o.one(DANA, subject)["responseStatus"]["response"] == "accepted"
    message = await o.fail("dana", "decline_event", {"event": copy, "proposed_start": "2027-03-03T16:00",
                                                     "proposed_end": "2027-03-03T17:00"})
    assert names(message, "proposed_start") and "no responses" in message
    # An organizer who takes no new time proposals: the proposal is refused, the plain answer goes through.
    fixed = "Fixed time"
    await o.graphs["adele"].post("me/events", json={
        "subject": fixed, "allowNewTimeProposals": False,
        "start": {"dateTime": "2027-03-03T14:00:00", "timeZone": "Pacific Standard Time"},
        "end": {"dateTime": "2027-03-03T15:00:00", "timeZone": "Pacific Standard Time"},
        "attendees": [{"type": "required", "emailAddress": {"address": DANA}}]})
    theirs = await o.handle("dana", fixed, "2027-03-03")
    before = o.snapshot()
    message = await o.fail("dana", "tentatively_accept_event", {
        "event": theirs, "proposed_start": "2027-03-04T10:00", "proposed_end": "2027-03-04T11:00"})
    assert names(message, "proposed_start") and "comment" in message
    assert o.snapshot() == before
    assert (await o.call("dana", "tentatively_accept_event", {"event": theirs}))["notified"] == [ADELE]


# -- forward, cancel -----------------------------------------------------------------------------------------

async def test_forward_gives_the_recipient_a_copy_and_tells_the_organizer(office: Office) -> None:
    o = office
    subject = "Forward probe"
    await o.meeting(subject, "2027-03-04", "09:00", "10:00", [DANA])
    copy = await o.handle("dana", subject, "2027-03-04")
    o.mark()

    answer = await o.call("dana", "forward_event", {"event": copy, "to": [FANNY, "jordan@fabrikam.com"],
                                                   "comment": "You should join"})

    assert answer["event"] == copy and answer["subject"] == subject
    assert answer["notified"] == [FANNY, "jordan@fabrikam.com", ADELE]
    sent = [(m["sender"], m["recipient"], m["kind"], m["comment"]) for m in o.sent()]
    assert (DANA, FANNY, "forward", "You should join") in sent
    assert (DANA, "jordan@fabrikam.com", "forward", "You should join") in sent
    assert [s for s in sent if s[2] == "forwardNotification"] == [
        (DANA, ADELE, "forwardNotification", f"Forwarded to {FANNY}, jordan@fabrikam.com")]
    organizers = o.one(ADELE, subject)
    theirs = o.one(FANNY, subject)                          # the internal recipient got a copy
    assert theirs["iCalUId"] == organizers["iCalUId"] and theirs["isOrganizer"] is False
    assert theirs["responseStatus"]["response"] == "notResponded"  # their own copy, not yet answered
    assert {a["emailAddress"]["address"] for a in organizers["attendees"]} == {DANA, FANNY, "jordan@fabrikam.com"}
    # Fanny sees it and can answer it like any invitation.
    hers = await o.handle("fanny", subject, "2027-03-04")
    assert (await o.call("fanny", "accept_event", {"event": hers}))["notified"] == [ADELE]
    assert o.status(subject, FANNY)["status"]["response"] == "accepted"


async def test_the_organizer_cancels_with_a_comment(office: Office) -> None:
    o = office
    subject = "Cancel probe"
    mine = await o.meeting(subject, "2027-03-05", "11:00", "12:00", [DANA, FANNY, HOOD])
    assert o.one(HOOD, subject)["responseStatus"]["response"] == "accepted"     # the room booked itself
    await o.call("dana", "accept_event", {"event": await o.handle("dana", subject, "2027-03-05")})
    o.mark()

    answer = await o.call("adele", "cancel_event", {"event": mine, "comment": "Postponed, sorry"})

    assert answer["event"] == mine and answer["subject"] == subject
    assert sorted(answer["notified"]) == sorted([DANA, FANNY, HOOD])
    cancellations = [(m["sender"], m["recipient"], m["subject"], m["comment"]) for m in o.sent()]
    assert sorted(cancellations) == sorted((ADELE, r, f"Canceled: {subject}", "Postponed, sorry")
                                           for r in (DANA, FANNY, HOOD))
    assert {m["kind"] for m in o.sent()} == {"cancellation"}
    for person in (DANA, FANNY):
        copy = o.one(person, subject)
        assert copy["isCancelled"] is True and copy["subject"] == f"Canceled: {subject}", person
    assert o.docs(HOOD, subject) == [], "the room keeps a cancelled booking"
    assert o.docs(ADELE, subject) == []
    view = await o.call("adele", "calendar_view", {"start": "2027-03-05", "end": "2027-03-06"})
    assert subject not in [e["subject"] for e in view["events"]]


# -- find_meeting_times ---------------------------------------------------------------------------------------

@pytest.mark.parametrize(("attendees", "duration", "minutes"), [
    pytest.param(["Dana", "fanny"], "1h", 60, id="names-1h"),
    pytest.param(["Dana", "fanny"], "PT1H", 60, id="names-PT1H"),
    pytest.param([DANA, FANNY], 60, 60, id="addresses-60"),
    pytest.param(["dana swope", FANNY], "90m", 90, id="mixed-90m"),
])
async def test_find_meeting_times_by_name_or_address_with_plain_durations(office: Office, attendees: list[str],
                                                                          duration: Any, minutes: int) -> None:
    o = office
    found = await o.call("adele", "find_meeting_times", {
        "attendees": attendees, "duration": duration, "start": "2027-03-03T08:00", "end": "2027-03-03T17:00"})
    assert found["time_zone"] == LA
    assert found["attendees"] == [DANA, FANNY]
    assert found["duration_minutes"] == minutes
    slots = found["suggestions"]
    assert slots and "empty_reason" not in found
    for s in slots:
        start, end = at(s["start"]), at(s["end"])
        assert end - start == dt.timedelta(minutes=minutes)
        assert s["confidence"] == 100.0 and "attendees" not in s, s    # their Wednesday is free
        assert s["start"].endswith("-08:00")
    # The three share 11:00-16:30 New York = 08:00-13:30 Los Angeles; the first slot starts at its opening.
    assert slots[0]["start"] == "2027-03-03T08:00:00-08:00"
    assert max(at(s["end"]) for s in slots) <= at("2027-03-03T13:30:00-08:00")
    assert o.sent() == []


def within_working_hours(moment_start: dt.datetime, moment_end: dt.datetime,
                         hours: tuple[set[str], dt.time, dt.time, Any], every_day: bool = False) -> bool:
    days, t0, t1, zone = hours
    start, end = moment_start.astimezone(zone), moment_end.astimezone(zone)
    weekday = start.strftime("%A").lower()
    return (every_day or weekday in days) and start.date() == (end - dt.timedelta(microseconds=1)).date() \
        and t0 <= start.time() and end.time() <= t1 and end.time() != dt.time(0)


async def test_work_hours_respect_each_attendees_own_hours_and_zone(office: Office) -> None:
    o = office
    found = await o.call("adele", "find_meeting_times", {
        "attendees": ["Dana", "Fanny"], "duration": 30, "hours": "work", "max_candidates": 100,
        "start": "2027-03-01T00:00", "end": "2027-03-08T00:00"})            # Monday to Monday, a weekend inside
    slots = found["suggestions"]
    assert len(slots) >= 20
    people = {a: o.hours(a) for a in (ADELE, DANA, FANNY)}
    assert people[DANA][1:3] == (dt.time(8, 0), dt.time(16, 30)) and people[FANNY][1:3] == (dt.time(9, 30),
                                                                                            dt.time(18, 0))
    for s in slots:
        for address, hours in people.items():
            assert within_working_hours(at(s["start"]), at(s["end"]), hours), (s, address)
    days = {at(s["start"]).date().isoformat() for s in slots}
    assert days <= {"2027-03-01", "2027-03-02", "2027-03-03", "2027-03-04", "2027-03-05"}
    # The edges are the attendees' own: Fanny's 09:30 is earlier than Adele's 08:00 (11:00 in New York),
    # Dana's 16:30 in New York is 13:30 in Los Angeles.
    starts = sorted(at(s["start"]) for s in slots)
    assert starts[0] == at("2027-03-01T08:00:00-08:00")
    assert max(at(s["end"]).time() for s in slots) == dt.time(13, 30)
    # Someone whose day never meets Adele's (Berlin 08:00-16:00 is 23:00-07:00 in Los Angeles): nothing.
    berlin = await o.call("adele", "find_meeting_times", {"attendees": ["Pavel"], "duration": "1h",
                                                          "start": "2027-03-01", "end": "2027-03-06"})
    assert berlin["suggestions"] == [] and berlin["empty_reason"] == "attendeesUnavailable"


async def test_personal_hours_take_in_the_weekend_and_unrestricted_any_time(office: Office) -> None:
    o = office
    weekend = {"attendees": [DANA], "duration": "1h", "max_candidates": 40,
               "start": "2027-03-06T00:00", "end": "2027-03-08T00:00"}        # Saturday and Sunday
    work = await o.call("adele", "find_meeting_times", {**weekend, "hours": "work"})
    assert work["suggestions"] == [] and work["empty_reason"] == "organizerUnavailable"

    personal = (await o.call("adele", "find_meeting_times", {**weekend, "hours": "personal"}))["suggestions"]
    assert personal
    assert {at(s["start"]).strftime("%A") for s in personal} == {"Saturday", "Sunday"}
    for s in personal:
        for address in (ADELE, DANA):
            assert within_working_hours(at(s["start"]), at(s["end"]), o.hours(address), every_day=True), (s, address)

    unrestricted = (await o.call("adele", "find_meeting_times", {**weekend, "hours": "unrestricted"}))["suggestions"]
    assert unrestricted[0]["start"] == "2027-03-06T00:00:00-08:00"           # midnight is fine now
    assert any(not within_working_hours(at(s["start"]), at(s["end"]), o.hours(DANA), every_day=True)
               for s in unrestricted)


async def test_busy_attendees_lower_the_confidence_or_empty_the_result(office: Office) -> None:
    o = office
    # Fanny is out all Monday 8 March; Dana is busy the whole day Thursday 4 March.
    await o.call("fanny", "create_event", {"subject": "Offsite", "start": "2027-03-08T00:00", "end": "2027-03-09T00:00",
                                           "show_as": "oof"})
    await o.call("dana", "create_event", {"subject": "Hackathon", "start": "2027-03-04T00:00",
                                          "end": "2027-03-05T00:00", "show_as": "busy"})
    optional = await o.call("adele", "find_meeting_times", {
        "attendees": ["Dana"], "optional_attendees": ["Fanny"], "duration": "1h",
        "start": "2027-03-08T00:00", "end": "2027-03-09T00:00"})
    assert optional["attendees"] == [DANA, FANNY]
    assert optional["suggestions"]
    for s in optional["suggestions"]:
        assert s["confidence"] == 50.0
        assert s["attendees"] == [{"email": FANNY, "availability": "oof"}]
    strict = await o.call("adele", "find_meeting_times", {
        "attendees": ["Dana"], "optional_attendees": ["Fanny"], "duration": "1h", "minimum_attendee_percentage": 100,
        "start": "2027-03-08T00:00", "end": "2027-03-09T00:00"})
    assert strict["suggestions"] == [] and strict["empty_reason"] == "attendeesUnavailable"
    busy = await o.call("adele", "find_meeting_times", {"attendees": [DANA], "duration": 30,
                                                        "start": "2027-03-04T00:00", "end": "2027-03-05T00:00"})
    assert busy["suggestions"] == [] and busy["empty_reason"] == "attendeesUnavailable"
    assert o.sent() == []


async def test_rooms_are_required_to_be_free_and_suggest_room_picks_one(office: Office) -> None:
    o = office
    # Fanny has Conf Room Hood on Monday 1 March, 09:00-10:00 Los Angeles (12:00-13:00 in her New York).
    await o.meeting("Hood taken", "2027-03-01", "12:00", "13:00", [HOOD], who="fanny")
    assert o.one(HOOD, "Hood taken")["responseStatus"]["response"] == "accepted"
    o.mark()
    window = {"attendees": ["Dana"], "duration": "1h", "start": "2027-03-01T08:00", "end": "2027-03-01T13:00",
              "max_candidates": 10}
    taken = (at("2027-03-01T09:00:00-08:00"), at("2027-03-01T10:00:00-08:00"))

    by_address = (await o.call("adele", "find_meeting_times", {**window, "rooms": [HOOD]}))["suggestions"]
    by_name = (await o.call("adele", "find_meeting_times", {**window, "rooms": ["Conf Room Hood"]}))["suggestions"]
    assert by_address == by_name and by_address
    for s in by_address:
        assert s["rooms"] == ["Conf Room Hood"]
        assert at(s["end"]) <= taken[0] or at(s["start"]) >= taken[1], s

    either = (await o.call("adele", "find_meeting_times", {**window, "rooms": [HOOD, CRYSTAL],
                                                          "suggest_room": True}))["suggestions"]
    rooms = {s["start"]: s["rooms"] for s in either}
    assert all(len(r) == 1 for r in rooms.values())
    assert rooms["2027-03-01T09:00:00-08:00"] == ["Conf Room Crystal"]     # Hood is taken then
    assert rooms["2027-03-01T08:00:00-08:00"] == ["Conf Room Hood"]

    suggested = (await o.call("adele", "find_meeting_times", {
        "attendees": ["Dana", "Fanny", "Pavel"], "hours": "unrestricted", "duration": 30, "suggest_room": True,
        "start": "2027-03-01T08:00", "end": "2027-03-01T12:00"}))["suggestions"]
    catalogue = {r["name"]: r for r in (await o.call("adele", "list_rooms"))["rooms"]}
    assert suggested
    for s in suggested:
        (room,) = s["rooms"]
        assert catalogue[room]["capacity"] >= 4, s                          # everyone has a seat
    assert o.sent() == [] and o.docs(CRYSTAL, "Hood taken") == []


# -- get_schedule, rooms --------------------------------------------------------------------------------------

async def test_get_schedule_for_people_and_rooms_with_an_unknown_address(office: Office) -> None:
    o = office
    await o.meeting("Hood taken", "2027-03-01", "12:00", "13:00", [HOOD], who="fanny")    # 09:00-10:00 LA
    await o.call("dana", "create_event", {"subject": "Maybe lunch", "start": "2027-03-01T14:00",
                                          "end": "2027-03-01T15:00", "show_as": "tentative"})  # 11:00-12:00 LA
    answer = await o.call("adele", "get_schedule", {
        "people": ["Dana", HOOD, "ghost@contoso.com", "Fanny Downs"], "start": "2027-03-01T08:00",
        "end": "2027-03-01T12:00"})
    assert answer["time_zone"] == LA and answer["interval_minutes"] == 30
    by = {s["email"]: s for s in answer["schedules"]}
    assert list(by) == [DANA, HOOD, "ghost@contoso.com", FANNY]
    assert by[DANA]["availability_view"] == "00000011"
    # freeBusyRead (the organization's default) shows times and status, not subjects (issue 12)
    assert by[DANA]["busy"] == [{"start": "2027-03-01T11:00:00-08:00", "end": "2027-03-01T12:00:00-08:00",
                                 "status": "tentative"}]
    assert by[DANA]["working_hours"] == f"mon,tue,wed,thu,fri 08:00-16:30 {NY}"
    assert by[HOOD]["availability_view"] == "00220000"
    assert [(b["start"], b["status"]) for b in by[HOOD]["busy"]] == [("2027-03-01T09:00:00-08:00", "busy")]
    assert by[HOOD]["working_hours"] == f"mon,tue,wed,thu,fri 07:00-19:00 {LA}"
    assert by[FANNY]["availability_view"] == "00220000"
    ghost = by["ghost@contoso.com"]
    assert "ghost@contoso.com" in ghost["error"] and "availability_view" not in ghost
    # Every status has its digit: 0 free, 1 tentative, 2 busy, 3 away (oof), 4 working elsewhere.
    for subject, start, end, show_as in (("Out", "08:00", "09:00", "oof"), ("Remote", "09:00", "10:00",
                                          "workingElsewhere"), ("Maybe", "10:00", "10:30", "tentative"),
                                         ("Busy", "11:00", "11:30", "busy")):
        await o.call("adele", "create_event", {"subject": subject, "start": f"2027-03-01T{start}",
                                               "end": f"2027-03-01T{end}", "show_as": show_as})
    (own,) = (await o.call("adele", "get_schedule", {"people": [ADELE], "start": "2027-03-01T08:00",
                                                     "end": "2027-03-01T12:00"}))["schedules"]
    assert own["availability_view"] == "33441020"
    assert [b["status"] for b in own["busy"]] == ["oof", "workingElsewhere", "tentative", "busy"]
    # A 15-minute view has twice the digits.
    fine = await o.call("adele", "get_schedule", {"people": [HOOD], "start": "2027-03-01T08:00",
                                                  "end": "2027-03-01T12:00", "interval_minutes": 15})
    assert fine["schedules"][0]["availability_view"] == "0000222200000000"


async def test_room_lists_and_rooms(office: Office) -> None:
    o = office
    lists = (await o.call("adele", "list_room_lists"))["room_lists"]
    stored = {r["address"]: json.loads(r["doc"])["displayName"] for r in o.store.mailboxes("roomList")}
    assert {r["email"]: r["name"] for r in lists} == stored
    assert stored == {"building1@contoso.com": "Building 1 Rooms", "building2@contoso.com": "Building 2 Rooms"}

    rooms = {r["address"]: json.loads(r["doc"]) for r in o.store.mailboxes("room")}
    for room_list in stored:
        listed = (await o.call("adele", "list_rooms", {"room_list": room_list}))["rooms"]
        assert {r["email"] for r in listed} == {a for a, d in rooms.items() if d["place"]["roomList"] == room_list}
    everything = (await o.call("adele", "list_rooms"))["rooms"]
    assert {r["email"] for r in everything} == set(rooms)
    hood = next(r for r in everything if r["email"] == HOOD)
    assert hood == {"name": "Conf Room Hood", "email": HOOD, "capacity": 6, "building": "Seattle Building 2",
                    "floor": 1, "device": "Teams Room Hood", "wheelchair_accessible": True}

    big = (await o.call("adele", "list_rooms", {"min_capacity": 10}))["rooms"]
    assert {r["name"] for r in big} == {"Conf Room Baker", "Conf Room Rainier", "Conf Room Stevens"}
    assert all(r["capacity"] >= 10 for r in big)
    both = (await o.call("adele", "list_rooms", {"room_list": "building1@contoso.com", "min_capacity": 8}))["rooms"]
    assert {r["name"] for r in both} == {"Conf Room Adams", "Conf Room Baker"}
    # max_results counts the rooms that pass min_capacity, and says when there are more.
    two = await o.call("adele", "list_rooms", {"min_capacity": 6, "max_results": 2})
    assert len(two["rooms"]) == 2 and two["more"] is True and all(r["capacity"] >= 6 for r in two["rooms"])


# -- annotations and `notified` -------------------------------------------------------------------------------

async def test_tools_that_reach_others_say_so_and_list_who_was_notified(office: Office) -> None:
    o = office
    listed = {t.name: t for t in (await o.clients["adele"].list_tools()).tools}
    assert set(MEETING_TOOLS) <= set(listed) and set(MEETING_TOOLS) <= set(TOOL_NAMES)
    for name in NOTIFYING:
        hints = listed[name].annotations
        assert hints.open_world_hint is True and hints.read_only_hint is False, name
        assert "notified" in listed[name].output_schema["properties"], name
    for name in READ_ONLY_MEETING_TOOLS:
        hints = listed[name].annotations
        assert hints.read_only_hint is True and hints.open_world_hint is False, name
        assert hints.destructive_hint is False, name
    assert listed["decline_event"].annotations.destructive_hint is True
    assert listed["cancel_event"].annotations.destructive_hint is True

    async def told(who: str, tool: str, args: dict[str, Any]) -> tuple[list[str], list[str]]:
        """(notified as the tool says, recipients of what the caller sent, as the outbox says)."""
        o.mark()
        answer = await o.call(who, tool, args)
        recipients = [m["recipient"] for m in o.sent() if m["sender"] == WHO[who]]
        return sorted(answer.get("notified") or []), sorted(set(recipients))

    subject = "Notified probe"
    created = await o.call("adele", "create_event", {
        "subject": subject, "start": "2027-03-05T09:00", "end": "2027-03-05T10:00",
        "attendees": [{"email": DANA}, {"email": FANNY}]})
    assert sorted(created["notified"]) == [DANA, FANNY]
    mine = created["event"]["handle"]
    assert await told("adele", "update_event", {"event": mine, "start": "2027-03-05T09:30"}) == ([DANA, FANNY],) * 2
    dana = await o.handle("dana", subject, "2027-03-05")
    fanny = await o.handle("fanny", subject, "2027-03-05")
    assert await told("dana", "accept_event", {"event": dana}) == ([ADELE], [ADELE])
    assert await told("fanny", "tentatively_accept_event", {"event": fanny}) == ([ADELE], [ADELE])
    assert await told("fanny", "decline_event", {"event": fanny, "comment": "Clash"}) == ([ADELE], [ADELE])
    assert await told("dana", "forward_event", {"event": dana, "to": [ALEX]}) == ([ADELE, ALEX], [ADELE, ALEX])
    assert await told("adele", "cancel_event", {"event": mine}) == ([ALEX, DANA, FANNY],) * 2
    other = await o.meeting("Notified probe 2", "2027-03-05", "14:00", "15:00", [DANA])
    assert await told("adele", "delete_event", {"event": other}) == ([DANA], [DANA])


# -- bad input ------------------------------------------------------------------------------------------------

DURATION = ("give minutes", "longer than zero")
PAST = ("from now on",)
LATER = ("later end", "after")
NOT_ORGANIZER_FIX = ("decline_event",)


def case(tool: str, who: str, args: dict[str, Any], argument: str, fix: tuple[str, ...], *, id: str) -> Any:
    return pytest.param(tool, who, args, argument, fix, id=f"{tool}-{id}")


W = {"attendees": [DANA], "start": "2027-03-03T08:00", "end": "2027-03-03T17:00"}   # a good window
CASES = [
    # find_meeting_times
    case("find_meeting_times", "adele", {**W, "attendees": ["Zebulon"]}, "attendees[0]", ("find_people",),
         id="unknown-attendee-name"),
    case("find_meeting_times", "adele", {**W, "attendees": [DANA, "Alex"]}, "attendees[1]",
         ("give the email address",), id="ambiguous-name"),
    case("find_meeting_times", "adele", {**W, "optional_attendees": ["Zebulon"]}, "optional_attendees[0]",
         ("find_people",), id="unknown-optional-attendee"),
    # (no attendees is the user's own free time: tests/e2e/test_natural_language_2.py)
    case("find_meeting_times", "adele", {**W, "room_capacity": 500}, "room_capacity", ("seats 500",),
         id="no-room-that-big"),
    case("find_meeting_times", "adele", {**W, "rooms": ["nope@contoso.com"]}, "rooms[0]", ("list_rooms",),
         id="unknown-room"),
    case("find_meeting_times", "adele", {**W, "rooms": [HOOD, "Conf Room Nowhere"]}, "rooms[1]", ("list_rooms",),
         id="unknown-room-name"),
    case("find_meeting_times", "adele", {**W, "rooms": ["Conf Room"]}, "rooms[0]", ("room's address",),
         id="ambiguous-room"),
    case("find_meeting_times", "adele", {**W, "duration": 0}, "duration", DURATION, id="duration-zero"),
    case("find_meeting_times", "adele", {**W, "duration": "0m"}, "duration", DURATION, id="duration-0m"),
    case("find_meeting_times", "adele", {**W, "duration": "PT0M"}, "duration", DURATION, id="duration-PT0M"),
    case("find_meeting_times", "adele", {**W, "duration": "abc"}, "duration", DURATION, id="duration-abc"),
    case("find_meeting_times", "adele", {**W, "duration": -30}, "duration", DURATION, id="duration-negative"),
    case("find_meeting_times", "adele", {**W, "duration": "-1h"}, "duration", ("longer than zero",),
         id="duration-negative-text"),
    case("find_meeting_times", "adele", {**W, "duration": "10h"}, "duration", ("widen the window",),
         id="duration-longer-than-window"),
    case("find_meeting_times", "adele", {**W, "start": "2024-03-04T08:00", "end": "2024-03-04T17:00"}, "end", PAST,
         id="window-in-the-past"),
    case("find_meeting_times", "adele", {"attendees": [DANA], "start": "2024-03-04"}, "start", PAST,
         id="start-in-the-past-no-end"),
    case("find_meeting_times", "adele", {**W, "end": "2027-03-02T17:00"}, "end", LATER, id="end-before-start"),
    case("find_meeting_times", "adele", {**W, "end": "2027-06-30"}, "end", ("at most 62 days",),
         id="window-too-long"),
    case("find_meeting_times", "adele", {**W, "start": "next monday"}, "start", ("iso 8601",), id="not-a-time"),
    case("find_meeting_times", "adele", {**W, "hours": "weekends"}, "hours", ("'work', 'personal'",),
         id="bad-hours"),
    case("find_meeting_times", "adele", {**W, "max_candidates": 0}, "max_candidates", ("greater than or equal",),
         id="max-candidates-zero"),
    case("find_meeting_times", "adele", {**W, "time_zone": "Mars/Base"}, "time_zone", ("iana name",),
         id="unknown-zone"),
    # get_schedule
    case("get_schedule", "adele", {"people": ["Zebulon"], "start": "2027-03-01", "end": "2027-03-02"}, "people[0]",
         ("find_people",), id="unknown-name"),
    case("get_schedule", "adele", {"people": ["Alex"], "start": "2027-03-01", "end": "2027-03-02"}, "people[0]",
         ("give the email address",), id="ambiguous-name"),
    case("get_schedule", "adele", {"people": [DANA], "start": "2027-03-02", "end": "2027-03-01"}, "end", LATER,
         id="end-before-start"),
    case("get_schedule", "adele", {"people": [DANA], "start": "2027-03-01", "end": "2027-06-01"}, "end",
         ("at most 62 days",), id="window-too-long"),
    case("get_schedule", "adele", {"people": [DANA], "start": "2027-03-01"}, "end", ("required",), id="missing-end"),
    case("get_schedule", "adele", {"people": [DANA], "start": "2027-03-01", "end": "2027-03-02",
                                   "interval_minutes": 1}, "interval_minutes", ("greater than or equal to 5",),
         id="interval-too-small"),
    # list_rooms
    case("list_rooms", "adele", {"room_list": "nowhere@contoso.com"}, "room_list", ("list_room_lists",),
         id="unknown-room-list"),
    case("list_rooms", "adele", {"room_list": HOOD}, "room_list", ("list_room_lists",), id="a-room-not-a-list"),
    case("list_rooms", "adele", {"room_list": "Building 1"}, "room_list", ("list_room_lists",), id="not-an-address"),
    case("list_rooms", "adele", {"min_capacity": 0}, "min_capacity", ("greater than or equal to 1",),
         id="min-capacity-zero"),
    # list_room_lists
    case("list_room_lists", "adele", {"building": "1"}, "building", ("extra inputs",), id="unknown-argument"),
    # accept / tentatively accept / decline
    case("accept_event", "adele", {"event": "{mine}"}, "event", ("update_event", "cancel_event"),
         id="organizer-responds"),
    case("tentatively_accept_event", "adele", {"event": "{mine}"}, "event", ("cancel_event",),
         id="organizer-responds"),
    case("decline_event", "adele", {"event": "{mine}"}, "event", ("cancel_event",), id="organizer-responds"),
    case("accept_event", "dana", {"event": "ev_zzzzzz"}, "event", EVENT_SOURCES, id="unknown-handle"),
    case("tentatively_accept_event", "dana", {"event": "ev_zzzzzz"}, "event", EVENT_SOURCES, id="unknown-handle"),
    case("decline_event", "dana", {"event": "ev_zzzzzz"}, "event", EVENT_SOURCES, id="unknown-handle"),
    case("accept_event", "dana", {"event": "{copy}", "send_response": "no"}, "send_response", ("valid boolean",),
         id="wrong-type"),
    case("decline_event", "dana", {"event": "{copy}", "proposed_start": "2027-03-03T15:00"}, "proposed_end",
         ("give both",), id="proposed-start-without-end"),
    case("tentatively_accept_event", "dana", {"event": "{copy}", "proposed_end": "2027-03-03T16:00"},
         "proposed_start", ("give both",), id="proposed-end-without-start"),
    case("tentatively_accept_event", "dana", {"event": "{copy}", "proposed_start": "2027-03-03T16:00",
                                              "proposed_end": "2027-03-03T15:00"}, "proposed_end", ("not after",),
         id="proposed-end-before-start"),
    case("decline_event", "dana", {"event": "{copy}", "proposed_start": "tomorrow", "proposed_end": "2027-03-03T16:00"},
         "proposed_start", ("iso 8601",), id="proposed-not-a-time"),
    case("decline_event", "dana", {"event": "{copy}", "send_response": False, "proposed_start": "2027-03-03T15:00",
                                   "proposed_end": "2027-03-03T16:00"}, "send_response", ("send_response=true",),
         id="proposal-not-sent"),
    case("accept_event", "dana", {"event": "{copy}", "comment": "x" * 4001}, "comment", ("at most 4000",),
         id="comment-too-long"),
    # forward
    case("forward_event", "dana", {"event": "{copy}", "to": ["Fanny"]}, "to[0]", ("find_people",),
         id="to-not-an-address"),
    case("forward_event", "dana", {"event": "{copy}", "to": [FANNY, "fanny at contoso"]}, "to[1]",
         ("find_people",), id="second-not-an-address"),
    case("forward_event", "dana", {"event": "{copy}", "to": []}, "to", ("at least 1",), id="nobody"),
    case("forward_event", "dana", {"event": "ev_zzzzzz", "to": [FANNY]}, "event", EVENT_SOURCES,
         id="unknown-handle"),
    # cancel
    case("cancel_event", "dana", {"event": "{copy}", "comment": "not coming"}, "event", NOT_ORGANIZER_FIX,
         id="attendee-cancels"),
    case("cancel_event", "adele", {"event": "ev_zzzzzz"}, "event", EVENT_SOURCES, id="unknown-handle"),
    case("cancel_event", "adele", {"event": "{copy}"}, "event", ("pass mailbox",), id="someone-elses-event"),
    case("accept_event", "fanny", {"event": "{copy}"}, "event", ("pass mailbox",), id="someone-elses-event"),
    case("forward_event", "fanny", {"event": "{copy}", "to": [ALEX]}, "event", ("pass mailbox",),
         id="someone-elses-event"),
]


def test_every_meeting_tool_has_bad_input_cases() -> None:
    assert {p.values[0] for p in CASES} == set(MEETING_TOOLS)


def names(message: str, argument: str) -> bool:
    return re.search(rf"(?<![A-Za-z0-9_.\[]){re.escape(argument)}(?![A-Za-z0-9_\[])", message) is not None


def fix_names_real_tools(message: str) -> None:
    message = re.sub(r"\[type=[^\]]*\]|https?://\S+", "", message)
    for name in re.findall(r"\b((?:list|get|create|update|delete|find|cancel|accept|decline|forward|"
                           r"tentatively)_[a-z_]+)\b", message):
        assert name in TOOL_NAMES, f"the fix points to {name!r}, which this server does not have: {message}"


@pytest.fixture(scope="module")
async def bad_world(office_server: Office) -> dict[str, str]:
    """One meeting, Adele's with Dana (the placeholders {mine} and {copy}); part of every case's template."""
    o = office_server
    o.restore()
    mine = await o.meeting("Bad input meeting", "2027-03-03", "10:00", "11:00", [DANA])
    copy = await o.handle("dana", "Bad input meeting", "2027-03-03")
    world = sqlite3.connect(":memory:")
    o.store.db.backup(world)
    o.world = world
    return {"mine": mine, "copy": copy}


def fill(value: Any, world: dict[str, str]) -> Any:
    if isinstance(value, str):
        return re.sub(r"\{(\w+)\}", lambda m: world[m.group(1)], value)
    if isinstance(value, list):
        return [fill(v, world) for v in value]
    if isinstance(value, dict):
        return {k: fill(v, world) for k, v in value.items()}
    return value


@pytest.mark.parametrize(("tool", "who", "args", "argument", "fix"), CASES)
async def test_bad_input_is_rejected_names_the_argument_and_changes_nothing(
        office_server: Office, bad_world: dict[str, str], tool: str, who: str, args: dict[str, Any], argument: str,
        fix: tuple[str, ...]) -> None:
    o = office_server
    assert o.world is not None
    o.store.restore_from(o.world)
    before = o.snapshot()
    assert before["outbox"], "the world's invitation is in the outbox"
    message = await o.fail(who, tool, fill(args, bad_world))
    assert o.snapshot() == before, "a rejected call changed the sandbox"
    assert names(message, argument), f"the message does not name {argument!r}: {message}"
    assert any(f in message.lower() for f in fix), f"the message does not say how to fix it ({fix}): {message}"
    fix_names_real_tools(message)
    # Still serving: the meeting is there for both.
    assert (await o.handle("dana", "Bad input meeting", "2027-03-03")) == bad_world["copy"]


async def test_a_cancelled_meeting_cannot_be_answered_or_forwarded(office: Office) -> None:
    o = office
    subject = "Cancelled probe"
    mine = await o.meeting(subject, "2027-03-04", "13:00", "14:00", [DANA])
    copy = await o.handle("dana", subject, "2027-03-04")
    await o.call("adele", "cancel_event", {"event": mine})
    before = o.snapshot()
    for tool, args in (("accept_event", {"event": copy}), ("decline_event", {"event": copy}),
                       ("forward_event", {"event": copy, "to": [FANNY]})):
        message = await o.fail("dana", tool, args)
        assert names(message, "event") and "cancel" in message.lower(), (tool, message)
    assert o.snapshot() == before
