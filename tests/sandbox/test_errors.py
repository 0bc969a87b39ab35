"""Bad requests: Graph's status, code and a specific message, in Graph's error shape, and nothing written.

Every case snapshots all tables of the store (conftest.snapshot) before and
after the request and requires them equal: a failed request is one rolled-back
transaction, even when it fails after writing (see
``test_a_patch_failing_after_dropping_exceptions_leaves_them``).
"""

from __future__ import annotations

import base64
import os

import pytest

from .conftest import DANA, assert_graph_error, event_body, snapshot

WINDOW = "startDateTime=2026-03-02T00:00:00Z&endDateTime=2026-03-09T00:00:00Z"
GOOD = event_body("Good event", "2026-03-10T09:00:00", "2026-03-10T10:00:00")


@pytest.fixture
def ids(client):
    def find(subject):
        return client.get("me/events", params={"$filter": f"subject eq '{subject}'"}).json()["value"][0]["id"]

    master = find("Weekly team sync")
    occurrence = client.get(f"me/events/{master}/instances", params={
        "startDateTime": "2026-03-16T00:00:00Z", "endDateTime": "2026-03-23T00:00:00Z"}).json()["value"][0]
    assert occurrence["type"] == "occurrence"
    calendars = client.get("me/calendars").json()["value"]
    groups = client.get("me/calendarGroups").json()["value"]
    return {"single": find("Lunch with Megan"), "master": master, "occurrence": occurrence["id"],
            "default_calendar": calendars[0]["id"], "calendar": calendars[1]["id"], "group": groups[1]["id"],
            "first_group": groups[0]["id"]}


def unchanged(store, send):
    """Send a request, require the store untouched, return the response."""
    before = snapshot(store)
    response = send()
    assert snapshot(store) == before, f"{response.status_code} {response.text}"
    return response


# -- bodies ----------------------------------------------------------------------------------

BAD_BODIES = [
    # (body changes, code, words the message must contain)
    ({"subject": 5}, "RequestBodyRead", "subject"),
    ({"isAllDay": "yes"}, "RequestBodyRead", "isAllDay"),
    ({"attendees": "dana@contoso.com"}, "RequestBodyRead", "attendees"),
    ({"attendees": {"emailAddress": {"address": "dana@contoso.com"}}}, "RequestBodyRead", "attendees"),
    ({"attendees": [{"emailAddress": "dana@contoso.com"}]}, "RequestBodyRead", "emailAddress"),
    ({"reminderMinutesBeforeStart": "15"}, "RequestBodyRead", "reminderMinutesBeforeStart"),
    ({"categories": "Team"}, "RequestBodyRead", "categories"),
    ({"showAs": "sleeping"}, "RequestBodyRead", "showAs"),
    ({"start": "2026-03-10T09:00:00"}, "RequestBodyRead", "start"),
    ({"end": {"dateTime": "2026-03-10T08:00:00", "timeZone": "Pacific Standard Time"}},
     "ErrorCalendarEndDateIsEarlierThanStartDate", "end date occurs before the start date"),
    ({"start": {"dateTime": "2026-03-10T09:00:00", "timeZone": "Mars/Olympus"}},
     "TimeZoneNotSupportedException", "Mars/Olympus"),
    ({"end": {"dateTime": "2026-03-10T10:00:00", "timeZone": "Pacific Daylight Time"}},
     "TimeZoneNotSupportedException", "Pacific Daylight Time"),
    ({"start": {"dateTime": "10 March 2026 9am", "timeZone": "UTC"}}, None, "start.dateTime"),
    ({"subjekt": "typo"}, "RequestBodyRead", "The property 'subjekt' does not exist on type 'microsoft.graph.event'"),
    ({"location": {"displayName": "Room", "floor": 3}}, "RequestBodyRead", "does not exist on type"),
    ({"isAllDay": True}, None, "all-day"),
    ({"recurrence": {"pattern": {"type": "weekly", "interval": 1}, "range": {"type": "noEnd", "startDate": "2026-03-10"}}},
     None, "daysOfWeek"),
    ({"recurrence": {"pattern": {"type": "fortnightly", "interval": 1},
                     "range": {"type": "noEnd", "startDate": "2026-03-10"}}}, None, "fortnightly"),
    ({"recurrence": {"pattern": {"type": "daily", "interval": 0}, "range": {"type": "noEnd", "startDate": "2026-03-10"}}},
     None, "interval"),
    ({"recurrence": {"pattern": {"type": "daily", "interval": 1},
                     "range": {"type": "endDate", "startDate": "2026-03-10", "endDate": "2026-03-01"}}}, None, "endDate"),
]


