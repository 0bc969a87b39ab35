"""Reminders in the sandbox, over HTTP: reminderView, snoozeReminder and dismissReminder.

The reference's "Get reminders" (``ReminderView(StartDateTime='…',EndDateTime='…')``, Prefer:
outlook.timezone for the times, UTC by default) and Graph's reminder type; reminders are computed from
``reminderMinutesBeforeStart`` and ``isReminderOn``, for single events and for each occurrence of a series.
Every refused request leaves every table as it was.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest

from outlook_calendar_mcp.sandbox.models.store import Store
from tests.contract.csdl import load_model
from tests.sandbox.conftest import Client, assert_graph_error, event_body, post_event, utc

WINDOW = "reminderView(startDateTime='2027-03-01T00:00:00',endDateTime='2027-04-01T00:00:00')"
PACIFIC = {"Prefer": 'outlook.timezone="Pacific Standard Time"'}
TABLES = ("events", "mailboxes", "tombstones", "attachments")


@pytest.fixture(scope="module")
def model() -> Any:
    return load_model()


@pytest.fixture
def world(client: Client) -> dict[str, Any]:
    """A single event (15 minutes), one without a reminder, and a weekly series of three (30 minutes)."""
    single = post_event(client, event_body("Dentist", "2027-03-10T09:00:00", "2027-03-10T10:00:00",
                                           location={"displayName": "Main St"}))
    quiet = post_event(client, event_body("No reminder", "2027-03-10T11:00:00", "2027-03-10T12:00:00",
                                          isReminderOn=False))
    series = post_event(client, event_body("Standup", "2027-03-01T08:00:00", "2027-03-01T08:15:00",
                                           reminderMinutesBeforeStart=30, recurrence={
        "pattern": {"type": "weekly", "interval": 1, "daysOfWeek": ["monday"]},
        "range": {"type": "numbered", "startDate": "2027-03-01", "numberOfOccurrences": 3}}))
    occurrences = client.get(f"me/events/{series['id']}/instances", params={
        "startDateTime": "2027-03-01T00:00:00Z", "endDateTime": "2027-04-01T00:00:00Z"}).json()["value"]
    return {"single": single, "quiet": quiet, "series": series, "occurrences": occurrences}


def dump(store: Store) -> dict[str, list[tuple]]:
    return {t: sorted((tuple(r) for r in store.db.execute(f"SELECT * FROM {t}")), key=repr)
            for t in TABLES}


def mine(client: Client, path: str = f"me/{WINDOW}", **kwargs: Any) -> list[dict[str, Any]]:
    """The reminders of the events these tests made (the seeded week's own are left out)."""
    response = client.get(path, **kwargs)
    assert response.status_code == 200, response.text
    return [r for r in response.json()["value"] if r["eventSubject"] in ("Dentist", "No reminder", "Standup")]


def fires(reminders: list[dict[str, Any]]) -> dict[str, dt.datetime]:
    return {r["eventId"]: utc(r["reminderFireTime"]) for r in reminders}


def test_reminders_of_singles_and_occurrences(client: Client, world: dict[str, Any], model: Any) -> None:
    body = client.get(f"me/{WINDOW}").json()
    assert body["@odata.context"].endswith("$metadata#Collection(microsoft.graph.reminder)")
    assert model.validate("Collection(microsoft.graph.reminder)", body["value"]) == []
    reminders = mine(client)
    occurrences = [o["id"] for o in world["occurrences"]]
    assert [r["eventId"] for r in reminders] == [occurrences[0], occurrences[1], world["single"]["id"],
                                                 occurrences[2]]
    dentist = next(r for r in reminders if r["eventId"] == world["single"]["id"])
    assert dentist["eventStartTime"] == {"dateTime": "2027-03-10T17:00:00.0000000", "timeZone": "UTC"}
    assert dentist["eventEndTime"] == {"dateTime": "2027-03-10T18:00:00.0000000", "timeZone": "UTC"}
    assert dentist["reminderFireTime"] == {"dateTime": "2027-03-10T16:45:00.0000000", "timeZone": "UTC"}
    assert dentist["eventLocation"]["displayName"] == "Main St"
    assert dentist["changeKey"] == world["single"]["changeKey"]
    assert dentist["eventWebLink"] == world["single"]["webLink"]
    # Occurrences: 30 minutes before each start, across the DST change of 2027-03-14 (08:00 Pacific each time).
    assert [fires(reminders)[o] for o in occurrences] == [
        dt.datetime(2027, 3, 1, 15, 30, tzinfo=dt.UTC), dt.datetime(2027, 3, 8, 15, 30, tzinfo=dt.UTC),
        dt.datetime(2027, 3, 15, 14, 30, tzinfo=dt.UTC)]
    pacific = mine(client, headers=PACIFIC)
    assert {r["reminderFireTime"]["timeZone"] for r in pacific} == {"Pacific Standard Time"}
    assert next(r for r in pacific if r["eventId"] == occurrences[2])["reminderFireTime"]["dateTime"] == \
        "2027-03-15T07:30:00.0000000"


@pytest.mark.parametrize("path", [
    "ReminderView(StartDateTime='2027-03-01T00:00:00',EndDateTime='2027-04-01T00:00:00')",   # the reference's form
    "reminderView(startDateTime=2027-03-01T00:00:00Z,endDateTime=2027-04-01T00:00:00Z)",
    "reminderView(startDateTime=@s,endDateTime=@e)?@s='2027-03-01T00:00:00'&@e='2027-04-01T00:00:00'",
    "reminderView(startDateTime='2027-02-28T16:00:00-08:00',endDateTime='2027-03-31T17:00:00-07:00')",
])
def test_parameter_forms(client: Client, world: dict[str, Any], path: str) -> None:
    assert len(mine(client, f"me/{path}")) == 4


def test_a_window_takes_events_that_overlap_it(client: Client, world: dict[str, Any]) -> None:
    during = "reminderView(startDateTime='2027-03-10T17:30:00Z',endDateTime='2027-03-10T17:31:00Z')"
    assert [r["eventSubject"] for r in mine(client, f"me/{during}")] == ["Dentist"]
    before = "reminderView(startDateTime='2027-03-10T16:00:00Z',endDateTime='2027-03-10T16:59:00Z')"
    assert mine(client, f"me/{before}") == []  # the reminder fires in it, but the event is later


def test_snooze_and_dismiss_an_occurrence(client: Client, world: dict[str, Any], store: Store, model: Any) -> None:
    first, second, third = (o["id"] for o in world["occurrences"])
    body = {"newReminderTime": {"dateTime": "2027-03-08T07:50:00", "timeZone": "Pacific Standard Time"}}
    assert model.check_request("POST", f"me/events/{second}/snoozeReminder", body) == []
    response = client.post(f"me/events/{second}/snoozeReminder", json=body)
    assert response.status_code == 200 and response.content == b""
    assert fires(mine(client))[second] == dt.datetime(2027, 3, 8, 15, 50, tzinfo=dt.UTC)
    assert fires(mine(client))[third] == dt.datetime(2027, 3, 15, 14, 30, tzinfo=dt.UTC)

    assert client.post(f"me/events/{first}/dismissReminder").status_code == 200
    assert [r["eventId"] for r in mine(client) if r["eventSubject"] == "Standup"] == [second, third]
    # The state is no exception: the occurrences are still plain occurrences of an unchanged master.
    assert store.db.execute("SELECT COUNT(*) FROM events WHERE series_master_id = ?",
                            (world["series"]["id"],)).fetchone()[0] == 0
    master = client.get(f"me/events/{world['series']['id']}").json()
    assert master["changeKey"] == world["series"]["changeKey"] and master["isReminderOn"] is True

    # On the master, the actions take the series' current reminder: now the second occurrence's.
    assert client.post(f"me/events/{world['series']['id']}/dismissReminder").status_code == 200
    assert [r["eventId"] for r in mine(client) if r["eventSubject"] == "Standup"] == [third]
    # A new time for the series starts its reminders afresh.
    patched = client.patch(f"me/events/{world['series']['id']}", json={
        "start": {"dateTime": "2027-03-01T09:00:00", "timeZone": "Pacific Standard Time"},
        "end": {"dateTime": "2027-03-01T09:15:00", "timeZone": "Pacific Standard Time"}})
    assert patched.status_code == 200, patched.text
    assert len([r for r in mine(client) if r["eventSubject"] == "Standup"]) == 3


def test_snooze_and_dismiss_a_single_event(client: Client, world: dict[str, Any]) -> None:
    single = world["single"]["id"]
    snooze = {"newReminderTime": {"dateTime": "2027-03-10T17:05:00Z"}}
    assert client.post(f"me/events/{single}/snoozeReminder", json=snooze).status_code == 200
    assert fires(mine(client))[single] == dt.datetime(2027, 3, 10, 17, 5, tzinfo=dt.UTC)
    # A change that keeps the time keeps the snooze; a new start recomputes the reminder.
    client.patch(f"me/events/{single}", json={"subject": "Dentist"})
    assert fires(mine(client))[single] == dt.datetime(2027, 3, 10, 17, 5, tzinfo=dt.UTC)
    client.patch(f"me/events/{single}", json={"start": {"dateTime": "2027-03-10T09:30:00", "timeZone":
                                                        "Pacific Standard Time"}})
    assert fires(mine(client))[single] == dt.datetime(2027, 3, 10, 17, 15, tzinfo=dt.UTC)

    assert client.post(f"me/events/{single}/dismissReminder").status_code == 200
    assert single not in fires(mine(client))
    assert client.get(f"me/events/{single}").json()["isReminderOn"] is False  # as Exchange does
    assert client.post(f"me/events/{single}/dismissReminder").status_code == 200  # nothing left: a no-op


VIEW_BAD = [
    ("reminderView(startDateTime='2027-03-01T00:00:00')", 400, "endDateTime"),
    ("reminderView(endDateTime='2027-03-01T00:00:00')", 400, "startDateTime"),
    ("reminderView(startDateTime='next week',endDateTime='2027-03-01T00:00:00')", 400, "startDateTime"),
    ("reminderView(startDateTime='2027-03-02T00:00:00',endDateTime='2027-03-01T00:00:00')", 400, "later"),
    ("reminderView(startDateTime='2027-03-01T00:00:00',endDateTime='2027-03-02T00:00:00',top=5)", 400, "top"),
    ("reminderView(startDateTime='2027-03-01T00:00:00',endDateTime='2027-03-02T00:00:00')?$top=5", 400, "$top"),
    ("reminderView(startDateTime=@s,endDateTime='2027-03-02T00:00:00')", 400, "@s"),
    ("reminderView", 400, "startDateTime"),
]


@pytest.mark.parametrize("path, status, needle", VIEW_BAD, ids=[f"view-{i}" for i in range(len(VIEW_BAD))])
def test_bad_views(client: Client, path: str, status: int, needle: str) -> None:
    assert_graph_error(client.get(f"me/{path}"), status, contains=needle)
    assert_graph_error(client.post(f"me/{WINDOW}"), 405)


ACTION_BAD = [
    ("snoozeReminder", None, 400, "newReminderTime"),
    ("snoozeReminder", {"newReminderTime": {"timeZone": "UTC"}}, 400, "newReminderTime"),
    ("snoozeReminder", {"newReminderTime": {"dateTime": "soon", "timeZone": "UTC"}}, 400, "newReminderTime"),
    ("snoozeReminder", {"newReminderTime": {"dateTime": "2027-03-10T09:00:00", "timeZone": "Mars/Base"}}, 400,
     "Mars/Base"),
    ("snoozeReminder", {"newReminderTime": {"dateTime": "2027-03-10T09:00:00"}, "comment": "x"}, 400, "comment"),
    ("dismissReminder", {"comment": "x"}, 400, "comment"),
]


@pytest.mark.parametrize("action, body, status, needle", ACTION_BAD,
                         ids=[f"{a[0]}-{i}" for i, a in enumerate(ACTION_BAD)])
def test_bad_actions_change_nothing(client: Client, world: dict[str, Any], store: Store, action: str,
                                    body: Any, status: int, needle: str) -> None:
    before = dump(store)
    response = client.post(f"me/events/{world['single']['id']}/{action}", json=body)
    assert_graph_error(response, status, contains=needle)
    assert dump(store) == before


def test_refusals_on_the_event_change_nothing(client: Client, world: dict[str, Any], store: Store) -> None:
    before = dump(store)
    snooze = {"newReminderTime": {"dateTime": "2027-03-10T09:00:00", "timeZone": "UTC"}}
    assert_graph_error(client.post(f"me/events/{world['quiet']['id']}/snoozeReminder", json=snooze), 400,
                       "ErrorInvalidRequest", contains="isReminderOn")
    assert_graph_error(client.post(f"me/events/{'A' * 40}=/snoozeReminder", json=snooze), 404, "ErrorItemNotFound")
    assert_graph_error(client.get(f"me/events/{world['single']['id']}/snoozeReminder"), 405)
    assert_graph_error(client.post(f"me/events/{world['single']['id']}/dismissReminder/now"), 400)
    assert dump(store) == before


def test_another_users_reminders_need_access(make_client: Callable[..., Client]) -> None:
    dana = make_client("sandbox:dana@contoso.com")
    assert_graph_error(dana.get(f"users/adele@contoso.com/{WINDOW}"), 403, "ErrorAccessDenied")
    app = make_client("sandbox-app")
    assert app.get(f"users/adele@contoso.com/{WINDOW}").status_code == 200
