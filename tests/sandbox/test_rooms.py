"""Rooms: resource booking (accept when free, decline when busy), the /places API, and the whole meeting story."""

from __future__ import annotations

import pytest

from tests.contract.csdl import load_model

from .conftest import PACIFIC, attendee, create, find_copy, graph_error, person, unchanged, when

ADELE, DANA, HOOD = "adele@contoso.com", "dana@contoso.com", "hood@contoso.com"
DAY = "2026-03-10"


@pytest.fixture(scope="module")
def model():
    return load_model()


def room_bookings(org, room: str) -> list[tuple[str, str]]:
    r = org.client("sandbox-app").get(f"users/{room}/calendarView", headers=PACIFIC, params={
        "startDateTime": "2026-03-09T00:00:00Z", "endDateTime": "2026-03-14T00:00:00Z"})
    return [(e["subject"], e["start"]["dateTime"][:16]) for e in r.json()["value"]]


def test_a_free_room_accepts_and_is_booked(org):
    event = create(org.client(), "Design", DAY, "09:00", "10:00", attendees=[person(DANA), person(HOOD, "resource")],
                   location={"displayName": "Conf Room Hood", "locationEmailAddress": HOOD})
    status = attendee(event, HOOD)["status"]
    assert status["response"] == "accepted"
    assert room_bookings(org, HOOD) == [("Design", "2026-03-10T09:00")]
    booking = find_copy(org.client("sandbox-app"), "Design", prefix=f"users/{HOOD}")
    assert booking["responseStatus"]["response"] == "accepted" and booking["showAs"] == "busy"
    assert (HOOD, ADELE, "response", "Accepted: Design") in org.outbox()


def test_a_busy_room_declines_and_keeps_nothing(org):
    create(org.client(), "First", DAY, "09:00", "10:00", attendees=[person(HOOD, "resource")])
    second = create(org.as_user(DANA), "Second", DAY, "09:30", "10:30", attendees=[person(HOOD, "resource")])
    assert attendee(second, HOOD)["status"]["response"] == "declined"
    assert room_bookings(org, HOOD) == [("First", "2026-03-10T09:00")]
    assert (HOOD, DANA, "response", "Declined: Second") in org.outbox()


def test_moving_a_meeting_rebooks_the_room(org):
    adele = org.client()
    create(org.as_user(DANA), "Blocker", DAY, "14:00", "15:00", attendees=[person(HOOD, "resource")])
    event = create(adele, "Mover", DAY, "09:00", "10:00", attendees=[person(HOOD, "resource")])
    r = adele.patch(f"me/events/{event['id']}", json=when(DAY, "14:30", "15:30"))
    assert attendee(r.json(), HOOD)["status"]["response"] == "declined"
    assert room_bookings(org, HOOD) == [("Blocker", "2026-03-10T14:00")]
    r = adele.patch(f"me/events/{event['id']}", json=when(DAY, "11:00", "12:00"))
    assert attendee(r.json(), HOOD)["status"]["response"] == "accepted"
    assert room_bookings(org, HOOD) == [("Mover", "2026-03-10T11:00"), ("Blocker", "2026-03-10T14:00")]
    # Cancelling frees the room.
    adele.post(f"me/events/{event['id']}/cancel", json={})
    assert room_bookings(org, HOOD) == [("Blocker", "2026-03-10T14:00")]


def test_a_room_added_later_and_a_series(org):
    adele = org.client()
    create(org.as_user(DANA), "Thursday thing", "2026-03-12", "09:00", "09:30", attendees=[person(HOOD, "resource")])
    series = create(adele, "Daily", "2026-03-09", "09:00", "09:15", attendees=[person(DANA)], recurrence={
        "pattern": {"type": "daily", "interval": 1},
        "range": {"type": "numbered", "startDate": "2026-03-09", "numberOfOccurrences": 5}})
    r = adele.patch(f"me/events/{series['id']}", json={"attendees": [person(DANA), person(HOOD, "resource")]})
    assert attendee(r.json(), HOOD)["status"]["response"] == "declined"      # Thursday clashes: the series is refused
    other = create(adele, "Daily 2", "2026-03-09", "11:00", "11:15", attendees=[person(HOOD, "resource")], recurrence={
        "pattern": {"type": "daily", "interval": 1},
        "range": {"type": "numbered", "startDate": "2026-03-09", "numberOfOccurrences": 5}})
    assert attendee(other, HOOD)["status"]["response"] == "accepted"
    assert [b for b in room_bookings(org, HOOD) if b[0] == "Daily 2"] == [
        ("Daily 2", f"2026-03-{d:02d}T11:00") for d in range(9, 14)]


