"""More requests in plain language, each done in at most three tool calls (made for models, round 2).

As in test_natural_language.py, each request is scripted as a model would act on the results it gets
(handles and times come out of earlier results, never out of the store), and the test then checks what
the sandbox holds or what crossed the wire. What the request acts on is set up first through the
sandbox, as the people involved would have made it: another person's invitation is sent by that person
(``as_person``), so Graph holds exactly what it would hold. The events live in March 2027 and the server
runs a week before (``BEFORE_MARCH_2027``), so every request reads the same on any day the suite runs;
the requests about "now" run at the suite's instant and compare against it.
"""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from outlook_calendar_mcp import timezones as tz
from tests.instants import BEFORE_MARCH_2027, clock_at

from .conftest import Harness, failure, open_harness
from .test_natural_language import Model, find

pytestmark = [pytest.mark.anyio, pytest.mark.clock]
LA = "America/Los_Angeles"
ME = "adele@contoso.com"


@contextlib.asynccontextmanager
async def as_person(h: Harness, address: str) -> AsyncIterator[httpx.AsyncClient]:
    """Graph as ``address`` sees it (the sandbox signs them in): for what other people do."""
    async with httpx.AsyncClient(
        transport=h.sandbox.transport(),
        base_url="http://sandbox.invalid/v1.0/",
        headers={"Authorization": f"Bearer sandbox:{address}", "Prefer": 'outlook.timezone="Pacific Standard Time"'},
    ) as client:
        yield client


def at(day: str, hour: int, minute: int = 0, zone: str = "Pacific Standard Time") -> dict[str, str]:
    return {"dateTime": f"{day}T{hour:02d}:{minute:02d}:00", "timeZone": zone}


def meeting(subject: str, day: str, start: tuple[int, int], end: tuple[int, int], *who: str,
            **extra: Any) -> dict[str, Any]:
    return {"subject": subject, "start": at(day, *start), "end": at(day, *end),
            "attendees": [{"type": "required", "emailAddress": {"address": a}} for a in who], **extra}


def weekly(days: list[str], first: str, count: int | None = None, interval: int = 1) -> dict[str, Any]:
    rng: dict[str, Any] = {"type": "numbered", "numberOfOccurrences": count} if count else {"type": "noEnd"}
    return {"pattern": {"type": "weekly", "interval": interval, "daysOfWeek": days, "firstDayOfWeek": "sunday"},
            "range": {**rng, "startDate": first, "recurrenceTimeZone": "Pacific Standard Time"}}


async def post(h: Harness, body: dict[str, Any], calendar: str | None = None) -> dict[str, Any]:
    """An event the user made earlier (through Graph, as any client would have), on ``calendar`` (an id)."""
    where = f"me/calendars/{calendar}" if calendar else "me/calendar"
    return await h.graph.post(f"{where}/events", json=body)


async def planning(h: Harness) -> tuple[str, str]:
    """The user's own "Planning" calendar (id, handle): conflicts are a calendar's, and the demo week's
    seeded events (whatever the scenario seeds) stay on the main one."""
    cal = await h.graph.post("me/calendars", json={"name": "Planning"})
    return cal["id"], h.handles.handle("calendar", cal["id"])


@pytest.fixture
async def adele(tmp_path):
    async with open_harness(tmp_path / "adele", clock=clock_at(BEFORE_MARCH_2027), send_mail=True) as h:
        yield h


@pytest.fixture
async def adele_now(tmp_path, clock):
    async with open_harness(tmp_path / "now", clock=clock) as h:
        yield h


# -- 1. time sense without repeated calls ---------------------------------------------------------


async def test_whats_on_now_carries_the_local_time_and_settings_are_read_once(adele_now, clock):
    model = Model(adele_now)
    wire: list[str] = []
    adele_now.graph.on_request.append(lambda method, url, headers, body: wire.append(f"{method} {url}"))
    view = await model("calendar_view")
    settings = await model("get_mailbox_settings")
    now = clock.now(tz.resolve(LA))
    assert view["now"] == tz.format_local(now.replace(second=0, microsecond=0), tz.resolve(LA))
    assert settings["now"][:16] == view["now"][:16] and settings["working_hours"]["start"]
    assert len([r for r in wire if "/mailboxSettings" in r]) == 1, wire  # the zone and hours: once


# -- 2. everyone the user deals with -----------------------------------------------------------------


