"""sync_events end to end: an MCP client, the server, the sandbox's calendarView delta.

* The reference's "Sincronizar eventos" example reproduced through the tool: with page_size 1 the first
  response holds one event and a deltaLink, the request with its $deltatoken one event and a nextLink,
  then $skiptoken pages until a deltaLink; one MCP progress notification per page.
* "What changed since I last looked": after creating, changing and deleting events (and an occurrence),
  the next call returns exactly those, with no token in sight; the window is remembered.
* An expired token starts the window over; someone else's and a group's calendars sync as their sharing
  allows; bad inputs are refused, naming the argument, and change nothing.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from .conftest import LOCAL_RE, Harness, structured
from .people import colleagues

pytestmark = pytest.mark.anyio

WINDOW = {"start": "2027-03-10", "end": "2027-03-13"}


def recorder(h: Harness) -> list[tuple[str, dict[str, list[str]], str]]:
    """(path, query, Prefer) of every request the server's GraphClient sends from now on."""
    seen: list[tuple[str, dict[str, list[str]], str]] = []

    def hook(method: str, url: str, headers: dict[str, str], body: bytes | None) -> None:
        parts = urlsplit(url)
        seen.append((parts.path.split("/v1.0/")[-1], parse_qs(parts.query), headers.get("prefer", "")))

    h.graph.on_request.append(hook)
    return seen


async def events(h: Harness, *specs: tuple[str, str, str]) -> dict[str, str]:
    made = {}
    for subject, start, end in specs:
        made[subject] = (await h.call("create_event", {"subject": subject, "start": start, "end": end}))["event"]["handle"]
    return made


async def test_the_reference_sync_example_through_the_tool(harness: Harness) -> None:
    h = harness
    await events(h, ("Sync A", "2027-03-10T09:00", "2027-03-10T09:30"), ("Sync B", "2027-03-11T09:00", "2027-03-11T09:30"),
                 ("Sync C", "2027-03-12T09:00", "2027-03-12T09:30"))
    sent = recorder(h)
    progress: list[tuple[float, float | None, str | None]] = []

    async def on_progress(value: float, total: float | None, message: str | None) -> None:
        progress.append((value, total, message))

    result = structured(await h.client.call_tool("sync_events", {**WINDOW, "page_size": 1},
                                                 progress_callback=on_progress))
    assert result["first_sync"] is True and result["pages"] == 3
    assert [e["subject"] for e in result["added"]] == ["Sync A", "Sync B", "Sync C"]
    assert result["updated"] == [] and result["removed"] == []
    assert all(LOCAL_RE.match(e["start"]) for e in result["added"])
    # The requests: the initial one (window, page size 1, track-changes), its deltaToken, then a skipToken.
    paths = [p for p, _, _ in sent]
    assert paths == ["me/calendar/calendarView/delta"] * 3
    initial, second, third = (q for _, q, _ in sent)
    assert initial["startDateTime"] == ["2027-03-10T08:00:00Z"] and initial["endDateTime"] == ["2027-03-13T08:00:00Z"]
    assert "$deltatoken" in second and "$skiptoken" in third
    assert all("odata.maxpagesize=1" in prefer and "odata.track-changes" in prefer for _, _, prefer in sent)
    assert [p[0] for p in progress] == [1, 2, 3] and all("page" in (p[2] or "") for p in progress)
    # Asked again (no window: the last one), nothing changed: one request, with the saved deltaToken.
    sent.clear()
    again = await h.call("sync_events", {})
    assert again["added"] == again["updated"] == again["removed"] == [] and "first_sync" not in again
    assert again["note"] == "Nothing changed since the last sync." and again["window_start"] == result["window_start"]
    assert len(sent) == 1 and "$deltatoken" in sent[0][1]


async def test_what_changed_since_i_last_looked(harness: Harness) -> None:
    h = harness
    made = await events(h, ("Kept", "2027-03-10T09:00", "2027-03-10T10:00"),
                        ("To change", "2027-03-11T09:00", "2027-03-11T10:00"),
                        ("To delete", "2027-03-12T09:00", "2027-03-12T10:00"))
    series = (await h.call("create_event", {"subject": "Daily check-in", "start": "2027-03-10T08:00",
                                            "end": "2027-03-10T08:15", "recurrence": "FREQ=DAILY;COUNT=5"}))
    first = await h.call("sync_events", WINDOW)
    kinds = sorted(e.get("kind", "single") for e in first["added"])
    assert kinds == ["occurrence"] * 3 + ["series"] + ["single"] * 3
    occurrences = [e for e in first["added"] if e.get("kind") == "occurrence"]
    assert {e["subject"] for e in occurrences} == {"Daily check-in"}           # filled in from the master
    assert {e["series"] for e in occurrences} == {series["event"]["handle"]}

    new = (await h.call("create_event", {"subject": "Added later", "start": "2027-03-11T15:00",
                                         "end": "2027-03-11T16:00"}))["event"]["handle"]
    await h.call("update_event", {"event": made["To change"], "subject": "Changed"})
    await h.call("delete_event", {"event": made["To delete"]})
    await h.call("delete_event", {"event": occurrences[1]["handle"], "scope": "occurrence"})
    changes = await h.call("sync_events", {})
    assert [e["handle"] for e in changes["added"]] == [new]
    assert [(e["handle"], e["subject"]) for e in changes["updated"]] == [(made["To change"], "Changed")]
    assert {(r["handle"], r["subject"]) for r in changes["removed"]} == {(made["To delete"], "To delete"),
                                                                        (occurrences[1]["handle"], "Daily check-in")}
    assert all(LOCAL_RE.match(r["start"]) for r in changes["removed"])
    assert changes["since"] and "first_sync" not in changes
    # An event moved out of the window leaves it.
    await h.call("update_event", {"event": made["Kept"], "start": "2027-04-01T09:00"})
    moved = await h.call("sync_events", {})
    assert [r["handle"] for r in moved["removed"]] == [made["Kept"]] and moved["added"] == moved["updated"] == []


