"""A window brought forward after a write is the window expanded anew, and a delta round after a write costs
what changed.

After a write the sandbox does not expand a kept calendar window again: it drops the instances of what was
written since (rows and tombstones after the window's seq) and makes them again from the rows as they are now
(sandbox/models/lookup.py ``_update``). These tests write every kind of change a calendar sees (a single event
made, moved, deleted; a series made, renamed, shortened, deleted; an occurrence changed into an exception, one
cancelled, an exception deleted; an event moved to another calendar) and check, after each, that the listing the
sandbox serves is the one it builds from scratch (its caches cleared), that it was brought forward rather than
rebuilt, and that a delta client that follows its deltaLink after each write holds exactly the window.
"""

from __future__ import annotations

import gc
import json
from collections.abc import Callable
from typing import Any

from outlook_calendar_mcp.sandbox.models.lookup import WHERE_SERIES, WHERE_STARTS
from outlook_calendar_mcp.sandbox.models.snapshots import DERIVED
from outlook_calendar_mcp.sandbox.models.store import Store

from .conftest import Client

WINDOW = {"startDateTime": "2027-03-01T00:00:00Z", "endDateTime": "2027-04-01T00:00:00Z"}
LIST = {**WINDOW, "$top": "1000"}


def ok(response: Any, status: int = 200) -> dict[str, Any]:
    assert response.status_code == status, response.text
    return response.json() if response.content else {}


def listing(client: Client) -> list[dict[str, Any]]:
    return ok(client.get("me/calendarView", params=LIST))["value"]


def window_snapshot(client: Client) -> str:
    """The id of the window's snapshot (what a nextLink names; a page of one has one)."""
    body = ok(client.get("me/calendarView", params={**WINDOW, "$top": "1"}))
    return body["@odata.nextLink"].split("snapshot=")[1].split("&")[0]


def event(subject: str, start: str, end: str, **more: Any) -> dict[str, Any]:
    return {"subject": subject, "start": {"dateTime": start, "timeZone": "Pacific Standard Time"},
            "end": {"dateTime": end, "timeZone": "Pacific Standard Time"}, **more}


def delta_round(client: Client, link: str | None) -> tuple[list[dict[str, Any]], str]:
    headers = {"Prefer": "odata.maxpagesize=7"}
    body = ok(client.get(link, headers=headers) if link else
              client.get("me/calendarView/delta", params=WINDOW, headers=headers))
    items = list(body["value"])
    while "@odata.nextLink" in body:
        body = ok(client.get(body["@odata.nextLink"], headers=headers))
        items += body["value"]
    return items, body["@odata.deltaLink"]


def held_by(model: dict[str, str], items: list[dict[str, Any]]) -> dict[str, str]:
    """A delta client's model after applying a round's items: id -> etag, or for an occurrence (whose version is
    its time: the rest is its master's) its start and end."""
    for item in items:
        if "@removed" in item:
            model.pop(item["id"], None)
        elif item["type"] == "occurrence":
            model[item["id"]] = f"{item['start']['dateTime']}|{item['end']['dateTime']}"
        else:
            model[item["id"]] = item["@odata.etag"]
    return model


