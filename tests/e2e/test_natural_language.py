"""Requests in plain language (more in test_natural_language_2.py), turned into the tool calls a model would make (no model needed).

Each scenario is scripted as a model would act on the results it gets — it reads
handles and times out of earlier results, never out of the store — and must be
done in at most three tool calls. Then the test checks what the sandbox holds.

"Tomorrow", "this week" and "next week" come from the clock under test (the
suite's instant, tests/instants.py): the seeded week is the current one, or the
next from Saturday on, and what is already past of it is expected to be past.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest

from outlook_calendar_mcp import timezones as tz

from .conftest import Harness, open_harness, structured

pytestmark = [pytest.mark.anyio, pytest.mark.clock]
MAX_CALLS = 3


# bench/tokens.py sets this to a list to collect (tool, result tokens' text) of every scripted call.
RECORDER: list[tuple[str, str]] | None = None


class Model:
    """Calls tools through the harness and counts them."""

    def __init__(self, harness: Harness):
        self.h = harness
        self.calls: list[str] = []

    async def __call__(self, tool: str, args: dict[str, Any] | None = None) -> dict[str, Any]:
        return structured(await self.raw(tool, args))

    async def raw(self, tool: str, args: dict[str, Any] | None = None) -> Any:
        """The call's whole result (an isError one too: a refusal, a confirmation preview), counted."""
        self.calls.append(tool)
        assert len(self.calls) <= MAX_CALLS, f"more than {MAX_CALLS} calls: {self.calls}"
        result = await self.h.client.call_tool(tool, args or {})
        if RECORDER is not None:
            RECORDER.append((tool, "\n".join(getattr(c, "text", "") for c in result.content)))
        return result


def seeded_monday(today: dt.date) -> dt.date:
    monday = today - dt.timedelta(days=today.weekday())
    return monday + dt.timedelta(days=7) if today.weekday() >= 5 else monday


def find(events: list[dict[str, Any]], subject: str) -> dict[str, Any]:
    matches = [e for e in events if e["subject"].startswith(subject)]
    assert matches, f"no {subject!r} in {[e['subject'] for e in events]}"
    return matches[0]


@pytest.fixture
async def adele(tmp_path, clock):
    async with open_harness(tmp_path / "adele", clock=clock) as h:
        yield h


async def week_of(model: Model) -> tuple[dt.date, dict[str, Any]]:
    settings = await model("get_mailbox_settings")
    return seeded_monday(dt.date.fromisoformat(settings["today"])), settings


async def test_whats_on_tomorrow(adele):
    model = Model(adele)
    settings = await model("get_mailbox_settings")
    tomorrow = dt.date.fromisoformat(settings["today"]) + dt.timedelta(days=1)
    view = await model("calendar_view", {"start": tomorrow.isoformat(),
                                         "end": (tomorrow + dt.timedelta(days=1)).isoformat()})
    zone = tz.resolve(settings["time_zone"])
    raw = await adele.graph.get_all("me/calendar/calendarView", params={
        "startDateTime": tz.to_utc(dt.datetime.combine(tomorrow, dt.time()), zone).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "endDateTime": tz.to_utc(dt.datetime.combine(tomorrow + dt.timedelta(days=1), dt.time()), zone)
        .strftime("%Y-%m-%dT%H:%M:%SZ")})
    assert sorted(e["subject"] for e in view["events"]) == sorted(e["subject"] for e in raw.items)
    assert view["time_zone"] == settings["time_zone"]


