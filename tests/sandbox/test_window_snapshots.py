"""calendarView pages under concurrent writes: a listing is the calendar as it was at its first page.

The sandbox keeps a window's expanded instances per (request, data version) and names that snapshot in
each nextLink (sandbox/models/snapshots.py). These tests write between pages — an event added before
the page already read, one deleted from a page not read yet, an occurrence moved — and check that the
pages, followed to the end, hold every instance of the first moment exactly once; and that a new first
page sees the writes.
"""

from __future__ import annotations

import gc
import json
import sqlite3
from collections import Counter
from typing import Any

from outlook_calendar_mcp.sandbox.models.snapshots import Snapshots

from .conftest import Client, new_store, open_client

WINDOW = {"startDateTime": "2026-03-01T00:00:00Z", "endDateTime": "2026-04-01T00:00:00Z"}


def page(client: Client, url: str, params: dict[str, str] | None = None) -> dict[str, Any]:
    r = client.get(url, params=params)
    assert r.status_code == 200, r.text
    return r.json()


def ids(body: dict[str, Any]) -> list[str]:
    return [e["id"] for e in body["value"]]


def whole(client: Client, params: dict[str, str]) -> list[str]:
    body, out = page(client, "me/calendarView", params), []
    while True:
        out += ids(body)
        if "@odata.nextLink" not in body:
            return out
        body = page(client, body["@odata.nextLink"])


def new_event(client: Client, subject: str, start: str, end: str) -> str:
    r = client.post("me/events", json={"subject": subject, "start": {"dateTime": start, "timeZone": "UTC"},
                                       "end": {"dateTime": end, "timeZone": "UTC"}})
    assert r.status_code == 201, r.text
    return r.json()["id"]


def test_writes_between_pages_neither_skip_nor_repeat(client: Client) -> None:
    params = {**WINDOW, "$top": "3", "$orderby": "start/dateTime", "$select": "subject,start"}
    before = whole(client, params)
    assert len(before) > 9, "the seeded month should span several pages"

    first = page(client, "me/calendarView", params)
    seen = ids(first)
    # Writes between pages: one event before everything read so far, one deletion further on.
    added = new_event(client, "Inserted before page one", "2026-03-01T01:00:00", "2026-03-01T02:00:00")
    doomed = before[-2]
    assert client.delete(f"me/events/{doomed}").status_code == 204
    body = first
    while "@odata.nextLink" in body:
        body = page(client, body["@odata.nextLink"])
        seen += ids(body)

    counts = Counter(seen)
    assert [i for i, n in counts.items() if n > 1] == [], "an instance came twice"
    assert seen == before, "the pages are not the calendar as it was at the first page"
    assert added not in seen

    # A new listing starts from the calendar as it is now.
    after = whole(client, params)
    assert added in after and doomed not in after
    assert len(after) == len(before)


def test_first_page_reflects_each_write(client: Client) -> None:
    params = {**WINDOW, "$top": "5", "$orderby": "start/dateTime"}
    assert page(client, "me/calendarView", params)["value"]  # builds and keeps the window
    added = new_event(client, "Very first", "2026-03-01T00:30:00", "2026-03-01T00:45:00")
    assert ids(page(client, "me/calendarView", params))[0] == added
    r = client.patch(f"me/events/{added}", json={"subject": "Renamed first"})
    assert r.status_code == 200, r.text
    assert page(client, "me/calendarView", params)["value"][0]["subject"] == "Renamed first"
    assert client.delete(f"me/events/{added}").status_code == 204
    assert added not in ids(page(client, "me/calendarView", params))


def test_a_snapshot_serves_only_the_window_it_was_cut_from(client: Client) -> None:
    params = {**WINDOW, "$top": "2"}
    link = page(client, "me/calendarView", params)["@odata.nextLink"]
    snapshot = link.split("snapshot=")[1].split("&")[0]
    other = {"startDateTime": "2026-03-03T00:00:00Z", "endDateTime": "2026-03-04T00:00:00Z"}
    # The same snapshot id with another window is not that window's listing: the window's own is built.
    body = page(client, "me/calendarView", {**other, "$top": "50", "snapshot": snapshot})
    direct = page(client, "me/calendarView", {**other, "$top": "50"})
    assert ids(body) == ids(direct)
    assert all(e["start"]["dateTime"] < "2026-03-04" for e in body["value"])


