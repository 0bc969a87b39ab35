"""The sandbox's storage and its seeded organization.

Schema versioning, persistence of a file database across Store instances,
one-transaction-per-request rollback, the demo organization the issue asks
for, and Graph-shaped ids, change keys, etags, iCalUIds and timestamps.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import itertools
import json
import re
import sqlite3

import pytest

from outlook_calendar_mcp.sandbox.models import store as store_module
from outlook_calendar_mcp.sandbox.models.seed import seed_store
from outlook_calendar_mcp.sandbox.models.store import SCHEMA_VERSION, Store

from .conftest import (
    ADELE,
    GRAPH_STAMP_RE,
    ID_RE,
    MONDAY,
    NOW,
    all_pages,
    clock_on,
    event_body,
    new_store,
    open_client,
    post_event,
    snapshot,
)

UTC = dt.UTC
SEEDED_RANGE = {"startDateTime": "2026-01-01T00:00:00Z", "endDateTime": "2027-01-01T00:00:00Z", "$top": "1000"}


# -- schema and persistence ------------------------------------------------------------------


def test_schema_is_versioned():
    s = Store(":memory:")
    assert s.db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION >= 1
    assert s.schema_version == SCHEMA_VERSION
    assert set(store_module.MIGRATIONS) == set(range(1, SCHEMA_VERSION + 1))
    tables = {r[0] for r in s.db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert {"mailboxes", "calendar_groups", "calendars", "events", "tombstones"} <= tables


def test_a_file_database_persists_across_store_instances(tmp_path):
    path = tmp_path / "nested" / "sandbox.db"
    first = new_store(path=str(path))
    with open_client(first) as c:
        created = post_event(c, event_body("Persisted", isOnlineMeeting=True))
        cal = c.post("me/calendars", json={"name": "Kept"}).json()
        before = snapshot(first)
    first.close()
    assert path.is_file()

    second = Store(path)
    assert second.schema_version == SCHEMA_VERSION and not second.is_empty()
    assert snapshot(second) == before
    # create_app seeds only an empty store: the events we made are still the only changes.
    with open_client(second, seed=True) as c:
        got = c.get(f"me/events/{created['id']}")
        assert got.status_code == 200 and got.json()["subject"] == "Persisted"
        assert got.json()["changeKey"] == created["changeKey"]
        assert c.get(f"me/calendars/{cal['id']}").json()["name"] == "Kept"
    assert snapshot(second) == before
    second.close()


def test_a_newer_schema_is_refused(tmp_path):
    path = tmp_path / "future.db"
    db = sqlite3.connect(path)
    db.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    db.close()
    with pytest.raises(RuntimeError, match="newer"):
        Store(path)


def test_an_older_schema_is_migrated(tmp_path):
    path = tmp_path / "empty.db"
    sqlite3.connect(path).close()  # user_version 0
    s = Store(path)
    assert s.schema_version == SCHEMA_VERSION
    s.close()


# -- transactions ----------------------------------------------------------------------------


def test_a_transaction_that_raises_rolls_everything_back(store):
    before = snapshot(store)
    with pytest.raises(RuntimeError, match="midway"), store.transaction():
        mailbox = store.add_mailbox("temp@contoso.com", "user", {"displayName": "Temp"})
        group = store.add_group(mailbox, "G")
        store.add_calendar(mailbox, group, {"name": "C"}, is_default=True)
        store.db.execute("DELETE FROM events")
        store.next_seq()
        raise RuntimeError("failed midway")
    assert snapshot(store) == before
    assert store.mailbox("temp@contoso.com") is None


def test_nested_transactions_join_the_outer_one(store):
    before = snapshot(store)
    with pytest.raises(ValueError), store.transaction():
        store.add_mailbox("outer@contoso.com", "user", {"displayName": "Outer"})
        with store.transaction():
            store.add_mailbox("inner@contoso.com", "user", {"displayName": "Inner"})
        raise ValueError("after the inner block committed nothing on its own")
    assert snapshot(store) == before
    with store.transaction(), store.transaction():
        store.add_mailbox("kept@contoso.com", "user", {"displayName": "Kept"})
    assert store.mailbox("kept@contoso.com") is not None


def test_a_request_failing_after_its_first_writes_leaves_nothing(client, store):
    """Through HTTP: PATCH a series master's times drops its exceptions, then the new times fail."""
    master = client.get("me/events", params={"$filter": "subject eq 'Weekly team sync'"}).json()["value"][0]
    before = snapshot(store)
    r = client.patch(f"me/events/{master['id']}", json={
        "start": {"dateTime": "2026-02-03T12:00:00", "timeZone": "Pacific Standard Time"},
        "end": {"dateTime": "2026-02-03T11:00:00", "timeZone": "Pacific Standard Time"}})
    assert r.status_code == 400
    assert snapshot(store) == before


