"""Calendar groups end to end: list/get/create/update/delete_calendar_group, and create_calendar in a group.

The seeded mailbox has "My Calendars" (the default group: Calendar, Birthdays) and "Other Calendars".
Bad inputs are refused with isError, naming the argument and the fix, and change nothing.
"""

from __future__ import annotations

from typing import Any

import pytest

from .conftest import Harness
from .people import ISSUE5_TOOLS

pytestmark = pytest.mark.anyio


async def groups(h: Harness) -> dict[str, str]:
    return {g["name"]: g["handle"] for g in (await h.call("list_calendar_groups"))["groups"]}


async def test_the_group_tools(harness: Harness) -> None:
    h = harness
    listed = await groups(h)
    assert list(listed) == ["My Calendars", "Other Calendars"] and all(v.startswith("grp_") for v in listed.values())
    mine = await h.call("get_calendar_group", {"group_id": listed["My Calendars"], "detail": "full"})
    assert mine["group"]["name"] == "My Calendars" and mine["group"]["id"]
    assert [c["name"] for c in mine["calendars"]] == ["Calendar", "Birthdays"]

    created = await h.call("create_calendar_group", {"name": "  Projects  "})
    projects = created["group"]["handle"]
    assert created["group"]["name"] == "Projects" and projects.startswith("grp_")
    cal = await h.call("create_calendar", {"name": "Apollo", "group_id": projects, "color": "lightTeal"})
    inside = await h.call("get_calendar_group", {"group_id": projects})
    assert [c["handle"] for c in inside["calendars"]] == [cal["calendar"]["handle"]]
    assert [c["name"] for c in (await h.call("list_calendars", {"group_id": projects}))["calendars"]] == ["Apollo"]

    renamed = await h.call("update_calendar_group", {"group_id": projects, "name": "Programs"})
    assert renamed["group"] == {"handle": projects, "name": "Programs", "id": h.graph_id(projects, "group")}

    before = h.snapshot()
    message = await h.fail("delete_calendar_group", {"group_id": projects})
    assert "group_id" in message and "'Apollo'" in message and "delete_calendar" in message
    assert h.snapshot() == before
    await h.call("delete_calendar", {"calendar_id": cal["calendar"]["handle"]})
    gone = await h.call("delete_calendar_group", {"group_id": projects})
    assert gone == {"deleted": projects, "name": "Programs"}
    assert list(await groups(h)) == ["My Calendars", "Other Calendars"]


BAD: list[tuple[str, dict[str, Any], str, tuple[str, ...]]] = [
    ("create_calendar_group", {}, "name", ("required",)),
    ("create_calendar_group", {"name": "   "}, "name", ("non-empty",)),
    ("create_calendar_group", {"name": 7}, "name", ("valid string",)),
    ("create_calendar_group", {"name": "Other Calendars"}, "already exists", ("already exists",)),
    ("get_calendar_group", {}, "group_id", ("required",)),
    ("get_calendar_group", {"group_id": "grp_zzzzzz"}, "group_id", ("list_calendar_groups",)),
    ("get_calendar_group", {"group_id": "{calendar}"}, "group_id", ("'grp_'",)),
    ("update_calendar_group", {"group_id": "{other}"}, "name", ("required",)),
    ("update_calendar_group", {"group_id": "{other}", "name": ""}, "name", ("at least 1 character",)),
    ("update_calendar_group", {"group_id": "grp_zzzzzz", "name": "x"}, "group_id", ("list_calendar_groups",)),
    ("delete_calendar_group", {"group_id": "{default}"}, "group_id", ("delete those calendars",)),
    ("delete_calendar_group", {"group_id": "work"}, "group_id", ("list_calendar_groups",)),
    ("list_calendar_groups", {"mailbox": "Dana Swope"}, "mailbox", ("dana@contoso.com",)),
    ("list_calendar_groups", {"mailbox": "dana@contoso.com"}, "Access is denied", ("access is denied",)),
    ("create_calendar", {"name": "Lost", "group_id": "grp_zzzzzz"}, "group_id", ("list_calendar_groups",)),
]


@pytest.mark.parametrize(("tool", "args", "argument", "fix"), BAD, ids=[f"{b[0]}-{i}" for i, b in enumerate(BAD)])
async def test_bad_inputs(harness: Harness, tool: str, args: dict[str, Any], argument: str,
                          fix: tuple[str, ...]) -> None:
    h = harness
    found = await groups(h)
    calendar = (await h.call("list_calendars"))["calendars"][0]["handle"]
    fill = {"{calendar}": calendar, "{other}": found["Other Calendars"], "{default}": found["My Calendars"]}
    args = {k: fill.get(v, v) if isinstance(v, str) else v for k, v in args.items()}
    before = h.snapshot()
    message = await h.fail(tool, args)
    assert argument in message and any(f in message.lower() for f in fix), message
    assert h.snapshot() == before


async def test_the_new_tools_are_advertised_with_annotations(harness: Harness) -> None:
    tools = {t.name: t for t in (await harness.client.list_tools()).tools}
    assert set(ISSUE5_TOOLS) <= set(tools)
    for name in ISSUE5_TOOLS:
        hints = tools[name].annotations
        assert None not in (hints.read_only_hint, hints.destructive_hint, hints.idempotent_hint,
                            hints.open_world_hint), name
        assert tools[name].input_schema.get("additionalProperties") is False, name
        assert tools[name].description.startswith("Use to"), name
    assert tools["delete_calendar_group"].annotations.destructive_hint is True
    assert tools["list_calendar_groups"].annotations.read_only_hint is True
    assert tools["sync_events"].annotations.idempotent_hint is False