def test_unknown_snapshot_is_built_again(client: Client) -> None:
    params = {**WINDOW, "$top": "4", "$orderby": "start/dateTime"}
    expected = ids(page(client, "me/calendarView", {**params, "$skip": "4"}))
    assert ids(page(client, "me/calendarView", {**params, "$skip": "4", "snapshot": "gone"})) == expected


def test_the_cache_stays_bounded() -> None:
    cache = Snapshots(keep=3, max_items=10)
    for version in range(6):
        cache.items("month", version, None, lambda: list(range(4)))
    assert len(cache) == 2 and cache.entries == 8  # at most 10 entries: two lists of 4
    first, items = cache.items("month", 6, None, lambda: list(range(4)))
    assert cache.items("month", 6, first, lambda: [])[1] is items  # a later page reads its own snapshot
    cache.items("week", 6, None, lambda: list(range(20)))  # larger than the budget alone: kept, the rest dropped
    assert len(cache) == 1


def snapshot_of(body: dict[str, Any]) -> str:
    return body["@odata.nextLink"].split("snapshot=")[1].split("&")[0]


def test_only_a_change_to_an_event_makes_the_window_expand_again(client: Client) -> None:
    params = {**WINDOW, "$top": "3"}
    kept = snapshot_of(page(client, "me/calendarView", params))
    # A delta round writes its sync state beside the events: the window stays the one already expanded.
    r = client.get("me/calendarView/delta", params=WINDOW)
    assert r.status_code == 200, r.text
    assert snapshot_of(page(client, "me/calendarView", params)) == kept
    added = new_event(client, "Changed the month", "2026-03-02T05:00:00", "2026-03-02T06:00:00")
    body = page(client, "me/calendarView", {**params, "$top": "1000"})
    assert added in ids(body)
    assert snapshot_of(page(client, "me/calendarView", params)) != kept


def test_a_write_by_another_connection_is_seen(tmp_path: Any) -> None:
    store = new_store(path=str(tmp_path / "sandbox.db"))
    with open_client(store) as api:
        params = {**WINDOW, "$top": "1000", "$select": "subject"}
        before = page(api, "me/calendarView", params)["value"]
        target = before[0]
        other = sqlite3.connect(store.path)  # another process on the same file: no request of this sandbox
        row = other.execute("SELECT doc FROM events WHERE id = ?", (target["id"],)).fetchone()
        assert row is not None, "the first instance of the month should be a stored event"
        doc = json.loads(row[0])
        doc["subject"] = "Renamed elsewhere"
        with other:
            other.execute("UPDATE events SET doc = ? WHERE id = ?", (json.dumps(doc), target["id"]))
        other.close()
        after = page(api, "me/calendarView", params)["value"]
        assert [e["id"] for e in after] == [e["id"] for e in before]
        assert after[0]["subject"] == "Renamed elsewhere" != target["subject"]
    store.close()


def test_pages_read_again_are_the_same_and_each_view_is_its_own(client: Client) -> None:
    params = {**WINDOW, "$top": "4"}
    first = client.get("me/calendarView", params=params)
    again = client.get("me/calendarView", params=params)
    assert first.content == again.content  # rendered once, kept with the window
    assert first.headers["content-type"] == "application/json"
    pacific = client.get("me/calendarView", params=params,
                         headers={"Prefer": 'outlook.timezone="Pacific Standard Time"'}).json()
    assert [e["id"] for e in pacific["value"]] == ids(first.json())
    assert {e["start"]["timeZone"] for e in pacific["value"]} == {"Pacific Standard Time"}
    assert {e["start"]["timeZone"] for e in first.json()["value"]} == {"UTC"}
    texts = client.get("me/calendarView", params=params, headers={"Prefer": 'outlook.body-content-type="text"'})
    assert {e["body"]["contentType"] for e in texts.json()["value"]} == {"text"}
    chosen = page(client, "me/calendarView", {**params, "$select": "subject"})["value"]
    assert all(set(e) <= {"id", "subject", "@odata.etag"} for e in chosen)
    counted = page(client, "me/calendarView", {**params, "$count": "true"})
    assert counted["@odata.count"] == len(whole(client, params))
    assert page(client, counted["@odata.nextLink"])["value"] == page(client, first.json()["@odata.nextLink"])["value"]


