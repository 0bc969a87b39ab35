"""Microsoft 365 group calendars in the sandbox, over HTTP: ``/groups/{id}/calendar``, ``/events``,
``/calendarView`` (and its delta).

The seed has two groups: "Product Launch" (launch@contoso.com, public; Adele, Alex, Dana, Megan) and
"Leadership Team" (leadership@contoso.com, private; Pavel, Megan). Members read and write the group's
calendar, others in the organization read a public group's, nobody else a private group's; Graph's group
calendar API is delegated-only (the app gets 403). Refusals change nothing.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from outlook_calendar_mcp.sandbox.models.store import Store
from tests.contract.csdl import load_model
from tests.sandbox.conftest import Client, assert_graph_error, event_body, post_event

WEEK = {"startDateTime": "2026-03-02T00:00:00Z", "endDateTime": "2026-03-09T00:00:00Z"}


@pytest.fixture
def as_user(make_client: Callable[..., Client]) -> Callable[[str], Client]:
    made: dict[str, Client] = {}

    def open_as(who: str) -> Client:
        if who not in made:
            made[who] = make_client("sandbox-app" if who == "app" else f"sandbox:{who}@contoso.com")
        return made[who]

    return open_as


@pytest.fixture
def groups(as_user: Callable[[str], Client]) -> dict[str, str]:
    listed = as_user("adele").get("groups").json()["value"]
    return {g["mail"].split("@")[0]: g["id"] for g in listed}


def everything(store: Store) -> dict[str, list[tuple]]:
    return {t: sorted(tuple(r) for r in store.db.execute(f"SELECT * FROM {t}"))
            for t in ("events", "calendars", "mailboxes", "tombstones", "outbox")}


def test_groups_are_listed_and_read(as_user: Callable[[str], Client], groups: dict[str, str]) -> None:
    model = load_model()
    adele = as_user("adele")
    body = adele.get("groups").json()
    assert [g["displayName"] for g in body["value"]] == ["Product Launch", "Leadership Team"]
    assert model.validate("Collection(group)", body["value"]) == []
    one = adele.get(f"groups/{groups['launch']}").json()
    assert one["mail"] == "launch@contoso.com" and one["groupTypes"] == ["Unified"] and one["visibility"] == "Public"
    found = adele.get("groups", params={"$filter": "mail eq 'leadership@contoso.com'", "$select": "id,mail"}).json()
    assert found["value"] == [{"id": groups["leadership"], "mail": "leadership@contoso.com"}]
    assert model.check_request("GET", "groups?$filter=mail eq 'x'&$select=id,mail") == []
    assert_graph_error(adele.get("groups/00000000-0000-0000-0000-000000000000"), 404, "Request_ResourceNotFound")
    assert_graph_error(adele.get("users/launch@contoso.com/events"), 404, "ErrorInvalidUser")
    assert_graph_error(adele.get(f"groups/{groups['launch']}/calendars"), 400, "BadRequest")
    assert_graph_error(as_user("app").get("groups"), 403, "ErrorAccessDenied")


def test_members_read_and_write_the_group_calendar(as_user: Callable[[str], Client], groups: dict[str, str]) -> None:
    adele = as_user("adele")
    base = f"groups/{groups['launch']}"
    view = adele.get(f"{base}/calendarView", params={**WEEK, "$orderby": "start/dateTime"}).json()["value"]
    assert [e["subject"] for e in view] == ["Launch stand-up", "Launch readiness review"]
    assert adele.get(f"{base}/calendar/calendarView", params=WEEK).json()["value"][0]["subject"] == "Launch stand-up"
    calendar = adele.get(f"{base}/calendar").json()
    assert calendar["owner"] == {"name": "Product Launch", "address": "launch@contoso.com"} and calendar["canEdit"]
    made = post_event(adele, event_body("Launch retro", "2027-03-10T09:00:00", "2027-03-10T10:00:00"),
                      path=f"{base}/events")
    assert made["organizer"]["emailAddress"] == {"name": "Product Launch", "address": "launch@contoso.com"}
    assert adele.get(f"{base}/calendar/events/{made['id']}").json()["subject"] == "Launch retro"
    dana = as_user("dana")
    assert dana.patch(f"{base}/events/{made['id']}", json={"subject": "Launch retro (v2)"}).status_code == 200
    series = next(e for e in adele.get(f"{base}/events").json()["value"] if e["type"] == "seriesMaster")
    instances = adele.get(f"{base}/events/{series['id']}/instances", params={
        "startDateTime": "2026-03-01T00:00:00Z", "endDateTime": "2026-06-01T00:00:00Z"}).json()["value"]
    assert len(instances) == 8
    items = adele.get(f"{base}/calendarView/delta", params=WEEK).json()
    assert "@odata.deltaLink" in items or "@odata.nextLink" in items
    assert dana.delete(f"{base}/events/{made['id']}").status_code == 204


def test_others_read_public_groups_only(as_user: Callable[[str], Client], store: Store,
                                        groups: dict[str, str]) -> None:
    fanny = as_user("fanny")                       # a member of neither group
    launch, leadership = f"groups/{groups['launch']}", f"groups/{groups['leadership']}"
    assert fanny.get(f"{launch}/calendarView", params=WEEK).status_code == 200
    before = everything(store)
    r = fanny.post(f"{launch}/events", json=event_body("Not a member"))
    assert "member" in assert_graph_error(r, 403, "ErrorAccessDenied")["message"]
    r = fanny.get(f"{leadership}/calendarView", params=WEEK)
    assert "private group" in assert_graph_error(r, 403, "ErrorAccessDenied")["message"]
    assert_graph_error(as_user("adele").get(f"{leadership}/events"), 403, "ErrorAccessDenied")
    assert everything(store) == before
    megan = as_user("megan")                       # a member of the private group
    assert [e["subject"] for e in megan.get(f"{leadership}/events").json()["value"]] == ["Leadership offsite planning"]