@pytest.mark.parametrize("changes, code, words", BAD_BODIES, ids=[repr(sorted(c[0]))[:40] + str(i)
                                                                   for i, c in enumerate(BAD_BODIES)])
def test_create_with_a_bad_body_is_a_400_and_writes_nothing(client, store, changes, code, words):
    r = unchanged(store, lambda: client.post("me/events", json={**GOOD, **changes}))
    assert_graph_error(r, 400, code, contains=words)


@pytest.mark.parametrize("changes, code, words", BAD_BODIES, ids=[repr(sorted(c[0]))[:40] + str(i)
                                                                   for i, c in enumerate(BAD_BODIES)])
def test_update_with_a_bad_body_is_a_400_and_writes_nothing(client, store, ids, changes, code, words):
    r = unchanged(store, lambda: client.patch(f"me/events/{ids['single']}", json={**GOOD, **changes}))
    assert_graph_error(r, 400, code, contains=words)


@pytest.mark.parametrize("target", ["occurrence", "master"])
def test_bad_updates_of_a_series_write_nothing(client, store, ids, target):
    end_first = {"end": {"dateTime": "2026-03-17T09:00:00", "timeZone": "Pacific Standard Time"},
                 "start": {"dateTime": "2026-03-17T10:00:00", "timeZone": "Pacific Standard Time"}}
    r = unchanged(store, lambda: client.patch(f"me/events/{ids[target]}", json=end_first))
    assert_graph_error(r, 400, "ErrorCalendarEndDateIsEarlierThanStartDate")
    r = unchanged(store, lambda: client.patch(f"me/events/{ids[target]}", json={"subject": ["not", "a", "string"]}))
    assert_graph_error(r, 400, "RequestBodyRead", contains="subject")


def test_a_patch_failing_after_dropping_exceptions_leaves_them(client, store, ids):
    """Changing a master's times drops its exceptions *before* the new times are checked: all rolled back."""
    children = store.db.execute("SELECT kind FROM events WHERE series_master_id = ? ORDER BY kind",
                                (ids["master"],)).fetchall()
    assert [r[0] for r in children] == ["cancelled", "exception"]
    r = unchanged(store, lambda: client.patch(f"me/events/{ids['master']}", json={
        "end": {"dateTime": "2026-02-03T09:00:00", "timeZone": "Pacific Standard Time"}}))
    assert_graph_error(r, 400, "ErrorCalendarEndDateIsEarlierThanStartDate")


def test_patching_recurrence_onto_an_occurrence_is_refused(client, store, ids):
    recurrence = {"pattern": {"type": "daily", "interval": 1}, "range": {"type": "noEnd", "startDate": "2026-03-17"}}
    r = unchanged(store, lambda: client.patch(f"me/events/{ids['occurrence']}", json={"recurrence": recurrence}))
    assert_graph_error(r, 400, contains="master")


@pytest.mark.parametrize("raw, words", [
    (b"{not json", "not valid JSON"),
    (b"", "body is required"),
    (b"[1, 2]", "JSON object"),
    (b'"subject"', "JSON object"),
])
def test_bodies_that_are_not_json_objects(client, store, raw, words):
    r = unchanged(store, lambda: client.post("me/events", content=raw, headers={"Content-Type": "application/json"}))
    assert_graph_error(r, 400, contains=words)


@pytest.mark.parametrize("path, body, code, words", [
    ("me/calendars", {"name": 5}, "RequestBodyRead", "name"),
    ("me/calendars", {"name": ""}, None, "name"),
    ("me/calendars", {"name": "Work", "colour": "auto"}, "RequestBodyRead", "does not exist on type"),
    ("me/calendars", {"name": "Work", "color": "purple"}, "RequestBodyRead", "color"),
    ("me/calendarGroups", {"name": None}, None, "name"),
    ("me/calendarGroups", {"name": "G", "calendars": []}, "RequestBodyRead", "does not exist on type"),
])
def test_bad_calendar_and_group_bodies(client, store, path, body, code, words):
    r = unchanged(store, lambda: client.post(path, json=body))
    assert_graph_error(r, 400, code, contains=words)


