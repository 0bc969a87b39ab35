"""A series' exceptions in the sandbox, over HTTP (the reference's beta "Get event", example 4).

``GET /beta/me/events/{master}?$select=subject,start,end,occurrenceId,exceptionOccurrences,
cancelledOccurrences&$expand=exceptionOccurrences`` returns the master's selected properties, its changed
occurrences (id, occurrenceId and the selected properties) and the occurrenceIds of its cancelled ones
(``OID.{masterId}.{date}``); v1.0 has none of these properties. Ending a series earlier (only its range
changes) keeps the exceptions before the new end. ``GET events/{id}/calendar`` names an event's calendar.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.sandbox.conftest import Client, assert_graph_error, event_body, post_event

BETA = "http://sandbox/beta/"
SELECT = {"$select": "subject,start,end,occurrenceId,exceptionOccurrences,cancelledOccurrences",
          "$expand": "exceptionOccurrences"}


@pytest.fixture
def series(client: Client) -> dict[str, Any]:
    """A daily stand-up of ten from 2027-03-01 (UTC); the 3rd moved and renamed, the 5th and 7th cancelled."""
    master = post_event(client, event_body("Daily stand-up", "2027-03-01T11:30:00", "2027-03-01T12:00:00", "UTC",
                                           recurrence={"pattern": {"type": "daily", "interval": 1},
                                                       "range": {"type": "numbered", "startDate": "2027-03-01",
                                                                 "numberOfOccurrences": 10}}))
    occ = client.get(f"me/events/{master['id']}/instances", params={
        "startDateTime": "2027-03-01T00:00:00Z", "endDateTime": "2027-03-11T00:00:00Z"}).json()["value"]
    client.patch(f"me/events/{occ[2]['id']}", json={"subject": "SM update 24",
                                                     "start": {"dateTime": "2027-03-03T13:00:00", "timeZone": "UTC"},
                                                     "end": {"dateTime": "2027-03-03T13:30:00", "timeZone": "UTC"}})
    for i in (4, 6):
        assert client.delete(f"me/events/{occ[i]['id']}").status_code == 204
    return {"master": master, "occurrences": occ}


def test_exception_and_cancelled_occurrences_on_beta(client: Client, series: dict[str, Any]) -> None:
    master = series["master"]
    body = client.get(f"{BETA}me/events/{master['id']}", params=SELECT).json()
    assert set(body) == {"@odata.context", "@odata.etag", "id", "subject", "start", "end", "occurrenceId",
                         "exceptionOccurrences", "cancelledOccurrences"}
    assert body["occurrenceId"] is None
    assert body["cancelledOccurrences"] == [f"OID.{master['id']}.2027-03-05", f"OID.{master['id']}.2027-03-07"]
    (exception,) = body["exceptionOccurrences"]
    assert exception["id"] == series["occurrences"][2]["id"] and exception["subject"] == "SM update 24"
    assert exception["occurrenceId"] == f"OID.{master['id']}.2027-03-03"
    assert exception["start"]["dateTime"].startswith("2027-03-03T13:00:00") and exception["start"]["timeZone"] == "UTC"
    # An occurrence names its place in the series; without $expand there is no exceptionOccurrences.
    occ = client.get(f"{BETA}me/events/{series['occurrences'][1]['id']}").json()
    assert occ["occurrenceId"] == f"OID.{master['id']}.2027-03-02" and "exceptionOccurrences" not in occ
    # v1.0 has none of it.
    for params in (SELECT, {"$select": "cancelledOccurrences"}, {"$expand": "exceptionOccurrences"}):
        assert_graph_error(client.get(f"me/events/{master['id']}", params=params), 400, "BadRequest")


def test_ending_a_series_earlier_keeps_the_exceptions_before_the_end(client: Client, series: dict[str, Any]) -> None:
    master = series["master"]
    recurrence = client.get(f"me/events/{master['id']}").json()["recurrence"]
    recurrence["range"] = {**recurrence["range"], "type": "endDate", "endDate": "2027-03-05",
                           "numberOfOccurrences": 0}
    assert client.patch(f"me/events/{master['id']}", json={"recurrence": recurrence}).status_code == 200
    body = client.get(f"{BETA}me/events/{master['id']}", params=SELECT).json()
    assert [e["subject"] for e in body["exceptionOccurrences"]] == ["SM update 24"]
    assert body["cancelledOccurrences"] == [f"OID.{master['id']}.2027-03-05"]
    # Changing the pattern itself drops them all, as before.
    recurrence["pattern"]["interval"] = 2
    client.patch(f"me/events/{master['id']}", json={"recurrence": recurrence})
    body = client.get(f"{BETA}me/events/{master['id']}", params=SELECT).json()
    assert body["exceptionOccurrences"] == [] and body["cancelledOccurrences"] == []


def test_the_calendar_of_an_event(client: Client, series: dict[str, Any]) -> None:
    side = client.post("me/calendars", json={"name": "Side"}).json()
    event = post_event(client, event_body("On the side"), path=f"me/calendars/{side['id']}/events")
    assert client.get(f"me/events/{event['id']}/calendar").json()["id"] == side["id"]
    occurrence = series["occurrences"][0]["id"]
    assert client.get(f"me/events/{occurrence}/calendar", params={"$select": "id,name"}).json()["name"] == "Calendar"
    assert_graph_error(client.post(f"me/events/{event['id']}/calendar", json={}), 405)
