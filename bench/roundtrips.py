"""Graph round trips per plain-language request, with an emulated Graph latency.

The ten requests of tests/e2e/test_natural_language.py and nine more (a series ended or cut, one occurrence, a
search, a message, a proposed time, a person, two syncs of changes), scripted as the tool calls a model makes
(reading handles and times from earlier results), run against the real server (in process, built as
``serve`` builds it) on a sandbox whose every HTTP round trip is delayed by ``--latency`` seconds
(default 0.15: an httpx transport in front of the sandbox, this file's :class:`Delayed`). For each
request it prints: the tool calls, the Graph requests made (each request of a ``$batch`` counted),
the HTTP round trips they took, the sequential round trips (a tool call's longest chain of round trips
each sent after the one before was answered; the calls' chains added), the most one tool call waited on, and
the wall time; each twice: cold (every tool call the first of a fresh session: nothing cached) and warm (one
session whose caches are filled).

    python bench/roundtrips.py [--latency 0.15] [-v]
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import logging
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx
from mcp import Client

from outlook_calendar_mcp.clock import Clock
from outlook_calendar_mcp.config import Settings
from outlook_calendar_mcp.ids import Handles
from outlook_calendar_mcp.sandbox import Sandbox
from outlook_calendar_mcp.server import build_graph, create_server

NOW = "2027-03-01T08:30:00-08:00"  # a Monday morning in Los Angeles: the seeded week lies ahead


class Delayed(httpx.AsyncBaseTransport):
    """The sandbox behind a network: every HTTP round trip waits ``latency`` seconds; counts what crossed."""

    def __init__(self, inner: httpx.AsyncBaseTransport, latency: float) -> None:
        self.inner, self.latency = inner, latency
        self.round_trips = self.requests = 0
        self.log: list[str] = []
        self.waves = 0  # sequential round trips of the tool calls so far (each call's deepest chain, added)
        self.deepest = self.finished = 0  # within the current tool call (see depth)

    def next_call(self) -> None:
        """A tool call begins: its chain of round trips starts from nothing."""
        self.waves += self.deepest
        self.deepest = self.finished = 0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.round_trips += 1
        self.log.append(f"{request.method} {request.url.path.split('/v1.0/', 1)[-1]}")
        self.requests += len(json.loads(request.content)["requests"]) if request.url.path.endswith("$batch") else 1
        # Its depth: one more than the deepest round trip already answered (it may have waited on that one).
        # Round trips in flight together share a depth: the longest chain is what the call waited on.
        depth = self.finished + 1
        self.deepest = max(self.deepest, depth)
        try:
            await asyncio.sleep(self.latency)
            return await self.inner.handle_async_request(request)
        finally:
            self.finished = max(self.finished, depth)


class Run:
    """One plain-language request: a server of its own on a fresh sandbox, its tool calls counted."""

    def __init__(self, client: Client, wire: Delayed) -> None:
        self.client, self.wire = client, wire
        self.calls: list[tuple[str, int]] = []
        self.sent: list[tuple[str, list[str]]] = []

    async def __call__(self, tool: str, args: dict[str, Any] | None = None) -> dict[str, Any]:
        sent = len(self.wire.log)
        self.wire.next_call()
        result = await self.client.call_tool(tool, args or {})
        self.calls.append((tool, self.wire.deepest))
        self.sent.append((tool, self.wire.log[sent:]))
        if result.is_error:
            raise RuntimeError(f"{tool}: {' '.join(getattr(c, 'text', '') for c in result.content)}")
        return result.structured_content or {}


def monday(settings: dict[str, Any]) -> dt.date:
    today = dt.date.fromisoformat(settings["today"])
    return today - dt.timedelta(days=today.weekday())


def first(events: list[dict[str, Any]], subject: str) -> dict[str, Any]:
    return next(e for e in events if e["subject"].startswith(subject))


async def whats_on_tomorrow(m: Run) -> None:
    s = await m("get_mailbox_settings")
    day = dt.date.fromisoformat(s["today"]) + dt.timedelta(days=1)
    await m("calendar_view", {"start": day.isoformat(), "end": (day + dt.timedelta(days=1)).isoformat()})


async def move_one_on_one(m: Run) -> None:
    mon = monday(await m("get_mailbox_settings"))
    week = await m("calendar_view", {"start": mon.isoformat(), "end": (mon + dt.timedelta(days=5)).isoformat()})
    event = first(week["events"], "1:1 Adele / Alex")
    start = dt.datetime.fromisoformat(event["start"])
    await m("update_event", {"event": event["handle"], "start": (start + dt.timedelta(days=3 - start.weekday()))
                             .isoformat()})


async def hour_with_dana_and_fanny(m: Run) -> None:
    rooms = (await m("list_rooms", {"min_capacity": 6}))["rooms"]
    nxt = dt.date(2027, 3, 8)
    times = await m("find_meeting_times", {"attendees": ["Dana", "Fanny"], "duration": "1h",
                                           "start": nxt.isoformat(), "end": (nxt + dt.timedelta(days=5)).isoformat(),
                                           "rooms": [r["email"] for r in rooms]})
    best = times["suggestions"][0]
    room = next(r for r in rooms if r["name"] in best["rooms"])
    await m("create_event", {"subject": "Planning with Dana and Fanny", "start": best["start"], "end": best["end"],
                             "location": room["name"], "attendees": [{"email": a} for a in times["attendees"]]
                             + [{"email": room["email"], "type": "resource"}]})


async def decline_friday_afternoon(m: Run) -> None:
    friday = dt.date(2027, 3, 5)
    view = await m("calendar_view", {"start": f"{friday}T12:00", "end": f"{friday}T18:00"})
    for event in [e for e in view["events"] if e.get("organizer")]:
        await m("decline_event", {"event": event["handle"], "comment": "Out on Friday afternoons, sorry."})


async def free_two_hours(m: Run) -> None:
    mon = monday(await m("get_mailbox_settings"))
    sat = mon + dt.timedelta(days=5)
    await m("find_meeting_times", {"attendees": ["adele@contoso.com"], "duration": "2h", "start": mon.isoformat(),
                                   "end": sat.isoformat()})
    await m("calendar_view", {"start": mon.isoformat(), "end": sat.isoformat()})


async def accept_planning(m: Run) -> None:
    mon = dt.date(2027, 3, 1)
    view = await m("calendar_view", {"start": mon.isoformat(), "end": (mon + dt.timedelta(days=5)).isoformat()})
    await m("accept_event", {"event": first(view["events"], "Quarterly planning")["handle"],
                             "comment": "See you there"})


async def who_has_not_answered(m: Run) -> None:
    mon = monday(await m("get_mailbox_settings"))
    view = await m("calendar_view", {"start": mon.isoformat(), "end": (mon + dt.timedelta(days=5)).isoformat()})
    await m("get_event", {"event": first(view["events"], "Quarterly planning")["handle"]})


async def focus_time(m: Run) -> None:
    wed = monday(await m("get_mailbox_settings")) + dt.timedelta(days=2)
    await m("create_event", {"subject": "Focus time", "start": f"{wed}T09:00", "end": f"{wed}T11:00",
                             "show_as": "busy", "reminder_minutes": -1})
    await m("get_schedule", {"people": ["adele@contoso.com"], "start": f"{wed}T09:00", "end": f"{wed}T11:00"})


async def cancel_customer_call(m: Run) -> None:
    mon = monday(await m("get_mailbox_settings"))
    view = await m("calendar_view", {"start": mon.isoformat(), "end": (mon + dt.timedelta(days=5)).isoformat()})
    await m("cancel_event", {"event": first(view["events"], "Customer call with Fabrikam")["handle"],
                             "comment": "We need to reschedule, sorry."})


async def is_dana_free(m: Run) -> None:
    wed = monday(await m("get_mailbox_settings")) + dt.timedelta(days=2)
    await m("get_schedule", {"people": ["Dana"], "start": f"{wed}T10:00", "end": f"{wed}T11:00"})


async def end_weekly_sync(m: Run) -> None:
    mon = monday(await m("get_mailbox_settings"))
    view = await m("calendar_view", {"start": mon.isoformat(), "end": (mon + dt.timedelta(days=5)).isoformat()})
    await m("update_event", {"event": first(view["events"], "Weekly team sync")["series"],
                             "series_ends_on": (mon + dt.timedelta(days=30)).isoformat()})


async def rename_this_weeks_one_on_one(m: Run) -> None:
    mon = monday(await m("get_mailbox_settings"))
    view = await m("calendar_view", {"start": mon.isoformat(), "end": (mon + dt.timedelta(days=5)).isoformat()})
    await m("update_event", {"event": first(view["events"], "1:1 Adele / Alex")["handle"],
                             "subject": "1:1 Adele / Alex (roadmap)", "scope": "occurrence"})


async def next_syncs(m: Run) -> None:
    found = await m("list_events", {"subject_contains": "Weekly team sync"})
    mon = dt.date(2027, 3, 1)
    await m("list_event_instances", {"event": found["events"][0]["handle"], "start": mon.isoformat(),
                                     "end": (mon + dt.timedelta(days=28)).isoformat()})


async def running_late(m: Run) -> None:
    mon = monday(await m("get_mailbox_settings"))
    view = await m("calendar_view", {"start": mon.isoformat(), "end": (mon + dt.timedelta(days=5)).isoformat()})
    await m("message_attendees", {"event": first(view["events"], "Customer call with Fabrikam")["handle"],
                                  "text": "Running 10 minutes late, sorry!"})


async def stop_syncs_from_this_one(m: Run) -> None:
    mon = monday(await m("get_mailbox_settings"))
    view = await m("calendar_view", {"start": mon.isoformat(), "end": (mon + dt.timedelta(days=5)).isoformat()})
    await m("delete_event", {"event": first(view["events"], "Weekly team sync")["handle"],
                             "scope": "this_and_following"})


async def maybe_propose_later(m: Run) -> None:
    friday = dt.date(2027, 3, 5)
    view = await m("calendar_view", {"start": f"{friday}T12:00", "end": f"{friday}T18:00"})
    event = next(e for e in view["events"] if e.get("organizer"))
    start = dt.datetime.fromisoformat(event["start"]).replace(tzinfo=None) + dt.timedelta(days=3)
    await m("tentatively_accept_event", {"event": event["handle"], "proposed_start": start.isoformat(),
                                         "proposed_end": (start + dt.timedelta(hours=1)).isoformat()})


async def who_is_dana(m: Run) -> None:
    await m("find_people", {"query": "Dana"})


async def what_changed_since_i_looked(m: Run) -> None:
    await m("sync_events")  # the first look ever: the week from today, in the mailbox's zone
    await m("sync_events")  # later: what changed since (the window and the delta link are kept)


async def track_next_week(m: Run) -> None:
    # next week's bounds with the offsets an earlier result showed (Los Angeles: PST, then PDT from the 14th)
    await m("sync_events", {"start": "2027-03-08T00:00:00-08:00", "end": "2027-03-15T00:00:00-07:00"})
    await m("sync_events", {"restart": True})  # list the whole (remembered) window again


SCRIPTS: list[tuple[str, str | None, Callable[[Run], Awaitable[None]]]] = [
    ("What's on tomorrow?", None, whats_on_tomorrow),
    ("Move my 1:1 with Alex to Thursday, same time", None, move_one_on_one),
    ("Find an hour with Dana and Fanny next week, book a room for six", None, hour_with_dana_and_fanny),
    ("Decline everything on Friday afternoon with a note (Dana)", "dana@contoso.com", decline_friday_afternoon),
    ("When am I free for two hours this week?", None, free_two_hours),
    ("Accept the quarterly planning invitation (Dana)", "dana@contoso.com", accept_planning),
    ("Who has not answered the quarterly planning invite?", None, who_has_not_answered),
    ("Block focus time on Wednesday morning", None, focus_time),
    ("Cancel the customer call and tell them why", None, cancel_customer_call),
    ("Is Dana free Wednesday at ten?", None, is_dana_free),
    # beyond the ten of the test: a series, one occurrence, a search, a person
    ("End the weekly sync in a month", None, end_weekly_sync),
    ("Rename this week's 1:1 with Alex (that one only)", None, rename_this_weeks_one_on_one),
    ("When are the next weekly syncs?", None, next_syncs),
    ("Tell the people on the customer call I'm running late", None, running_late),
    ("No more weekly syncs from this one on", None, stop_syncs_from_this_one),
    ("Maybe to Friday's meeting, propose Monday instead (Dana)", "dana@contoso.com", maybe_propose_later),
    ("Who is Dana?", None, who_is_dana),
    ("What changed on my calendar since I last looked? (twice)", None, what_changed_since_i_looked),
    ("Track next week's changes (with offsets), list them again", None, track_next_week),
]


class Fresh:
    """Each tool call as the first call of a fresh session (cold caches): a new server and Graph client per
    call, on the same sandbox (and the same handle table, which persists on disk between sessions)."""

    def __init__(self, settings: Settings, clock: Clock, behind: Any, wire: Delayed) -> None:
        self.settings, self.clock, self.behind, self.wire = settings, clock, behind, wire
        self.handles = Handles()
        self.calls: list[tuple[str, int]] = []
        self.sent: list[tuple[str, list[str]]] = []
        self.wall = 0.0

    async def __call__(self, tool: str, args: dict[str, Any] | None = None) -> dict[str, Any]:
        graph = build_graph(self.settings, clock=self.clock, sandbox=self.behind)
        try:
            async with Client(create_server(self.settings, graph, handles=self.handles)) as client:
                one = Run(client, self.wire)
                began = time.perf_counter()
                try:
                    return await one(tool, args)
                finally:
                    self.wall += time.perf_counter() - began
                    self.calls += one.calls
                    self.sent += one.sent
        finally:
            await graph.aclose()


async def run_one(
    tmp: Path, user: str | None, script: Callable[[Run], Awaitable[None]], latency: float, *, cold: bool
) -> dict:
    """One scripted request on a fresh sandbox. Warm: one session whose caches a first call
    (get_mailbox_settings, not counted) has filled, as for a user's later requests. Cold: every tool call
    as the first call of a fresh session (:class:`Fresh`)."""
    clock = Clock(dt.datetime.fromisoformat(NOW))
    sandbox = Sandbox(":memory:", clock=clock)
    wire = Delayed(sandbox.transport(), latency)

    class Behind:  # build_graph asks the sandbox for its transport: hand it the delayed one
        def transport(self) -> httpx.AsyncBaseTransport:
            return wire

    settings = Settings(backend="sandbox", sandbox_db=":memory:", data_dir=tmp, cache_dir=tmp, send_mail=True,
                        **({"sandbox_user": user} if user else {}))
    if cold:
        fresh = Fresh(settings, clock, Behind(), wire)
        await script(fresh)  # type: ignore[arg-type]
        calls, sent, wall = fresh.calls, fresh.sent, fresh.wall
    else:
        graph = build_graph(settings, clock=clock, sandbox=Behind())  # type: ignore[arg-type]
        try:
            async with Client(create_server(settings, graph, handles=Handles())) as client:
                await client.call_tool("get_mailbox_settings", {})  # what a session caches, read once
                wire.round_trips = wire.requests = wire.waves = wire.deepest = wire.finished = 0
                wire.log.clear()
                model = Run(client, wire)
                began = time.perf_counter()
                await script(model)
                wall = time.perf_counter() - began
                calls, sent = model.calls, model.sent
        finally:
            await graph.aclose()
    return {"calls": calls, "requests": wire.requests, "round_trips": wire.round_trips,
            "sequential": sum(n for _, n in calls), "worst_call": max(n for _, n in calls), "wall_s": wall,
            "sent": sent}


async def main_async(latency: float, verbose: bool) -> int:
    print(f"Graph round trips per plain-language request (emulated latency {latency * 1000:.0f} ms per round trip)")
    print(f"{'':62} {'-------- cold --------':>26}   {'-------- warm --------':>26}")
    print(f"{'request':62} {'req':>4} {'seq':>4} {'worst':>6} {'wall s':>7}    {'req':>4} {'seq':>4} {'worst':>6} "
          f"{'wall s':>7}")
    over: list[str] = []
    with tempfile.TemporaryDirectory(prefix="bench-roundtrips-") as name:
        for i, (label, user, script) in enumerate(SCRIPTS):
            c = await run_one(Path(name) / f"{i}c", user, script, latency, cold=True)
            w = await run_one(Path(name) / f"{i}w", user, script, latency, cold=False)
            print(f"{label:62} {c['requests']:>4} {c['sequential']:>4} {c['worst_call']:>6} {c['wall_s']:>7.2f}    "
                  f"{w['requests']:>4} {w['sequential']:>4} {w['worst_call']:>6} {w['wall_s']:>7.2f}")
            for kind, r in (("cold", c), ("warm", w)):
                print(f"{'':4}{kind}: " + ", ".join(f"{tool} {n}" for tool, n in r["calls"]))
                over += [f"{label} ({kind}): {tool} {n}" for tool, n in r["calls"] if n > 2]
                for tool, lines in r["sent"] if verbose else ():
                    print(f"{'':8}{tool}: " + "; ".join(lines))
    print("req: Graph requests (each of a $batch counted); seq: sequential Graph round trips the whole request "
          "waited on; worst: the most one tool call waited on (target: 2). Cold: every tool call the first of a "
          "fresh session; warm: in a session whose caches are filled")
    print("over 2 in one tool call: " + ("; ".join(over) if over else "none"))
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--latency", type=float, default=0.15, help="seconds added to every Graph round trip")
    parser.add_argument("-v", "--verbose", action="store_true", help="list each tool call's Graph round trips")
    args = parser.parse_args(argv)
    logging.getLogger("httpx").setLevel(logging.WARNING)  # one line per request would drown the table
    return asyncio.run(main_async(args.latency, args.verbose))


if __name__ == "__main__":
    sys.exit(main())