async def test_move_my_one_on_one_with_alex_to_thursday_same_time(adele):
    model = Model(adele)
    monday, _ = await week_of(model)
    week = await model("calendar_view", {"start": monday.isoformat(), "end": (monday + dt.timedelta(days=5)).isoformat()})
    one_on_one = find(week["events"], "1:1 Adele / Alex")
    start = dt.datetime.fromisoformat(one_on_one["start"])
    thursday = start + dt.timedelta(days=3 - start.weekday())
    moved = await model("update_event", {"event": one_on_one["handle"], "start": thursday.isoformat()})
    assert moved["event"]["start"] == thursday.isoformat()
    assert moved["event"]["end"] == (thursday + dt.timedelta(minutes=30)).isoformat()
    assert moved["event"]["kind"] == "exception" and moved["notified"] == ["alex@contoso.com"]
    after = await adele.graph.get_all("me/calendar/calendarView", params={
        "startDateTime": f"{monday}T00:00:00Z", "endDateTime": f"{monday + dt.timedelta(days=6)}T00:00:00Z"})
    starts = [e["start"]["dateTime"][:16] for e in after.items if e["subject"] == "1:1 Adele / Alex"]
    assert starts == [thursday.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M")]


async def test_find_an_hour_with_dana_and_fanny_next_week_and_book_a_room_for_six(adele, clock):
    model = Model(adele)
    rooms = await model("list_rooms", {"min_capacity": 6})
    assert rooms["rooms"] and all(r["capacity"] >= 6 for r in rooms["rooms"])
    next_week = seeded_monday(clock.today(tz.resolve("America/Los_Angeles"))) + dt.timedelta(days=7)
    times = await model("find_meeting_times", {
        "attendees": ["Dana", "Fanny"], "duration": "1h", "start": next_week.isoformat(),
        "end": (next_week + dt.timedelta(days=5)).isoformat(), "rooms": [r["email"] for r in rooms["rooms"]]})
    best = times["suggestions"][0]
    room = next(r for r in rooms["rooms"] if r["name"] in best["rooms"])
    booked = await model("create_event", {
        "subject": "Planning with Dana and Fanny", "start": best["start"], "end": best["end"],
        "location": room["name"],
        "attendees": [{"email": a} for a in times["attendees"]] + [{"email": room["email"], "type": "resource"}]})
    assert sorted(booked["notified"]) == sorted(times["attendees"] + [room["email"]])
    event = await adele.graph.get(f"me/events/{adele.graph_id(booked['event']['handle'])}")
    statuses = {a["emailAddress"]["address"]: a["status"]["response"] for a in event["attendees"]}
    assert statuses[room["email"]] == "accepted"  # the room was free, as find_meeting_times said
    assert {m["recipient"] for m in adele.store.outbox() if m["kind"] == "invitation"} >= {
        "dana@contoso.com", "fanny@contoso.com"}


async def test_decline_everything_on_friday_afternoon_with_a_note(tmp_path, clock):
    async with open_harness(tmp_path, sandbox_user="dana@contoso.com", clock=clock) as dana:
        model = Model(dana)
        monday = seeded_monday(clock.today(tz.resolve("America/Los_Angeles")))  # the week the sandbox seeded
        friday = monday + dt.timedelta(days=4)
        view = await model("calendar_view", {"start": f"{friday}T12:00", "end": f"{friday}T18:00"})
        invitations = [e for e in view["events"] if e.get("organizer")]
        assert invitations, view
        for event in invitations:
            answer = await model("decline_event", {"event": event["handle"],
                                                   "comment": "Out on Friday afternoons, sorry."})
            assert answer["response"] == "declined"
        responses = [m for m in dana.store.outbox() if m["kind"] == "response"]
        assert len(responses) == len(invitations)
        assert all(m["comment"] == "Out on Friday afternoons, sorry." for m in responses)


async def test_when_am_i_free_for_two_hours_this_week(adele, clock):
    model = Model(adele)
    monday, settings = await week_of(model)
    saturday = monday + dt.timedelta(days=5)
    free = await model("find_meeting_times", {"attendees": ["adele@contoso.com"], "duration": "2h",
                                              "start": monday.isoformat(), "end": saturday.isoformat()})
    busy = await model("calendar_view", {"start": monday.isoformat(), "end": saturday.isoformat()})
    zone = tz.resolve(settings["time_zone"])
    now = clock.now(zone)
    if not remaining_working_hours(now, monday, saturday, settings, dt.timedelta(hours=2)):
        # Friday evening, say: no two working hours are left this week, and the answer says so.
        assert free["suggestions"] == [] and free["empty_reason"], free
        return
    assert free["suggestions"]
    for slot in free["suggestions"]:
        begin, end = dt.datetime.fromisoformat(slot["start"]), dt.datetime.fromisoformat(slot["end"])
        assert end - begin == dt.timedelta(hours=2) and begin >= now - dt.timedelta(minutes=1), slot
        overlapping = [e for e in busy["events"] if not e.get("all_day") and e.get("show_as") != "free"
                       and dt.datetime.fromisoformat(e["start"]) < end and begin < dt.datetime.fromisoformat(e["end"])]
        if overlapping:  # Graph offers a slot over a tentative event only as such, with less confidence
            assert {e.get("show_as") for e in overlapping} == {"tentative"}, (slot, overlapping)
            assert slot.get("organizer") == "tentative" and slot["confidence"] < 100, slot
        else:
            assert "organizer" not in slot and slot["confidence"] == 100, slot


def remaining_working_hours(now: dt.datetime, first: dt.date, stop: dt.date, settings: dict[str, Any],
                            need: dt.timedelta) -> bool:
    """Whether a stretch of ``need`` inside the working hours of [first, stop) lies after ``now``."""
    hours = settings["working_hours"]
    zone = tz.resolve(hours.get("time_zone") or settings["time_zone"])
    begin, end = dt.time.fromisoformat(hours["start"]), dt.time.fromisoformat(hours["end"])
    day = first
    while day < stop:
        if day.strftime("%A").lower() in [d.lower() for d in hours["days"]]:
            opens = max(dt.datetime.combine(day, begin, zone), now)
            if dt.datetime.combine(day, end, zone) - opens >= need:
                return True
        day += dt.timedelta(days=1)
    return False


async def test_accept_the_quarterly_planning_invitation(tmp_path, clock):
    async with open_harness(tmp_path, sandbox_user="dana@contoso.com", clock=clock) as dana:
        model = Model(dana)
        monday = seeded_monday(clock.today(tz.resolve("America/Los_Angeles")))  # the week the sandbox seeded
        view = await model("calendar_view", {"start": monday.isoformat(), "end": (monday + dt.timedelta(days=5)).isoformat()})
        invite = find(view["events"], "Quarterly planning")
        await model("accept_event", {"event": invite["handle"], "comment": "See you there"})
        adele_id = dana.store.mailbox("adele@contoso.com")["id"]
        (row,) = dana.store.db.execute("SELECT doc FROM events WHERE mailbox_id = ? AND json_extract(doc, '$.subject')"
                                       " = 'Quarterly planning'", (adele_id,)).fetchall()
        statuses = {a["emailAddress"]["address"]: a["status"]["response"] for a in json.loads(row["doc"])["attendees"]}
        assert statuses["dana@contoso.com"] == "accepted"


async def test_who_has_not_answered_the_quarterly_planning_invite(adele):
    model = Model(adele)
    monday, _ = await week_of(model)
    view = await model("calendar_view", {"start": monday.isoformat(), "end": (monday + dt.timedelta(days=5)).isoformat()})
    event = (await model("get_event", {"event": find(view["events"], "Quarterly planning")["handle"]}))["event"]
    waiting = sorted(a["email"] for a in event["attendee_list"] if a["response"] in ("none", "notResponded"))
    assert waiting == ["dana@contoso.com", "fanny@contoso.com"]  # the room answered at once


async def test_block_focus_time_on_wednesday_morning(adele):
    model = Model(adele)
    monday, _ = await week_of(model)
    wednesday = monday + dt.timedelta(days=2)
    block = await model("create_event", {"subject": "Focus time", "start": f"{wednesday}T09:00",
                                         "end": f"{wednesday}T11:00", "show_as": "busy", "reminder_minutes": -1})
    assert block["event"]["start"].startswith(f"{wednesday}T09:00") and "notified" not in block
    schedule = await model("get_schedule", {"people": ["adele@contoso.com"], "start": f"{wednesday}T09:00",
                                            "end": f"{wednesday}T11:00"})
    assert schedule["schedules"][0]["availability_view"] == "2222"


async def test_cancel_the_customer_call_and_tell_them_why(adele):
    model = Model(adele)
    monday, _ = await week_of(model)
    view = await model("calendar_view", {"start": monday.isoformat(), "end": (monday + dt.timedelta(days=5)).isoformat()})
    call = find(view["events"], "Customer call with Fabrikam")
    done = await model("cancel_event", {"event": call["handle"], "comment": "We need to reschedule, sorry."})
    assert sorted(done["notified"]) == ["jordan@fabrikam.com", "pavel@contoso.com"]
    sent = [(m["recipient"], m["comment"]) for m in adele.store.outbox() if m["kind"] == "cancellation"]
    assert ("pavel@contoso.com", "We need to reschedule, sorry.") in sent


async def test_is_dana_free_wednesday_at_ten(adele):
    model = Model(adele)
    monday, _ = await week_of(model)
    wednesday = monday + dt.timedelta(days=2)
    schedule = await model("get_schedule", {"people": ["Dana"], "start": f"{wednesday}T10:00",
                                            "end": f"{wednesday}T11:00"})
    (dana,) = schedule["schedules"]
    # Dana's design review runs 09:00-11:00 New York, i.e. 06:00-08:00 here: she is free at 10 Pacific.
    assert dana["email"] == "dana@contoso.com" and set(dana["availability_view"]) == {"0"}