async def test_email_kim_from_northwind_finds_the_outside_guest(adele):
    await post(adele, meeting("Northwind pilot", "2027-03-02", (13, 0), (14, 0), "dana@contoso.com",
                              "kim.lee@northwind.example") | {"attendees": [
        {"type": "required", "emailAddress": {"address": "kim.lee@northwind.example", "name": "Kim Lee"}}]})
    model = Model(adele)
    found = await model("find_people", {"query": "Kim"})
    assert found["people"][0] == {"name": "Kim Lee", "email": "kim.lee@northwind.example", "kind": "external"}
    # and by name wherever people are named: Kim's free/busy is unknown (outside the organization)
    times = await model("find_meeting_times", {"attendees": ["Kim Lee"], "start": "2027-03-01", "end": "2027-03-03"})
    assert times["attendees"] == ["kim.lee@northwind.example"]


# -- 3. conflicts across a series, and on one occurrence's move -------------------------------------


async def test_a_weekly_review_that_collides_with_a_weekly_sync_on_seven_weeks_says_so(adele):
    cal, handle = await planning(adele)
    await post(adele, meeting("Design sync", "2027-03-02", (10, 0), (11, 0), "dana@contoso.com")
               | {"recurrence": weekly(["tuesday"], "2027-03-02", 8)}, cal)
    model = Model(adele)
    made = await model("create_event", {"subject": "Roadmap review", "start": "2027-03-09T10:00",
                                        "end": "2027-03-09T10:30", "recurrence": "FREQ=WEEKLY;BYDAY=TU;COUNT=8",
                                        "calendar_id": handle})
    clash = made["series_conflicts"]
    assert clash == {"checked": 8, "colliding": 7, "with": ["Design sync"],
                     "first_dates": ["2027-03-09", "2027-03-16", "2027-03-23"]}
    assert made["event"]["repeat"] == "FREQ=WEEKLY;BYDAY=TU;COUNT=8"
    assert len(adele.rows("Roadmap review")) == 1  # created anyway: the conflicts are a warning


async def test_a_series_repeating_an_existing_one_counts_the_duplicates(adele):
    cal, handle = await planning(adele)
    await post(adele, meeting("Design sync", "2027-03-02", (10, 0), (11, 0))
               | {"recurrence": weekly(["tuesday"], "2027-03-02", 8)}, cal)
    model = Model(adele)
    made = await model("create_event", {"subject": "Design sync", "start": "2027-03-04T10:00",
                                        "end": "2027-03-04T11:00", "calendar_id": handle,
                                        "recurrence": "FREQ=WEEKLY;BYDAY=TU,TH;COUNT=6"})
    assert made["series_conflicts"]["duplicates"] == 3  # the Tuesdays of 9, 16 and 23 March
    assert made["series_conflicts"]["first_dates"] == ["2027-03-09", "2027-03-16", "2027-03-23"]


async def test_moving_one_lunch_onto_the_budget_review_names_the_conflict(adele):
    cal, handle = await planning(adele)
    await post(adele, meeting("Team lunch", "2027-03-03", (12, 0), (13, 0), "fanny@contoso.com")
               | {"recurrence": weekly(["wednesday"], "2027-03-03", 4)}, cal)
    await post(adele, meeting("Budget review", "2027-03-11", (12, 0), (13, 0)), cal)
    model = Model(adele)
    week = await model("calendar_view", {"start": "2027-03-08", "end": "2027-03-13", "calendar_id": handle})
    lunch = find(week["events"], "Team lunch")
    moved = await model("update_event", {"event": lunch["handle"], "start": "2027-03-11T12:00", "scope": "occurrence"})
    assert [c["subject"] for c in moved["conflicts"]] == ["Budget review"]


async def test_moving_the_whole_series_onto_another_checks_every_occurrence(adele):
    cal, handle = await planning(adele)
    await post(adele, meeting("Design sync", "2027-03-02", (10, 0), (11, 0))
               | {"recurrence": weekly(["tuesday"], "2027-03-02", 8)}, cal)
    await post(adele, meeting("Team standup", "2027-03-02", (9, 0), (9, 15))
               | {"recurrence": weekly(["tuesday"], "2027-03-02", 8)}, cal)
    model = Model(adele)
    series = (await model("list_events", {"subject_contains": "Team standup", "calendar_id": handle}))["events"][0]
    moved = await model("update_event", {"event": series["handle"], "start": "2027-03-02T10:30",
                                         "end": "2027-03-02T10:45"})
    assert moved["series_conflicts"]["colliding"] == 8 and moved["series_conflicts"]["with"] == ["Design sync"]


# -- 4. views that tell events apart, results that echo what was set ---------------------------------


