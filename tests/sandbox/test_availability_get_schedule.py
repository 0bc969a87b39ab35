"""calendar/getSchedule: free/busy views of people and rooms, items, working hours, errors.

The seeded week (Pacific): Adele's Quarterly planning in Conf Room Baker on Wednesday 13:00-14:30
(Dana and Fanny invited, the room accepted), her private doctor appointment (oof) Thursday
08:00-09:00 and Fabrikam call 11:00-12:00; Fanny's tentative vendor demo Thursday 10:00-11:00;
Alex working from Portland all Friday.
"""

from __future__ import annotations

import pytest

from tests.contract.csdl import load_model

from .conftest import PACIFIC, graph_error, unchanged, when

WEDNESDAY = {"startTime": {"dateTime": "2026-03-04T08:00:00", "timeZone": "Pacific Standard Time"},
             "endTime": {"dateTime": "2026-03-04T18:00:00", "timeZone": "Pacific Standard Time"}}


@pytest.fixture(scope="module")
def model():
    return load_model()


def schedule(org, schedules, window=WEDNESDAY, interval=None, headers=PACIFIC, token="sandbox"):
    body = {"schedules": schedules, **window}
    if interval is not None:
        body["availabilityViewInterval"] = interval
    r = org.client(token).post("me/calendar/getSchedule", json=body, headers=headers)
    assert r.status_code == 200, r.text
    assert load_model().validate("Collection(scheduleInformation)", r.json()["value"]) == []
    assert load_model().check_request("POST", "me/calendar/getSchedule", body) == []
    return r.json()


def test_views_for_people_and_rooms(org, model):
    body = schedule(org, ["adele@contoso.com", "dana@contoso.com", "baker@contoso.com", "hood@contoso.com"])
    assert body["@odata.context"] == "http://sandbox/v1.0/$metadata#Collection(microsoft.graph.scheduleInformation)"
    assert model.validate("Collection(scheduleInformation)", body["value"]) == []
    views = {s["scheduleId"]: s["availabilityView"] for s in body["value"]}
    # 30-minute slots 08:00..18:00: the meeting is 13:00-14:30 (slots 10-12). Dana hasn't answered: tentative.
    assert views == {"adele@contoso.com": "0" * 10 + "222" + "0" * 7,
                     "dana@contoso.com": "0" * 10 + "111" + "0" * 7,
                     "baker@contoso.com": "0" * 10 + "222" + "0" * 7,
                     "hood@contoso.com": "0" * 20}
    baker = body["value"][2]
    # Adele has the organization's default (freeBusyRead) on the room: times and status, no subject or location
    # (https://learn.microsoft.com/graph/api/resources/calendarpermission; issue 12).
    assert baker["scheduleItems"] == [{
        "isPrivate": False, "status": "busy",
        "start": {"dateTime": "2026-03-04T13:00:00.0000000", "timeZone": "Pacific Standard Time"},
        "end": {"dateTime": "2026-03-04T14:30:00.0000000", "timeZone": "Pacific Standard Time"}}]
    assert baker["workingHours"] == {"daysOfWeek": ["monday", "tuesday", "wednesday", "thursday", "friday"],
                                     "startTime": "07:00:00.0000000", "endTime": "19:00:00.0000000",
                                     "timeZone": {"name": "Pacific Standard Time"}}
    assert body["value"][1]["workingHours"]["timeZone"] == {"name": "Eastern Standard Time"}
    assert body["value"][1]["workingHours"]["endTime"] == "16:30:00.0000000"


def test_every_status_digit_and_private_items(org):
    thursday = {"startTime": {"dateTime": "2026-03-05T08:00:00", "timeZone": "Pacific Standard Time"},
                "endTime": {"dateTime": "2026-03-05T13:00:00", "timeZone": "Pacific Standard Time"}}
    friday = {"startTime": {"dateTime": "2026-03-06T08:00:00", "timeZone": "Pacific Standard Time"},
              "endTime": {"dateTime": "2026-03-06T10:00:00", "timeZone": "Pacific Standard Time"}}
    body = schedule(org, ["adele@contoso.com", "fanny@contoso.com"], thursday, 60)
    assert [s["availabilityView"] for s in body["value"]] == ["30020", "00100"]   # oof, busy / tentative
    doctor = body["value"][0]["scheduleItems"][0]
    assert doctor == {"isPrivate": True, "status": "oof",
                      "start": {"dateTime": "2026-03-05T08:00:00.0000000", "timeZone": "Pacific Standard Time"},
                      "end": {"dateTime": "2026-03-05T09:00:00.0000000", "timeZone": "Pacific Standard Time"}}
    assert schedule(org, ["alex@contoso.com"], friday, 60)["value"][0]["availabilityView"] == "44"


