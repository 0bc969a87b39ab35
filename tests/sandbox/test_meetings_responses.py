"""accept / tentativelyAccept / decline: 202 without a body, the organizer's copy tallies, the outbox carries it."""

from __future__ import annotations

import pytest

from tests.contract.csdl import load_model

from .conftest import GRAPH_STAMP, attendee, create, find_copy, graph_error, person, unchanged, when

ADELE, DANA, FANNY = "adele@contoso.com", "dana@contoso.com", "fanny@contoso.com"
DAY = "2026-03-10"
PROPOSAL = {"start": {"dateTime": "2026-03-11T09:00:00", "timeZone": "Pacific Standard Time"},
            "end": {"dateTime": "2026-03-11T10:00:00", "timeZone": "Pacific Standard Time"}}


@pytest.fixture
def meeting(org):
    """Adele's meeting with Dana and Fanny: (organizer's event, Dana's copy)."""
    event = create(org.client(), "Review", DAY, "09:00", "10:00", attendees=[person(DANA), person(FANNY)])
    return event, find_copy(org.as_user(DANA), "Review")


@pytest.mark.parametrize(("action", "response", "show"), [("accept", "accepted", "busy"),
                                                            ("tentativelyAccept", "tentativelyAccepted", "tentative"),
                                                            ("decline", "declined", "free")])
def test_a_response_reaches_the_organizer(org, meeting, action, response, show):
    event, copy = meeting
    r = org.as_user(DANA).post(f"me/events/{copy['id']}/{action}", json={"comment": "See you", "sendResponse": True})
    assert r.status_code == 202 and r.content == b""
    mine = org.as_user(DANA).get(f"me/events/{copy['id']}").json()
    assert mine["responseStatus"]["response"] == response and GRAPH_STAMP.match(mine["responseStatus"]["time"])
    assert mine["showAs"] == show
    status = attendee(org.client().get(f"me/events/{event['id']}").json(), DANA)["status"]
    assert status == mine["responseStatus"]
    assert attendee(org.client().get(f"me/events/{event['id']}").json(), FANNY)["status"]["response"] == "none"
    (message,) = [m for m in org.store.outbox() if m["kind"] == "response"]
    assert (message["sender"], message["recipient"], message["event_id"], message["comment"]) == (
        DANA, ADELE, copy["id"], "See you")
    assert message["subject"] == {"accepted": "Accepted: ", "tentativelyAccepted": "Tentative: ",
                                  "declined": "Declined: "}[response] + "Review"


def test_send_response_defaults_to_true_and_false_keeps_it_private(org, meeting):
    event, copy = meeting
    fanny_copy = find_copy(org.as_user(FANNY), "Review")
    assert org.as_user(FANNY).post(f"me/events/{fanny_copy['id']}/accept").status_code == 202     # no body at all
    assert org.as_user(DANA).post(f"me/events/{copy['id']}/decline", json={"sendResponse": False}).status_code == 202
    organizer = org.client().get(f"me/events/{event['id']}").json()
    assert attendee(organizer, FANNY)["status"]["response"] == "accepted"
    assert attendee(organizer, DANA)["status"]["response"] == "none"           # not sent: the organizer can't know
    assert org.as_user(DANA).get(f"me/events/{copy['id']}").json()["responseStatus"]["response"] == "declined"
    assert [(m[0], m[2]) for m in org.outbox() if m[2] == "response"] == [(FANNY, "response")]


@pytest.mark.parametrize("action", ["tentativelyAccept", "decline"])
def test_a_proposed_new_time_reaches_the_organizer(org, meeting, action):
    event, copy = meeting
    r = org.as_user(DANA).post(f"me/events/{copy['id']}/{action}", json={"comment": "Wednesday?",
                                                                          "proposedNewTime": PROPOSAL})
    assert r.status_code == 202
    organizer = org.client().get(f"me/events/{event['id']}").json()
    assert load_model().validate("event", organizer) == []
    assert attendee(organizer, DANA)["proposedNewTime"] == {
        "start": {"dateTime": "2026-03-11T09:00:00.0000000", "timeZone": "Pacific Standard Time"},
        "end": {"dateTime": "2026-03-11T10:00:00.0000000", "timeZone": "Pacific Standard Time"}}
    assert [m for m in org.outbox() if m[2] == "response"] == [(DANA, ADELE, "response", "New Time Proposed: Review")]
    # A later plain answer withdraws the proposal; a move clears them all.
    org.as_user(DANA).post(f"me/events/{copy['id']}/accept", json={})
    assert "proposedNewTime" not in attendee(org.client().get(f"me/events/{event['id']}").json(), DANA)


def test_the_organizer_cannot_respond_to_their_own_meeting(org, meeting):
    event, _ = meeting
    for action, word in (("accept", "accept"), ("tentativelyAccept", "tentatively accept"), ("decline", "decline")):
        r = unchanged(org.store, lambda: org.client().post(f"me/events/{event['id']}/{action}", json={}))
        graph_error(r, 400, contains=f"can't {word} this meeting because you're the meeting organizer")


