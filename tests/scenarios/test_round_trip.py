"""A scenario round trip: load a file, seed a sandbox, read everything back through Graph's paths.

:func:`assert_world_matches` walks the scenario model and finds each declared fact through the sandbox's HTTP
API (as an app-only client, or as a group's member): people (names, zone, working hours), rooms and their
lists, groups and who may open their calendars, sharing, and every event: its local start and end in its
zone, all-day length, showAs, sensitivity, importance, categories, body, location and room, attendees and
their answers on both sides (the organizer's tally, the attendee's copy, a proposed new time), series
patterns and ranges, moved and cancelled occurrences. It runs on the everything file (as YAML and as JSON)
and on the packaged demo organization.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import yaml

from outlook_calendar_mcp import timezones as tz
from outlook_calendar_mcp.clock import Clock
from outlook_calendar_mcp.sandbox import Sandbox
from outlook_calendar_mcp.sandbox.scenarios import Scenario, anchor_day, load, packaged, resolve_day, seed
from outlook_calendar_mcp.sandbox.scenarios.model import Attendee, Reply
from tests.sandbox.conftest import Client

DATA = Path(__file__).parent / "data"
NOW = dt.datetime(2027, 3, 9, 12, 0, tzinfo=dt.UTC)  # a Tuesday: the week of the everything file's anchor


def seeded(scenario: Scenario, clock: Clock) -> Sandbox:
    sandbox = Sandbox(":memory:", clock=clock, seed=False)
    seed(sandbox.store, scenario, clock)
    return sandbox


def _iana(zone: str) -> str:
    return tz.iana_name(zone)


def _found(client: Client, path: str, **params: str) -> list[dict[str, Any]]:
    r = client.get(path, params={"$top": "1000", **params})
    assert r.status_code == 200, (path, r.text)
    return r.json()["value"]


def assert_world_matches(scenario: Scenario, sandbox: Sandbox, clock: Clock) -> int:
    """Every fact of ``scenario`` as the sandbox's Graph API gives it back; returns how many were checked."""
    app = Client(sandbox.app, "sandbox-app")
    anchor = anchor_day(scenario, clock)
    facts = 0

    def addr(alias: str) -> str:
        return f"{alias}@{scenario.domain}"

    zones = {p.alias: p.zone for p in scenario.people}
    for p in scenario.people:
        user = app.get(f"users/{addr(p.alias)}", params={"$select": "displayName,jobTitle,officeLocation,businessPhones"}).json()
        # (department: the sandbox's user has no such property yet, so Graph's paths can't show it)
        assert (user["displayName"], user.get("jobTitle"), user.get("officeLocation")) == (p.name, p.title, p.office)
        assert user.get("businessPhones") == ([p.phone] if p.phone else [])
        settings = app.get(f"users/{addr(p.alias)}/mailboxSettings").json()
        assert _iana(settings["timeZone"]) == _iana(p.zone)
        hours = settings["workingHours"]
        assert (hours["startTime"][:5], hours["endTime"][:5], hours["daysOfWeek"]) == (
            p.working_hours.start, p.working_hours.end, list(p.working_hours.days))
        facts += 3
    rooms = {r["emailAddress"]: r for r in _found(app, "places/microsoft.graph.room")}
    for r in scenario.rooms:
        got = rooms[addr(r.alias)]
        rl = next(x for x in scenario.room_lists if x.alias == r.room_list)
        assert (got["displayName"], got["capacity"], got["floorNumber"], got["building"],
                got["isWheelChairAccessible"], got["displayDeviceName"]) == (
            r.name, r.capacity, r.floor, rl.building, r.wheelchair, r.device)
        in_list = {x["emailAddress"] for x in _found(app, f"places/{addr(rl.alias)}/microsoft.graph.roomlist/rooms")}
        assert addr(r.alias) in in_list
        facts += 2
    lists = {x["emailAddress"]: x for x in _found(app, "places/microsoft.graph.roomlist")}
    for rl in scenario.room_lists:
        assert lists[addr(rl.alias)]["displayName"] == rl.name
        facts += 1
    for g in scenario.groups:
        member = Client(sandbox.app, f"sandbox:{addr(g.members[0])}")
        (got,) = [x for x in _found(member, "groups") if x["mail"] == addr(g.alias)]
        assert (got["displayName"], got["visibility"], got.get("description")) == (g.name, g.visibility, g.description)
        for m in g.members:
            r = Client(sandbox.app, f"sandbox:{addr(m)}").get(f"groups/{got['id']}/calendar")
            assert r.status_code == 200, (m, r.text)
        facts += 1 + len(g.members)
    for share in scenario.shares:
        permissions = _found(app, f"users/{addr(share.owner)}/calendar/calendarPermissions")
        roles = {(p.get("emailAddress") or {}).get("address"): p["role"] for p in permissions}
        assert roles[addr(share.grantee)] == share.role
        facts += 1

    for e in scenario.events:
        facts += _assert_event(app, scenario, e, anchor, zones, addr)
    return facts


