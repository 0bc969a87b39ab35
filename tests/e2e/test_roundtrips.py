"""Graph round trips a tool call waits on (issue 13, Must 5): at most 2 sequential ones, also as a session's
first call, when nothing is cached yet; and the same results cold as warm.

Each test opens sessions on one sandbox: a warm one (the mailbox's settings read first, as a session's later
calls find them) and fresh ones (a new server and Graph client per call, the handle table shared as it is on
disk). A transport in front of the sandbox counts the requests that crossed the wire and the longest chain of
them each sent after the one before was answered. Counts, not timings, are asserted.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import anyio
import httpx
import pytest
from mcp import Client

from outlook_calendar_mcp.clock import Clock
from outlook_calendar_mcp.ids import Handles
from outlook_calendar_mcp.sandbox import Sandbox
from outlook_calendar_mcp.server import SANDBOX_ORIGIN, build_graph, create_server

from .conftest import ME, sandbox_settings, structured

pytestmark = [pytest.mark.anyio, pytest.mark.clock]


class Waves(httpx.AsyncBaseTransport):
    """The sandbox's transport, counting what crosses: each request, and the sequential round trips of a tool
    call (its longest chain of requests each sent after the one before was answered: a request's depth is
    one more than the deepest answered so far). Each request stays in flight a moment, so requests sent
    together overlap whatever the scheduling."""

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self.inner = inner
        self.deepest = self.finished = 0
        self.sent: list[str] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        depth = self.finished + 1
        self.deepest = max(self.deepest, depth)
        inner = ""
        if request.url.path.endswith("$batch"):
            inner = " " + ",".join(r["method"] for r in json.loads(request.content)["requests"])
        self.sent.append(f"{request.method} {request.url.path.split('/v1.0/', 1)[-1]}{inner}")
        try:
            await anyio.sleep(0.02)
            return await self.inner.handle_async_request(request)
        finally:
            self.finished = max(self.finished, depth)


class World:
    """One sandbox, its counted wire, and sessions on it."""

    def __init__(self, tmp: Path, clock: Clock) -> None:
        self.tmp, self.clock = tmp, clock
        self.sandbox = Sandbox(":memory:", clock=clock)
        self.wire = Waves(self.sandbox.transport())
        self.handles = Handles()

    @contextlib.asynccontextmanager
    async def session(self) -> AsyncIterator[Client]:
        wire = self.wire

        class Behind:
            def transport(self) -> httpx.AsyncBaseTransport:
                return wire

        settings = sandbox_settings(self.tmp, send_mail=True)
        graph = build_graph(settings, clock=self.clock, sandbox=Behind())  # type: ignore[arg-type]
        try:
            async with Client(create_server(settings, graph, handles=self.handles)) as client:
                yield client
        finally:
            await graph.aclose()

    async def counted(self, client: Client, tool: str, args: dict[str, Any]) -> tuple[dict[str, Any], int, list[str]]:
        sent = len(self.wire.sent)
        self.wire.deepest = self.wire.finished = 0
        result = structured(await client.call_tool(tool, args))
        return result, self.wire.deepest, self.wire.sent[sent:]

    async def cold(self, tool: str, args: dict[str, Any]) -> tuple[dict[str, Any], int, list[str]]:
        """``tool`` as the first call of a fresh session."""
        async with self.session() as client:
            return await self.counted(client, tool, args)


@pytest.fixture
async def world(tmp_path: Path, clock: Clock) -> World:
    return World(tmp_path, clock)


def monday(clock: Clock) -> dt.date:
    today = clock.today(dt.timezone(dt.timedelta(hours=-8)))
    return today - dt.timedelta(days=today.weekday())


@pytest.mark.parametrize(
    "window",
    [
        {},  # today and the next 7 days: "today" is the zone's, unknown on a first call
        {"start": "tomorrow", "days": 1},
        {"start": "monday", "days": 5},
        {"start": "monday", "days": 7, "time_zone": "Asia/Tokyo"},
        {"start": "monday-offset", "days": 2},
    ],
)
async def test_calendar_view_cold_is_two_round_trips_and_shows_what_a_warm_one_does(
    world: World, window: dict[str, Any]
) -> None:
    args: dict[str, Any] = {}
    mon = monday(world.clock)
    if window.get("start") == "tomorrow":
        async with world.session() as client:
            today = dt.date.fromisoformat(structured(await client.call_tool("get_mailbox_settings", {}))["today"])
        args = {"start": (today + dt.timedelta(days=1)).isoformat(), "end": (today + dt.timedelta(days=2)).isoformat()}
    elif window.get("start") == "monday":
        args = {"start": mon.isoformat(), "end": (mon + dt.timedelta(days=window["days"])).isoformat()}
    elif window.get("start") == "monday-offset":
        args = {"start": f"{mon}T09:00:00+05:30", "end": f"{mon + dt.timedelta(days=2)}T09:00:00+05:30"}
    if "time_zone" in window:
        args["time_zone"] = window["time_zone"]
    cold, waves, sent = await world.cold("calendar_view", args)
    assert waves <= 2, sent
    async with world.session() as client:
        await client.call_tool("get_mailbox_settings", {})
        warm, warm_waves, warm_sent = await world.counted(client, "calendar_view", args)
    assert warm_waves <= 2, warm_sent
    assert cold == warm
    if window.get("start") == "monday":
        assert cold["events"], "the seeded week shows events"


async def test_calendar_view_cold_all_day_events_at_the_edges_match_warm(world: World) -> None:
    """All-day events are dates: on a first call they are placed by the zone they were made in."""
    mon = monday(world.clock)
    async with world.session() as client:
        for i, zone in enumerate(["Pacific/Kiritimati", "Etc/GMT+12", "America/Los_Angeles"]):
            day = mon + dt.timedelta(days=i)
            structured(await client.call_tool("create_event", {
                "subject": f"All day {i}", "start": day.isoformat(), "all_day": True, "time_zone": zone,
                "show_as": "oof"}))
    shown = set()
    for d in range(4):
        day = mon + dt.timedelta(days=d)
        args = {"start": day.isoformat(), "end": (day + dt.timedelta(days=1)).isoformat()}
        cold, waves, sent = await world.cold("calendar_view", args)
        assert waves <= 2, sent  # placed by the zone each was made in (originalStartTimeZone)
        async with world.session() as client:
            await client.call_tool("get_mailbox_settings", {})
            warm, _, _ = await world.counted(client, "calendar_view", args)
        assert cold == warm
        shown |= {e["subject"] for e in cold["events"] if e["subject"].startswith("All day")}
    assert shown == {"All day 0", "All day 1", "All day 2"}


async def test_create_event_cold_is_two_round_trips_finds_conflicts_and_refuses_duplicates(world: World) -> None:
    mon = monday(world.clock)
    week = (await world.cold("calendar_view", {"start": mon.isoformat(),
                                               "end": (mon + dt.timedelta(days=5)).isoformat()}))[0]
    busy = next(e for e in week["events"] if not e.get("all_day") and e.get("show_as") in (None, "oof"))
    start = dt.datetime.fromisoformat(busy["start"])
    naive = start.replace(tzinfo=None).isoformat(timespec="minutes")
    end = (start + dt.timedelta(minutes=30)).replace(tzinfo=None).isoformat(timespec="minutes")
    args = {"subject": "Overlapping on purpose", "start": naive, "end": end}
    created, waves, sent = await world.cold("create_event", args)
    assert waves <= 2, sent
    assert sent[-1].startswith("POST") and not any(s.startswith("GET") for s in sent[2:]), sent
    assert busy["subject"] in [c["subject"] for c in created.get("conflicts") or []]
    assert created["event"]["start"] == start.isoformat()

    async with world.session() as client:
        refused = await client.call_tool("create_event", args)
    assert refused.is_error and "already exists at that time" in refused.content[0].text  # type: ignore[union-attr]


async def test_update_event_is_two_round_trips_cold_and_warm_and_reports_the_new_conflicts(world: World) -> None:
    mon = monday(world.clock)
    week = (await world.cold("calendar_view", {"start": mon.isoformat(),
                                               "end": (mon + dt.timedelta(days=5)).isoformat()}))[0]
    timed = [e for e in week["events"] if not e.get("all_day") and e.get("show_as") in (None, "oof")]
    mover, target = timed[0], next(e for e in timed[1:] if e["start"][:10] != timed[0]["start"][:10])
    new_start = dt.datetime.fromisoformat(target["start"]).replace(tzinfo=None).isoformat(timespec="minutes")
    moved, waves, sent = await world.cold("update_event", {"event": mover["handle"], "start": new_start})
    assert waves <= 2, sent
    assert [s.split()[0] for s in sent].count("PATCH") == 1
    assert not any("$select=id" in s for s in sent)  # the PATCH's etag came with the event's times
    assert moved["event"]["start"] == target["start"]
    assert target["handle"] in [c["handle"] for c in moved.get("conflicts") or []]

    async with world.session() as client:
        await client.call_tool("get_mailbox_settings", {})
        back, waves, sent = await world.counted(client, "update_event", {"event": mover["handle"],
                                                                         "start": mover["start"]})
        assert waves <= 2, sent
        assert back["event"]["start"] == mover["start"]
        renamed, waves, sent = await world.counted(client, "update_event", {"event": mover["handle"],
                                                                            "subject": "Renamed"})
        assert waves <= 2 and renamed["event"]["subject"] == "Renamed", sent


async def test_series_changes_are_two_round_trips_cold(world: World) -> None:
    mon = monday(world.clock)
    weeks = (await world.cold("calendar_view", {"start": mon.isoformat(),
                                                "end": (mon + dt.timedelta(days=14)).isoformat()}))[0]["events"]
    sync = next(e for e in weeks if e["subject"] == "Weekly team sync")
    last = dt.date.fromisoformat(sync["start"][:10]) + dt.timedelta(days=28)
    ended, waves, sent = await world.cold("update_event", {"event": sync["series"], "series_ends_on": last.isoformat()})
    assert waves <= 2, sent
    assert ended["event"]["repeat"].endswith(f"UNTIL={last:%Y%m%d}")
    assert not any("$select=id" in s for s in sent)  # the PATCH's etag came with the series

    one = next(e for e in weeks if e["subject"] == "1:1 Adele / Alex")
    renamed, waves, sent = await world.cold("update_event", {"event": one["handle"], "subject": "1:1 (roadmap)",
                                                             "scope": "occurrence"})
    assert waves <= 2, sent
    assert renamed["event"]["subject"] == "1:1 (roadmap)" and renamed["event"]["start"] == one["start"]
    after = (await world.cold("calendar_view", {"start": mon.isoformat(),
                                                "end": (mon + dt.timedelta(days=14)).isoformat()}))[0]["events"]
    assert sorted(e["subject"] for e in after if e.get("series") == one["series"]).count("1:1 (roadmap)") == 1


async def test_find_people_asks_both_lists_at_once(world: World) -> None:
    found, waves, sent = await world.cold("find_people", {"query": "Dana"})
    assert waves == 1 and sorted(sent) == ["GET me/people", "GET users"], sent
    assert [p["email"] for p in found["people"]][:1] == ["dana@contoso.com"]


async def test_message_attendees_cold_is_two_round_trips(world: World) -> None:
    mon = monday(world.clock)
    weeks = (await world.cold("calendar_view", {"start": mon.isoformat(),
                                                "end": (mon + dt.timedelta(days=14)).isoformat()}))[0]["events"]
    call = next(e for e in weeks if e["subject"] == "Customer call with Fabrikam")
    sent, waves, wire = await world.cold("message_attendees", {"event": call["handle"], "text": "Late, sorry"})
    assert waves <= 2, wire
    assert wire[-1] == "POST me/sendMail"
    mail = [m for m in world.sandbox.store.outbox() if m["kind"] == "message"]
    assert sorted(m["recipient"] for m in mail) == sorted(sent["notified"]) and sent["notified"]
    when = dt.datetime.fromisoformat(call["start"]).strftime("%Y-%m-%d %H:%M")  # in the mailbox's zone
    assert {m["subject"] for m in mail} == {f"Customer call with Fabrikam ({when})"}


async def test_a_proposed_time_and_cutting_a_series_wait_on_the_round_trips_they_need(world: World) -> None:
    mon = monday(world.clock)
    weeks = (await world.cold("calendar_view", {"start": mon.isoformat(),
                                                "end": (mon + dt.timedelta(days=14)).isoformat()}))[0]["events"]
    invitation = next(e for e in weeks if e.get("organizer") and not e.get("series"))
    start = dt.datetime.fromisoformat(invitation["start"]).replace(tzinfo=None) + dt.timedelta(days=1)
    answered, waves, sent = await world.cold("tentatively_accept_event", {
        "event": invitation["handle"], "proposed_start": start.isoformat(),
        "proposed_end": (start + dt.timedelta(hours=1)).isoformat()})
    assert waves <= 2, sent  # the zone the proposal is read in comes with the meeting
    assert answered["proposed_start"].startswith(start.isoformat())

    syncs = [e for e in weeks if e["subject"] == "Weekly team sync"]
    cut, waves, sent = await world.cold("delete_event", {"event": syncs[-1]["handle"], "scope": "this_and_following"})
    # 3: the occurrence names its series (Graph's ids say nothing), the series' rule and changed occurrences
    # give the day it now ends, then the write.
    assert waves <= 3, sent
    assert cut.get("series_ends_on") or cut.get("note"), cut


@pytest.mark.parametrize("zone", ["Pacific Standard Time", "Pacific/Kiritimati", "Etc/GMT+12", "Asia/Kolkata"])
@pytest.mark.parametrize("how", ["offsets", "utc", "saved", "first-ever"])
async def test_sync_events_cold_is_two_round_trips_and_lists_what_a_warm_one_does(
    world: World, how: str, zone: str
) -> None:
    """A window's first round, the mailbox's zone not known yet: read in UTC together with the zone, then shown
    in the zone, when the window does not depend on it (UTC offsets, or the last window synced); the same
    events, times and dates as a session that knew the zone. All-day events (dates, in the zone they were
    made in, or a series' abbreviated occurrences) and timed series are in the window."""
    async with httpx.AsyncClient(transport=world.sandbox.transport(), base_url=f"{SANDBOX_ORIGIN}/v1.0") as http:
        (await http.patch("/me/mailboxSettings", json={"timeZone": zone},
                          headers={"Authorization": f"Bearer sandbox:{ME}"})).raise_for_status()
    mon = monday(world.clock)
    week = {"start": mon.isoformat(), "end": (mon + dt.timedelta(days=7)).isoformat()}
    async with world.session() as client:
        for i, made_in in enumerate(["Pacific/Kiritimati", "Etc/GMT+12"]):
            structured(await client.call_tool("create_event", {
                "subject": f"All day {i}", "start": (mon + dt.timedelta(days=i)).isoformat(), "all_day": True,
                "time_zone": made_in}))
        structured(await client.call_tool("create_event", {
            "subject": "All-day daily", "start": mon.isoformat(), "all_day": True, "recurrence": "FREQ=DAILY;COUNT=9"}))
        if how == "saved":  # a session synced the week in the mailbox's zone: the window later sessions continue
            structured(await client.call_tool("sync_events", week))
    args: dict[str, Any] = {
        "offsets": {"start": f"{mon}T00:00:00+05:30", "end": f"{mon + dt.timedelta(days=7)}T00:00:00+05:30"},
        "utc": {"start": f"{mon - dt.timedelta(days=1)}T22:00:00Z", "end": f"{mon + dt.timedelta(days=6)}T12:00:00Z"},
        "saved": {},
        "first-ever": {},
    }[how]
    args["restart"] = True  # cold and warm alike list the whole window

    cold, waves, sent = await world.cold("sync_events", args)
    # The very first sync of a calendar without a window waits 3: its default window is today in the mailbox's
    # zone, known only from the first round trip, and a delta round cannot be narrowed afterwards.
    assert waves == (3 if how == "first-ever" else 2), sent
    async with world.session() as client:
        await client.call_tool("get_mailbox_settings", {})
        warm, warm_waves, warm_sent = await world.counted(client, "sync_events", args)
    assert warm_waves == 2, warm_sent  # the first page, then its deltaLink once more
    assert cold == warm
    subjects = [e["subject"] for e in cold["added"]]
    assert subjects.count("All-day daily") >= 2, subjects  # the daily all-day series meets every window
    assert how == "first-ever" or {"All day 0", "All day 1"} & set(subjects), subjects  # those from Monday
    assert any(e.get("kind") == "occurrence" and not e.get("all_day") for e in cold["added"]), cold["added"]

    # the next round, from the saved link, cold: the zone and the link (2), and only what changed
    async with world.session() as client:
        await client.call_tool("get_mailbox_settings", {})
        day = dt.date.fromisoformat(cold["window_start"][:10]) + dt.timedelta(days=2)  # inside the window
        structured(await client.call_tool("create_event", {"subject": "Added between", **{
            k: f"{day}T{h}:00" for k, h in (("start", "10"), ("end", "11"))}}))
    again = {k: v for k, v in args.items() if k != "restart"}
    changed, waves, sent = await world.cold("sync_events", again)
    assert waves <= 2, sent
    assert [e["subject"] for e in changed["added"]] == ["Added between"] and not changed.get("first_sync")
