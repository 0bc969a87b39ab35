"""Every tool rejects bad input with isError, names the argument and the fix, and changes nothing.

Each case runs against the same sandbox contents, restored before every case:
one single event, one weekly series and one extra calendar (their handles fill
the ``{event}``, ``{series}``, ``{calendar}`` placeholders). One server serves
the whole table (building one costs more than all its calls). Around the call:
a dump of every sandbox table before and after must be equal, and the server
must still answer a normal call afterwards. A fix that names a tool must name
one the server has.

Graph-side failures (the sandbox refusing a valid-looking request) come last:
they surface as isError with Graph's own message.
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import AsyncIterator
from typing import Any

import pytest

from .conftest import TOOL_NAMES, Harness, open_harness

pytestmark = pytest.mark.anyio


# wrong type and missing fields: pydantic's messages; the server's own: what to do.
INT = ("valid integer",)
STR = ("valid string",)
LIST = ("valid list",)
REQUIRED = ("required",)
LATER = ("later than", "after")
ZONE = ("iana name", "windows name")
ISO = ("iso 8601",)
EVENT_SOURCES = ("calendar_view", "list_events", "get_event")
EV_KIND = ("'ev_'",)
CAL_KIND = ("'cal_'",)
NEEDS_CAL = ("list_calendars",)

S = {"subject": "Bad input probe", "start": "2027-03-20T09:00", "end": "2027-03-20T10:00"}


def case(tool: str, args: dict[str, Any], argument: str, fix: tuple[str, ...], *marks: Any, id: str) -> Any:
    return pytest.param(tool, args, argument, fix, marks=marks, id=f"{tool}-{id}")


CASES = [
    # calendar_view
    case("calendar_view", {"max_results": "5"}, "max_results", INT, id="wrong-type"),
    case("calendar_view", {"max_results": 0}, "max_results", ("greater than or equal to 1",), id="out-of-range"),
    case("calendar_view", {"start": "2027-03-10", "end": "2027-03-09"}, "end", LATER, id="end-before-start"),
    case("calendar_view", {"time_zone": "Mars/Olympus_Mons"}, "time_zone", ZONE, id="unknown-zone"),
    case("calendar_view", {"start": "next tuesday"}, "start", ISO, id="not-a-time"),
    case("calendar_view", {"calendar_id": "cal_zzzzzz"}, "calendar_id", NEEDS_CAL, id="unknown-handle"),
    case("calendar_view", {"calendar_id": "{event}"}, "calendar_id", CAL_KIND, id="wrong-kind"),
    case("calendar_view", {"detail": "everything"}, "detail", ("'compact' or 'full'",), id="bad-choice"),
    # list_events
    case("list_events", {"max_results": "5"}, "max_results", INT, id="wrong-type"),
    case("list_events", {"subject_contains": 5}, "subject_contains", STR, id="wrong-type-str"),
    case("list_events", {"time_zone": "Pacific Time"}, "time_zone", ZONE, id="unknown-zone"),
    case("list_events", {"calendar_id": "cal_zzzzzz"}, "calendar_id", NEEDS_CAL, id="unknown-handle"),
    case("list_events", {"calendar_id": "{series}"}, "calendar_id", CAL_KIND, id="wrong-kind"),
    case("list_events", {"calendar_id": "work"}, "calendar_id", NEEDS_CAL, id="neither-handle-nor-id"),
    # get_event
    case("get_event", {}, "event", REQUIRED, id="missing"),
    case("get_event", {"event": 5}, "event", STR, id="wrong-type"),
    case("get_event", {"event": "ev_zzzzzz"}, "event", EVENT_SOURCES, id="unknown-handle"),
    case("get_event", {"event": "{calendar}"}, "event", EV_KIND, id="wrong-kind"),
    case("get_event", {"event": "{event}", "time_zone": "PST8PDT-ish"}, "time_zone", ZONE, id="unknown-zone"),
    # create_event
    case("create_event", {"start": S["start"], "end": S["end"]}, "subject", REQUIRED, id="missing-subject"),
    case("create_event", {"subject": "x", "end": S["end"]}, "start", REQUIRED, id="missing-start"),
    case("create_event", {"subject": "x", "start": S["start"]}, "end", REQUIRED, id="missing-end"),
    case("create_event", {**S, "subject": ""}, "subject", ("at least 1 character",), id="empty-subject"),
    case("create_event", {"subject": "x", "start": "2027-03-10", "end": "2027-03-11", "all_day": "yes"},
         "all_day", ("valid boolean",), id="wrong-type-all-day"),
    case("create_event", {**S, "online_meeting": "yes"}, "online_meeting", ("valid boolean",),
         id="wrong-type-online-meeting"),
    case("create_event", {**S, "reminder_minutes": "15"}, "reminder_minutes", INT, id="wrong-type-reminder"),
    case("create_event", {**S, "attendees": "dana@contoso.com"}, "attendees", LIST, id="wrong-type-attendees"),
    case("create_event", {**S, "end": "2027-03-20T08:00"}, "end", LATER, id="end-before-start"),
    case("create_event", {**S, "start": "2027-03-10", "end": "2027-03-10", "all_day": True}, "end",
         ("day after",), id="all-day-end-not-after-start"),
    case("create_event", {**S, "start": "2027-02-30T09:00"}, "start", ISO, id="impossible-date"),
    case("create_event", {**S, "time_zone": "Atlantis/Capital"}, "time_zone", ZONE, id="unknown-zone"),
    case("create_event", {**S, "calendar_id": "cal_zzzzzz"}, "calendar_id", NEEDS_CAL, id="unknown-handle"),
    case("create_event", {**S, "calendar_id": "{event}"}, "calendar_id", CAL_KIND, id="wrong-kind"),
    case("create_event", {**S, "attendees": [{"email": "Dana"}]}, "attendees[0].email", ("find_people",),
         id="attendee-not-an-address"),
    case("create_event", {**S, "attendees": [{"email": "dana@contoso.com", "type": "boss"}]}, "attendees.0.type",
         ("'required', 'optional' or 'resource'",), id="attendee-bad-type"),
    case("create_event", {**S, "show_as": "away"}, "show_as", ("should be 'free'",), id="bad-choice"),
    case("create_event", {**S, "recurrence": "FREQ=HOURLY"}, "recurrence", ("must be daily, weekly",),
         id="recurrence-unsupported-frequency"),
    case("create_event", {**S, "recurrence": "FREQ=DAILY;INTERVAL=two"}, "recurrence", ("whole number",),
         id="recurrence-wrong-type"),
    case("create_event", {**S, "recurrence": "FREQ=DAILY;UNTIL=20270301"},
         "recurrence", ("before the series starts",), id="recurrence-ends-before-start"),
    case("create_event", {**S, "recurrence": "FREQ=DAILY;COUNT=3;UNTIL=20270401"},
         "recurrence", ("not both",), id="recurrence-two-ends"),
    case("create_event", {**S, "mailbox": "Dana Swope"}, "mailbox", ("dana@contoso.com",), id="mailbox-not-address"),
    # update_event
    case("update_event", {"subject": "x"}, "event", REQUIRED, id="missing"),
    case("update_event", {"event": "{event}"}, "subject", ("at least one field",), id="empty-update"),
    case("update_event", {"event": "ev_zzzzzz", "subject": "x"}, "event", EVENT_SOURCES, id="unknown-handle"),
    case("update_event", {"event": "{calendar}", "subject": "x"}, "event", EV_KIND, id="wrong-kind"),
    case("update_event", {"event": "{event}", "start": "2027-03-10T12:00", "end": "2027-03-10T11:00"}, "end", LATER,
         id="end-before-start"),
    case("update_event", {"event": "{event}", "end": "2027-03-10T08:00"}, "end", LATER,
         id="end-before-current-start"),
    case("update_event", {"event": "{event}", "start": "soon"}, "start", ISO, id="not-a-time"),
    case("update_event", {"event": "{event}", "subject": "x", "time_zone": "Moon/Base"}, "time_zone", ZONE,
         id="unknown-zone"),
    case("update_event", {"event": "{event}", "all_day": "no"}, "all_day", ("valid boolean",),
         id="wrong-type-all-day"),
    case("update_event", {"event": "{event}", "reminder_minutes": "15"}, "reminder_minutes", INT,
         id="wrong-type-reminder"),
    case("update_event", {"event": "{event}", "categories": "Red"}, "categories", LIST, id="wrong-type-categories"),
    # delete_event
    case("delete_event", {}, "event", REQUIRED, id="missing"),
    case("delete_event", {"event": 5}, "event", STR, id="wrong-type"),
    case("delete_event", {"event": "ev_zzzzzz"}, "event", EVENT_SOURCES, id="unknown-handle"),
    case("delete_event", {"event": "{calendar}"}, "event", EV_KIND, id="wrong-kind"),
    case("delete_event", {"event": "{event}", "mailbox": "me and you"}, "mailbox", ("dana@contoso.com",),
         id="mailbox-not-address"),
    # list_event_instances
    case("list_event_instances", {"event": "{series}", "end": "2027-04-01"}, "start", REQUIRED, id="missing-start"),
    case("list_event_instances", {"start": "2027-03-01", "end": "2027-04-01"}, "event", REQUIRED,
         id="missing-event"),
    case("list_event_instances", {"event": "{series}", "start": "2027-04-01", "end": "2027-03-01"}, "end", LATER,
         id="end-before-start"),
    case("list_event_instances", {"event": "{series}", "start": "March", "end": "2027-04-01"}, "start", ISO,
         id="not-a-time"),
    case("list_event_instances", {"event": "{series}", "start": "2027-03-01", "end": "2027-04-01",
                                  "time_zone": "Nowhere/Land"}, "time_zone", ZONE, id="unknown-zone"),
    case("list_event_instances", {"event": "{series}", "start": "2027-03-01", "end": "2027-04-01",
                                  "max_results": "5"}, "max_results", INT, id="wrong-type"),
    case("list_event_instances", {"event": "ev_zzzzzz", "start": "2027-03-01", "end": "2027-04-01"}, "event",
         EVENT_SOURCES, id="unknown-handle"),
    case("list_event_instances", {"event": "{calendar}", "start": "2027-03-01", "end": "2027-04-01"}, "event",
         EV_KIND, id="wrong-kind"),
    # list_calendars
    case("list_calendars", {"detail": 5}, "detail", ("'compact' or 'full'",), id="wrong-type"),
    case("list_calendars", {"mailbox": 5}, "mailbox", STR, id="wrong-type-mailbox"),
    case("list_calendars", {"group_id": "{calendar}"}, "group_id", ("'grp_'",), id="wrong-kind"),
    case("list_calendars", {"group_id": "grp_zzzzzz"}, "group_id", ("unknown handle",),
         id="unknown-handle"),
    # get_calendar
    case("get_calendar", {}, "calendar_id", REQUIRED, id="missing"),
    case("get_calendar", {"calendar_id": 5}, "calendar_id", STR, id="wrong-type"),
    case("get_calendar", {"calendar_id": "cal_zzzzzz"}, "calendar_id", NEEDS_CAL, id="unknown-handle"),
    case("get_calendar", {"calendar_id": "{event}"}, "calendar_id", CAL_KIND, id="wrong-kind"),
    # create_calendar
    case("create_calendar", {}, "name", REQUIRED, id="missing"),
    case("create_calendar", {"name": 5}, "name", STR, id="wrong-type"),
    case("create_calendar", {"name": "   "}, "name", ("non-empty",), id="blank-name"),
    case("create_calendar", {"name": "Colors", "color": "purple"}, "color", ("should be 'auto'",), id="bad-choice"),
    case("create_calendar", {"name": "Grouped", "group_id": "{event}"}, "group_id", ("'grp_'",),
         id="wrong-kind"),
    # update_calendar
    case("update_calendar", {"name": "x"}, "calendar_id", REQUIRED, id="missing"),
    case("update_calendar", {"calendar_id": "{calendar}"}, "name", ("give name or color",), id="empty-update"),
    case("update_calendar", {"calendar_id": "{calendar}", "name": 5}, "name", STR, id="wrong-type"),
    case("update_calendar", {"calendar_id": "{calendar}", "name": "  "}, "name", ("non-empty",), id="blank-name"),
    case("update_calendar", {"calendar_id": "{calendar}", "color": "red"}, "color", ("should be 'auto'",),
         id="bad-choice"),
    case("update_calendar", {"calendar_id": "cal_zzzzzz", "name": "x"}, "calendar_id", NEEDS_CAL,
         id="unknown-handle"),
    case("update_calendar", {"calendar_id": "{event}", "name": "x"}, "calendar_id", CAL_KIND, id="wrong-kind"),
    # delete_calendar
    case("delete_calendar", {}, "calendar_id", REQUIRED, id="missing"),
    case("delete_calendar", {"calendar_id": ["{calendar}"]}, "calendar_id", STR, id="wrong-type"),
    case("delete_calendar", {"calendar_id": "cal_zzzzzz"}, "calendar_id", NEEDS_CAL, id="unknown-handle"),
    case("delete_calendar", {"calendar_id": "{series}"}, "calendar_id", CAL_KIND, id="wrong-kind"),
    # get_mailbox_settings
    case("get_mailbox_settings", {"mailbox": 5}, "mailbox", STR, id="wrong-type"),
    case("get_mailbox_settings", {"mailbox": "users/dana"}, "mailbox", ("dana@contoso.com",), id="not-an-address"),
    # find_people
    case("find_people", {}, "query", REQUIRED, id="missing"),
    case("find_people", {"query": 5}, "query", STR, id="wrong-type"),
    case("find_people", {"query": "   "}, "query", ("give a name",), id="blank"),
    case("find_people", {"query": "Dana", "max_results": "3"}, "max_results", INT, id="wrong-type-max"),
    case("find_people", {"query": "Dana", "max_results": 51}, "max_results", ("less than or equal to 50",),
         id="out-of-range"),
]


def test_every_tool_has_bad_input_cases() -> None:
    from .people import ISSUE5_TOOLS  # sync, calendar groups, sharing: bad inputs in test_sync, ...
    from .test_meeting_tools import MEETING_TOOLS  # their bad inputs live beside their other tests

    covered = {p.values[0] for p in CASES}
    assert covered == set(TOOL_NAMES) - set(MEETING_TOOLS) - set(ISSUE5_TOOLS)
    for tool in ("calendar_view", "create_event", "update_event", "list_event_instances"):
        ids = {p.id for p in CASES if p.values[0] == tool}
        assert f"{tool}-end-before-start" in ids and f"{tool}-unknown-zone" in ids, tool


async def make_world(h: Harness) -> dict[str, str]:
    """One single event, one weekly series and one extra calendar; their handles for the placeholders."""
    event = await h.call("create_event", {"subject": "Bad input single", "start": "2027-03-10T09:00",
                                          "end": "2027-03-10T10:00"})
    series = await h.call("create_event", {"subject": "Bad input series", "start": "2027-03-01T14:00",
                                           "end": "2027-03-01T15:00",
                                           "recurrence": "FREQ=WEEKLY;BYDAY=MO"})
    calendar = await h.call("create_calendar", {"name": "Bad input calendar"})
    return {"event": event["event"]["handle"], "series": series["event"]["handle"],
            "calendar": calendar["calendar"]["handle"]}


def fill(value: Any, world: dict[str, str]) -> Any:
    if isinstance(value, str):
        return re.sub(r"\{(\w+)\}", lambda m: world[m.group(1)], value)
    if isinstance(value, list):
        return [fill(v, world) for v in value]
    if isinstance(value, dict):
        return {k: fill(v, world) for k, v in value.items()}
    return value


async def assert_still_serving(h: Harness) -> None:
    view = await h.call("calendar_view", {"start": "2027-03-10", "end": "2027-03-11"})
    assert "Bad input single" in [e["subject"] for e in view["events"]]


def names(message: str, argument: str) -> bool:
    """``argument`` appears as itself (not inside 'update_eventArguments' or 'list_events')."""
    return re.search(rf"(?<![A-Za-z0-9_]){re.escape(argument)}(?![A-Za-z0-9_])", message) is not None


def assert_names_real_tools(message: str) -> None:
    message = re.sub(r"\[type=[^\]]*\]|https?://\S+", "", message)  # pydantic's error codes and links
    for name in re.findall(r"\b((?:list|get|create|update|delete|find)_[a-z_]+)\b", message):
        assert name in TOOL_NAMES, f"the fix points to {name!r}, which this server does not have: {message}"


@pytest.fixture(scope="module")
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(scope="module")
async def world_server(tmp_path_factory: pytest.TempPathFactory
                       ) -> AsyncIterator[tuple[Harness, dict[str, str], sqlite3.Connection]]:
    async with open_harness(tmp_path_factory.mktemp("bad-input")) as h:
        world = await make_world(h)
        template = sqlite3.connect(":memory:")
        h.store.db.backup(template)
        yield h, world, template
        template.close()


@pytest.fixture
def world(world_server: tuple[Harness, dict[str, str], sqlite3.Connection]) -> tuple[Harness, dict[str, str]]:
    """The shared server, its sandbox restored to the world's state (whatever an earlier case did)."""
    h, handles, template = world_server
    template.backup(h.store.db)
    return h, handles


