"""forward (organizer or attendee) and cancel (organizer only, with a comment)."""

from __future__ import annotations

import pytest

from tests.contract.csdl import load_model

from .conftest import attendee, create, find_copy, graph_error, has_event, person, unchanged

ADELE, DANA, FANNY, MEGAN, GUEST = ("adele@contoso.com", "dana@contoso.com", "fanny@contoso.com", "megan@contoso.com",
                                    "jordan@fabrikam.com")
DAY = "2026-03-10"


def recipients(*addresses: str) -> list[dict]:
    return [{"emailAddress": {"address": a, "name": a.split("@")[0].title()}} for a in addresses]


def test_an_attendee_forwards_the_organizer_is_told(org):
    event = create(org.client(), "Kickoff", DAY, "09:00", "10:00", attendees=[person(DANA)])
    copy = find_copy(org.as_user(DANA), "Kickoff")
    body = {"toRecipients": recipients(FANNY, GUEST), "comment": "Fanny, hope you can make this meeting."}
    assert load_model().check_request("POST", "me/events/AAMk=/forward", body) == []
    r = org.as_user(DANA).post(f"me/events/{copy['id']}/forward", json=body)
    assert r.status_code == 202 and r.content == b""
    fanny = find_copy(org.as_user(FANNY), "Kickoff")
    assert fanny["iCalUId"] == event["iCalUId"] and fanny["isOrganizer"] is False
    assert fanny["organizer"]["emailAddress"]["address"] == ADELE
    organizer = org.client().get(f"me/events/{event['id']}").json()
    assert [a["emailAddress"]["address"] for a in organizer["attendees"]] == [DANA, FANNY, GUEST]
    assert attendee(organizer, FANNY)["status"]["response"] == "none"
    assert org.outbox()[1:] == [(DANA, FANNY, "forward", "FW: Kickoff"), (DANA, GUEST, "forward", "FW: Kickoff"),
                                (DANA, ADELE, "forwardNotification", "Meeting Forward Notification: Kickoff")]
    assert org.store.outbox()[1]["comment"] == "Fanny, hope you can make this meeting."
    # Fanny can answer the organizer like any attendee.
    assert org.as_user(FANNY).post(f"me/events/{fanny['id']}/accept", json={}).status_code == 202
    assert attendee(org.client().get(f"me/events/{event['id']}").json(), FANNY)["status"]["response"] == "accepted"


def test_the_organizer_forwards_without_notifying_themselves(org):
    event = create(org.client(), "Board", DAY, "09:00", "10:00", attendees=[person(DANA)])
    r = org.client().post(f"me/events/{event['id']}/forward", json={"ToRecipients": recipients(MEGAN),
                                                                      "Comment": ""})   # Graph's own casing
    assert r.status_code == 202
    assert has_event(org.as_user(MEGAN), "Board")
    assert [m[2] for m in org.outbox()] == ["invitation", "forward"]


BAD = [
    ({"toRecipients": []}, "ErrorInvalidRecipients", "toRecipients is required"),
    ({"comment": "no one"}, "ErrorInvalidRecipients", "toRecipients is required"),
    ({"toRecipients": [{"emailAddress": {"name": "Fanny"}}]}, "ErrorInvalidRecipients", "address"),
    ({"toRecipients": "fanny@contoso.com"}, "RequestBodyRead", "array"),
    ({"toRecipients": recipients(FANNY), "cc": []}, "RequestBodyRead", "not a valid parameter"),
]


@pytest.mark.parametrize(("body", "code", "text"), BAD, ids=[t for *_, t in BAD])
def test_bad_forwards_change_nothing(org, body, code, text):
    event = create(org.client(), "Kickoff", DAY, "09:00", "10:00", attendees=[person(DANA)])
    r = unchanged(org.store, lambda: org.client().post(f"me/events/{event['id']}/forward", json=body))
    graph_error(r, 400, code, text)


def test_the_organizer_cancels_with_a_comment(org):
    event = create(org.client(), "Offsite", DAY, "09:00", "17:00", attendees=[person(DANA), person(GUEST)])
    body = {"comment": "Cancelling for this week due to all hands"}
    assert load_model().check_request("POST", "me/events/AAMk=/cancel", body) == []
    r = org.client().post(f"me/events/{event['id']}/cancel", json=body)
    assert r.status_code == 202 and r.content == b""
    graph_error(org.client().get(f"me/events/{event['id']}"), 404, "ErrorItemNotFound")   # to Deleted Items
    copy = find_copy(org.as_user(DANA), "Canceled: Offsite")
    assert copy["isCancelled"] is True
    cancellations = [m for m in org.store.outbox() if m["kind"] == "cancellation"]
    assert [(m["recipient"], m["comment"]) for m in cancellations] == [(DANA, body["comment"]),
                                                                       (GUEST, body["comment"])]


def test_an_attendee_cannot_cancel(org):
    create(org.client(), "Offsite", DAY, "09:00", "17:00", attendees=[person(DANA)])
    copy = find_copy(org.as_user(DANA), "Offsite")
    r = unchanged(org.store, lambda: org.as_user(DANA).post(f"me/events/{copy['id']}/cancel",
                                                            json={"comment": "Not coming"}))
    error = graph_error(r, 400, "ErrorCalendarIsNotOrganizer")
    assert error["message"] == "Your request can't be completed. You need to be an organizer to cancel a meeting."


def test_cancelling_one_occurrence(org):
    adele = org.client()
    series = create(adele, "Daily", DAY, "09:00", "09:15", attendees=[person(DANA)], recurrence={
        "pattern": {"type": "daily", "interval": 1},
        "range": {"type": "numbered", "startDate": DAY, "numberOfOccurrences": 3}})
    window = {"startDateTime": "2026-03-10T00:00:00Z", "endDateTime": "2026-03-13T00:00:00Z"}
    second = adele.get(f"me/events/{series['id']}/instances", params=window).json()["value"][1]
    assert adele.post(f"me/events/{second['id']}/cancel", json={"comment": "holiday"}).status_code == 202
    assert len(adele.get(f"me/events/{series['id']}/instances", params=window).json()["value"]) == 2
    dana = [e for e in org.as_user(DANA).get("me/calendarView", params=window).json()["value"]
            if e["subject"].endswith("Daily")]
    assert [(e["subject"], e["isCancelled"]) for e in dana] == [("Daily", False), ("Canceled: Daily", True),
                                                                ("Daily", False)]
    assert org.store.outbox()[-1]["comment"] == "holiday"


def test_cancel_and_forward_need_post_and_an_event(org):
    graph_error(org.client().get("me/events/AAMkAGE0M4v1OAAA=/cancel"), 405)
    graph_error(org.client().post("me/events/AAMkAGE0M4v1OAAA=/cancel", json={}), 404, "ErrorItemNotFound")
    graph_error(org.client().post("me/events/AAMkAGE0M4v1OAAA=/forward", json={"toRecipients": recipients(DANA)}),
                404, "ErrorItemNotFound")
