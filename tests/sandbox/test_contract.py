"""Sandbox responses validate against Graph v1.0's own data model (tests/data/graph/v1.0-Prod.csdl.xz).

The checker is generated from the CSDL at test time (tests/contract/csdl.py):
nothing here lists Graph's properties by hand. ``validate(type, value)`` is
strict: unknown properties are errors (the project uses no open-type dynamic
properties), entity keys and non-nullable complex members are required, enum
members must be Graph's.

Known sandbox bugs are listed in :data:`KNOWN_BUGS`: the broad tests below
ignore exactly those errors (so every *other* deviation still fails them), and
one strict xfail test per bug fails until it is fixed. When a fix lands, that
test XPASSes (a failure under strict): remove its mark and its entry here.
"""

from __future__ import annotations

import pytest

from tests.contract.csdl import load_model

from .conftest import ADELE, all_pages, event_body, open_client, post_event

# (type, error prefix) -> why. Each has an xfail test below.
KNOWN_BUGS: dict[tuple[str, str], str] = {}
ZONES = [None, "Pacific Standard Time", "Asia/Kolkata", "Tokyo Standard Time", "America/Santiago"]
YEAR = {"startDateTime": "2025-09-01T00:00:00Z", "endDateTime": "2026-12-31T00:00:00Z", "$top": "1000"}


@pytest.fixture(scope="module")
def model():
    return load_model()


def errors(model, type_name: str, value: dict, *, partial: bool = False, known: bool = True) -> list[str]:
    found = model.validate(type_name, value, partial=partial)
    if not known:
        return found
    return [e for e in found if not any(t == type_name and e.startswith(p) for t, p in KNOWN_BUGS)]


def check_all(model, type_name: str, items: list[dict], **kwargs) -> None:
    problems = {}
    for item in items:
        errs = errors(model, type_name, item, **kwargs)
        if errs:
            problems[item.get("id", "?")] = errs
    assert not problems, problems


@pytest.fixture(scope="module")
def app_client(shared_store):
    with open_client(shared_store, "sandbox-app") as c:
        yield c


@pytest.fixture(scope="module")
def mailboxes(app_client):
    users = all_pages(app_client, "users", params={"$select": "mail"})
    return [u["mail"] for u in users]


# -- seeded data -------------------------------------------------------------------------------


@pytest.mark.parametrize("prefer", ZONES)
def test_every_seeded_event_as_listed_and_as_got(model, app_client, mailboxes, prefer):
    headers = {"Prefer": f'outlook.timezone="{prefer}"'} if prefer else {}
    seen = 0
    for mailbox in mailboxes:
        listed = all_pages(app_client, f"users/{mailbox}/events", headers=headers)
        check_all(model, "event", listed)
        for e in listed:
            r = app_client.get(f"users/{mailbox}/events/{e['id']}", headers=headers)
            assert r.status_code == 200
            check_all(model, "event", [r.json()])
            if prefer:
                assert r.json()["start"]["timeZone"] == prefer
        seen += len(listed)
    assert seen >= 17  # the seeded organization's masters and single instances


@pytest.mark.parametrize("prefer", ZONES)
def test_every_seeded_instance_in_calendar_view(model, app_client, mailboxes, prefer):
    headers = {"Prefer": f'outlook.timezone="{prefer}"'} if prefer else {}
    types = set()
    for mailbox in mailboxes:
        view = all_pages(app_client, f"users/{mailbox}/calendarView", params=YEAR, headers=headers)
        check_all(model, "event", view)
        types |= {e["type"] for e in view}
        for e in view[:3] + [e for e in view if e["type"] == "exception"]:
            got = app_client.get(f"users/{mailbox}/events/{e['id']}", headers=headers)
            assert got.status_code == 200
            check_all(model, "event", [got.json()])
    assert types == {"singleInstance", "occurrence", "exception"}


def test_selected_properties_validate_as_partial_events(model, shared_client):
    items = all_pages(shared_client, "me/calendarView", params={**YEAR, "$select": "subject,start,end,attendees"})
    check_all(model, "event", items, partial=True)


def test_calendars_and_groups(model, app_client, mailboxes):
    for mailbox in mailboxes:
        cals = all_pages(app_client, f"users/{mailbox}/calendars")
        assert cals
        check_all(model, "calendar", cals)
        check_all(model, "calendar", [app_client.get(f"users/{mailbox}/calendar").json()])
        groups = all_pages(app_client, f"users/{mailbox}/calendarGroups")
        assert groups
        check_all(model, "calendarGroup", groups)
        for g in groups:
            check_all(model, "calendarGroup", [app_client.get(f"users/{mailbox}/calendarGroups/{g['id']}").json()])
            check_all(model, "calendar", all_pages(app_client, f"users/{mailbox}/calendarGroups/{g['id']}/calendars"))