def test_a_window_brought_forward_is_the_window_expanded_anew(client: Client, store: Store) -> None:
    listing(client)
    _, link = delta_round(client, None)
    model = held_by({}, delta_round(client, None)[0])
    _, link = delta_round(client, None)
    others = ok(client.post("me/calendars", json={"name": "Elsewhere"}), 201)["id"]
    made: dict[str, str] = {}

    def single() -> None:
        made["single"] = ok(client.post("me/events", json=event("One", "2027-03-03T09:00:00", "2027-03-03T10:00:00")),
                            201)["id"]

    def move_single() -> None:
        ok(client.patch(f"me/events/{made['single']}", json={
            "start": {"dateTime": "2027-03-20T09:00:00", "timeZone": "UTC"},
            "end": {"dateTime": "2027-03-20T09:30:00", "timeZone": "UTC"}}))

    def series() -> None:
        body = event("Weekly", "2027-03-01T08:00:00", "2027-03-01T08:45:00", recurrence={
            "pattern": {"type": "weekly", "interval": 1, "daysOfWeek": ["monday", "wednesday"]},
            "range": {"type": "noEnd", "startDate": "2027-03-01"}})  # crosses the 14 March DST change
        made["series"] = ok(client.post("me/events", json=body), 201)["id"]

    def occurrences() -> list[str]:
        return [e["id"] for e in listing(client) if e.get("seriesMasterId") == made["series"]
                and e["type"] == "occurrence"]

    def exception() -> None:
        made["exception"] = occurrences()[2]
        ok(client.patch(f"me/events/{made['exception']}", json={"subject": "Moved once", "start": {
            "dateTime": "2027-03-08T13:00:00", "timeZone": "UTC"}, "end": {"dateTime": "2027-03-08T14:00:00",
                                                                            "timeZone": "UTC"}}))

    def cancel() -> None:
        ok(client.delete(f"me/events/{occurrences()[4]}"), 204)

    def rename_series() -> None:
        ok(client.patch(f"me/events/{made['series']}", json={"subject": "Weekly, renamed"}))

    def delete_exception() -> None:
        ok(client.delete(f"me/events/{made['exception']}"), 204)  # the occurrence is cancelled

    def shorten_series() -> None:
        ok(client.patch(f"me/events/{made['series']}", json={"recurrence": {
            "pattern": {"type": "weekly", "interval": 1, "daysOfWeek": ["monday", "wednesday"]},
            "range": {"type": "endDate", "startDate": "2027-03-01", "endDate": "2027-03-17"}}}))

    def to_move() -> None:
        body = event("Moving", "2027-03-05T09:00:00", "2027-03-05T10:00:00")
        made["moving"] = ok(client.post("me/events", json=body), 201)["id"]

    def to_other_calendar() -> None:
        row = store.event_row(client_mailbox(store), made["moving"])
        assert row is not None
        doc = json.loads(row["doc"])
        with store.transaction():  # as a move through the store's own functions would write it
            from outlook_calendar_mcp.sandbox.models import events as ev
            ev.store_event(store, row["mailbox_id"], others, doc, made["moving"])

    def delete_series() -> None:
        ok(client.delete(f"me/events/{made['series']}"), 204)

    def delete_single() -> None:
        ok(client.delete(f"me/events/{made['single']}"), 204)

    def written_twice() -> None:  # one row written twice between two reads, another written and deleted
        twice = ok(client.post("me/events", json=event("Twice", "2027-03-10T09:00:00", "2027-03-10T10:00:00")), 201)
        ok(client.patch(f"me/events/{twice['id']}", json={"subject": "Twice, renamed"}))
        brief = ok(client.post("me/events", json=event("Brief", "2027-03-11T09:00:00", "2027-03-11T10:00:00")), 201)
        ok(client.delete(f"me/events/{brief['id']}"), 204)

    steps: list[Callable[[], None]] = [single, move_single, series, exception, cancel, rename_series,
                                       delete_exception, shorten_series, to_move, to_other_calendar, delete_series,
                                       delete_single, written_twice]
    for step in steps:
        step()
        served = listing(client)
        derived = store.snapshots.peek(window_snapshot(client), DERIVED)
        assert derived is not None, f"after {step.__name__} the window was expanded again, not brought forward"
        items, link = delta_round(client, link)
        held_by(model, items)
        store.snapshots.clear()
        store.known_states.clear()
        assert served == listing(client), f"after {step.__name__} the window brought forward is not the window"
        assert model == held_by({}, delta_round(client, None)[0]), f"after {step.__name__} the delta client differs"


def client_mailbox(store: Store) -> str:
    row = store.mailbox("adele@contoso.com")
    assert row is not None
    return row["id"]