BAD = [
    ("accept", {"proposedNewTime": PROPOSAL}, "RequestBodyRead", "not a valid parameter for the operation 'accept'"),
    ("decline", {"proposedNewTime": PROPOSAL, "sendResponse": False}, "ErrorInvalidRequest", "sendResponse true"),
    ("decline", {"proposedNewTime": {**PROPOSAL, "end": PROPOSAL["start"]}}, "ErrorInvalidRequest", "later than"),
    ("decline", {"proposedNewTime": {"start": PROPOSAL["start"]}}, "ErrorInvalidParameter", "end is required"),
    ("accept", {"sendResponse": "perhaps"}, "RequestBodyRead", "Edm.Boolean"),
    ("accept", {"comment": 42}, "RequestBodyRead", "Edm.String"),
    ("accept", {"mood": "happy"}, "RequestBodyRead", "not a valid parameter"),
]


@pytest.mark.parametrize(("action", "body", "code", "text"), BAD, ids=[t for *_, t in BAD])
def test_bad_responses_change_nothing(org, meeting, action, body, code, text):
    _, copy = meeting
    r = unchanged(org.store, lambda: org.as_user(DANA).post(f"me/events/{copy['id']}/{action}", json=body))
    graph_error(r, 400, code, text)


def test_proposals_only_where_the_organizer_allows_them(org):
    create(org.client(), "Fixed", DAY, "09:00", "10:00", attendees=[person(DANA)], allowNewTimeProposals=False)
    copy = find_copy(org.as_user(DANA), "Fixed")
    r = unchanged(org.store, lambda: org.as_user(DANA).post(f"me/events/{copy['id']}/tentativelyAccept",
                                                            json={"proposedNewTime": PROPOSAL}))
    graph_error(r, 400, "ErrorProposedNewTimeNotAllowed", "allowNewTimeProposals")


def test_no_response_where_none_was_requested(org):
    create(org.client(), "FYI", DAY, "09:00", "10:00", attendees=[person(DANA)], responseRequested=False)
    copy = find_copy(org.as_user(DANA), "FYI")
    assert copy["responseRequested"] is False
    graph_error(unchanged(org.store, lambda: org.as_user(DANA).post(f"me/events/{copy['id']}/accept", json={})),
                400, "ErrorInvalidRequest", "sendResponse false")
    assert org.as_user(DANA).post(f"me/events/{copy['id']}/accept", json={"sendResponse": False}).status_code == 202


def test_responses_to_unknown_or_cancelled_events(org, meeting):
    event, copy = meeting
    graph_error(org.as_user(DANA).post(f"me/events/{event['id']}/accept", json={}), 404, "ErrorItemNotFound")
    org.client().delete(f"me/events/{event['id']}")
    graph_error(unchanged(org.store, lambda: org.as_user(DANA).post(f"me/events/{copy['id']}/accept", json={})),
                400, "ErrorMeetingIsCancelled")
    graph_error(org.as_user(DANA).get(f"me/events/{copy['id']}/accept"), 405)


def test_answering_a_series_and_one_occurrence(org):
    adele, dana = org.client(), org.as_user(DANA)
    series = create(adele, "Weekly", DAY, "09:00", "09:30", attendees=[person(DANA)], recurrence={
        "pattern": {"type": "weekly", "interval": 1, "daysOfWeek": ["tuesday"]},
        "range": {"type": "numbered", "startDate": DAY, "numberOfOccurrences": 3}})
    window = {"startDateTime": "2026-03-10T00:00:00Z", "endDateTime": "2026-03-31T00:00:00Z"}
    occurrences = adele.get(f"me/events/{series['id']}/instances", params=window).json()["value"]
    adele.patch(f"me/events/{occurrences[1]['id']}", json=when("2026-03-17", "10:00", "10:30"))   # an exception
    master = find_copy(dana, "Weekly")
    assert dana.post(f"me/events/{master['id']}/accept", json={}).status_code == 202
    view = weekly(dana.get("me/calendarView", params=window))
    assert [(e["type"], e["responseStatus"]["response"]) for e in view] == [
        ("occurrence", "accepted"), ("exception", "accepted"), ("occurrence", "accepted")]
    organizer = weekly(adele.get("me/calendarView", params=window))
    assert [attendee(e, DANA)["status"]["response"] for e in organizer] == ["accepted"] * 3
    # Declining one occurrence: Dana's copy says so for that one only.
    assert dana.post(f"me/events/{view[2]['id']}/decline", json={"comment": "away"}).status_code == 202
    view = weekly(dana.get("me/calendarView", params=window))
    assert [(e["type"], e["responseStatus"]["response"], e["showAs"]) for e in view] == [
        ("occurrence", "accepted", "busy"), ("exception", "accepted", "busy"), ("exception", "declined", "free")]
    assert org.outbox()[-1] == (DANA, ADELE, "response", "Declined: Weekly")


def weekly(response) -> list[dict]:
    return [e for e in response.json()["value"] if e["subject"] == "Weekly"]