def _assert_event(app: Client, scenario: Scenario, e: Any, anchor: dt.date, zones: dict[str, str], addr: Any) -> int:
    owner = addr(e.calendar)
    zone = e.zone or zones.get(e.calendar) or "Pacific Standard Time"  # groups: their mailbox's zone
    prefer = {"Prefer": f'outlook.timezone="{zone}"'}
    r = app.get(f"{'groups' if e.calendar not in zones else 'users'}/{owner}/events",
                params={"$filter": f"subject eq '{e.subject}'"}, headers=prefer)
    if e.calendar not in zones:  # a group's calendar: app-only may not read it; its first member may
        group = next(g for g in scenario.groups if g.alias == e.calendar)
        member = Client(app.app, f"sandbox:{addr(group.members[0])}")
        gid = next(x["id"] for x in _found(member, "groups") if x["mail"] == owner)
        r = member.get(f"groups/{gid}/events", params={"$filter": f"subject eq '{e.subject}'"}, headers=prefer)
    assert r.status_code == 200, r.text
    (got,) = [x for x in r.json()["value"] if x["isOrganizer"]]
    day = resolve_day(e.day, anchor)
    facts = 0
    if e.all_day:
        assert got["isAllDay"] is True
        assert got["start"]["dateTime"][:10] == day.isoformat()
        assert got["end"]["dateTime"][:10] == (day + dt.timedelta(days=e.days)).isoformat()
    else:
        assert got["start"]["dateTime"][:16] == f"{day}T{e.start}", (e.subject, got["start"])
        assert got["end"]["dateTime"][:16] == f"{day}T{e.end}", (e.subject, got["end"])
    facts += 2
    assert got["showAs"] == (e.show_as or "busy")
    assert got["sensitivity"] == (e.sensitivity or "normal")
    assert got["importance"] == (e.importance or "normal")
    assert got["categories"] == list(e.categories)
    assert got["isOnlineMeeting"] is e.online and (not e.online or got["onlineMeeting"]["joinUrl"])
    assert got["isReminderOn"] is (True if e.reminder is None else e.reminder)
    facts += 6
    if e.body is not None:
        # (Graph answers bodies as HTML unless asked for text: a text body comes back inside HTML)
        assert e.body in got["body"]["content"] and (e.body_type == "text" or got["body"]["contentType"] == "html")
        facts += 1
    room_name = None
    if e.room:
        room_name = next(r.name for r in scenario.rooms if r.alias == e.room)
    if room_name or e.location:
        assert got["location"]["displayName"] == (room_name or e.location)
        facts += 1

    # attendees, and their answers on both sides
    invited: dict[str, str] = {}
    for a in e.attendees:
        if isinstance(a, str):
            kind = "resource" if any(r.alias == a for r in scenario.rooms) else "required"
            invited[addr(a)] = kind
        else:
            assert isinstance(a, Attendee)
            invited[addr(a.alias) if a.alias else a.address] = a.type
    invited.update({addr(a): "optional" for a in e.optional})
    if e.room:
        invited[addr(e.room)] = "resource"
    assert {x["emailAddress"]["address"]: x["type"] for x in got["attendees"]} == invited
    facts += len(invited)
    tally = {x["emailAddress"]["address"]: x for x in got["attendees"]}
    if e.room:
        assert tally[addr(e.room)]["status"]["response"] == "accepted"  # free, so it booked itself
    for alias, answer in e.responses.items():
        reply = answer if isinstance(answer, Reply) else Reply(response=answer)
        entry = tally[addr(alias)]
        assert entry["status"]["response"] == reply.response, (e.subject, alias)
        copies = [x for x in _found(app, f"users/{addr(alias)}/events", **{"$filter": f"subject eq '{e.subject}'"})
                  if not x["isOrganizer"]]
        assert [c["responseStatus"]["response"] for c in copies] == [reply.response], (e.subject, alias)
        facts += 2
        if reply.proposed is not None:
            p = reply.proposed
            when = resolve_day(p.day, anchor)
            proposal = entry["proposedNewTime"]
            start = tz.from_graph(proposal["start"]).astimezone(ZoneInfo(_iana(zones[alias])))
            assert start.replace(tzinfo=None) == dt.datetime.combine(when, dt.time.fromisoformat(p.start))
            facts += 1
    for address, kind in invited.items():
        if kind != "resource" and address.split("@")[0] in zones and address.split("@")[0] not in e.responses:
            assert tally[address]["status"]["response"] == "none", (e.subject, address)

    if e.recurrence is not None:
        rec = e.recurrence
        pattern, rng = got["recurrence"]["pattern"], got["recurrence"]["range"]
        assert (pattern["type"], pattern["interval"]) == (rec.type, rec.interval)
        if rec.days:
            assert pattern["daysOfWeek"] == list(rec.days)
        if rec.index:
            assert pattern["index"] == rec.index
        assert rng["startDate"] == day.isoformat()
        if rec.count:
            assert (rng["type"], rng["numberOfOccurrences"]) == ("numbered", rec.count)
        elif rec.until is not None:
            assert (rng["type"], rng["endDate"]) == ("endDate", resolve_day(rec.until, anchor).isoformat())
        else:
            assert rng["type"] == "noEnd"
        facts += 3
        window = {"startDateTime": f"{day - dt.timedelta(days=2)}T00:00:00Z",
                  "endDateTime": f"{anchor + dt.timedelta(days=60)}T00:00:00Z"}
        base = "users" if e.calendar in zones else None
        if base:
            instances = _found(app, f"users/{owner}/events/{got['id']}/instances", **window)
            instances = [i for i in instances if i.get("subject")]
            local = {i["start"]["dateTime"][:16]: i for i in
                     app.get(f"users/{owner}/events/{got['id']}/instances", params={**window, "$top": "1000"},
                             headers=prefer).json()["value"]}
            for c in e.exceptions:
                original = resolve_day(c.occurrence, anchor)
                assert f"{original}T{e.start}" not in local, (e.subject, "the moved occurrence is still at its time")
                moved_day = resolve_day(c.day, anchor) if c.day is not None else original
                moved = local[f"{moved_day}T{c.start or e.start}"]
                assert moved["type"] == "exception"
                if c.subject:
                    assert moved["subject"] == c.subject
                facts += 2
            for spec in e.cancelled:
                assert f"{resolve_day(spec, anchor)}T{e.start}" not in local, (e.subject, spec)
                facts += 1
    return facts


def test_everything_round_trips(tmp_path: Path):
    clock = Clock(NOW, frozen=True)
    scenario = load(DATA / "everything.yaml")
    sandbox = seeded(scenario, clock)
    assert anchor_day(scenario, clock) == dt.date(2027, 3, 10)
    assert assert_world_matches(scenario, sandbox, clock) > 80
    assert sandbox.store.outbox() == []  # a seeded world has mailed nothing


def test_the_same_file_as_json_gives_the_same_world(tmp_path: Path):
    data = yaml.safe_load((DATA / "everything.yaml").read_text())
    path = tmp_path / "everything.json"
    path.write_text(json.dumps(data, default=str, indent=2))
    clock = Clock(NOW, frozen=True)
    assert load(path).model_dump() == load(DATA / "everything.yaml").model_dump()
    assert assert_world_matches(load(path), seeded(load(path), clock), clock) > 80


@pytest.mark.clock
def test_the_demo_organization_round_trips(clock: Clock):
    scenario = packaged()
    assert assert_world_matches(scenario, seeded(scenario, clock), clock) > 200
