"""Reminder tools end to end: list_reminders, snooze_reminder, dismiss_reminder through a real MCP client.

Reminders of a single event and of each occurrence of a series, in the mailbox's zone (Pacific); a
snooze moves one reminder's fire time, a dismissal removes one reminder (for an occurrence, only that one).
Every refused call is an isError naming the argument and the fix, and changes nothing in the sandbox.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from tests.instants import BEFORE_MARCH_2027, clock_at

from .conftest import LOCAL_RE, Harness, open_harness

pytestmark = pytest.mark.anyio

MARCH = {"start": "2027-03-01", "end": "2027-04-01"}
SUBJECTS = ("Budget review", "Team standup")


@pytest.fixture
async def h(tmp_path: Path) -> AsyncIterator[Harness]:
    # The reminders are in March 2027 and snoozing needs a later time: "now" is the week before, on any day.
    async with open_harness(tmp_path, clock=clock_at(BEFORE_MARCH_2027)) as opened:
        yield opened


@pytest.fixture
async def world(h: Harness) -> dict[str, Any]:
    single = await h.call("create_event", {"subject": "Budget review", "start": "2027-03-10T09:00",
                                           "end": "2027-03-10T10:00", "reminder_minutes": 15})
    series = await h.call("create_event", {"subject": "Team standup", "start": "2027-03-01T08:00",
                                           "end": "2027-03-01T08:15", "reminder_minutes": 10,
                                           "recurrence": "FREQ=WEEKLY;BYDAY=MO;COUNT=3"})
    await h.call("create_event", {"subject": "Budget review", "start": "2027-03-11T09:00", "end": "2027-03-11T10:00",
                                  "reminder_minutes": -1})  # no reminder
    return {"single": single["event"]["handle"], "series": series["event"]["handle"]}


async def reminders(h: Harness, **window: str) -> list[dict[str, Any]]:
    listed = await h.call("list_reminders", {**MARCH, **window})
    assert listed["time_zone"] == "America/Los_Angeles"
    return [r for r in listed["reminders"] if r["subject"] in SUBJECTS]


async def test_tools_are_listed(h: Harness) -> None:
    tools = {t.name: t for t in (await h.client.list_tools()).tools}
    assert tools["list_reminders"].annotations.read_only_hint is True
    assert tools["snooze_reminder"].annotations.read_only_hint is False
    assert tools["dismiss_reminder"].annotations.idempotent_hint is True


async def test_reminders_snooze_and_dismiss(h: Harness, world: dict[str, Any]) -> None:
    found = await reminders(h)
    assert [(r["subject"], r["start"], r["fires_at"]) for r in found] == [
        ("Team standup", "2027-03-01T08:00:00-08:00", "2027-03-01T07:50:00-08:00"),
        ("Team standup", "2027-03-08T08:00:00-08:00", "2027-03-08T07:50:00-08:00"),
        ("Budget review", "2027-03-10T09:00:00-08:00", "2027-03-10T08:45:00-08:00"),
        ("Team standup", "2027-03-15T08:00:00-07:00", "2027-03-15T07:50:00-07:00"),  # after the DST change
    ]
    for r in found:
        assert r["handle"].startswith("rem_") and r["event"].startswith("ev_")
        assert LOCAL_RE.match(r["start"]) and LOCAL_RE.match(r["fires_at"])
    first, second, budget, third = found
    occurrence = await h.call("get_event", {"event": second["event"]})
    assert occurrence["event"]["kind"] == "occurrence" and occurrence["event"]["series"] == world["series"]
    assert budget["event"] == world["single"]

    snoozed = await h.call("snooze_reminder", {"reminder": second["handle"], "until": "2027-03-08T07:55"})
    assert snoozed == {"reminder": second["handle"], "event": second["event"],
                       "snoozed_until": "2027-03-08T07:55:00-08:00"}
    after = {r["handle"]: r["fires_at"] for r in await reminders(h)}
    assert after[second["handle"]] == "2027-03-08T07:55:00-08:00"
    assert after[third["handle"]] == third["fires_at"] and after[first["handle"]] == first["fires_at"]

    dismissed = await h.call("dismiss_reminder", {"reminder": first["handle"]})
    assert dismissed == {"reminder": first["handle"], "event": first["event"], "dismissed": True}
    # An event handle works as well as a reminder handle.
    await h.call("dismiss_reminder", {"reminder": world["single"]})
    assert [r["handle"] for r in await reminders(h)] == [second["handle"], third["handle"]]
    single = await h.call("get_event", {"event": world["single"]})
    assert "reminder_minutes" not in single["event"]  # a dismissed single event's reminder is off
    # The series itself is untouched: its occurrences are no exceptions.
    assert (await h.call("get_event", {"event": second["event"]}))["event"]["kind"] == "occurrence"


async def test_windows_and_zones(h: Harness, world: dict[str, Any]) -> None:
    one_day = await reminders(h, start="2027-03-10T00:00", end="2027-03-11T00:00")
    assert [r["subject"] for r in one_day] == ["Budget review"]
    tokyo = await h.call("list_reminders", {**MARCH, "time_zone": "Asia/Tokyo"})
    budget = next(r for r in tokyo["reminders"] if r["subject"] == "Budget review")
    assert tokyo["time_zone"] == "Asia/Tokyo" and budget["fires_at"] == "2027-03-11T01:45:00+09:00"


BAD = [
    ("list_reminders", {"start": "2027-03-10", "end": "2027-03-09"}, "end", ("later than", "after")),
    ("list_reminders", {"start": "next week"}, "start", ("iso 8601",)),
    ("list_reminders", {"time_zone": "Mars/Olympus_Mons"}, "time_zone", ("iana", "windows")),
    ("list_reminders", {"max": 5}, "max", ("extra",)),
    ("snooze_reminder", {"reminder": "{reminder}", "until": "2020-01-01T09:00"}, "until", ("future",)),
    ("snooze_reminder", {"reminder": "{reminder}", "until": "tomorrow"}, "until", ("iso 8601",)),
    ("snooze_reminder", {"reminder": "{reminder}"}, "until", ("required",)),
    ("snooze_reminder", {"reminder": "rem_zzzzzz", "until": "2027-03-10T08:50"}, "reminder", ("list_reminders",)),
    ("snooze_reminder", {"reminder": "cal_zzzzzz", "until": "2027-03-10T08:50"}, "reminder", ("'ev_'",)),
    ("snooze_reminder", {"reminder": "{quiet}", "until": "2027-03-11T08:50"}, "isReminderOn", ("turn",)),
    ("dismiss_reminder", {}, "reminder", ("required",)),
    ("dismiss_reminder", {"reminder": "att_zzzzzz"}, "reminder", ("'ev_'",)),
    ("dismiss_reminder", {"reminder": "   "}, "reminder", ("handle",)),
]


async def test_refusals_name_the_argument_and_change_nothing(h: Harness, world: dict[str, Any]) -> None:
    found = await reminders(h)
    quiet = await h.call("list_events", {"subject_contains": "Budget review"})
    places = {"reminder": found[0]["handle"],
              "quiet": next(e["handle"] for e in quiet["events"] if e["start"].startswith("2027-03-11"))}
    before = h.snapshot()
    tools = {t.name for t in (await h.client.list_tools()).tools}
    for tool, args, argument, fix in BAD:
        filled = {k: places[v[1:-1]] if isinstance(v, str) and v.startswith("{") else v for k, v in args.items()}
        message = await h.fail(tool, filled)
        assert argument in message, (tool, args, message)
        assert any(word in message.lower() for word in fix), (tool, args, message)
        for name in re.findall(r"\b((?:list|get|snooze|dismiss)_[a-z_]+)\b", message):
            assert name in tools, (name, message)
        assert h.snapshot() == before, (tool, args)
    assert len(await reminders(h)) == 4