def test_mailbox_settings(model, app_client, mailboxes):
    for mailbox in mailboxes:
        r = app_client.get(f"users/{mailbox}/mailboxSettings")
        assert r.status_code == 200
        assert not errors(model, "mailboxSettings", r.json()), r.json()


def test_users_and_me(model, app_client, shared_client):
    users = all_pages(app_client, "users")
    assert len(users) >= 8
    check_all(model, "user", users)
    check_all(model, "user", [shared_client.get("me").json()])
    for u in users:
        check_all(model, "user", [app_client.get(f"users/{u['id']}").json()])
    check_all(model, "user", all_pages(app_client, "users", params={"$select": "displayName,mail"}), partial=True)


# -- written data ------------------------------------------------------------------------------


RECURRING = event_body(
    "Contract series", "2026-03-02T09:30:00", "2026-03-02T10:00:00", "W. Europe Standard Time",
    body={"contentType": "text", "content": "Series body"},
    location={"displayName": "Room 1", "locationType": "conferenceRoom"},
    attendees=[{"emailAddress": {"address": "dana@contoso.com", "name": "Dana Swope"}, "type": "required"},
               {"emailAddress": {"address": "hood@contoso.com"}, "type": "resource"}],
    recurrence={"pattern": {"type": "relativeMonthly", "interval": 1, "daysOfWeek": ["monday"], "index": "first"},
                "range": {"type": "numbered", "startDate": "2026-03-02", "numberOfOccurrences": 6}},
    categories=["Contract"], isOnlineMeeting=True, importance="high", sensitivity="private", showAs="tentative",
)


@pytest.mark.parametrize("prefer", ZONES[:3])
def test_created_patched_and_expanded_events(model, client, prefer):
    headers = {"Prefer": f'outlook.timezone="{prefer}"'} if prefer else {}
    single = post_event(client, event_body("Contract single", isAllDay=False), headers=headers)
    all_day = post_event(client, event_body("Contract all day", "2026-03-20T00:00:00", "2026-03-21T00:00:00",
                                            isAllDay=True), headers=headers)
    master = post_event(client, RECURRING, headers=headers)
    check_all(model, "event", [single, all_day, master])
    assert master["type"] == "seriesMaster" and master["recurrence"]["range"]["numberOfOccurrences"] == 6

    patched = client.patch(f"me/events/{single['id']}", headers=headers,
                           json={"subject": "Contract single (patched)", "locations": [{"displayName": "A"},
                                                                                       {"displayName": "B"}]})
    assert patched.status_code == 200
    check_all(model, "event", [patched.json()])

    instances = all_pages(client, f"me/events/{master['id']}/instances", headers=headers,
                          params={"startDateTime": "2026-03-01T00:00:00Z", "endDateTime": "2026-12-31T00:00:00Z"})
    assert len(instances) == 6
    check_all(model, "event", instances)
    exception = client.patch(f"me/events/{instances[1]['id']}", headers=headers,
                             json={"subject": "Moved", "start": {"dateTime": "2026-04-07T11:00:00",
                                                                 "timeZone": "W. Europe Standard Time"},
                                   "end": {"dateTime": "2026-04-07T11:30:00", "timeZone": "W. Europe Standard Time"}})
    assert exception.status_code == 200, exception.text
    assert exception.json()["type"] == "exception"
    check_all(model, "event", [exception.json(), client.get(f"me/events/{instances[1]['id']}", headers=headers).json()])
    patched_master = client.patch(f"me/events/{master['id']}", headers=headers, json={"subject": "Renamed series"})
    check_all(model, "event", [patched_master.json()])


def test_created_calendar_group_and_settings(model, client):
    cal = client.post("me/calendars", json={"name": "Contract", "color": "lightBlue"})
    assert cal.status_code == 201
    check_all(model, "calendar", [cal.json(), client.patch(f"me/calendars/{cal.json()['id']}",
                                                          json={"name": "Contract 2"}).json()])
    group = client.post("me/calendarGroups", json={"name": "Contract group"})
    check_all(model, "calendarGroup", [group.json(), client.patch(f"me/calendarGroups/{group.json()['id']}",
                                                                  json={"name": "Contract group 2"}).json()])
    settings = client.patch("me/mailboxSettings", json={"timeZone": "Europe/Paris",
                                                        "workingHours": {"startTime": "07:30:00"}})
    assert settings.status_code == 200, settings.text
    assert settings.json()["timeZone"] == "Europe/Paris"
    assert not errors(model, "mailboxSettings", settings.json())