async def test_windows_calendars_restart_and_expiry(harness: Harness) -> None:
    h = harness
    await events(h, ("In window", "2027-03-10T09:00", "2027-03-10T10:00"))
    cal = (await h.call("create_calendar", {"name": "Side"}))["calendar"]["handle"]
    await h.call("create_event", {"subject": "Side event", "start": "2027-03-10T09:00", "end": "2027-03-10T10:00",
                                  "calendar_id": cal})
    main = await h.call("sync_events", WINDOW)
    side = await h.call("sync_events", {**WINDOW, "calendar_id": cal})
    assert [e["subject"] for e in main["added"]] == ["In window"]
    assert [e["subject"] for e in side["added"]] == ["Side event"] and side["first_sync"]
    assert (await h.call("sync_events", {"calendar_id": cal}))["added"] == []   # its own last window
    other = await h.call("sync_events", {"start": "2027-03-10", "end": "2027-03-11"})
    assert other["first_sync"] and [e["subject"] for e in other["added"]] == ["In window"]
    again = await h.call("sync_events", {**WINDOW, "restart": True})
    assert again["first_sync"] and [e["subject"] for e in again["added"]] == ["In window"]
    # The sandbox forgets every token (as Graph does after a while): the window starts over, and says so.
    h.store.db.execute("DELETE FROM delta_states")
    expired = await h.call("sync_events", WINDOW)
    assert "expired" in expired["note"] and [e["subject"] for e in expired["added"]] == ["In window"]
    # max_results caps what is listed, not what is synced.
    await events(h, *((f"Many {i}", f"2027-03-11T{8 + i:02d}:00", f"2027-03-11T{8 + i:02d}:30") for i in range(4)))
    capped = await h.call("sync_events", {**WINDOW, "max_results": 2})
    assert len(capped["added"]) == 2 and capped["omitted"] == 2
    assert (await h.call("sync_events", {}))["added"] == []


BAD = [
    ({"start": "2027-03-12", "end": "2027-03-10"}, "end", ("not after",)),
    ({"start": "next week"}, "start", ("iso 8601",)),
    ({"time_zone": "Mars/Base"}, "time_zone", ("iana", "windows")),
    ({"page_size": 0}, "page_size", ("greater than or equal to 1",)),
    ({"page_size": "5"}, "page_size", ("valid integer",)),
    ({"restart": "yes"}, "restart", ("valid boolean",)),
    ({"calendar_id": "cal_zzzzzz"}, "calendar_id", ("list_calendars",)),
    ({"group_id": "grp_abcdef"}, "group_id", ("calendar group handle",)),
    ({"group_id": "launch@contoso.com", "mailbox": "alex@contoso.com"}, "group_id", ("not both",)),
    ({"group_id": "nobody@contoso.com"}, "group_id", ("no microsoft 365 group",)),
    ({"mailbox": "Dana Swope"}, "mailbox", ("dana@contoso.com",)),
    ({"max_results": 0}, "max_results", ("greater than or equal to 1",)),
    ({"since": "yesterday"}, "since", ("extra",)),
]


@pytest.mark.parametrize(("args", "argument", "fix"), BAD, ids=[f"{b[1]}-{i}" for i, b in enumerate(BAD)])
async def test_bad_inputs_are_refused_and_change_nothing(harness: Harness, args: dict[str, Any], argument: str,
                                                         fix: tuple[str, ...]) -> None:
    before = harness.snapshot()
    message = await harness.fail("sync_events", args)
    assert argument in message and any(f in message.lower() for f in fix), message
    assert harness.snapshot() == before
    assert (await harness.call("sync_events", WINDOW))["first_sync"]        # still serving, no state was saved


async def test_other_peoples_and_group_calendars(tmp_path: Path) -> None:
    async with colleagues(tmp_path, "adele", "fanny") as people:
        # Alex shares his calendar with Adele (read): she syncs it; Dana shares nothing.
        alex = await people.call("adele", "sync_events", {"mailbox": "alex@contoso.com", "start": "2026-11-01",
                                                          "end": "2026-12-31"})
        assert alex["first_sync"] and alex["time_zone"] == "America/Los_Angeles"
        message = await people.fail("adele", "sync_events", {"mailbox": "dana@contoso.com"})
        assert "share_calendar" in message and "dana@contoso.com" in message
        # The group calendar, by the group's address: a member and (public group) anyone may sync it.
        window = {"group_id": "launch@contoso.com", "start": "2020-01-01", "end": "2030-01-01"}
        launch = await people.call("adele", "sync_events", window)
        assert {e["subject"] for e in launch["added"]} == {"Launch stand-up", "Launch readiness review"}
        assert len((await people.call("fanny", "sync_events", window))["added"]) == len(launch["added"])
        private = await people.fail("fanny", "sync_events", {**window, "group_id": "leadership@contoso.com"})
        assert "member" in private
