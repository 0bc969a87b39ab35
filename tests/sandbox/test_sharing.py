"""Calendar sharing in the sandbox, over HTTP: calendarPermissions and the access they give.

Graph's rules: only the owner lists, creates, updates and deletes a calendar's permissions (a sharee gets
an empty collection, and 403 on changes); "My Organization" is always there (freeBusyRead on a primary
calendar) and cannot be removed; only ``role`` changes, within ``allowedRoles``. Another user's calendar
is reachable only as its permissions allow: none or freeBusyRead -> 403 (free/busy through getSchedule
only), limitedRead -> times, subjects and locations, read -> everything but private events, write ->
read and change (not private events), delegateWithPrivateEventAccess -> everything. Refusals change
nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from outlook_calendar_mcp.sandbox.models.sharing import MY_ORGANIZATION_ID, permission_id
from outlook_calendar_mcp.sandbox.models.store import Store
from tests.contract.csdl import load_model
from tests.sandbox.conftest import Client, assert_graph_error, event_body, post_event

ADELE, DANA, ALEX = "adele@contoso.com", "dana@contoso.com", "alex@contoso.com"
PERMS = "me/calendar/calendarPermissions"
WINDOW = {"startDateTime": "2027-03-01T00:00:00Z", "endDateTime": "2027-04-01T00:00:00Z"}


@pytest.fixture
def as_user(make_client: Callable[..., Client]) -> Callable[[str], Client]:
    made: dict[str, Client] = {}

    def open_as(address: str) -> Client:
        if address not in made:
            made[address] = make_client("sandbox-app" if address == "app" else f"sandbox:{address}")
        return made[address]

    return open_as


@pytest.fixture(scope="module")
def model() -> Any:
    return load_model()


def everything(store: Store) -> dict[str, list[tuple]]:
    return {t: sorted(tuple(r) for r in store.db.execute(f"SELECT * FROM {t}"))
            for t in ("events", "calendars", "calendar_permissions", "outbox", "tombstones")}


def unchanged(store: Store, call: Callable[[], Any]) -> Any:
    before = everything(store)
    response = call()
    assert everything(store) == before, response.text
    return response


def share(owner: Client, address: str, role: str, path: str = PERMS) -> dict[str, Any]:
    r = owner.post(path, json={"emailAddress": {"address": address}, "role": role})
    assert r.status_code == 201, r.text
    return r.json()


@pytest.fixture
def adele_week(as_user: Callable[[str], Client]) -> dict[str, Any]:
    adele = as_user(ADELE)
    return {
        "plain": post_event(adele, event_body("Roadmap review", "2027-03-10T09:00:00", "2027-03-10T10:00:00",
                                              location={"displayName": "Room 1"},
                                              body={"contentType": "text", "content": "Draft numbers inside"},
                                              attendees=[{"emailAddress": {"address": "fanny@contoso.com"}}])),
        "private": post_event(adele, event_body("Therapy", "2027-03-11T09:00:00", "2027-03-11T10:00:00",
                                                sensitivity="private", location={"displayName": "Clinic"})),
    }


# -- calendarPermissions -----------------------------------------------------------------------------------

def test_default_permissions_as_graph_shows_them(as_user: Callable[[str], Client], model: Any) -> None:
    fanny = as_user("fanny@contoso.com")
    listed = fanny.get(PERMS).json()["value"]
    assert listed == [{"id": MY_ORGANIZATION_ID, "role": "freeBusyRead", "isRemovable": False,
                       "isInsideOrganization": True, "allowedRoles": ["none", "freeBusyRead", "limitedRead", "read",
                                                                      "write"],
                       "emailAddress": {"name": "My Organization"}}]
    assert MY_ORGANIZATION_ID == "RGVmYXVsdA=="
    assert model.validate("Collection(calendarPermission)", listed) == []
    other = fanny.post("me/calendars", json={"name": "Side"}).json()
    assert [p["role"] for p in fanny.get(f"me/calendars/{other['id']}/calendarPermissions").json()["value"]] == ["none"]
    # The seed: Alex shares his calendar with Adele (read).
    alex = as_user(ALEX).get(PERMS).json()["value"]
    assert [(p["emailAddress"].get("address"), p["role"]) for p in alex] == [(ADELE, "read"), (None, "freeBusyRead")]


def test_share_update_and_remove(as_user: Callable[[str], Client], model: Any) -> None:
    adele = as_user(ADELE)
    created = share(adele, DANA, "read")
    assert created["id"] == permission_id(DANA)
    assert created["allowedRoles"] == ["freeBusyRead", "limitedRead", "read", "write",
                                       "delegateWithoutPrivateEventAccess", "delegateWithPrivateEventAccess"]
    assert created["emailAddress"] == {"name": "Dana Swope", "address": DANA} and created["isRemovable"]
    assert model.validate("calendarPermission", {k: v for k, v in created.items() if k != "@odata.context"}) == []
    assert model.check_request("POST", PERMS, {"emailAddress": {"address": DANA}, "role": "read"}) == []
    got = adele.get(f"{PERMS}/{created['id']}").json()
    assert got["role"] == "read"
    r = adele.patch(f"{PERMS}/{created['id']}", json={"role": "write"})
    assert r.status_code == 200 and r.json()["role"] == "write"
    r = adele.patch(f"{PERMS}/{MY_ORGANIZATION_ID}", json={"role": "limitedRead"})
    assert r.status_code == 200 and r.json()["role"] == "limitedRead"
    assert adele.delete(f"{PERMS}/{created['id']}").status_code == 204
    assert [p["role"] for p in adele.get(PERMS).json()["value"]] == ["limitedRead"]
    # Outside the organization: reading roles only; a secondary calendar has no delegates.
    outside = share(adele, "jordan@fabrikam.com", "limitedRead")
    assert outside["isInsideOrganization"] is False and outside["allowedRoles"] == ["freeBusyRead", "limitedRead",
                                                                                    "read"]
    side = adele.post("me/calendars", json={"name": "Shared side"}).json()
    path = f"me/calendars/{side['id']}/calendarPermissions"
    assert "delegateWithPrivateEventAccess" not in share(adele, DANA, "write", path)["allowedRoles"]


def test_bad_permission_requests_change_nothing(as_user: Callable[[str], Client], store: Store) -> None:
    adele = as_user(ADELE)
    share(adele, DANA, "read")
    side = adele.post("me/calendars", json={"name": "Side"}).json()
    cases = [
        ("POST", PERMS, {"role": "read"}, 400, "ErrorInvalidParameter"),                       # no emailAddress
        ("POST", PERMS, {"emailAddress": {"address": "dana"}, "role": "read"}, 400, "ErrorInvalidParameter"),
        ("POST", PERMS, {"emailAddress": {"address": "fanny@contoso.com"}}, 400, "ErrorInvalidParameter"),
        ("POST", PERMS, {"emailAddress": {"address": "fanny@contoso.com"}, "role": "owner"}, 400, "BadRequest"),
        ("POST", PERMS, {"emailAddress": {"address": ADELE}, "role": "read"}, 400, "ErrorInvalidParameter"),
        ("POST", PERMS, {"emailAddress": {"address": "baker@contoso.com"}, "role": "read"}, 400,
         "ErrorInvalidRecipients"),
        ("POST", PERMS, {"emailAddress": {"address": "launch@contoso.com"}, "role": "read"}, 400,
         "ErrorInvalidRecipients"),
        ("POST", PERMS, {"emailAddress": {"address": "nobody@contoso.com"}, "role": "read"}, 404, "ErrorInvalidUser"),
        ("POST", PERMS, {"emailAddress": {"address": "jordan@fabrikam.com"}, "role": "write"}, 400,
         "ErrorInvalidParameter"),
        ("POST", f"me/calendars/{side['id']}/calendarPermissions",
         {"emailAddress": {"address": DANA}, "role": "delegateWithPrivateEventAccess"}, 400, "ErrorInvalidParameter"),
        ("POST", PERMS, {"emailAddress": {"address": DANA}, "role": "write"}, 409, "ErrorDuplicateUserIdsSpecified"),
        ("POST", PERMS, {"emailAddress": {"address": "fanny@contoso.com"}, "role": "read", "isShared": True}, 400,
         "RequestBodyRead"),
        ("PATCH", f"{PERMS}/{permission_id(DANA)}", {"emailAddress": {"address": ALEX}}, 400, "ErrorInvalidParameter"),
        ("PATCH", f"{PERMS}/{permission_id(DANA)}", {"role": "none"}, 400, "ErrorInvalidParameter"),
        ("PATCH", f"{PERMS}/{MY_ORGANIZATION_ID}", {"role": "delegateWithPrivateEventAccess"}, 400,
         "ErrorInvalidParameter"),
        ("PATCH", f"{PERMS}/{permission_id(ALEX)}", {"role": "read"}, 404, "ErrorItemNotFound"),
        ("DELETE", f"{PERMS}/{MY_ORGANIZATION_ID}", None, 400, "ErrorCannotDeleteObject"),
        ("DELETE", f"{PERMS}/{permission_id(ALEX)}", None, 404, "ErrorItemNotFound"),
    ]
    for method, path, body, status, code in cases:
        r = unchanged(store, lambda: adele.request(method, path, json=body))
        assert_graph_error(r, status, code)


def test_only_the_owner_manages_permissions(as_user: Callable[[str], Client], store: Store) -> None:
    adele, dana = as_user(ADELE), as_user(DANA)
    share(adele, DANA, "write")
    theirs = f"users/{ADELE}/calendar/calendarPermissions"
    assert dana.get(theirs).json()["value"] == []            # a sharee sees none, as in Graph
    for method, path, body in (("POST", theirs, {"emailAddress": {"address": ALEX}, "role": "read"}),
                               ("PATCH", f"{theirs}/{permission_id(DANA)}", {"role": "delegateWithPrivateEventAccess"}),
                               ("DELETE", f"{theirs}/{permission_id(DANA)}", None)):
        r = unchanged(store, lambda: dana.request(method, path, json=body))
        assert "owner" in assert_graph_error(r, 403, "ErrorAccessDenied")["message"]
    assert_graph_error(dana.get(f"{theirs}/{permission_id(DANA)}"), 404, "ErrorItemNotFound")
    # With no access at all (Dana shares nothing, not even free/busy), not even the (empty) list.
    dana.patch(f"{PERMS}/{MY_ORGANIZATION_ID}", json={"role": "none"})
    assert_graph_error(as_user("fanny@contoso.com").get(f"users/{DANA}/calendar/calendarPermissions"), 403)
    # The app manages anyone's.
    assert len(as_user("app").get(theirs).json()["value"]) == 2


# -- what each role may do ------------------------------------------------------------------------------

def reads(client: Client, owner: str = ADELE) -> Any:
    return client.get(f"users/{owner}/calendar/calendarView", params={**WINDOW, "$orderby": "start/dateTime"})


def test_no_permission_gets_a_clear_403_and_free_busy_only(as_user: Callable[[str], Client], store: Store,
                                                           adele_week: dict) -> None:
    dana = as_user(DANA)
    for path in (f"users/{ADELE}/calendar", f"users/{ADELE}/calendar/events", f"users/{ADELE}/events",
                 f"users/{ADELE}/events/{adele_week['plain']['id']}", f"users/{ADELE}/calendars"):
        error = assert_graph_error(unchanged(store, lambda: dana.get(path)), 403, "ErrorAccessDenied")
        assert error["message"].startswith("Access is denied.")
    error = assert_graph_error(reads(dana), 403, "ErrorAccessDenied")
    assert "freeBusyRead" in error["message"] and "calendarPermissions" in error["message"]
    r = unchanged(store, lambda: dana.post(f"users/{ADELE}/events", json=event_body("Sneaky")))
    assert_graph_error(r, 403, "ErrorAccessDenied")
    # Free/busy stays open to the organization.
    r = dana.post("me/calendar/getSchedule", json={"schedules": [ADELE], **{
        "startTime": {"dateTime": "2027-03-10T00:00:00", "timeZone": "UTC"},
        "endTime": {"dateTime": "2027-03-11T00:00:00", "timeZone": "UTC"}}})
    assert r.status_code == 200 and "2" in r.json()["value"][0]["availabilityView"]


def test_limited_read_sees_times_subjects_and_locations(as_user: Callable[[str], Client],
                                                        adele_week: dict) -> None:
    share(as_user(ADELE), DANA, "limitedRead")
    dana = as_user(DANA)
    items = {e["id"]: e for e in reads(dana).json()["value"]}
    plain = items[adele_week["plain"]["id"]]
    assert plain["subject"] == "Roadmap review" and plain["location"]["displayName"] == "Room 1"
    assert "body" not in plain and "attendees" not in plain and "organizer" not in plain
    private = items[adele_week["private"]["id"]]
    assert "subject" not in private and "location" not in private and private["sensitivity"] == "private"
    got = dana.get(f"users/{ADELE}/events/{adele_week['plain']['id']}").json()
    assert "body" not in got and got["subject"] == "Roadmap review"
    assert_graph_error(dana.get(f"users/{ADELE}/events/{adele_week['plain']['id']}/attachments"), 403)


def test_read_can_read_and_cannot_write(as_user: Callable[[str], Client], store: Store, adele_week: dict) -> None:
    share(as_user(ADELE), DANA, "read")
    dana = as_user(DANA)
    items = {e["id"]: e for e in reads(dana).json()["value"]}
    plain = items[adele_week["plain"]["id"]]
    assert "Draft numbers" in plain["body"]["content"] and plain["attendees"]
    assert "subject" not in items[adele_week["private"]["id"]]
    calendar = dana.get(f"users/{ADELE}/calendar").json()
    assert (calendar["canEdit"], calendar["canShare"], calendar["canViewPrivateItems"]) == (False, False, False)
    assert [c["name"] for c in dana.get(f"users/{ADELE}/calendars").json()["value"]] == ["Calendar"]
    event = adele_week["plain"]["id"]
    for method, path, body in (("POST", f"users/{ADELE}/calendar/events", event_body("Mine now")),
                               ("PATCH", f"users/{ADELE}/events/{event}", {"subject": "Changed"}),
                               ("DELETE", f"users/{ADELE}/events/{event}", None),
                               ("POST", f"users/{ADELE}/events/{event}/cancel", {"comment": "no"}),
                               ("PATCH", f"users/{ADELE}/calendar", {"name": "Hijacked"})):
        r = unchanged(store, lambda: dana.request(method, path, json=body))
        assert_graph_error(r, 403, "ErrorAccessDenied")


def test_write_can_write_but_not_private_events(as_user: Callable[[str], Client], store: Store,
                                                adele_week: dict) -> None:
    share(as_user(ADELE), DANA, "write")
    dana = as_user(DANA)
    assert dana.get(f"users/{ADELE}/calendar").json()["canEdit"] is True
    made = post_event(dana, event_body("Added by Dana", "2027-03-12T09:00:00", "2027-03-12T10:00:00"),
                      path=f"users/{ADELE}/calendar/events")
    assert made["organizer"]["emailAddress"]["address"] == ADELE         # on the owner's behalf
    r = dana.patch(f"users/{ADELE}/events/{made['id']}", json={"subject": "Added by Dana (moved)"})
    assert r.status_code == 200
    assert dana.delete(f"users/{ADELE}/events/{made['id']}").status_code == 204
    private = adele_week["private"]["id"]
    r = unchanged(store, lambda: dana.patch(f"users/{ADELE}/events/{private}", json={"subject": "Peek"}))
    assert "private" in assert_graph_error(r, 403, "ErrorAccessDenied")["message"]
    # A delegate with private access sees and changes it; removing the permission ends all of it.
    as_user(ADELE).patch(f"{PERMS}/{permission_id(DANA)}", json={"role": "delegateWithPrivateEventAccess"})
    assert dana.get(f"users/{ADELE}/events/{private}").json()["subject"] == "Therapy"
    assert dana.patch(f"users/{ADELE}/events/{private}", json={"location": {"displayName": "Online"}}).status_code == 200
    assert dana.get(f"users/{ADELE}/calendar").json()["canViewPrivateItems"] is True
    as_user(ADELE).delete(f"{PERMS}/{permission_id(DANA)}")
    assert_graph_error(reads(dana), 403, "ErrorAccessDenied")


def test_my_organization_role_applies_to_everyone_without_their_own(as_user: Callable[[str], Client],
                                                                    adele_week: dict) -> None:
    adele = as_user(ADELE)
    assert_graph_error(reads(as_user("kenji@contoso.com")), 403)
    adele.patch(f"{PERMS}/{MY_ORGANIZATION_ID}", json={"role": "read"})
    assert reads(as_user("kenji@contoso.com")).status_code == 200
    share(adele, "priya@contoso.com", "freeBusyRead")       # her own permission wins over the organization's
    assert_graph_error(reads(as_user("priya@contoso.com")), 403)
    adele.patch(f"{PERMS}/{MY_ORGANIZATION_ID}", json={"role": "none"})
    assert_graph_error(reads(as_user("kenji@contoso.com")), 403)


def test_meetings_still_reach_people_who_share_nothing(as_user: Callable[[str], Client]) -> None:
    adele, dana = as_user(ADELE), as_user(DANA)
    adele.patch(f"{PERMS}/{MY_ORGANIZATION_ID}", json={"role": "none"})
    dana.patch(f"{PERMS}/{MY_ORGANIZATION_ID}", json={"role": "none"})
    post_event(adele, event_body("Invite despite sharing", "2027-03-15T09:00:00", "2027-03-15T10:00:00",
                                 attendees=[{"emailAddress": {"address": DANA}}]))
    copy = dana.get("me/events", params={"$filter": "subject eq 'Invite despite sharing'"}).json()["value"]
    assert len(copy) == 1
    assert dana.post(f"me/events/{copy[0]['id']}/accept", json={}).status_code == 202