def test_a_change_beside_the_store_expands_the_window_again(client: Client, store: Store) -> None:
    ok(client.post("me/events", json=event("Target", "2027-03-03T09:00:00", "2027-03-03T10:00:00")), 201)
    target = next(e for e in listing(client) if e["type"] == "singleInstance")
    doc = json.loads(store.db.execute("SELECT doc FROM events WHERE id = ?", (target["id"],)).fetchone()[0])
    doc["subject"] = "Renamed by SQL"
    store.db.execute("UPDATE events SET doc = ? WHERE id = ?", (json.dumps(doc), target["id"]))  # no seq moved
    after = listing(client)
    assert [e["subject"] for e in after if e["id"] == target["id"]] == ["Renamed by SQL"]
    assert store.snapshots.peek(window_snapshot(client), DERIVED) is None  # built anew: nothing to bring forward


def test_a_delta_state_after_a_write_is_written_as_its_changes(client: Client, store: Store) -> None:
    for n in range(3):
        ok(client.post("me/events", json=event(f"E{n}", f"2027-03-0{n + 2}T09:00:00", f"2027-03-0{n + 2}T10:00:00")),
           201)
    _, link = delta_round(client, None)
    written = ok(client.post("me/events", json=event("After", "2027-03-09T09:00:00", "2027-03-09T10:00:00")), 201)
    items, after = delta_round(client, link)
    assert [e["id"] for e in items] == [written["id"]]
    token, parent = after.split("$deltatoken=")[1], link.split("$deltatoken=")[1]
    doc = json.loads(store.db.execute("SELECT doc FROM delta_states WHERE id = ?", (token,)).fetchone()[0])
    assert doc["parent"] == parent and "known" not in doc and [c[0] for c in doc["changes"]] == [written["id"]]
    assert store.db.execute("SELECT parent FROM delta_parents WHERE id = ?", (token,)).fetchone()[0] == parent
    # Read back from the database alone (a restarted sandbox): the state is its parent's with the change.
    store.known_states.clear()
    store.snapshots.clear()
    ok(client.delete(f"me/events/{written['id']}"), 204)
    items, last = delta_round(client, after)
    assert items == [{"@odata.type": "#microsoft.graph.event", "id": written["id"], "@removed": {"reason": "deleted"}}]
    # A parent outlives its lifetime while a state written as changes from it is kept.
    long_ago = "2000-01-01T00:00:00.0000000Z"
    store.db.execute("UPDATE delta_states SET created = ? WHERE id = ?", (long_ago, parent))
    store.db.execute("UPDATE delta_versions SET renewed = ? WHERE id = ?", (long_ago, parent))
    delta_round(client, None)  # saving a state drops the expired ones
    assert store.db.execute("SELECT 1 FROM delta_states WHERE id = ?", (parent,)).fetchone() is not None
    chain = (last.split("$deltatoken=")[1], token, parent)
    for link_token in chain:
        store.db.execute("UPDATE delta_states SET created = ? WHERE id = ?", (long_ago, link_token))
        store.db.execute("UPDATE delta_versions SET renewed = ? WHERE id = ?", (long_ago, link_token))
    delta_round(client, None)
    for gone in chain:  # all expired, nothing kept from them: all go, and their links
        assert store.db.execute("SELECT 1 FROM delta_states WHERE id = ?", (gone,)).fetchone() is None
        assert store.db.execute("SELECT 1 FROM delta_parents WHERE id = ?", (gone,)).fetchone() is None


def test_what_a_window_brought_forward_keeps_is_not_tracked_by_the_garbage_collector(client: Client,
                                                                                    store: Store) -> None:
    listing(client)
    _, link = delta_round(client, None)
    ok(client.post("me/events", json=event("Later", "2027-03-09T09:00:00", "2027-03-09T10:00:00")), 201)
    listing(client)
    delta_round(client, link)
    snapshot = window_snapshot(client)
    assert store.snapshots.peek(snapshot, DERIVED) is not None
    assert store.snapshots.peek(snapshot, WHERE_STARTS) is not None
    assert store.snapshots.peek(snapshot, WHERE_SERIES) is not None
    for _ in range(4):  # a collection untracks a tuple whose items it found untracked: nested ones, level by level
        gc.collect()
    kept = list(store.snapshots.held())
    tracked = [repr(v)[:300] for v in kept if isinstance(v, (tuple, list, dict)) and gc.is_tracked(v)]
    assert tracked == []