def test_bad_mailbox_settings(client, store):
    r = unchanged(store, lambda: client.patch("me/mailboxSettings", json={"timeZone": "Mars/Olympus"}))
    assert_graph_error(r, 400, "TimeZoneNotSupportedException", contains="Mars/Olympus")
    r = unchanged(store, lambda: client.patch("me/mailboxSettings", json={"workingHours": {"startTime": "9am"}}))
    assert_graph_error(r, 400, contains="startTime")
    r = unchanged(store, lambda: client.patch("me/mailboxSettings", json={"language": "fr-FR"}))
    assert_graph_error(r, 400, contains="does not exist on type")


# -- headers and query -----------------------------------------------------------------------


def test_unknown_zone_in_prefer_is_a_400_on_reads_and_writes(client, store):
    prefer = {"Prefer": 'outlook.timezone="Mars/Olympus"'}
    assert_graph_error(unchanged(store, lambda: client.get("me/events", headers=prefer)), 400,
                       "TimeZoneNotSupportedException", contains="Mars/Olympus")
    assert_graph_error(unchanged(store, lambda: client.post("me/events", json=GOOD, headers=prefer)), 400,
                       "TimeZoneNotSupportedException")


@pytest.mark.parametrize("prefer, words", [
    ('outlook.body-content-type="markdown"', "body-content-type"),
    ("odata.maxpagesize=0", "maxpagesize"),
    ("odata.maxpagesize=lots", "maxpagesize"),
])
def test_bad_prefer_values(client, store, prefer, words):
    assert_graph_error(unchanged(store, lambda: client.get("me/events", headers={"Prefer": prefer})), 400,
                       contains=words)


@pytest.mark.parametrize("path, words", [
    ("me/events?$foo=1", "$foo"),
    ("me/events?foo=1", "foo"),
    (f"me/calendarView?{WINDOW}&startDate=2026-03-01", "startDate"),
    (f"me/calendarView?{WINDOW}&$search=lunch", "$search"),
    ("me/events?$top=0", "$top"),
    ("me/events?$top=abc", "$top"),
    ("me/events?$top=1001", "$top"),
    (f"me/calendarView?{WINDOW}&$top=1001", "$top"),
    ("me/events?$top=-1", "$top"),
    ("me/events?$skip=-5", "$skip"),
    ("me/events?$count=maybe", "count"),
    ("me/events?$top=1&$top=2", "more than once"),
    ("me/events?$filter=subject eq", "Invalid filter clause"),
    ("me/events?$filter=subject eq 'unterminated", "Invalid filter clause"),
    ("me/events?$filter=subject eqq 'x'", "Invalid filter clause"),
    ("me/events?$filter=(subject eq 'x'", "Invalid filter clause"),
    ("me/events?$filter=subjekt eq 'x'", "subjekt"),
    ("me/events?$filter=substringof('x', subject)", "substringof"),
    ("me/events?$select=subject,nope", "nope"),
    ("me/events?$orderby=subject sideways", "sideways"),
    ("me/events?$orderby=nope", "nope"),
    ("me/calendarView?endDateTime=2026-03-09T00:00:00Z", "StartDateTime"),
    ("me/calendarView?startDateTime=2026-03-09T00:00:00Z", "EndDateTime"),
    ("me/calendarView", "StartDateTime"),
    ("me/calendarView?startDateTime=yesterday&endDateTime=2026-03-09T00:00:00Z", "yesterday"),
    ("me/calendarView?startDateTime=2026-03-09T00:00:00Z&endDateTime=2026-03-02T00:00:00Z", "endDateTime"),
    ("me/events/{master}/instances?endDateTime=2026-03-09T00:00:00Z", "StartDateTime"),
    ("me/calendars?$top=0", "$top"),
    ("me/calendarGroups?$foo=bar", "$foo"),
    ("me/mailboxSettings?$top=1", "$top"),
    ("users?$filter=startswith(displayName,", "Invalid filter clause"),
])
def test_bad_query_options_are_a_400_naming_them(client, store, ids, path, words):
    r = unchanged(store, lambda: client.get(path.format(**ids)))
    error = assert_graph_error(r, 400, contains=words)
    assert error["code"] in {"BadRequest", "ErrorInvalidUrlQuery", "ErrorInvalidParameter", "ErrorInvalidUrlQueryFilter",
                             "ErrorInvalidRequest", "Request_BadRequest"}