async def test_the_week_tells_two_weekly_series_apart(adele):
    await post(adele, meeting("Sync", "2027-03-01", (9, 0), (9, 30)) | {"recurrence": weekly(["monday"], "2027-03-01")})
    await post(adele, meeting("Sync", "2027-03-03", (9, 0), (9, 30))
               | {"recurrence": weekly(["wednesday"], "2027-03-03", interval=2)})
    model = Model(adele)
    week = await model("calendar_view", {"start": "2027-03-01", "end": "2027-03-06"})
    syncs = [e for e in week["events"] if e["subject"] == "Sync"]
    assert len({e["series"] for e in syncs}) == 2  # one occurrence of each this week
    rules = sorted(e["repeat"] for e in syncs)
    assert rules == ["FREQ=WEEKLY;BYDAY=MO", "FREQ=WEEKLY;INTERVAL=2;BYDAY=WE"]


async def test_a_new_york_call_on_the_side_calendar_echoes_what_was_set(adele):
    model = Model(adele)
    side = await model("create_calendar", {"name": "Side projects"})
    made = await model("create_event", {
        "subject": "Call with the NY office", "start": "2027-03-02T13:00", "end": "2027-03-02T13:30",
        "time_zone": "America/New_York", "calendar_id": side["calendar"]["handle"],
        "recurrence": "FREQ=WEEKLY;BYDAY=TU;COUNT=4", "attendees": [{"email": "dana@contoso.com"}]})
    assert made["calendar"] == "Side projects" and made["time_zone"] == "America/New_York"
    assert made["event"]["repeat"] == "FREQ=WEEKLY;BYDAY=TU;COUNT=4" and made["notified"] == ["dana@contoso.com"]
    view = await model("calendar_view", {"start": "2027-03-02", "end": "2027-03-03",
                                         "calendar_id": side["calendar"]["handle"]})
    (call,) = view["events"]
    assert view["calendar"] == "Side projects" and call["zone"] == "America/New_York"
    assert call["start"] == "2027-03-02T10:00:00-08:00"  # 13:00 New York, shown in Pacific


# -- 5. what changed since the last look --------------------------------------------------------------


async def test_what_changed_since_i_last_looked(adele):
    async with as_person(adele, "dana@contoso.com") as dana:
        invite = (await dana.post("me/events", json=meeting(
            "Vendor sync", "2027-03-03", (10, 0), (11, 0), ME, location={"displayName": "Cafe 34"}))).json()
    mine = await post(adele, meeting("Hiring loop", "2027-03-04", (14, 0), (15, 0), "fanny@contoso.com"))
    model = Model(adele)
    first = await model("sync_events", {"start": "2027-03-01", "end": "2027-03-06"})
    assert first["first_sync"]
    async with as_person(adele, "dana@contoso.com") as dana:
        changed = await dana.patch(f"me/events/{invite['id']}", json={
            "start": at("2027-03-03", 11), "end": at("2027-03-03", 12), "location": {"displayName": "Hood"}})
        assert changed.status_code == 200, changed.text
    async with as_person(adele, "fanny@contoso.com") as fanny:
        copy = (await fanny.get("me/events", params={"$filter": "subject eq 'Hiring loop'"})).json()["value"][0]
        assert (await fanny.post(f"me/events/{copy['id']}/accept", json={})).status_code == 202
    later = await model("sync_events")
    what = {e["subject"]: e["changed"] for e in later["updated"]}
    assert what["Vendor sync"] == ["time: 2027-03-03T10:00:00-08:00 -> 2027-03-03T11:00:00-08:00 to "
                                   "2027-03-03T12:00:00-08:00", "place: Cafe 34 -> Hood"]
    assert what["Hiring loop"] == ["fanny@contoso.com accepted"]
    assert mine["id"]


# -- 6. relative and everyday forms ---------------------------------------------------------------------