def test_seeded_planning_meeting_booked_baker(org):
    planning = org.client().get("me/events", params={"$filter": "subject eq 'Quarterly planning'"}).json()["value"][0]
    assert attendee(planning, "baker@contoso.com")["status"]["response"] == "accepted"


# -- /places ----------------------------------------------------------------------------------------------------

def test_room_lists_rooms_and_rooms_of_a_list(org, model):
    app = org.client("sandbox-app")
    for path in ("places/microsoft.graph.roomlist", "places/microsoft.graph.room",
                 "places/building2@contoso.com/microsoft.graph.roomlist/rooms"):
        assert model.check_request("GET", path) == []
    lists = app.get("places/microsoft.graph.roomlist").json()
    assert lists["@odata.context"] == "http://sandbox/v1.0/$metadata#places/microsoft.graph.roomList"
    assert model.validate("Collection(roomList)", lists["value"]) == []
    assert [(x["displayName"], x["emailAddress"]) for x in lists["value"]] == [
        ("Building 1 Rooms", "building1@contoso.com"), ("Building 2 Rooms", "building2@contoso.com")]
    rooms = org.client().get("places/microsoft.graph.room").json()["value"]        # delegated users too
    assert model.validate("Collection(room)", rooms) == []
    assert len(rooms) == 7
    hood = next(r for r in rooms if r["emailAddress"] == HOOD)
    assert {k: hood[k] for k in ("displayName", "capacity", "building", "floorNumber", "displayDeviceName",
                                 "isWheelChairAccessible", "bookingType")} == {
        "displayName": "Conf Room Hood", "capacity": 6, "building": "Seattle Building 2", "floorNumber": 1,
        "displayDeviceName": "Teams Room Hood", "isWheelChairAccessible": True, "bookingType": "standard"}
    in_list = app.get("places/building2@contoso.com/microsoft.graph.roomlist/rooms").json()
    assert in_list["@odata.context"] == (
        "http://sandbox/v1.0/$metadata#places('building2%40contoso.com')/microsoft.graph.roomList/rooms")
    assert [r["displayName"] for r in in_list["value"]] == ["Conf Room Hood", "Conf Room Rainier", "Conf Room Stevens"]
    assert model.validate("Collection(room)", in_list["value"]) == []


def test_places_query_options_and_single_places(org, model):
    app = org.client("sandbox-app")
    big = app.get("places/microsoft.graph.room", params={"$filter": "capacity ge 10", "$select": "displayName,capacity",
                                                         "$orderby": "capacity desc", "$count": "true"}).json()
    assert big["@odata.count"] == 3
    assert [(r["displayName"], r["capacity"]) for r in big["value"]] == [
        ("Conf Room Rainier", 16), ("Conf Room Baker", 12), ("Conf Room Stevens", 10)]
    page = app.get("places/microsoft.graph.room", params={"$top": "2"}).json()
    assert len(page["value"]) == 2 and "%24skip=2" in page["@odata.nextLink"]
    one = app.get(f"places/{HOOD}").json()
    assert one["@odata.type"] == "#microsoft.graph.room" and model.validate("place", one) == []
    by_id = app.get(f"places/{one['id']}/microsoft.graph.room").json()
    assert by_id["emailAddress"] == HOOD and model.validate("room", by_id) == []
    room_list = app.get("places/building1@contoso.com").json()
    assert room_list["@odata.type"] == "#microsoft.graph.roomList" and model.validate("place", room_list) == []