def test_a_filter_that_is_not_boolean_is_a_400(client, store):
    r = unchanged(store, lambda: client.get("me/events?$filter=subject"))
    assert_graph_error(r, 400, contains="boolean")


def test_a_boolean_property_alone_is_a_valid_filter(client):
    r = client.get("me/events?$filter=isAllDay&$select=subject")
    assert r.status_code == 200
    assert sorted(e["subject"] for e in r.json()["value"]) == ["Ignite conference", "Team offsite", "Thanksgiving"]


def test_unknown_query_option_on_a_write_writes_nothing(client, store, ids):
    assert_graph_error(unchanged(store, lambda: client.post("me/events?$foo=1", json=GOOD)), 400, contains="$foo")
    assert_graph_error(unchanged(store, lambda: client.patch(f"me/events/{ids['single']}?notify=false",
                                                             json={"subject": "x"})), 400, contains="notify")
    assert_graph_error(unchanged(store, lambda: client.delete(f"me/events/{ids['single']}?$select=subject")), 400,
                       contains="$select")


# -- ids and paths ---------------------------------------------------------------------------


@pytest.mark.parametrize("method", ["GET", "PATCH", "DELETE"])
@pytest.mark.parametrize("event_id", ["not-an-id!", "abc", "%20", "AAMk'AAA"])
def test_malformed_ids(client, store, method, event_id):
    r = unchanged(store, lambda: client.request(method, f"me/events/{event_id}",
                                                json={"subject": "x"} if method == "PATCH" else None))
    assert_graph_error(r, 400, "ErrorInvalidIdMalformed")


def shift_occurrence(event_id: str, old: bytes, new: bytes) -> str:
    """The id of another slot of the same series (occurrence ids carry the original start)."""
    raw = base64.urlsafe_b64decode(event_id)
    assert old in raw
    return base64.urlsafe_b64encode(raw.replace(old, new, 1)).decode()


@pytest.mark.parametrize("method", ["GET", "PATCH", "DELETE"])
def test_unknown_ids(client, store, ids, method):
    unknown = [base64.urlsafe_b64encode(b"\x00\x03\x24\x00E" + os.urandom(90)).decode(),
               "AAMkAGI2TG93AAA=",  # the reference's example id
               shift_occurrence(ids["occurrence"], b"20260317", b"20260318"),  # a Wednesday: no occurrence
               shift_occurrence(ids["occurrence"], b"100000", b"103000"),  # a Tuesday at the wrong time
               ]
    for event_id in unknown:
        r = unchanged(store, lambda: client.request(method, f"me/events/{event_id}",
                                                    json={"subject": "x"} if method == "PATCH" else None))
        assert_graph_error(r, 404, "ErrorItemNotFound")


def test_cancelled_occurrence_is_not_found(client, store, ids):
    cancelled = store.db.execute("SELECT id FROM events WHERE kind = 'cancelled'").fetchone()[0]
    for method in ("GET", "PATCH", "DELETE"):
        r = unchanged(store, lambda: client.request(method, f"me/events/{cancelled}",
                                                    json={"subject": "x"} if method == "PATCH" else None))
        assert_graph_error(r, 404, "ErrorItemNotFound")


def test_unknown_calendars_groups_users_and_segments(client, store, ids):
    missing = base64.urlsafe_b64encode(b"\x00\x03\x24\x00C" + os.urandom(90)).decode()
    assert_graph_error(unchanged(store, lambda: client.get(f"me/calendars/{missing}")), 404, "ErrorItemNotFound")
    assert_graph_error(unchanged(store, lambda: client.post(f"me/calendars/{missing}/events", json=GOOD)), 404,
                       "ErrorItemNotFound")
    assert_graph_error(unchanged(store, lambda: client.delete(f"me/calendarGroups/{missing}")), 404,
                       "ErrorItemNotFound")
    assert_graph_error(unchanged(store, lambda: client.get("users/nobody@contoso.com/events")), 404)
    assert_graph_error(unchanged(store, lambda: client.get("me/eventz")), 400, contains="eventz")
    # An event is only found through the calendar that holds it.
    assert_graph_error(unchanged(store, lambda: client.get(f"me/calendars/{ids['calendar']}/events/{ids['single']}")),
                       404, "ErrorItemNotFound")