async def test_snooze_the_reminder_by_ten_minutes(adele_now, clock):
    zone = tz.resolve(LA)
    # an hour from now in elapsed time (UTC arithmetic: at a DST change, wall-clock arithmetic lands in the gap)
    soon_utc = clock.now(dt.UTC).replace(second=0, microsecond=0) + dt.timedelta(hours=1)
    soon = soon_utc.astimezone(zone)
    await adele_now.graph.post("me/calendar/events", json={
        "subject": "Dentist", "start": tz.to_graph(soon, "Pacific Standard Time"),
        "end": tz.to_graph((soon_utc + dt.timedelta(minutes=30)).astimezone(zone), "Pacific Standard Time"),
        "isReminderOn": True, "reminderMinutesBeforeStart": 15})
    model = Model(adele_now)
    reminders = await model("list_reminders")
    dentist = next(r for r in reminders["reminders"] if r["subject"] == "Dentist")
    done = await model("snooze_reminder", {"reminder": dentist["handle"], "until": "10m"})
    expected = (clock.now(dt.UTC).replace(microsecond=0) + dt.timedelta(minutes=10)).astimezone(zone)
    # compared as UTC instants: an aware time in a repeated hour never equals one in another zone (PEP 495)
    assert dt.datetime.fromisoformat(done["snoozed_until"]).astimezone(dt.UTC) == expected.astimezone(dt.UTC)
    assert dt.datetime.fromisoformat(done["now"]).astimezone(dt.UTC) <= expected.astimezone(dt.UTC)
    start, end = soon_utc - dt.timedelta(hours=2), soon_utc + dt.timedelta(hours=2)
    view = await adele_now.graph.get(f"me/reminderView(startDateTime='{start:%Y-%m-%dT%H:%M:%S}',"
                                     f"endDateTime='{end:%Y-%m-%dT%H:%M:%S}')")
    fires = [tz.from_graph(r["reminderFireTime"], "t") for r in view["value"] if r["eventSubject"] == "Dentist"]
    assert fires == [expected.astimezone(dt.UTC)]


async def test_when_am_i_free_for_an_hour_next_week(adele):
    model = Model(adele)
    free = await model("find_meeting_times", {"duration": "1h", "start": "2027-03-01", "end": "2027-03-06"})
    assert free["attendees"] == [] and free["suggestions"] and free["now"].startswith("2027-02-22")
    busy = (await adele.graph.get_all("me/calendar/calendarView", params={
        "startDateTime": "2027-03-01T08:00:00Z", "endDateTime": "2027-03-06T08:00:00Z"})).items
    spans = [(tz.from_graph(e["start"], "s"), tz.from_graph(e["end"], "e")) for e in busy
             if e["showAs"] not in ("free",) and not e["isAllDay"]]
    for slot in free["suggestions"]:
        begin, end = dt.datetime.fromisoformat(slot["start"]), dt.datetime.fromisoformat(slot["end"])
        assert end - begin == dt.timedelta(hours=1)
        assert not [s for s in spans if s[0] < end and begin < s[1] and slot["confidence"] == 100], slot


async def test_a_room_for_six_with_dana_is_one_call(adele):
    model = Model(adele)
    times = await model("find_meeting_times", {"attendees": ["Dana"], "duration": "1h", "start": "2027-03-01",
                                               "end": "2027-03-06", "room_capacity": 6, "building": "Building 2"})
    rooms = (await adele.graph.get_all("places/microsoft.graph.room")).items
    fits = {r["displayName"] for r in rooms if r["capacity"] >= 6 and "Building 2" in (r.get("building") or "")}
    assert fits and times["suggestions"]
    for slot in times["suggestions"]:
        assert slot["rooms"] and set(slot["rooms"]) <= fits, slot


async def test_end_the_design_sync_series_on_march_31(adele):
    await post(adele, meeting("Design sync", "2027-03-02", (10, 0), (11, 0), "dana@contoso.com")
               | {"recurrence": weekly(["tuesday"], "2027-03-02")})
    model = Model(adele)
    series = (await model("list_events", {"subject_contains": "Design sync"}))["events"][0]
    ended = await model("update_event", {"event": series["handle"], "series_ends_on": "2027-03-31"})
    assert ended["event"]["repeat"] == "FREQ=WEEKLY;BYDAY=TU;UNTIL=20270331"
    (master,) = [r for r in adele.rows("Design sync") if r["kind"] == "seriesMaster"]
    assert master["doc"]["recurrence"]["range"]["type"] == "endDate"
    assert master["doc"]["recurrence"]["range"]["endDate"] == "2027-03-31"
    after = await adele.graph.get_all(f"me/events/{master['id']}/instances", params={
        "startDateTime": "2027-04-01T00:00:00Z", "endDateTime": "2027-06-01T00:00:00Z"})
    assert after.items == []


# -- 7. messaging the people of a meeting ----------------------------------------------------------------