REF_ID = "AAMkAGI2TG93AAA="  # the reference's example id
WINDOW_QUERY = "startDateTime=2014-10-01T01:00:00Z&endDateTime=2014-10-31T23:00:00Z"
REFERENCE_REQUESTS = [
    ("GET", f"me/calendarview?{WINDOW_QUERY}&$select=subject"),
    ("GET", f"me/calendars/{REF_ID}/calendarView?{WINDOW_QUERY}"),
    ("GET", "me/events?$select=subject,organizer,start,end"),
    ("GET", f"me/events/{REF_ID}/instances?{WINDOW_QUERY}&$select=subject,start,end"),
    ("GET", f"me/events/{REF_ID}?$select=subject,organizer,start,end"),
    ("GET", f"me/events('{REF_ID}')"),
    ("POST", "me/events"), ("PATCH", f"me/events/{REF_ID}"), ("DELETE", f"me/events/{REF_ID}"),
    ("GET", "me/calendars"), ("POST", "me/calendars"), ("GET", f"me/calendars/{REF_ID}"),
    ("PATCH", f"me/calendars/{REF_ID}"), ("DELETE", f"me/calendars/{REF_ID}"),
    ("GET", "me/calendargroups"), ("POST", "me/calendargroups"), ("GET", f"me/calendargroups/{REF_ID}"),
    ("PATCH", f"me/calendargroups/{REF_ID}"), ("DELETE", f"me/calendargroups/{REF_ID}"),
    ("GET", f"me/calendargroups/{REF_ID}/calendars"), ("POST", f"me/calendargroups/{REF_ID}/calendars"),
    ("GET", "me/mailboxSettings"), ("GET", "users?$filter=startswith(displayName,'Da')"),
    ("GET", 'users?$search="displayName:Da"'), ("GET", f"users/dana@contoso.com/calendarView?{WINDOW_QUERY}"),
]


@pytest.mark.parametrize("method, path", REFERENCE_REQUESTS)
def test_the_replayed_reference_requests_exist_in_graph_v1(model, method, path):
    from .test_reference_examples import REFERENCE_CREATE

    body = {"POST": {"name": "Social"}, "PATCH": {"name": "Social events"}}.get(method)
    if path == "me/events":
        body = REFERENCE_CREATE
    elif method == "PATCH" and "/events/" in path:
        body = {"location": {"displayName": "Your office", "address": None}}
    assert model.check_request(method, path, body) == []


def test_what_graph_forbids_the_sandbox_refuses(model, client):
    """POST to calendarView: InsertRestrictions/Insertable=false in the CSDL, a 405 from the sandbox."""
    path = f"me/calendarView?{WINDOW_QUERY}"
    assert model.check_request("POST", path, {"subject": "x"})
    assert client.post(path, json={"subject": "x"}).status_code == 405


def test_request_bodies_the_tests_send_fit_graph(model):
    """The bodies the suite POSTs are themselves valid Graph input (partial: nothing is required)."""
    from .test_reference_examples import REFERENCE_CREATE

    for body in (REFERENCE_CREATE, RECURRING):
        assert model.validate("event", body, partial=True) == []


# -- known bugs (strict xfail: they fail until fixed) -----------------------------------------


def test_events_carry_only_v1_properties(model, shared_client):
    e = shared_client.get("me/events", params={"$top": "1"}).json()["value"][0]
    assert model.validate("event", e) == []


def test_mailbox_settings_user_purpose_is_an_enum(model, shared_client):
    s = shared_client.get("me/mailboxSettings").json()
    assert model.validate("mailboxSettings", s) == []


def test_known_bug_list_is_current(model, shared_client):
    """Every KNOWN_BUGS entry still happens (else it must be removed, with its xfail mark)."""
    event = shared_client.get("me/events", params={"$top": "1"}).json()["value"][0]
    settings = shared_client.get(f"users/{ADELE}/mailboxSettings").json()
    found = model.validate("event", event) + model.validate("mailboxSettings", settings)
    for _, prefix in KNOWN_BUGS:
        assert any(e.startswith(prefix) for e in found), prefix