def test_instances_of_a_single_event_is_a_400(client, store, ids):
    r = unchanged(store, lambda: client.get(f"me/events/{ids['single']}/instances?{WINDOW}"))
    assert_graph_error(r, 400, contains="seriesMaster")


# -- auth ------------------------------------------------------------------------------------


@pytest.mark.parametrize("token", [None, "", "Bearer", "Basic c2FuZGJveA==", "Bearer nope", "Bearer sandbox:nobody@x.com",
                                   "Bearer sandbox:hood@contoso.com", "Bearer eyJ0eXAiOiJKV1QifQ.e30.sig"])
def test_401_without_or_with_a_bad_token(store, make_client, token):
    c = make_client(None)
    headers = {} if token is None else {"Authorization": token}
    for method, path in (("GET", "me/events"), ("POST", "me/events"), ("GET", "users")):
        r = unchanged(store, lambda: c.request(method, path, headers=headers, json=GOOD if method == "POST" else None))
        assert_graph_error(r, 401, "InvalidAuthenticationToken")


def test_app_only_cannot_use_me(store, make_client):
    app = make_client("sandbox-app")
    for method, path in (("GET", "me"), ("GET", "me/events"), ("POST", "me/events"), ("GET", "me/mailboxSettings")):
        r = unchanged(store, lambda: app.request(method, path, json=GOOD if method == "POST" else None))
        assert_graph_error(r, 400, contains="/me request is only valid with delegated authentication flow")
    assert app.get("users/adele@contoso.com/events").status_code == 200


@pytest.mark.parametrize("method, path", [
    ("GET", f"users/{DANA}/events"), ("GET", f"users/{DANA}/calendarView?{WINDOW}"), ("GET", f"users/{DANA}/calendar"),
    ("GET", f"users/{DANA}/calendars"), ("GET", f"users/{DANA}/calendarGroups"), ("POST", f"users/{DANA}/events"),
    ("POST", f"users/{DANA}/calendars"), ("GET", f"users/{DANA}/mailboxSettings"),
])
def test_delegated_user_cannot_reach_another_calendar(client, store, method, path):
    body = GOOD if path.endswith("events") else {"name": "Mine now"}
    r = unchanged(store, lambda: client.request(method, path, json=body if method == "POST" else None))
    assert_graph_error(r, 403, "ErrorAccessDenied")


def test_delegated_user_cannot_touch_another_users_event(client, store, make_client):
    dana = make_client("sandbox:dana@contoso.com")
    event = dana.get("me/events").json()["value"][0]
    for method in ("GET", "PATCH", "DELETE"):
        r = unchanged(store, lambda: client.request(method, f"users/{DANA}/events/{event['id']}",
                                                    json={"subject": "x"} if method == "PATCH" else None))
        assert_graph_error(r, 403, "ErrorAccessDenied")
        # Through /me it is simply not one of adele's items.
        r = unchanged(store, lambda: client.request(method, f"me/events/{event['id']}",
                                                    json={"subject": "x"} if method == "PATCH" else None))
        assert_graph_error(r, 404, "ErrorItemNotFound")


# -- 405, 409, 412, distinguished folders ------------------------------------------------------


@pytest.mark.parametrize("method, path", [
    ("PUT", "me/events/{single}"), ("POST", "me/events/{single}"), ("DELETE", "me/events"),
    ("PATCH", "me/calendarView?" + WINDOW), ("PUT", "me/calendars/{calendar}"), ("POST", "me/mailboxSettings"),
    ("DELETE", "me/calendar/calendarView?" + WINDOW), ("POST", "users"),
])
def test_405_for_a_method_the_resource_does_not_take(client, store, ids, method, path):
    r = unchanged(store, lambda: client.request(method, path.format(**ids), json=GOOD))
    error = assert_graph_error(r, 405)
    assert method in error["message"]


