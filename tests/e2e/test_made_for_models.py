"""The everyday forms of issue 14 at their edges: bad input said with the fix, and what sync says changed.

The happy paths are the scripted requests (test_natural_language_2.py); here each refused call names the
argument, says how to fix it, and changes nothing.
"""

from __future__ import annotations

import pytest

from tests.instants import BEFORE_MARCH_2027, clock_at

from .conftest import open_harness
from .test_natural_language_2 import as_person

pytestmark = pytest.mark.anyio

SERIES = {"subject": "Design sync", "start": "2027-03-02T10:00", "end": "2027-03-02T11:00",
          "recurrence": "FREQ=WEEKLY;BYDAY=TU"}


@pytest.fixture
async def h(tmp_path):
    async with open_harness(tmp_path, clock=clock_at(BEFORE_MARCH_2027), send_mail=True) as opened:
        yield opened


async def test_ending_a_series_refuses_what_cannot_work(h):
    series = (await h.call("create_event", SERIES))["event"]["handle"]
    single = (await h.call("create_event", {"subject": "One-off", "start": "2027-03-03T10:00",
                                            "end": "2027-03-03T11:00"}))["event"]["handle"]
    before = h.snapshot()
    cases = [
        ({"event": series, "series_ends_on": "next Tuesday"}, ("is not a date", "2027-03-31")),
        ({"event": series, "series_ends_on": "2027-02-01"}, ("before the series starts", "delete_event")),
        ({"event": single, "series_ends_on": "2027-03-31"}, ("single event",)),
        ({"event": series, "series_ends_on": "2027-03-31", "subject": "x"}, ("give it alone", "subject")),
    ]
    for args, words in cases:
        message = await h.fail("update_event", args)
        assert "series_ends_on" in message and all(w in message for w in words), message
    assert h.snapshot() == before


async def test_an_occurrence_handle_ends_its_series(h):
    await h.call("create_event", SERIES)
    week = await h.call("calendar_view", {"start": "2027-03-09", "end": "2027-03-10"})
    occurrence = next(e for e in week["events"] if e["subject"] == "Design sync")
    ended = await h.call("update_event", {"event": occurrence["handle"], "series_ends_on": "2027-03-23"})
    assert ended["event"]["kind"] == "series" and ended["event"]["repeat"].endswith("UNTIL=20270323")


async def test_snoozing_refuses_a_length_that_is_not_one(h):
    made = await h.call("create_event", {"subject": "Call", "start": "2027-03-02T10:00", "end": "2027-03-02T11:00",
                                         "reminder_minutes": 15})
    for until in ("0m", "-5m", "10 parsecs"):
        message = await h.fail("snooze_reminder", {"reminder": made["event"]["handle"], "until": until})
        assert "until" in message, message


async def test_rooms_by_size_refuse_what_no_room_fits(h):
    message = await h.fail("find_meeting_times", {"duration": "1h", "start": "2027-03-01", "end": "2027-03-06",
                                                  "room_capacity": 6, "building": "Building 9"})
    assert "no room in 'Building 9' seats 6" in message and "Seattle Building 1" in message
    message = await h.fail("find_meeting_times", {"duration": "1h", "start": "2027-03-01", "end": "2027-03-06",
                                                  "room_capacity": 6, "rooms": ["hood@contoso.com"]})
    assert "rooms" in message and "not both" in message


async def test_messaging_a_meeting_without_anyone_else_is_refused(h):
    alone = (await h.call("create_event", {"subject": "Focus", "start": "2027-03-02T10:00",
                                           "end": "2027-03-02T11:00"}))["event"]["handle"]
    before = h.store.outbox()
    message = await h.fail("message_attendees", {"event": alone, "text": "Late"})
    assert "nobody else" in message
    assert "text" in await h.fail("message_attendees", {"event": alone, "text": ""})
    assert h.store.outbox() == before


async def test_sync_says_a_meeting_was_cancelled(h):
    # Dana invites Adele, then cancels: Adele's copy is marked cancelled (and renamed), and sync says so.
    async with as_person(h, "dana@contoso.com") as dana:
        made = (await dana.post("me/events", json={
            "subject": "Vendor sync", "start": {"dateTime": "2027-03-03T10:00:00", "timeZone": "UTC"},
            "end": {"dateTime": "2027-03-03T11:00:00", "timeZone": "UTC"},
            "attendees": [{"type": "required", "emailAddress": {"address": "adele@contoso.com"}}]})).json()
        first = await h.call("sync_events", {"start": "2027-03-01", "end": "2027-03-06"})
        assert any(e["subject"] == "Vendor sync" for e in first["added"])
        assert (await dana.post(f"me/events/{made['id']}/cancel", json={"comment": "Sorry"})).status_code == 202
    later = await h.call("sync_events")
    (cancelled,) = [e for e in later["updated"] if e.get("cancelled")]
    assert cancelled["changed"][0] == "cancelled", cancelled
