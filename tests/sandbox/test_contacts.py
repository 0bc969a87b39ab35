"""{mb}/contacts (personal contacts, as Graph models them) and their place in /me/people's ranking."""

from __future__ import annotations

import pytest

from tests.contract.csdl import load_model

from .conftest import create, graph_error, person, unchanged

ADELE, DANA, PRIYA = "adele@contoso.com", "dana@contoso.com", "priya@contoso.com"
ROSA, JORDAN = "rosa.ortega@litwareinc.com", "jordan@fabrikam.com"
DAY = "2026-03-10"
NEW = {"givenName": "Ines", "surname": "Duarte", "companyName": "Tailspin Toys",
       "emailAddresses": [{"address": "ines.duarte@tailspintoys.com", "name": "Ines Duarte"}],
       "businessPhones": ["+351 21 555 0100"]}


@pytest.fixture(scope="module")
def model():
    return load_model()


def contacts(api, path: str = "me/contacts", **params) -> list[dict]:
    r = api.get(path, params=params)
    assert r.status_code == 200, r.text
    return r.json()["value"]


def people(api, **params) -> list[dict]:
    r = api.get("me/people", params=params)
    assert r.status_code == 200, r.text
    return r.json()["value"]


def test_the_demo_user_has_contacts_shaped_as_graph_contacts(org, model):
    found = contacts(org.client())
    assert {c["displayName"] for c in found} == {"Jordan Miller", "Rosa Ortega", "Olivia Chen"}
    for c in found:
        assert model.validate("contact", c) == [], c
    rosa = next(c for c in found if c["displayName"] == "Rosa Ortega")
    assert rosa["emailAddresses"] == [{"name": "Rosa Ortega", "address": ROSA}]
    assert (rosa["companyName"], rosa["jobTitle"], rosa["givenName"], rosa["surname"]) == (
        "Litware", "Account Executive", "Rosa", "Ortega")
    assert contacts(org.as_user(DANA)) == []  # Dana keeps none
    app = contacts(org.client("sandbox-app"), f"users/{ADELE}/contacts")  # an app reads anyone's
    assert {c["id"] for c in app} == {c["id"] for c in found}


def test_filter_by_address_top_and_select(org):
    api = org.client()
    (rosa,) = contacts(api, **{"$filter": f"emailAddresses/any(a:a/address eq '{ROSA}')"})
    assert rosa["displayName"] == "Rosa Ortega"
    assert contacts(api, **{"$filter": "emailAddresses/any(a:a/address eq 'nobody@example.com')"}) == []
    r = api.get("me/contacts", params={"$top": "2", "$select": "displayName"})
    body = r.json()
    assert len(body["value"]) == 2 and "@odata.nextLink" in body
    assert set(body["value"][0]) == {"@odata.etag", "id", "displayName"}


def test_search_is_not_a_contacts_option(org):
    r = org.client().get("me/contacts", params={"$search": '"Rosa"'})
    assert r.status_code == 400 and "$search" in r.text


def test_create_a_contact_and_read_it_back(org, model):
    api = org.client()
    assert load_model().check_request("POST", "me/contacts", NEW) == []
    r = api.post("me/contacts", json=NEW)
    assert r.status_code == 201, r.text
    made = r.json()
    assert model.validate("contact", {k: v for k, v in made.items() if k != "@odata.context"}) == []
    assert made["displayName"] == "Ines Duarte" and made["businessPhones"] == ["+351 21 555 0100"]
    assert made["id"] in {c["id"] for c in contacts(api)}
    (ines,) = people(api, **{"$search": '"Ines"'})
    assert ines["personType"] == {"class": "Person", "subclass": "PersonalContact"}
    assert ines["companyName"] == "Tailspin Toys" and ines["id"] == made["id"]


BAD = [
    ({"givenName": "X", "birthday": "1990-01-01"}, "birthday"),
    ({"givenName": "X", "emailAddresses": [{"address": "not-an-address"}]}, "emailAddresses[0]"),
    ({"companyName": "Nameless"}, "needs a name"),
    ({"givenName": 7}, "givenName"),
]


@pytest.mark.parametrize(("body", "text"), BAD, ids=[t for _, t in BAD])
def test_bad_contacts_are_refused_and_nothing_is_stored(org, body, text):
    r = unchanged(org.store, lambda: org.client().post("me/contacts", json=body))
    graph_error(r, 400, "RequestBodyRead", text)


def test_nobody_reads_or_adds_someone_elses_contacts(org):
    api = org.as_user(DANA)
    graph_error(api.get(f"users/{ADELE}/contacts"), 403, "ErrorAccessDenied")
    graph_error(unchanged(org.store, lambda: api.post(f"users/{ADELE}/contacts", json=NEW)), 403,
                "ErrorAccessDenied")


def test_people_met_come_first_then_contacts_then_the_directory(org, model):
    for hour in ("09", "10"):
        create(org.client(), f"Pairing {hour}", DAY, f"{hour}:00", f"{hour}:30", attendees=[person(PRIYA)])
    found = people(org.client(), **{"$top": "200"})
    for p in found:
        assert model.validate("person", p) == [], p
    kinds = {p["scoredEmailAddresses"][0]["address"]: p for p in found}
    order = [p["scoredEmailAddresses"][0]["address"] for p in found]
    scores = [p["scoredEmailAddresses"][0]["relevanceScore"] for p in found]
    assert scores == sorted(scores, reverse=True)
    rosa = kinds[ROSA]
    assert rosa["personType"]["subclass"] == "PersonalContact" and rosa["companyName"] == "Litware"
    # Jordan is a contact and a guest of Adele's meetings: one person, ranked with the people she meets
    assert [a for a in order if a == JORDAN] == [JORDAN]
    assert kinds[JORDAN]["personType"]["subclass"] == "PersonalContact"
    met = order.index(PRIYA)
    directory_only = [a for a, p in kinds.items() if p["personType"]["subclass"] == "OrganizationUser"
                      and p["scoredEmailAddresses"][0]["relevanceScore"] == 1.0]
    assert directory_only, "some of the directory Adele never meets"
    assert order.index(JORDAN) < order.index(ROSA)  # met beats saved
    assert order.index(ROSA) > met and all(order.index(ROSA) < order.index(a) for a in directory_only)
    # found by name and by the start of their address's parts
    assert [p["id"] for p in people(org.client(), **{"$search": '"Rosa"'})] == [rosa["id"]]
    assert [p["id"] for p in people(org.client(), **{"$search": '"litware"'})] == [rosa["id"]]
    assert people(org.as_user(DANA), **{"$search": '"Rosa"'}) == []  # Adele's contact, not Dana's