@pytest.mark.parametrize("path, name", [
    ("me/calendars", "Calendar"), ("me/calendars", "birthdays"), ("me/calendars", " Birthdays "),
    ("me/calendarGroups/{group}/calendars", "BIRTHDAYS"),
    ("me/calendarGroups", "My Calendars"), ("me/calendarGroups", "other calendars"),
])
def test_409_for_a_duplicate_name(client, store, ids, path, name):
    r = unchanged(store, lambda: client.post(path.format(**ids), json={"name": name}))
    assert_graph_error(r, 409, "ErrorFolderExists")


def test_409_when_renaming_onto_an_existing_name(client, store, ids):
    r = unchanged(store, lambda: client.patch(f"me/calendars/{ids['calendar']}", json={"name": "calendar"}))
    assert_graph_error(r, 409, "ErrorFolderExists")
    r = unchanged(store, lambda: client.patch(f"me/calendarGroups/{ids['group']}", json={"name": "my calendars"}))
    assert_graph_error(r, 409, "ErrorFolderExists")
    same = client.patch(f"me/calendars/{ids['calendar']}", json={"name": "Birthdays"})  # its own name: fine
    assert same.status_code == 200


@pytest.mark.parametrize("target", ["single", "master", "occurrence"])
def test_412_on_a_stale_etag_and_the_current_one_succeeds(client, store, ids, target):
    path = f"me/events/{ids[target]}"
    first = client.get(path).json()
    stale_etag = first["@odata.etag"]
    updated = client.patch(path, json={"subject": "Changed once"}, headers={"If-Match": stale_etag})
    assert updated.status_code == 200, updated.text
    current = updated.json()["@odata.etag"]
    assert current != stale_etag
    r = unchanged(store, lambda: client.patch(path, json={"subject": "Lost update"}, headers={"If-Match": stale_etag}))
    assert_graph_error(r, 412, "ErrorIrresolvableConflict")
    r = unchanged(store, lambda: client.delete(path, headers={"If-Match": stale_etag}))
    assert_graph_error(r, 412, "ErrorIrresolvableConflict")
    assert client.get(path).json()["subject"] == "Changed once"
    assert client.patch(path, json={"subject": "Changed twice"}, headers={"If-Match": current}).status_code == 200
    latest = client.get(path).json()["@odata.etag"]
    assert client.delete(path, headers={"If-Match": latest}).status_code == 204
    assert_graph_error(client.get(path), 404, "ErrorItemNotFound")


def test_412_on_calendars_and_groups(client, store, ids):
    for path in (f"me/calendars/{ids['calendar']}", f"me/calendarGroups/{ids['group']}"):
        etag = client.get(path).json()["@odata.etag"]
        assert client.patch(path, json={"name": "Renamed " + path[3:9]}, headers={"If-Match": etag}).status_code == 200
        r = unchanged(store, lambda: client.patch(path, json={"name": "Again"}, headers={"If-Match": etag}))
        assert_graph_error(r, 412, "ErrorIrresolvableConflict")
        r = unchanged(store, lambda: client.delete(path, headers={"If-Match": etag}))
        assert_graph_error(r, 412, "ErrorIrresolvableConflict")


def test_deleting_the_default_calendar_or_first_group_is_refused(client, store, ids):
    for path in (f"me/calendars/{ids['default_calendar']}", f"me/calendarGroups/{ids['first_group']}"):
        r = unchanged(store, lambda: client.delete(path))
        assert_graph_error(r, 400, "ErrorDeleteDistinguishedFolder")
    assert client.get(f"me/calendars/{ids['default_calendar']}").status_code == 200


def test_deleting_a_group_that_still_holds_calendars_is_refused(client, store):
    g = client.post("me/calendarGroups", json={"name": "Full"}).json()
    client.post(f"me/calendarGroups/{g['id']}/calendars", json={"name": "Inside"})
    r = unchanged(store, lambda: client.delete(f"me/calendarGroups/{g['id']}"))
    assert_graph_error(r, 400)


def test_error_headers_carry_the_request_ids(client):
    r = client.get("me/events/abc", headers={"client-request-id": "11111111-2222-4333-8444-555555555555"})
    error = assert_graph_error(r, 400, "ErrorInvalidIdMalformed")
    assert error["innerError"]["client-request-id"] == "11111111-2222-4333-8444-555555555555"
    assert r.headers["request-id"] == error["innerError"]["request-id"]
    assert r.headers["client-request-id"] == "11111111-2222-4333-8444-555555555555"
