"""Recurring series end to end: get_event's exceptions, and update_event / delete_event with a scope.

A weekly Monday series of six (2027-03-01 .. 04-05, 10:00-10:30 Pacific) with Dana invited:

* get_event(include_exceptions) lists the changed occurrences with their original dates, and the
  cancelled dates (Graph beta's exceptionOccurrences / cancelledOccurrences, as the reference shows);
* scope 'occurrence' changes or deletes one occurrence only;
* scope 'this_and_following' ends the series the day before and starts a new one there with the change
  (the result names both series; cancelled occurrences stay cancelled; the count carries over), or, to
  delete, just ends the series;
* scope 'series' changes (a time on the occurrence's own day moves every occurrence) or deletes all;
* scopes that do not fit the event are refused, naming scope (or start), and change nothing.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from .conftest import Harness

pytestmark = pytest.mark.anyio

SERIES = {"subject": "Planning", "start": "2027-03-01T10:00", "end": "2027-03-01T10:30",
          "attendees": [{"email": "dana@contoso.com"}],
          "recurrence": "FREQ=WEEKLY;BYDAY=MO;COUNT=6"}
SPRING = {"start": "2027-02-01", "end": "2027-06-01"}


async def series(h: Harness) -> tuple[str, list[str]]:
    created = await h.call("create_event", SERIES)
    handle = created["event"]["handle"]
    return handle, await occurrences(h, handle)


async def occurrences(h: Harness, handle: str) -> list[str]:
    return [e["handle"] for e in (await h.call("list_event_instances", {"event": handle, **SPRING}))["events"]]


async def starts(h: Harness, handle: str) -> list[tuple[str, str]]:
    found = await h.call("list_event_instances", {"event": handle, **SPRING})
    return [(e["subject"], e["start"]) for e in found["events"]]


def master_doc(h: Harness, handle: str) -> dict[str, Any]:
    row = h.store.db.execute("SELECT doc FROM events WHERE id = ?", (h.graph_id(handle),)).fetchone()
    return json.loads(row[0])


async def test_exceptions_and_one_occurrence(harness: Harness) -> None:
    h = harness
    handle, occ = await series(h)
    assert len(occ) == 6
    await h.call("update_event", {"event": occ[1], "scope": "occurrence", "subject": "Planning (moved)",
                                  "start": "2027-03-09T11:00"})
    deleted = await h.call("delete_event", {"event": occ[3], "scope": "occurrence"})
    assert deleted["deleted"] == occ[3] and deleted["notified"] == ["dana@contoso.com"]
    got = await h.call("get_event", {"event": occ[0], "include_exceptions": True})
    assert got["exceptions"] == {
        "changed": [{"original_date": "2027-03-08", "handle": occ[1], "subject": "Planning (moved)",
                     "start": "2027-03-09T11:00:00-08:00", "end": "2027-03-09T11:30:00-08:00"}],
        "cancelled_dates": ["2027-03-22"]}
    assert got["event"]["kind"] == "occurrence"
    assert await starts(h, handle) == [
        ("Planning", "2027-03-01T10:00:00-08:00"), ("Planning (moved)", "2027-03-09T11:00:00-08:00"),
        ("Planning", "2027-03-15T10:00:00-07:00"), ("Planning", "2027-03-29T10:00:00-07:00"),
        ("Planning", "2027-04-05T10:00:00-07:00")]
    plain = await h.call("get_event", {"event": handle})
    assert "exceptions" not in plain


async def test_this_and_following_splits_the_series(harness: Harness) -> None:
    h = harness
    handle, occ = await series(h)
    await h.call("delete_event", {"event": occ[4], "scope": "occurrence"})         # 03-29 stays cancelled
    result = await h.call("update_event", {"event": occ[2], "scope": "this_and_following",
                                           "start": "2027-03-15T14:00", "subject": "Planning (afternoons)"})
    split = result["series_split"]
    assert split["ended_series"] == handle and split["ends_on"] == "2027-03-14" and split["starts_on"] == "2027-03-15"
    assert result["event"]["handle"] == split["new_series"] and result["event"]["kind"] == "series"
    assert split["new_series"] in result["note"] and "2027-03-14" in result["note"]
    assert result["notified"] == ["dana@contoso.com"]
    assert await starts(h, handle) == [("Planning", "2027-03-01T10:00:00-08:00"),
                                       ("Planning", "2027-03-08T10:00:00-08:00")]
    assert await starts(h, split["new_series"]) == [("Planning (afternoons)", "2027-03-15T14:00:00-07:00"),
                                                    ("Planning (afternoons)", "2027-03-22T14:00:00-07:00"),
                                                    ("Planning (afternoons)", "2027-04-05T14:00:00-07:00")]
    new = master_doc(h, split["new_series"])
    assert new["recurrence"]["range"]["numberOfOccurrences"] == 4 and new["attendees"][0]["emailAddress"][
        "address"] == "dana@contoso.com"
    # Dana's copies follow: the old series ends, the new one is an invitation.
    subjects = {json.loads(r[0])["subject"] for r in h.store.db.execute(
        "SELECT e.doc FROM events e JOIN mailboxes m ON m.id = e.mailbox_id WHERE m.address = 'dana@contoso.com' "
        "AND e.kind = 'seriesMaster'")}
    assert {"Planning", "Planning (afternoons)"} <= subjects
    # Moving the following occurrences to another weekday moves their rule with them.
    moved = await h.call("update_event", {"event": (await occurrences(h, split["new_series"]))[1],
                                          "scope": "this_and_following", "start": "2027-03-24T09:00"})
    assert master_doc(h, moved["series_split"]["new_series"])["recurrence"]["pattern"]["daysOfWeek"] == ["wednesday"]


async def test_series_scope_and_deleting_following(harness: Harness) -> None:
    h = harness
    handle, occ = await series(h)
    changed = await h.call("update_event", {"event": occ[3], "scope": "series", "start": "2027-03-22T09:00",
                                            "location": "Room 2"})
    assert changed["event"]["handle"] == handle and changed["event"]["location"] == "Room 2"
    assert [s for _, s in await starts(h, handle)][:2] == ["2027-03-01T09:00:00-08:00", "2027-03-08T09:00:00-08:00"]
    occ = await occurrences(h, handle)          # a new time gives the occurrences new ids
    ended = await h.call("delete_event", {"event": occ[2], "scope": "this_and_following"})
    assert ended["series_ends_on"] == "2027-03-14" and handle in ended["note"]
    assert len(await occurrences(h, handle)) == 2
    first = await h.call("update_event", {"event": occ[0], "scope": "this_and_following", "subject": "All of them"})
    assert "first occurrence" in first["note"] and "series_split" not in first
    assert {s for s, _ in await starts(h, handle)} == {"All of them"}
    gone = await h.call("delete_event", {"event": occ[1], "scope": "series"})
    assert gone["deleted"] == handle and gone["subject"] == "All of them"
    assert h.rows("All of them") == []


async def test_scopes_that_do_not_fit_are_refused(harness: Harness) -> None:
    h = harness
    handle, occ = await series(h)
    single = (await h.call("create_event", {"subject": "Lone", "start": "2027-03-03T09:00",
                                            "end": "2027-03-03T10:00"}))["event"]["handle"]
    cases = [
        ("update_event", {"event": handle, "scope": "occurrence", "subject": "x"}, "scope", "list_event_instances"),
        ("update_event", {"event": single, "scope": "series", "subject": "x"}, "scope", "single event"),
        ("update_event", {"event": single, "scope": "this_and_following", "subject": "x"}, "scope", "single event"),
        ("update_event", {"event": occ[1], "scope": "everything", "subject": "x"}, "scope", "'occurrence'"),
        ("update_event", {"event": occ[1], "scope": "occurrence", "recurrence": "FREQ=DAILY"}, "recurrence",
         "this_and_following"),
        ("update_event", {"event": occ[1], "scope": "series", "start": "2027-03-10T09:00"}, "start", "days_of_week"),
        ("update_event", {"event": occ[1], "scope": "series"}, "Nothing to change", "subject"),
        ("update_event", {"event": occ[1], "scope": "this_and_following", "etag": 'W/"stale"', "subject": "x"},
         "etag", "get_event"),
        ("delete_event", {"event": handle, "scope": "occurrence"}, "scope", "list_event_instances"),
        ("delete_event", {"event": single, "scope": "this_and_following"}, "scope", "single event"),
        ("get_event", {"event": single, "include_exceptions": True}, "include_exceptions", "single event"),
        ("get_event", {"event": handle, "include_exceptions": "yes"}, "include_exceptions", "valid boolean"),
    ]
    for tool, args, argument, fix in cases:
        before = h.snapshot()
        message = await h.fail(tool, args)
        assert argument in message and fix.lower() in message.lower(), (tool, args, message)
        assert h.snapshot() == before, (tool, args)