def test_an_internal_error_answers_in_graphs_shape_and_rolls_back(store, monkeypatch):
    from outlook_calendar_mcp.sandbox.responses import events as api_events

    def explode(*args, **kwargs):
        store.db.execute("DELETE FROM events")
        raise ZeroDivisionError("boom")

    monkeypatch.setattr(api_events, "calendar_view", explode)
    before = snapshot(store)
    with open_client(store) as c:
        r = c.get("me/calendarView", params=SEEDED_RANGE)
    assert r.status_code == 500
    assert r.json()["error"]["code"] == "generalException" and "innerError" in r.json()["error"]
    assert snapshot(store) == before


# -- the seeded organization ----------------------------------------------------------------


def test_seeded_people_time_zones_and_working_hours(store, make_client):
    app = make_client("sandbox-app")
    people = [r for r in store.mailboxes("user")]
    assert len(people) >= 6
    zones, hours = set(), set()
    for row in people:
        settings = app.get(f"users/{row['address']}/mailboxSettings").json()
        zones.add(settings["timeZone"])
        wh = settings["workingHours"]
        assert wh["daysOfWeek"] and wh["startTime"] < wh["endTime"]
        assert wh["timeZone"]["name"] == settings["timeZone"]
        hours.add((wh["startTime"], wh["endTime"]))
    assert len(zones) >= 3
    assert len(hours) >= 3  # "their own working hours"


def test_seeded_rooms_and_room_lists(store):
    lists = store.mailboxes("roomList")
    rooms = store.mailboxes("room")
    assert len(lists) >= 2 and len(rooms) >= 6
    list_addresses = {r["address"] for r in lists}
    per_list: dict[str, int] = {}
    for row in rooms:
        place = json.loads(row["doc"])["place"]
        assert isinstance(place["capacity"], int) and place["capacity"] > 0
        assert place["building"] and isinstance(place["floorNumber"], int)
        assert place["roomList"] in list_addresses
        per_list[place["roomList"]] = per_list.get(place["roomList"], 0) + 1
        assert store.default_calendar(row["id"]) is not None  # rooms have calendars (free/busy, bookings)
    assert len(per_list) >= 2


def test_seeded_week_has_everything_the_issue_lists(client):
    events = all_pages(client, "me/events")
    view = all_pages(client, "me/calendarView", params=SEEDED_RANGE)
    masters = [e for e in events if e["type"] == "seriesMaster"]
    assert masters
    with_both = []
    for m in masters:
        instances = [e for e in view if e.get("seriesMasterId") == m["id"]]
        assert all(e["type"] in ("occurrence", "exception") for e in instances)
        exceptions = [e for e in instances if e["type"] == "exception"]
        if exceptions:
            with_both.append((m, exceptions))
    assert with_both, "a recurring series with a modified occurrence"
    # The modified one moved by an hour; the cancelled one left a gap in the weekly rhythm.
    (sync, exceptions), = with_both
    assert len(exceptions) == 1
    starts = sorted(dt.datetime.fromisoformat(e["start"]["dateTime"][:19]).date()
                    for e in view if e.get("seriesMasterId") == sync["id"])
    gaps = [b - a for a, b in itertools.pairwise(starts)]
    assert gaps.count(dt.timedelta(days=14)) == 1 and set(gaps) == {dt.timedelta(days=7), dt.timedelta(days=14)}
    singles = [e for e in events if e["type"] == "singleInstance"]
    all_day = [e for e in singles if e["isAllDay"]]
    assert all_day
    multi_day = [e for e in all_day
                 if (dt.date.fromisoformat(e["end"]["dateTime"][:10]) - dt.date.fromisoformat(e["start"]["dateTime"][:10]))
                 > dt.timedelta(days=1)]
    assert multi_day
    online = [e for e in events if e["isOnlineMeeting"]]
    assert online and all(e["onlineMeeting"]["joinUrl"].startswith("https://") for e in online)
    assert [e for e in events if e["sensitivity"] == "private"]
    assert [e for e in events if len(e["attendees"]) >= 2]
    assert [e for e in events if any(a["type"] == "resource" for a in e["attendees"])]
    assert [e for e in events if any(not a["emailAddress"]["address"].endswith("@contoso.com") for a in e["attendees"])]


def test_seeded_week_is_relative_to_today():
    for today, monday in [(dt.date(2026, 3, 4), dt.date(2026, 3, 2)), (dt.date(2026, 3, 2), dt.date(2026, 3, 2)),
                          (dt.date(2026, 3, 7), dt.date(2026, 3, 9)),  # a Saturday shows next week
                          (dt.date(2027, 1, 14), dt.date(2027, 1, 11))]:
        s = Store(":memory:")
        seed_store(s, clock_on(today))
        with open_client(s) as c:
            week = {"startDateTime": f"{monday}T00:00:00Z", "endDateTime": f"{monday + dt.timedelta(days=6)}T00:00:00Z"}
            subjects = {e["subject"] for e in all_pages(c, "me/calendarView", params=week)}
            assert {"Quarterly planning", "Lunch with Megan", "Weekly team sync", "Focus time"} <= subjects, today
        s.close()


