"""calendarView delta in the sandbox, over HTTP.

* The reference's "Sincronizar eventos" example, replayed: ``Prefer: odata.track-changes`` and
  ``odata.maxpagesize=1`` on ``me/calendarview``; the first response holds one event and a deltaLink
  (``$deltatoken``), the second (with that token) one event and a nextLink (``$skiptoken``), and so on
  until a deltaLink again; every event complete.
* Graph's form, ``calendarView/delta``: nextLink pages, then a deltaLink; later rounds return only what
  changed (``@removed`` for what left the window); series masters and exceptions in full, occurrences
  abbreviated to id/seriesMasterId/type/start/end.
* The query options the reference forbids there, and bad tokens, are refused without changing anything.

Every test's events live in March 2027, far from the seeded week.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from outlook_calendar_mcp.sandbox.models.store import Store
from tests.contract.csdl import load_model
from tests.sandbox.conftest import Client, assert_graph_error, event_body, post_event

WINDOW = {"startDateTime": "2027-03-10T00:00:00Z", "endDateTime": "2027-03-13T00:00:00Z"}
TRACK = {"Prefer": "odata.track-changes, odata.maxpagesize=1"}
ABBREVIATED = {"@odata.type", "@odata.etag", "id", "seriesMasterId", "type", "start", "end"}


@pytest.fixture(scope="module")
def model() -> Any:
    return load_model()


def everything(store: Store) -> dict[str, list[tuple]]:
    return {t: sorted(tuple(r) for r in store.db.execute(f"SELECT * FROM {t}"))
            for t in ("events", "tombstones", "delta_states", "calendar_permissions")}


def three(client: Client) -> list[dict[str, Any]]:
    return [post_event(client, event_body(f"Sync {i}", f"2027-03-10T{i + 8:02d}:00:00", f"2027-03-10T{i + 8:02d}:30:00"))
            for i in range(3)]


def round_of(client: Client, url: str, headers: dict[str, str], params: dict[str, str] | None = None,
             max_pages: int = 50) -> tuple[list[dict[str, Any]], str, int]:
    """Follow nextLinks to the deltaLink: (items, deltaLink, pages)."""
    items: list[dict[str, Any]] = []
    response = client.get(url, params=params, headers=headers)
    for page in range(1, max_pages + 1):
        assert response.status_code == 200, response.text
        body = response.json()
        items.extend(body["value"])
        if "@odata.deltaLink" in body:
            assert "@odata.nextLink" not in body
            return items, body["@odata.deltaLink"], page
        response = client.get(body["@odata.nextLink"], headers=headers)
    raise AssertionError("no deltaLink")


# -- the reference's example ------------------------------------------------------------------------------

def test_the_reference_sync_example_page_size_one(client: Client, model: Any) -> None:
    made = three(client)
    # Initial request: Prefer odata.track-changes and odata.maxpagesize=1 -> one event and a deltaLink.
    first = client.get("me/calendarview", params={"startdatetime": WINDOW["startDateTime"],
                                                  "enddatetime": WINDOW["endDateTime"]}, headers=TRACK)
    assert first.status_code == 200, first.text
    assert "odata.track-changes" in first.headers["Preference-Applied"]
    body = first.json()
    assert [e["subject"] for e in body["value"]] == ["Sync 0"]
    assert "@odata.nextLink" not in body and "$deltatoken=" in body["@odata.deltaLink"]
    assert "startDateTime=2027-03-10T00:00:00Z" in body["@odata.deltaLink"]
    event = body["value"][0]
    assert event["body"]["content"] is not None and event["organizer"] and event["type"] == "singleInstance"
    assert model.validate("event", {k: v for k, v in event.items() if k != "@odata.type"}) == []
    # Second request: the deltaToken -> the next event and a nextLink with a skipToken.
    second = client.get(body["@odata.deltaLink"], headers=TRACK)
    assert second.status_code == 200
    assert "odata.track-changes" not in second.headers["Preference-Applied"]   # not an initial request
    body = second.json()
    assert [e["subject"] for e in body["value"]] == ["Sync 1"]
    assert "$skiptoken=" in body["@odata.nextLink"] and "@odata.deltaLink" not in body
    # Third and later: skipTokens until a deltaLink again.
    third = client.get(body["@odata.nextLink"], headers={"Prefer": "odata.maxpagesize=1"}).json()
    assert [e["subject"] for e in third["value"]] == ["Sync 2"]
    assert "$deltatoken=" in third["@odata.deltaLink"]
    assert {e["id"] for e in first.json()["value"] + body["value"] + third["value"]} == {e["id"] for e in made}
    # Nothing changed since: an empty page and a fresh deltaLink.
    again = client.get(third["@odata.deltaLink"], headers=TRACK).json()
    assert again["value"] == [] and "$deltatoken=" in again["@odata.deltaLink"]


def test_graph_delta_pages_then_delta_link(client: Client) -> None:
    made = [*three(client), post_event(client, event_body("Sync 3", "2027-03-11T09:00:00", "2027-03-11T10:00:00")), post_event(client, event_body("Sync 4", "2027-03-12T09:00:00", "2027-03-12T10:00:00"))]
    first = client.get("me/calendarView/delta", params=WINDOW, headers={"Prefer": "odata.maxpagesize=2"}).json()
    assert len(first["value"]) == 2 and "$skiptoken=" in first["@odata.nextLink"]
    assert "startDateTime" not in first["@odata.nextLink"]          # Graph's links carry only the token
    items, delta, pages = round_of(client, "me/calendarView/delta", {"Prefer": "odata.maxpagesize=2"}, WINDOW)
    assert pages == 3 and [e["subject"] for e in items] == [f"Sync {i}" for i in range(5)]
    assert {e["id"] for e in items} == {e["id"] for e in made}
    assert "/calendarView/delta?$deltatoken=" in delta
    assert client.get(delta).json()["value"] == []


def test_later_rounds_return_exactly_what_changed(client: Client) -> None:
    kept, changed, gone = three(client)
    _, delta, _ = round_of(client, "me/calendarView/delta", {}, WINDOW)
    added = post_event(client, event_body("Sync new", "2027-03-11T12:00:00", "2027-03-11T13:00:00"))
    assert client.patch(f"me/events/{changed['id']}", json={"subject": "Sync 1 (moved)"}).status_code == 200
    assert client.delete(f"me/events/{gone['id']}").status_code == 204
    items, delta, _ = round_of(client, delta, {})
    assert items[0] == {"@odata.type": "#microsoft.graph.event", "id": gone["id"], "@removed": {"reason": "deleted"}}
    assert {e["id"]: e.get("subject") for e in items[1:]} == {changed["id"]: "Sync 1 (moved)",
                                                              added["id"]: "Sync new"}
    # An event moved out of the window is removed from it; one moved in is new.
    outside = post_event(client, event_body("Elsewhere", "2027-04-01T09:00:00", "2027-04-01T10:00:00"))
    client.patch(f"me/events/{kept['id']}", json={"start": {"dateTime": "2027-04-02T09:00:00", "timeZone": "UTC"},
                                                  "end": {"dateTime": "2027-04-02T10:00:00", "timeZone": "UTC"}})
    client.patch(f"me/events/{outside['id']}", json={"start": {"dateTime": "2027-03-12T09:00:00", "timeZone": "UTC"},
                                                     "end": {"dateTime": "2027-03-12T10:00:00", "timeZone": "UTC"}})
    items, _, _ = round_of(client, delta, {})
    assert [(e["id"], "@removed" in e) for e in items] == [(kept["id"], True), (outside["id"], False)]


def test_series_master_and_exceptions_in_full_occurrences_abbreviated(client: Client, model: Any) -> None:
    series = post_event(client, event_body("Daily sync", "2027-03-08T09:00:00", "2027-03-08T09:15:00", recurrence={
        "pattern": {"type": "daily", "interval": 1},
        "range": {"type": "numbered", "startDate": "2027-03-08", "numberOfOccurrences": 10}}))
    items, delta, _ = round_of(client, "me/calendarView/delta", {"Prefer": 'outlook.timezone="Pacific Standard Time"'},
                               WINDOW)
    kinds = [e["type"] for e in items]
    assert kinds == ["seriesMaster", "occurrence", "occurrence", "occurrence"]
    master, occurrences = items[0], items[1:]
    assert master["id"] == series["id"] and master["subject"] == "Daily sync" and master["recurrence"]
    for occ in occurrences:
        assert set(occ) == ABBREVIATED and occ["seriesMasterId"] == series["id"]
        assert occ["start"]["timeZone"] == "Pacific Standard Time" and occ["start"]["dateTime"].endswith("09:00:00.0000000")
        assert model.validate("event", {k: v for k, v in occ.items() if k != "@odata.type"}) == []
    # Change one occurrence, delete another, rename the series.
    moved, cancelled = occurrences[0], occurrences[1]
    client.patch(f"me/events/{moved['id']}", json={"subject": "Daily sync (late)",
                                                    "start": {"dateTime": "2027-03-10T11:00:00", "timeZone": "Pacific Standard Time"},
                                                    "end": {"dateTime": "2027-03-10T11:15:00", "timeZone": "Pacific Standard Time"}})
    client.delete(f"me/events/{cancelled['id']}")
    items, delta, _ = round_of(client, delta, {})
    assert [(e["id"], e.get("type"), "@removed" in e) for e in items] == [
        (cancelled["id"], None, True), (moved["id"], "exception", False)]
    assert items[1]["subject"] == "Daily sync (late)"
    client.patch(f"me/events/{series['id']}", json={"subject": "Stand-up"})
    items, _, _ = round_of(client, delta, {})
    # Only the master: the occurrences' times did not change (they take their subject from it).
    assert [(e["id"], e["subject"]) for e in items] == [(series["id"], "Stand-up")]


def test_a_calendar_of_its_own_and_zones(client: Client) -> None:
    cal = client.post("me/calendars", json={"name": "Sync calendar"}).json()
    post_event(client, event_body("In the other calendar", "2027-03-10T09:00:00", "2027-03-10T10:00:00"),
               path=f"me/calendars/{cal['id']}/events")
    post_event(client, event_body("In the main calendar", "2027-03-10T09:00:00", "2027-03-10T10:00:00"))
    items, delta, _ = round_of(client, f"me/calendars/{cal['id']}/calendarView/delta",
                               {"Prefer": 'outlook.timezone="Tokyo Standard Time"'}, WINDOW)
    assert [e["subject"] for e in items] == ["In the other calendar"]
    assert items[0]["start"] == {"dateTime": "2027-03-11T02:00:00.0000000", "timeZone": "Tokyo Standard Time"}
    assert f"calendars/{cal['id']}/calendarView/delta" in delta
    # A token belongs to its calendar view.
    token = delta.split("$deltatoken=")[1]
    r = client.get("me/calendarView/delta", params={"$deltatoken": token})
    assert_graph_error(r, 400, "ErrorInvalidUrlQuery")


# -- refusals -----------------------------------------------------------------------------------------------

@pytest.mark.parametrize("option, value", [("$filter", "subject eq 'x'"), ("$select", "subject"), ("$top", "5"),
                                           ("$skip", "1"), ("$search", "sync"), ("$count", "true"),
                                           ("$orderby", "subject"), ("$expand", "attachments")])
def test_forbidden_query_options(client: Client, store: Store, option: str, value: str) -> None:
    three(client)
    before = everything(store)
    for path in ("me/calendarView/delta", "me/calendarView"):
        headers = {"Prefer": "odata.track-changes"} if path == "me/calendarView" else {}
        r = client.get(path, params={**WINDOW, option: value}, headers=headers)
        error = assert_graph_error(r, 400, "ErrorInvalidUrlQuery")
        assert option in error["message"] and "change tracking" in error["message"]
    assert everything(store) == before


def test_bad_windows_and_tokens(client: Client, store: Store) -> None:
    three(client)
    _, delta, _ = round_of(client, "me/calendarView/delta", {"Prefer": "odata.maxpagesize=1"}, WINDOW)
    before = everything(store)
    cases = [
        ("me/calendarView/delta", {}, 400, "ErrorInvalidParameter"),                         # no window
        ("me/calendarView/delta", {"startDateTime": "tomorrow", "endDateTime": "2027-03-13T00:00:00Z"}, 400,
         "ErrorInvalidParameter"),
        ("me/calendarView/delta", {"$deltatoken": "not-a-token"}, 410, "SyncStateNotFound"),
        ("me/calendarView/delta", {"$skiptoken": "nope.3"}, 410, "SyncStateNotFound"),
        ("me/calendarView/delta", {"$deltatoken": "a", "$skiptoken": "b"}, 400, "ErrorInvalidUrlQuery"),
        ("me/calendarView/delta", {"$deltatoken": ""}, 400, "ErrorInvalidUrlQuery"),
        ("me/calendarView/delta", {"since": "yesterday"}, 400, "ErrorInvalidUrlQuery"),
        (delta + "&startDateTime=2027-01-01T00:00:00Z&endDateTime=2027-02-01T00:00:00Z", None, 400,
         "ErrorInvalidUrlQuery"),                                                            # not the round's window
    ]
    for path, params, status, code in cases:
        assert_graph_error(client.get(path, params=params), status, code)
    assert_graph_error(client.post("me/calendarView/delta", params=WINDOW), 405)
    assert everything(store) == before


def test_delta_follows_sharing(make_client: Callable[..., Client], client: Client) -> None:
    three(client)
    post_event(client, event_body("Private sync", "2027-03-11T09:00:00", "2027-03-11T10:00:00",
                                  sensitivity="private", body={"contentType": "text", "content": "secret"}))
    dana = make_client("sandbox:dana@contoso.com")
    assert_graph_error(dana.get("users/adele@contoso.com/calendarView/delta", params=WINDOW), 403,
                       "ErrorAccessDenied")
    r = client.post("me/calendar/calendarPermissions", json={"emailAddress": {"address": "dana@contoso.com"},
                                                              "role": "limitedRead"})
    assert r.status_code == 201, r.text
    items, _, _ = round_of(dana, "users/adele@contoso.com/calendarView/delta", {}, WINDOW)
    assert [e.get("subject") for e in items] == ["Sync 0", "Sync 1", "Sync 2", None]
    assert all("body" not in e and "attendees" not in e for e in items)
    dana.close()


# -- rounds on a window that did not change, and writes between pages ----------------------------------------

def test_a_round_with_nothing_changed_hands_on_the_same_state(client: Client, store: Store) -> None:
    first, second, third = three(client)
    _, delta, _ = round_of(client, "me/calendarView/delta", {}, WINDOW)
    # Something beside the events is written (a mail, a delta state of another window): still nothing to send.
    other = {"startDateTime": "2027-05-01T00:00:00Z", "endDateTime": "2027-05-02T00:00:00Z"}
    round_of(client, "me/calendarView/delta", {}, other)
    token = delta.split("$deltatoken=")[1]
    long_ago = "2000-01-01T00:00:00.0000000Z"
    store.db.execute("UPDATE delta_states SET created = ? WHERE id = ?", (long_ago, token))
    store.db.execute("UPDATE delta_versions SET renewed = ? WHERE id = ?", (long_ago, token))
    items, again, _ = round_of(client, delta, {})
    assert items == [] and again == delta  # the client's state is unchanged: its token again, its lifetime anew
    stored = store.db.execute("SELECT doc FROM delta_states WHERE id = ?", (token,)).fetchone()
    assert stored is not None and set(json.loads(stored[0])["known"]) == {first["id"], second["id"], third["id"]}
    round_of(client, "me/calendarView/delta", {}, other)  # a new state is saved: expired ones go, not this one
    assert store.db.execute("SELECT 1 FROM delta_states WHERE id = ?", (token,)).fetchone() is not None
    # The next write is the next round's one item, then nothing again.
    assert client.patch(f"me/events/{second['id']}", json={"subject": "Sync 1 (again)"}).status_code == 200
    items, after, _ = round_of(client, again, {})
    assert [(e["id"], e["subject"]) for e in items] == [(second["id"], "Sync 1 (again)")] and after != again
    assert round_of(client, after, {})[0] == []


def test_a_legacy_first_response_is_not_the_whole_window(client: Client) -> None:
    made = three(client)
    first = client.get("me/calendarView", params=WINDOW, headers=TRACK).json()
    assert len(first["value"]) == 1
    # Nothing changed since, but the client holds one event of three: the next round sends the other two.
    items, _, _ = round_of(client, first["@odata.deltaLink"], {"Prefer": "odata.maxpagesize=5"})
    assert {e["id"] for e in items} == {e["id"] for e in made[1:]}


def test_writes_between_the_pages_of_a_round(client: Client) -> None:
    made = three(client)
    series = post_event(client, event_body("Morning", "2027-03-10T06:00:00", "2027-03-10T06:15:00", recurrence={
        "pattern": {"type": "daily", "interval": 1},
        "range": {"type": "numbered", "startDate": "2027-03-10", "numberOfOccurrences": 3}}))
    page_of_one = {"Prefer": "odata.maxpagesize=1"}
    body = client.get("me/calendarView/delta", params=WINDOW, headers=page_of_one).json()
    seen = list(body["value"])
    assert seen[0]["id"] == series["id"]  # the master first, its occurrences next (abbreviated), then the singles
    # Between pages: a single not sent yet is renamed, another is deleted; the series is renamed.
    assert client.patch(f"me/events/{made[1]['id']}", json={"subject": "Renamed mid-round"}).status_code == 200
    assert client.delete(f"me/events/{made[2]['id']}").status_code == 204
    assert client.patch(f"me/events/{series['id']}", json={"subject": "Morning (renamed)"}).status_code == 200
    while "@odata.nextLink" in body:
        body = client.get(body["@odata.nextLink"], headers=page_of_one).json()
        seen += body["value"]
    by_id = {e["id"]: e for e in seen}
    assert by_id[made[1]["id"]]["subject"] == "Renamed mid-round"  # sent as it is now
    assert by_id[made[2]["id"]] == {"@odata.type": "#microsoft.graph.event", "id": made[2]["id"],
                                   "@removed": {"reason": "deleted"}}
    occurrences = [e for e in seen if e.get("type") == "occurrence"]
    assert len(occurrences) == 3 and all(set(e) == ABBREVIATED for e in occurrences)
    # The round's deltaLink does not claim the window as it is now: the next round sends the renamed series (and,
    # as the versions the round recorded are those of its first page, again what was sent as it was then).
    items, delta, _ = round_of(client, body["@odata.deltaLink"], {})
    assert (series["id"], "Morning (renamed)") in [(e["id"], e.get("subject")) for e in items]
    assert round_of(client, delta, {})[0] == []  # and then the client holds the window as it is


def test_a_first_round_read_again_is_rendered_once_per_view(client: Client, store: Store) -> None:
    made = three(client)
    series = post_event(client, event_body("Daily", "2027-03-10T07:00:00", "2027-03-10T07:15:00", recurrence={
        "pattern": {"type": "daily", "interval": 1},
        "range": {"type": "numbered", "startDate": "2027-03-10", "numberOfOccurrences": 3}}))
    pages = {"Prefer": "odata.maxpagesize=2"}
    first, _, _ = round_of(client, "me/calendarView/delta", pages, WINDOW)
    assert len(first) == 7  # the master, its 3 occurrences, the 3 singles
    rendered = store.snapshots.rendered_bytes
    assert rendered > 0
    again, _, _ = round_of(client, "me/calendarView/delta", pages, WINDOW)
    assert again == first and store.snapshots.rendered_bytes == rendered  # joined from what the window keeps
    # Each way of showing the window is its own: another zone is rendered (and kept) for itself.
    pacific, _, _ = round_of(client, "me/calendarView/delta",
                             {"Prefer": 'outlook.timezone="Pacific Standard Time", odata.maxpagesize=2'}, WINDOW)
    assert [e["id"] for e in pacific] == [e["id"] for e in first]
    assert {e["start"]["timeZone"] for e in pacific} == {"Pacific Standard Time"}
    assert {e["start"]["timeZone"] for e in first} == {"UTC"}
    assert store.snapshots.rendered_bytes > rendered
    # A write: the next first round is the window as it is now, not what was kept.
    assert client.patch(f"me/events/{made[0]['id']}", json={"subject": "Renamed"}).status_code == 200
    assert client.patch(f"me/events/{series['id']}", json={"subject": "Daily (renamed)"}).status_code == 200
    after, _, _ = round_of(client, "me/calendarView/delta", pages, WINDOW)
    by_id = {e["id"]: e for e in after}
    assert by_id[made[0]["id"]]["subject"] == "Renamed" and by_id[series["id"]]["subject"] == "Daily (renamed)"
    assert [e["id"] for e in after] == [e["id"] for e in first]
    assert [e["@odata.etag"] for e in after] != [e["@odata.etag"] for e in first]


@pytest.mark.parametrize("zone", ["UTC", "Tokyo Standard Time", "Pacific Standard Time"])
def test_occurrences_in_brief_are_what_the_event_shows(client: Client, zone: str) -> None:
    """A round shows occurrences in brief from what the window keeps of their master; each must carry the times and
    etag that reading the occurrence itself gives, all-day ones (dates in the series' zone) included."""
    daily = {"pattern": {"type": "daily", "interval": 1},
             "range": {"type": "numbered", "startDate": "2027-03-10", "numberOfOccurrences": 3}}
    post_event(client, event_body("Timed", "2027-03-10T07:00:00", "2027-03-10T07:45:00", recurrence=daily))
    post_event(client, event_body("All day", "2027-03-10T00:00:00", "2027-03-11T00:00:00", zone="Europe/Berlin",
                                  isAllDay=True, recurrence=daily))
    prefer = {"Prefer": f'outlook.timezone="{zone}", odata.maxpagesize=3'}
    items, _, _ = round_of(client, "me/calendarView/delta", prefer, WINDOW)
    occurrences = [e for e in items if e.get("type") == "occurrence"]
    assert len(occurrences) >= 5 and all(set(e) == ABBREVIATED for e in occurrences)
    for brief in occurrences:
        full = client.get(f"me/events/{brief['id']}", headers={"Prefer": f'outlook.timezone="{zone}"'})
        assert full.status_code == 200, full.text
        shown = full.json()
        assert (brief["start"], brief["end"], brief["@odata.etag"], brief["seriesMasterId"]) == (
            shown["start"], shown["end"], shown["@odata.etag"], shown["seriesMasterId"])