def test_rendered_pages_stay_within_their_budget() -> None:
    cache = Snapshots(max_bytes=100)
    first, _ = cache.items("month", 1, None, lambda: list(range(4)))
    assert cache.memo(first, "utc", lambda: ["a"]) == ["a"]
    assert cache.memo(first, "utc", lambda: ["b"]) == ["a"]  # kept with its snapshot
    cache.add_bytes(first, 60, "utc")
    second, _ = cache.items("week", 1, None, lambda: list(range(2)))
    cache.add_bytes(second, 60, "utc")  # 120 > 100: the least recently used snapshot goes
    assert len(cache) == 1 and cache.rendered_bytes == 60
    assert cache.memo(first, "utc", lambda: ["c"]) == ["c"]  # gone: made again, not kept
    assert cache.memo(second, "index", lambda: {"by": "id"}) == {"by": "id"}  # derived from it, not rendered
    cache.add_bytes(second, 60, "utc")  # one snapshot alone over the budget keeps its list, not what was rendered
    assert len(cache) == 1 and cache.rendered_bytes == 0
    assert cache.memo(second, "utc", lambda: ["d"]) == ["d"]
    assert cache.peek(second, "index") == {"by": "id"}  # what was derived stays: it is the window's, not JSON


def test_what_a_window_keeps_is_not_walked_by_the_garbage_collector(client: Client, store: Any) -> None:
    """A large window's snapshot lives for long; a full collection walks every tracked object and every entry of a
    tracked container. What a window keeps (its instances, each series' expansion data, rendered pages, a delta
    round's items) must be objects the collector stops tracking, or each collection of the process
    grows with the mailbox."""
    for n in range(3):
        r = client.post("me/events", json={
            "subject": f"Series {n}", "start": {"dateTime": f"2026-03-02T0{n + 7}:00:00", "timeZone": "UTC"},
            "end": {"dateTime": f"2026-03-02T0{n + 7}:30:00", "timeZone": "UTC"}, "categories": ["Blue category"],
            "recurrence": {"pattern": {"type": "weekly", "interval": 1, "daysOfWeek": ["monday", "thursday"]},
                           "range": {"type": "noEnd", "startDate": "2026-03-02"}}})
        assert r.status_code == 201, r.text
    listed = whole(client, {**WINDOW, "$top": "4"})
    assert len(listed) > 24
    body = page(client, "me/calendarView/delta", WINDOW)
    while "@odata.nextLink" in body:
        body = page(client, body["@odata.nextLink"])
    gc.collect()
    gc.collect()
    held = list(store.snapshots.held())
    assert held and store.series
    kept = [*held, store.series, *store.series.values()]
    tracked = [type(v).__name__ for v in kept if isinstance(v, (tuple, list, dict)) and gc.is_tracked(v)]
    assert tracked == []


def test_rendered_json_a_window_takes_from_the_one_before_is_counted_with_it() -> None:
    cache = Snapshots(keep=2, max_bytes=100)
    first, _ = cache.items("week", 1, None, lambda: [1])
    cache.memo(first, "utc", lambda: {"b": b"y" * 60})
    cache.add_bytes(first, 60, "utc")
    second, _ = cache.items("week", 2, None, lambda: [1, 2])
    assert cache.move(first, second, "utc") == {"b": b"y" * 60}  # taken with its 60 bytes
    assert cache.peek(first, "utc") is None and cache.peek(second, "utc") == {"b": b"y" * 60}
    cache.items("week", 3, None, lambda: [1, 2, 3])  # keep=2: the first goes, and nothing it counted
    assert len(cache) == 2 and cache.rendered_bytes == 60
    cache.add_bytes(second, 50, "utc")  # 110 > 100: the least recently used (the second) goes, counted in full
    assert cache.rendered_bytes == 0