def test_seeded_colleagues_have_events_of_their_own(store, make_client):
    app = make_client("sandbox-app")
    owners = {row["address"] for row in store.mailboxes("user")
              if app.get(f"users/{row['address']}/events").json()["value"]}
    assert len(owners) >= 4 and ADELE in owners


def test_seeding_is_reproducible_for_a_pinned_day():
    def shape(s: Store):
        with open_client(s) as c:
            return sorted((e["subject"], e["start"]["dateTime"], e["type"])
                          for e in all_pages(c, "me/calendarView", params=SEEDED_RANGE))

    assert shape(new_store()) == shape(new_store())


# -- Graph-shaped identifiers and stamps -----------------------------------------------------


def decode(item_id: str) -> bytes:
    try:
        return base64.urlsafe_b64decode(item_id.encode())
    except (binascii.Error, ValueError) as e:  # pragma: no cover - the assertion message
        raise AssertionError(f"not url-safe base64: {item_id}") from e


def test_ids_look_like_graphs(client):
    events = all_pages(client, "me/events")
    view = all_pages(client, "me/calendarView", params=SEEDED_RANGE)
    calendars = client.get("me/calendars").json()["value"]
    groups = client.get("me/calendarGroups").json()["value"]
    for item in events + view + calendars + groups:
        assert ID_RE.match(item["id"]), item["id"]
        assert len(item["id"]) >= 100 and item["id"].startswith("AAMkA"), item["id"]
        assert "/" not in item["id"] and "+" not in item["id"]  # they sit in a URL path as they are
        assert len(decode(item["id"])) >= 64
    for collection in (events, view, calendars + groups):
        assert len({i["id"] for i in collection}) == len(collection)
    singles = {e["id"] for e in events if e["type"] == "singleInstance"}
    assert singles <= {e["id"] for e in view}  # a single instance is the same item in both
    me = client.get("me").json()
    assert re.fullmatch(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", me["id"])


def test_change_keys_etags_ical_uids_and_timestamps(client):
    events = all_pages(client, "me/events") + all_pages(client, "me/calendarView", params=SEEDED_RANGE)
    for e in events:
        assert len(decode_std(e["changeKey"])) >= 16
        assert e["@odata.etag"] == f'W/"{e["changeKey"]}"'
        assert re.fullmatch(r"040000008200E00074C5B7101A82E008[0-9A-F]{80,}", e["iCalUId"]), e["iCalUId"]
        assert GRAPH_STAMP_RE.match(e["createdDateTime"]) and GRAPH_STAMP_RE.match(e["lastModifiedDateTime"])
        assert e["createdDateTime"] <= e["lastModifiedDateTime"]
    series = {}
    for e in events:
        if e.get("seriesMasterId"):
            series.setdefault(e["seriesMasterId"], set()).add(e["iCalUId"])
    masters = {e["id"]: e["iCalUId"] for e in events if e["type"] == "seriesMaster"}
    for master_id, uids in series.items():
        assert uids == {masters[master_id]}  # occurrences share their series' iCalUId


def decode_std(text: str) -> bytes:
    return base64.b64decode(text.encode(), validate=True)


def test_change_key_and_last_modified_move_on_every_update(client):
    created = post_event(client, event_body("Stamps"))
    stamps = [created]
    for subject in ("one", "two", "three"):
        stamps.append(client.patch(f"me/events/{created['id']}", json={"subject": subject}).json())
    assert len({s["changeKey"] for s in stamps}) == 4
    assert len({s["@odata.etag"] for s in stamps}) == 4
    assert {s["createdDateTime"] for s in stamps} == {created["createdDateTime"]}
    modified = [s["lastModifiedDateTime"] for s in stamps]
    assert modified == sorted(modified)
    created_at = dt.datetime.fromisoformat(created["createdDateTime"][:26] + "+00:00")
    assert abs(NOW - created_at) < dt.timedelta(minutes=5)   # the sandbox's clock, not the system's
    assert client.get(f"me/events/{created['id']}").json()["changeKey"] == stamps[-1]["changeKey"]


def test_reading_changes_nothing(client, store):
    before = snapshot(store)
    all_pages(client, "me/calendarView", params=SEEDED_RANGE)
    all_pages(client, "me/events")
    client.get("me/calendars")
    client.get("me/mailboxSettings")
    client.get("users")
    assert snapshot(store) == before


def test_seeded_monday_constant_matches_the_seed(client):
    """conftest.MONDAY is the seeded week's Monday (the lunch with Megan is on it)."""
    lunch = client.get("me/events", params={"$filter": "subject eq 'Lunch with Megan'"},
                       headers={"Prefer": 'outlook.timezone="Pacific Standard Time"'}).json()["value"][0]
    assert lunch["start"]["dateTime"].startswith(MONDAY.isoformat())