@pytest.mark.parametrize(("path", "status", "code"), [
    ("places/nowhere@contoso.com/microsoft.graph.roomlist/rooms", 404, "ErrorItemNotFound"),
    (f"places/{HOOD}/microsoft.graph.roomlist/rooms", 404, "ErrorItemNotFound"),
    ("places/building1@contoso.com/microsoft.graph.room", 404, "ErrorItemNotFound"),
    ("places/dana@contoso.com", 404, "ErrorItemNotFound"),
    ("places/building1@contoso.com/microsoft.graph.roomlist/desks", 400, "BadRequest"),
    ("places/microsoft.graph.room?$filter=seats gt 3", 400, None),
])
def test_places_errors(org, path, status, code):
    graph_error(org.client().get(path), status, code)


def test_places_are_read_only(org):
    graph_error(unchanged(org.store, lambda: org.client().post("places/microsoft.graph.room", json={})), 405)


# -- the whole story ------------------------------------------------------------------------------------------------

def test_invite_decline_with_proposal_move_cancel(org):
    """A invites B and a room; B declines proposing a new time; A sees it; A moves; A cancels with a comment."""
    adele, dana = org.client(), org.as_user(DANA)
    window = {"startDateTime": "2026-03-10T00:00:00Z", "endDateTime": "2026-03-12T00:00:00Z"}
    event = create(adele, "Budget", DAY, "10:00", "11:00", attendees=[person(DANA), person(HOOD, "resource")],
                   location={"displayName": "Conf Room Hood", "locationEmailAddress": HOOD})
    seen = [e for e in dana.get("me/calendarView", params=window).json()["value"] if e["subject"] == "Budget"]
    assert len(seen) == 1 and seen[0]["responseStatus"]["response"] == "notResponded"
    copy_id = seen[0]["id"]
    proposal = {"start": {"dateTime": "2026-03-11T13:00:00", "timeZone": "Pacific Standard Time"},
                "end": {"dateTime": "2026-03-11T14:00:00", "timeZone": "Pacific Standard Time"}}
    r = dana.post(f"me/events/{copy_id}/decline", json={"comment": "Wednesday afternoon?", "proposedNewTime": proposal})
    assert r.status_code == 202
    mine = adele.get(f"me/events/{event['id']}").json()
    assert attendee(mine, DANA)["status"]["response"] == "declined"
    assert attendee(mine, DANA)["proposedNewTime"]["start"]["dateTime"] == "2026-03-11T13:00:00.0000000"
    assert attendee(mine, HOOD)["status"]["response"] == "accepted"
    moved = adele.patch(f"me/events/{event['id']}", json={"start": proposal["start"], "end": proposal["end"]}).json()
    assert attendee(moved, HOOD)["status"]["response"] == "accepted"
    dana_copy = dana.get(f"me/events/{copy_id}", headers=PACIFIC).json()
    assert dana_copy["start"]["dateTime"] == "2026-03-11T13:00:00.0000000"
    assert room_bookings(org, HOOD) == [("Budget", "2026-03-11T13:00")]
    assert adele.post(f"me/events/{event['id']}/cancel", json={"comment": "Budget frozen"}).status_code == 202
    dana_copy = dana.get(f"me/events/{copy_id}").json()
    assert dana_copy["isCancelled"] is True and dana_copy["subject"] == "Canceled: Budget"
    assert room_bookings(org, HOOD) == []
    assert [(m["sender"], m["recipient"], m["kind"], m["subject"], m["comment"]) for m in org.store.outbox()] == [
        (ADELE, DANA, "invitation", "Budget", None),
        (ADELE, HOOD, "invitation", "Budget", None),
        (HOOD, ADELE, "response", "Accepted: Budget", None),
        (DANA, ADELE, "response", "New Time Proposed: Budget", "Wednesday afternoon?"),
        (ADELE, DANA, "update", "Budget", None),
        (ADELE, HOOD, "update", "Budget", None),
        (HOOD, ADELE, "response", "Accepted: Budget", None),
        (ADELE, DANA, "cancellation", "Canceled: Budget", "Budget frozen"),
        (ADELE, HOOD, "cancellation", "Canceled: Budget", "Budget frozen"),
    ]