@pytest.mark.parametrize(("tool", "args", "argument", "fix"), CASES)
async def test_bad_input_is_rejected_and_changes_nothing(world: tuple[Harness, dict[str, str]], tool: str,
                                                         args: dict[str, Any], argument: str,
                                                         fix: tuple[str, ...]) -> None:
    h, handles = world
    before = h.snapshot()
    message = await h.fail(tool, fill(args, handles))
    assert h.snapshot() == before, "a rejected call changed the sandbox"
    assert names(message, argument), f"the message does not name {argument!r}: {message}"
    assert any(f in message.lower() for f in fix), f"the message does not say how to fix it ({fix}): {message}"
    assert_names_real_tools(message)
    await assert_still_serving(h)


async def test_an_unknown_argument_is_rejected(harness: Harness) -> None:
    h = harness
    before = h.snapshot()
    message = await h.fail("create_event", {**S, "timezone": "Asia/Tokyo"})
    assert names(message, "timezone")
    assert h.snapshot() == before


# -- Graph-side errors --------------------------------------------------------------------------------------

async def test_graph_errors_become_tool_errors_with_graphs_message(harness: Harness) -> None:
    h = harness
    world = await make_world(h)
    calendars = (await h.call("list_calendars"))["calendars"]
    default = next(c["handle"] for c in calendars if c.get("is_default"))
    birthdays = next(c["handle"] for c in calendars if c["name"] == "Birthdays")
    etag = (await h.call("get_event", {"event": world["event"]}))["event"]["etag"]
    await h.call("update_event", {"event": world["event"], "subject": "Bad input single"})  # a new etag

    refused = [
        (("delete_calendar", {"calendar_id": default}), "Distinguished folders cannot be deleted.",
         "ErrorDeleteDistinguishedFolder"),
        (("create_calendar", {"name": "Birthdays"}), "A folder with the specified name already exists.",
         "ErrorFolderExists"),
        (("update_calendar", {"calendar_id": world["calendar"], "name": "birthdays"}),
         "A folder with the specified name already exists.", "ErrorFolderExists"),
        (("update_event", {"event": world["event"], "subject": "Stale", "etag": etag}),
         "does not match the current change key", "ErrorIrresolvableConflict"),
        (("delete_event", {"event": world["event"], "etag": etag}),
         "does not match the current change key", "ErrorIrresolvableConflict"),
        (("list_event_instances", {"event": world["event"], "start": "2027-03-01", "end": "2027-04-01"}),
         "instances is only available on a series master event", "ErrorInvalidRequest"),
        (("get_mailbox_settings", {"mailbox": "nobody@contoso.com"}), "is invalid", "ErrorInvalidUser"),
    ]
    for (tool, args), graph_message, code in refused:
        before = h.snapshot()
        message = await h.fail(tool, args)
        assert graph_message in message and code in message, (tool, message)
        assert "request-id" in message
        assert h.snapshot() == before, tool
        await assert_still_serving(h)
    assert birthdays  # untouched by the rename attempt
    names = [c["name"] for c in (await h.call("list_calendars"))["calendars"]]
    assert names == ["Calendar", "Birthdays", "Bad input calendar"]

    # Gone is gone: a deleted event's handle answers with Graph's 404, and the server carries on.
    await h.call("delete_event", {"event": world["event"]})
    for tool in ("get_event", "update_event", "delete_event"):
        args = {"event": world["event"]} | ({"subject": "x"} if tool == "update_event" else {})
        message = await h.fail(tool, args)
        assert "ErrorItemNotFound" in message and "not found" in message.lower(), message
    assert "Bad input series" in [e["subject"] for e in (await h.call("list_events"))["events"]]