async def test_tell_everyone_in_my_3pm_meeting_im_running_late(adele):
    await post(adele, meeting("Quarterly numbers", "2027-03-03", (15, 0), (16, 0), "dana@contoso.com",
                              "fanny@contoso.com")
               | {"attendees": [{"type": "required", "emailAddress": {"address": "dana@contoso.com"}},
                                {"type": "optional", "emailAddress": {"address": "fanny@contoso.com"}},
                                {"type": "resource", "emailAddress": {"address": "hood@contoso.com"}}]})
    model = Model(adele)
    day = await model("calendar_view", {"start": "2027-03-03T14:30", "end": "2027-03-03T15:30"})
    three = next(e for e in day["events"] if e["start"].startswith("2027-03-03T15:00"))
    sent = await model("message_attendees", {"event": three["handle"], "text": "Running 10 minutes late, sorry!"})
    assert sorted(sent["notified"]) == ["dana@contoso.com", "fanny@contoso.com"]  # the room is not mailed
    mail = [m for m in adele.store.outbox() if m["kind"] == "message"]
    assert sorted(m["recipient"] for m in mail) == ["dana@contoso.com", "fanny@contoso.com"]
    assert {(m["sender"], m["comment"], m["subject"]) for m in mail} == {
        (ME, "Running 10 minutes late, sorry!", "Quarterly numbers (2027-03-03 15:00)")}


async def test_as_an_attendee_the_message_reaches_the_organizer_too(adele):
    async with as_person(adele, "dana@contoso.com") as dana:
        assert (await dana.post("me/events", json=meeting(
            "Dana's review", "2027-03-04", (9, 0), (10, 0), ME, "fanny@contoso.com"))).status_code == 201
    model = Model(adele)
    day = await model("calendar_view", {"start": "2027-03-04", "end": "2027-03-05"})
    review = find(day["events"], "Dana's review")
    sent = await model("message_attendees", {"event": review["handle"], "text": "Five minutes late."})
    assert sorted(sent["notified"]) == ["dana@contoso.com", "fanny@contoso.com"]


async def test_messaging_without_the_mail_permission_says_how_to_grant_it(tmp_path):
    async with open_harness(tmp_path, clock=clock_at(BEFORE_MARCH_2027)) as h:
        await post(h, meeting("Quarterly numbers", "2027-03-03", (15, 0), (16, 0), "dana@contoso.com"))
        model = Model(h)
        handle = (await model("list_events", {"subject_contains": "Quarterly numbers"}))["events"][0]["handle"]
        before = h.store.outbox()
        message = failure(await model.raw("message_attendees", {"event": handle, "text": "Late!"}))
        assert "Mail.Send" in message and "OUTLOOK_MCP_SEND_MAIL" in message and "auth login" in message
        assert h.store.outbox() == before


async def test_messaging_is_confirmed_like_every_send(tmp_path):
    async with open_harness(tmp_path, clock=clock_at(BEFORE_MARCH_2027), send_mail=True, confirm_sends=True) as h:
        await post(h, meeting("Quarterly numbers", "2027-03-03", (15, 0), (16, 0), "dana@contoso.com"))
        model = Model(h)
        handle = (await model("list_events", {"subject_contains": "Quarterly numbers"}))["events"][0]["handle"]
        args = {"event": handle, "text": "Running late"}
        preview = await model.raw("message_attendees", args)
        assert not preview.is_error and preview.structured_content["needs_confirmation"]  # a preview is a success
        assert preview.structured_content["notify"] == ["dana@contoso.com"]
        assert not [m for m in h.store.outbox() if m["kind"] == "message"]
        done = await model("message_attendees", {**args, "confirm": preview.structured_content["confirm"]})
        assert done["notified"] == ["dana@contoso.com"]
        assert [m["recipient"] for m in h.store.outbox() if m["kind"] == "message"] == ["dana@contoso.com"]


# -- 8. answering an incoming invitation -----------------------------------------------------------------


async def test_answer_danas_invitation_proposing_thursday_instead(adele):
    async with as_person(adele, "dana@contoso.com") as dana:
        sent = await dana.post("me/events", json=meeting("Vendor demo", "2027-03-03", (9, 0), (9, 30), ME))
        assert sent.status_code == 201, sent.text
    model = Model(adele)
    day = await model("calendar_view", {"start": "2027-03-03", "end": "2027-03-04"})
    invite = find(day["events"], "Vendor demo")
    assert invite["organizer"].endswith("<dana@contoso.com>")
    answer = await model("tentatively_accept_event", {
        "event": invite["handle"], "comment": "Wednesdays are full; Thursday?",
        "proposed_start": "2027-03-04T09:00", "proposed_end": "2027-03-04T09:30"})
    assert answer["response"] == "tentativelyAccepted" and answer["notified"] == ["dana@contoso.com"]
    async with as_person(adele, "dana@contoso.com") as dana:
        doc = (await dana.get(f"me/events/{sent.json()['id']}")).json()
    (me,) = [a for a in doc["attendees"] if a["emailAddress"]["address"] == ME]
    assert me["status"]["response"] == "tentativelyAccepted"
    assert me["proposedNewTime"]["start"]["dateTime"].startswith("2027-03-04T09:00")
