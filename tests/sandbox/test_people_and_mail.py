"""/me/people as Graph ranks it (who the user meets, outside guests included), and POST /me/sendMail."""

from __future__ import annotations

import json

import pytest

from tests.contract.csdl import load_model

from .conftest import create, graph_error, person, unchanged

ADELE, DANA, FANNY, PRIYA = "adele@contoso.com", "dana@contoso.com", "fanny@contoso.com", "priya@contoso.com"
GUEST = "kim.lee@northwind.example"
DAY = "2026-03-10"


def people(api, **params) -> list[dict]:
    r = api.get("me/people", params=params)
    assert r.status_code == 200, r.text
    return r.json()["value"]


def _scores(org) -> dict[str, float]:
    found = people(org.client(), **{"$top": "100"})
    scores = [p["scoredEmailAddresses"][0]["relevanceScore"] for p in found]
    assert scores == sorted(scores, reverse=True)
    return {p["scoredEmailAddresses"][0]["address"]: p["scoredEmailAddresses"][0]["relevanceScore"] for p in found}


def test_the_people_met_most_come_first_then_the_directory(org):
    before = _scores(org)
    top = max(before.values())
    # enough meetings with Priya to lift her above everyone (each coming meeting weighs 3)
    for i in range(int((top - before[PRIYA]) // 3) + 1):
        day = f"2026-03-{10 + i // 8:02d}"
        create(org.client(), f"Pairing {i}", day, f"{9 + i % 8:02d}:00", f"{9 + i % 8:02d}:30",
               attendees=[person(PRIYA)])
    found = people(org.client(), **{"$top": "100"})
    addresses = [p["scoredEmailAddresses"][0]["address"] for p in found]
    scores = [p["scoredEmailAddresses"][0]["relevanceScore"] for p in found]
    assert addresses[0] == PRIYA and scores == sorted(scores, reverse=True)
    assert ADELE not in addresses  # not yourself
    # everyone in the directory is there too, rooms after people of the same relevance
    users = {json.loads(r["doc"])["displayName"] for r in org.store.mailboxes() if r["kind"] in ("user", "room")}
    assert {p["displayName"] for p in found} >= users - {"Adele Vance"}


def test_outside_guests_of_the_users_meetings_are_people_too(org):
    create(org.client(), "Northwind pilot", DAY, "13:00", "14:00",
           attendees=[{"type": "required", "emailAddress": {"address": GUEST, "name": "Kim Lee"}}])
    (kim,) = people(org.client(), **{"$search": '"Kim"'})
    assert kim["displayName"] == "Kim Lee" and kim["companyName"] == "Northwind"
    assert kim["personType"] == {"class": "Person", "subclass": "ImplicitContact"}
    assert kim["scoredEmailAddresses"][0]["address"] == GUEST
    assert people(org.client(), **{"$search": '"northwind"'}) == [kim]  # the address's start matches too
    assert people(org.as_user(DANA), **{"$search": '"Kim"'}) == []  # Dana never met Kim


def test_people_search_matches_the_starts_of_names(org):
    names = [p["displayName"] for p in people(org.client(), **{"$search": '"Da"'})]
    assert names and all(any(w.lower().startswith("da") for w in n.split()) for n in names), names


MESSAGE = {"message": {"subject": "Running late", "body": {"contentType": "text", "content": "Ten minutes, sorry."},
                       "toRecipients": [{"emailAddress": {"address": DANA}}],
                       "ccRecipients": [{"emailAddress": {"address": FANNY, "name": "Fanny"}}]},
           "saveToSentItems": True}


def test_send_mail_answers_202_and_the_outbox_records_each_recipient(org):
    assert load_model().check_request("POST", "me/sendMail", MESSAGE) == []
    r = org.client().post("me/sendMail", json=MESSAGE)
    assert r.status_code == 202 and r.content == b""
    sent = [m for m in org.store.outbox() if m["kind"] == "message"]
    assert [(m["sender"], m["recipient"], m["subject"], m["comment"]) for m in sent] == [
        (ADELE, DANA, "Running late", "Ten minutes, sorry."), (ADELE, FANNY, "Running late", "Ten minutes, sorry.")]


BAD = [
    ({"message": {"subject": "x", "toRecipients": []}}, 400, "ErrorInvalidRecipients", "At least one recipient"),
    ({"message": {"subject": "x", "toRecipients": [{"emailAddress": {"name": "Dana"}}]}}, 400,
     "ErrorInvalidRecipients", "address"),
    ({"saveToSentItems": True}, 400, "ErrorInvalidParameter", "message"),
    ({"message": {"subject": "x"}, "sendNow": True}, 400, "RequestBodyRead", "not a valid parameter"),
]


@pytest.mark.parametrize(("body", "status", "code", "text"), BAD, ids=[t for *_, t in BAD])
def test_bad_mail_is_refused_and_sends_nothing(org, body, status, code, text):
    graph_error(unchanged(org.store, lambda: org.client().post("me/sendMail", json=body)), status, code, text)


def test_nobody_sends_as_someone_else(org):
    r = unchanged(org.store, lambda: org.client().post(f"users/{DANA}/sendMail", json=MESSAGE))
    graph_error(r, 403, "ErrorSendAsDenied")