def test_interval_default_utc_times_and_a_view_that_does_not_divide_evenly(org):
    window = {"startTime": {"dateTime": "2026-03-04T20:00:00", "timeZone": "UTC"},
              "endTime": {"dateTime": "2026-03-04T22:45:00"}}        # no timeZone: UTC
    body = schedule(org, ["adele@contoso.com"], window, headers={})
    info = body["value"][0]
    assert info["availabilityView"] == "002220"     # 13:00-14:30 Pacific = 21:00-22:30 UTC; the last slot is short
    assert info["scheduleItems"][0]["start"] == {"dateTime": "2026-03-04T21:00:00.0000000", "timeZone": "UTC"}
    assert len(schedule(org, ["adele@contoso.com"], window, 1440, headers={})["value"][0]["availabilityView"]) == 1


def test_unknown_address_gets_its_own_error_entry(org, model):
    body = schedule(org, ["nobody@contoso.com", "jordan@fabrikam.com", "building1@contoso.com", "dana@contoso.com"])
    assert model.validate("Collection(scheduleInformation)", body["value"]) == []
    unknown, external, room_list, dana = body["value"]
    for entry, address in ((unknown, "nobody@contoso.com"), (external, "jordan@fabrikam.com")):
        assert entry["scheduleId"] == address
        assert entry["error"]["responseCode"] == "ErrorMailRecipientNotFound"
        assert address in entry["error"]["message"]
        assert "workingHours" not in entry and entry["availabilityView"] == ""
    assert "room list" in room_list["error"]["message"]
    assert "error" not in dana and len(dana["availabilityView"]) == 20


def test_delegated_user_reads_free_busy_of_others_and_the_app_of_anyone(org):
    dana = schedule(org, ["adele@contoso.com"], token="sandbox:dana@contoso.com")["value"][0]
    assert dana["availabilityView"] == "0" * 10 + "222" + "0" * 7
    r = org.client("sandbox-app").post("users/megan@contoso.com/calendar/getSchedule", json={
        "schedules": ["adele@contoso.com"], **WEDNESDAY})
    assert r.status_code == 200 and r.json()["value"][0]["availabilityView"].startswith("0000000000222")
    # ... but reaching another user's calendar folder is not allowed.
    graph_error(org.as_user("dana@contoso.com").post("users/adele@contoso.com/calendar/getSchedule", json={
        "schedules": ["adele@contoso.com"], **WEDNESDAY}), 403, "ErrorAccessDenied")


def test_cancelled_and_free_items_are_not_busy(org):
    adele = org.client()
    event = adele.post("me/events", json={"subject": "Quick", "showAs": "free", **when("2026-03-04", "09:00", "10:00")})
    assert event.status_code == 201
    assert schedule(org, ["adele@contoso.com"])["value"][0]["availabilityView"][2:4] == "00"
    adele.patch(f"me/events/{event.json()['id']}", json={"showAs": "busy"})
    assert schedule(org, ["adele@contoso.com"])["value"][0]["availabilityView"][2:4] == "22"


BAD = [
    ({"schedules": []}, "ErrorInvalidParameter", "schedules is required"),
    ({"schedules": ["not-an-address"]}, "ErrorInvalidParameter", "not an SMTP address"),
    ({"schedules": [f"p{i}@contoso.com" for i in range(101)]}, "ErrorInvalidParameter", "at most 100"),
    ({"startTime": None}, "ErrorInvalidParameter", "startTime is required"),
    ({"endTime": {"dateTime": "2026-03-04T07:00:00", "timeZone": "Pacific Standard Time"}}, "ErrorInvalidParameter",
     "later than startTime"),
    ({"endTime": {"dateTime": "2026-06-04T07:00:00", "timeZone": "Pacific Standard Time"}}, "ErrorTimeIntervalTooBig",
     "62 days"),
    ({"availabilityViewInterval": 4}, "ErrorInvalidParameter", "between 5 and 1440"),
    ({"availabilityViewInterval": 1441}, "ErrorInvalidParameter", "between 5 and 1440"),
    ({"availabilityViewInterval": "half an hour"}, "RequestBodyRead", "Edm.Int32"),
    ({"startTime": {"dateTime": "2026-03-04T08:00:00", "timeZone": "Atlantis"}}, "TimeZoneNotSupportedException",
     "Atlantis"),
    ({"startTime": {"dateTime": "March 4th", "timeZone": "UTC"}}, "ErrorInvalidRequest", "not a valid date"),
    ({"schedule": ["dana@contoso.com"]}, "RequestBodyRead", "not a valid parameter for the operation 'getSchedule'"),
]


@pytest.mark.parametrize(("change", "code", "text"), BAD, ids=[t for _, _, t in BAD])
def test_bad_requests_are_specific_400s(org, change, code, text):
    body = {"schedules": ["dana@contoso.com"], **WEDNESDAY, **change}
    r = unchanged(org.store, lambda: org.client().post("me/calendar/getSchedule", json=body))
    graph_error(r, 400, code, text)


def test_request_example_fits_graphs_contract(model):
    body = {"schedules": ["adelev@contoso.onmicrosoft.com", "meganb@contoso.onmicrosoft.com"],
            **WEDNESDAY, "availabilityViewInterval": 60}
    assert model.check_request("POST", "me/calendar/getSchedule", body) == []
