"""Sharing end to end: Adele, Dana and Alex, each with their own MCP server, on one sandbox.

* list_calendar_permissions, share_calendar, update_calendar_permission, remove_calendar_permission, with
  their bad inputs (isError naming the argument and the fix; nothing changes);
* a user with no permission gets a clear error from the 403 (whose calendar, and to ask for
  share_calendar); one with read can read and cannot write; one with write can write; a group's calendar
  by group_id (members write, others read a public group's).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from .people import People, colleagues

pytestmark = pytest.mark.anyio

ADELE, DANA, ALEX = "adele@contoso.com", "dana@contoso.com", "alex@contoso.com"
MARCH = {"start": "2027-03-01", "end": "2027-04-01"}


@pytest.fixture(scope="module")
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(scope="module")
async def office(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[People]:
    async with colleagues(tmp_path_factory.mktemp("sharing"), "adele", "dana", "alex", "fanny") as people:
        yield people


@pytest.fixture
def people(office: People) -> People:
    office.restore()
    return office


async def adele_event(p: People, subject: str = "Budget review", **extra: Any) -> str:
    made = await p.call("adele", "create_event", {"subject": subject, "start": "2027-03-10T09:00",
                                                  "end": "2027-03-10T10:00", "description": "Numbers inside",
                                                  **extra})
    return made["event"]["handle"]


async def test_permission_tools(people: People) -> None:
    p = people
    listed = await p.call("adele", "list_calendar_permissions")
    assert listed["calendar"] == "your main calendar"
    assert [(x["who"], x["role"], x.get("removable")) for x in listed["permissions"]] == [
        ("My Organization", "freeBusyRead", False)]
    shared = await p.call("adele", "share_calendar", {"share_with": DANA, "role": "read"})
    perm = shared["permission"]
    assert perm["who"] == f"Dana Swope <{DANA}>" and perm["role"] == "read" and perm["handle"].startswith("perm_")
    assert "write" in perm["allowed_roles"] and "mailbox" in shared["note"]
    full = await p.call("adele", "list_calendar_permissions", {"detail": "full"})
    assert [x["role"] for x in full["permissions"]] == ["read", "freeBusyRead"]
    assert full["permissions"][1]["allowed_roles"] == ["none", "freeBusyRead", "limitedRead", "read", "write"]
    updated = await p.call("adele", "update_calendar_permission", {"permission": perm["handle"], "role": "write"})
    assert updated["permission"]["role"] == "write"
    by_address = await p.call("adele", "update_calendar_permission", {"permission": DANA, "role": "limitedRead"})
    assert by_address["permission"]["handle"] == perm["handle"]
    org = await p.call("adele", "update_calendar_permission", {"permission": "My Organization", "role": "none"})
    assert org["permission"]["role"] == "none"
    removed = await p.call("adele", "remove_calendar_permission", {"permission": perm["handle"]})
    assert removed == {"calendar": "your main calendar", "removed": perm["handle"], "who": f"Dana Swope <{DANA}>"}
    # Another calendar, and someone outside the organization.
    side = (await p.call("adele", "create_calendar", {"name": "Team offsites"}))["calendar"]["handle"]
    outside = await p.call("adele", "share_calendar", {"share_with": "jordan@fabrikam.com", "role": "limitedRead",
                                                       "calendar_id": side})
    assert outside["permission"]["outside_organization"] is True and side in outside["calendar"]
    # A sharee sees no permissions of the calendar shared with them (Graph shows them to the owner only).
    seen = await p.call("adele", "list_calendar_permissions", {"mailbox": ALEX})
    assert seen["permissions"] == [] and "owner" in seen["note"]


BAD: list[tuple[str, dict[str, Any], str, str]] = [
    ("share_calendar", {}, "share_with", "required"),
    ("share_calendar", {"share_with": "Dana Swope"}, "share_with", "dana@contoso.com"),
    ("share_calendar", {"share_with": DANA, "role": "owner"}, "role", "freeBusyRead"),
    ("share_calendar", {"share_with": ALEX, "role": "read"}, "share_with", "update_calendar_permission"),
    ("share_calendar", {"share_with": "baker@contoso.com"}, "not a person", "people"),
    ("share_calendar", {"share_with": "jordan@fabrikam.com", "role": "write"}, "role 'write'", "allowed roles"),
    ("share_calendar", {"share_with": DANA, "calendar_id": "cal_zzzzzz"}, "calendar_id", "list_calendars"),
    ("share_calendar", {"share_with": ADELE, "mailbox": ALEX}, "write access", "share_calendar"),
    ("update_calendar_permission", {"permission": ALEX}, "role", "required"),
    ("update_calendar_permission", {"permission": DANA, "role": "read"}, "permission", "list_calendar_permissions"),
    ("update_calendar_permission", {"permission": "perm_zzzzzz", "role": "read"}, "permission",
     "list_calendar_permissions"),
    ("update_calendar_permission", {"permission": "My Organization", "role": "delegateWithPrivateEventAccess"},
     "role", "allowed"),
    ("update_calendar_permission", {"permission": ALEX, "role": "none"}, "role", "allowed"),
    ("remove_calendar_permission", {"permission": "My Organization"}, "permission", "role='none'"),
    ("remove_calendar_permission", {"permission": "ev_abcdef"}, "permission", "'perm_'"),
    ("list_calendar_permissions", {"group_id": "launch@contoso.com", "calendar_id": "cal_zzzzzz"}, "calendar_id",
     "group"),
    ("list_calendar_permissions", {"mailbox": DANA, "calendar_id": "cal_zzzzzz"}, "calendar_id", "list_calendars"),
]


@pytest.mark.parametrize(("tool", "args", "argument", "fix"), BAD, ids=[f"{b[0]}-{i}" for i, b in enumerate(BAD)])
async def test_bad_permission_inputs(people: People, tool: str, args: dict[str, Any], argument: str,
                                     fix: str) -> None:
    await people.call("adele", "share_calendar", {"share_with": ALEX, "role": "read"})
    before = people.snapshot()
    message = await people.fail("adele", tool, args)
    assert argument in message and fix.lower() in message.lower(), message
    assert people.snapshot() == before


async def test_no_permission_gets_a_clear_error(people: People) -> None:
    p = people
    event = await adele_event(p)
    before = p.snapshot()
    for tool, args in (("calendar_view", {"mailbox": ADELE, **MARCH}), ("list_events", {"mailbox": ADELE}),
                       ("get_event", {"mailbox": ADELE, "event": p.graph_id("adele", event)}),
                       ("sync_events", {"mailbox": ADELE, **MARCH})):
        message = await p.fail("dana", tool, args)
        assert f"don't have access to {ADELE}'s calendar" in message and "share_calendar" in message, message
        assert "403" in message
    message = await p.fail("dana", "create_event", {"mailbox": ADELE, "subject": "x", "start": "2027-03-11T09:00",
                                                    "end": "2027-03-11T10:00"})
    assert f"write access to {ADELE}'s calendar" in message
    assert p.snapshot() == before
    # Free/busy stays visible to the organization.
    schedule = await p.call("dana", "get_schedule", {"people": [ADELE], "start": "2027-03-10T00:00",
                                                     "end": "2027-03-11T00:00"})
    assert "busy" in str(schedule).lower()


async def test_read_can_read_and_cannot_write(people: People) -> None:
    p = people
    event = await adele_event(p)
    private = await adele_event(p, "Doctor", sensitivity="private")
    await p.call("adele", "share_calendar", {"share_with": DANA, "role": "read"})
    seen = await p.call("dana", "calendar_view", {"mailbox": ADELE, **MARCH})
    subjects = [e["subject"] for e in seen["events"]]
    assert "Budget review" in subjects and "Doctor" not in subjects          # private: times only
    eid = p.graph_id("adele", event)
    got = await p.call("dana", "get_event", {"mailbox": ADELE, "event": eid})
    assert "Numbers inside" in got["event"]["body"]
    before = p.snapshot()
    for tool, args in (("update_event", {"mailbox": ADELE, "event": eid, "subject": "Mine now"}),
                       ("delete_event", {"mailbox": ADELE, "event": eid}),
                       ("create_event", {"mailbox": ADELE, "subject": "x", "start": "2027-03-11T09:00",
                                         "end": "2027-03-11T10:00"})):
        message = await p.fail("dana", tool, args)
        assert "write access" in message and "update_calendar_permission" in message, message
    assert p.snapshot() == before
    assert private


async def test_write_can_write(people: People) -> None:
    p = people
    await p.call("adele", "share_calendar", {"share_with": DANA, "role": "write"})
    made = await p.call("dana", "create_event", {"mailbox": ADELE, "subject": "Added by Dana",
                                                 "start": "2027-03-12T09:00", "end": "2027-03-12T10:00"})
    handle = made["event"]["handle"]
    changed = await p.call("dana", "update_event", {"mailbox": ADELE, "event": handle, "location": "Room 7"})
    assert changed["event"]["location"] == "Room 7"
    view = await p.call("adele", "calendar_view", MARCH)
    assert "Added by Dana" in [e["subject"] for e in view["events"]]
    await p.call("dana", "delete_event", {"mailbox": ADELE, "event": handle})
    assert "Added by Dana" not in [e["subject"] for e in (await p.call("adele", "calendar_view", MARCH))["events"]]
    # Megan shares her calendar with Adele (write) in the seed.
    assert (await p.call("adele", "create_event", {"mailbox": "megan@contoso.com", "subject": "For Megan",
                                                   "start": "2027-03-12T09:00", "end": "2027-03-12T10:00"}))


async def test_group_calendars_by_group_id(people: People) -> None:
    p = people
    window = {"group_id": "launch@contoso.com", "start": "2026-01-01", "end": "2028-01-01"}
    seen = await p.call("adele", "calendar_view", window)
    assert {"Launch stand-up", "Launch readiness review"} <= {e["subject"] for e in seen["events"]}
    made = await p.call("adele", "create_event", {"group_id": "launch@contoso.com", "subject": "Launch party",
                                                  "start": "2027-03-19T16:00", "end": "2027-03-19T18:00"})
    organizer = p.rows("SELECT json_extract(doc, '$.organizer.emailAddress.address') FROM events WHERE "
                       "json_extract(doc, '$.subject') = 'Launch party'")
    assert [tuple(r) for r in organizer] == [("launch@contoso.com",)] and made["event"]["handle"].startswith("ev_")
    group_id = p.rows("SELECT id FROM mailboxes WHERE address = 'launch@contoso.com'")[0][0]
    by_id = await p.call("dana", "list_events", {"group_id": group_id, "subject_contains": "party"})
    assert [e["subject"] for e in by_id["events"]] == ["Launch party"]
    assert (await p.call("fanny", "calendar_view", window))["events"]                  # public: others read
    before = p.snapshot()
    message = await p.fail("fanny", "create_event", {"group_id": "launch@contoso.com", "subject": "x",
                                                     "start": "2027-03-19T09:00", "end": "2027-03-19T10:00"})
    assert "the group launch@contoso.com" in message and "member" in message
    message = await p.fail("adele", "calendar_view", {**window, "group_id": "leadership@contoso.com"})
    assert "member" in message
    assert p.snapshot() == before
