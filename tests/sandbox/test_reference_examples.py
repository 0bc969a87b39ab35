"""The reference's request examples, replayed against the sandbox over HTTP.

Source: tests/data/reference/outlook-calendar-rest-v2.0.pt.txt.xz (Outlook REST v2.0 calendar reference) and
003_*.txt (Graph "Get event"). Each v2.0 request is translated to Graph v1.0:
``outlook.office.com/api/v2.0/me/...`` -> ``/v1.0/me/...``, PascalCase
property names -> camelCase, PascalCase enum values -> Graph's camelCase
members. Where the reference's ids are placeholders (``AAMkAGI2TG93AAA=``),
the request goes to a seeded event of the same kind (a weekly series master
for the "Weekly Meeting on Contoso Project" example).

The seeded week (conftest.TODAY) is Monday 2026-03-02 in Pacific time
(UTC-8 until the switch to daylight time on Sunday 2026-03-08, UTC-7 after).
"""

from __future__ import annotations

import datetime as dt
from urllib.parse import parse_qs, urlsplit

import pytest

from .conftest import ADELE, BASE, GRAPH_DT_RE, ID_RE, all_pages, assert_graph_error, event_body, post_event, utc

UTC = dt.UTC
WEEK = {"startDateTime": "2026-03-02T08:00:00Z", "endDateTime": "2026-03-07T08:00:00Z"}  # Mon..Fri, Pacific
MONTH = {"startDateTime": "2026-03-01T00:00:00Z", "endDateTime": "2026-04-01T00:00:00Z"}
PACIFIC = {"Prefer": 'outlook.timezone="Pacific Standard Time"'}
WEEK_SUBJECTS = ["Lunch with Megan", "1:1 Adele / Alex", "Weekly team sync", "Quarterly planning",
                 "Doctor appointment", "Customer call with Fabrikam", "API design review", "Focus time",
                 "Brown bag: intro to Graph"]  # "API design review": Dana's invitation, not answered yet
# adele's seeded events: her own 2 series masters + 9 single instances, and 3 invitations from colleagues
INVITATIONS = {"API design review": "dana@contoso.com", "Campaign retrospective": "megan@contoso.com",
               "Pipeline review with Sales": "pavel@contoso.com"}
SEEDED_MASTERS_AND_SINGLES = 11 + len(INVITATIONS)


def seeded(client, subject: str) -> dict:
    """A seeded event of adele's, found by subject through the API."""
    r = client.get("me/events", params={"$filter": f"subject eq '{subject}'"})
    assert r.status_code == 200, r.text
    (event,) = r.json()["value"]
    return event


def at(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).replace(tzinfo=UTC)


# -- Get a calendar view -------------------------------------------------------------------------


def test_calendar_view_reference_request_select_subject(client):
    # GET .../me/calendarview?startDateTime=2014-10-01T01:00:00&endDateTime=2014-10-31T23:00:00&$select=Subject
    r = client.get("me/calendarview?startDateTime=2014-10-01T01:00:00&endDateTime=2014-10-31T23:00:00&$select=subject")
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["value"] == []
    assert body["@odata.context"].startswith(BASE + "$metadata#")
    assert "Preference-Applied" not in r.headers


def test_calendar_view_select_subject_over_the_seeded_week(client):
    r = client.get("me/calendarview", params={**WEEK, "$select": "subject"})
    assert r.status_code == 200, r.text
    items = r.json()["value"]
    assert [e["subject"] for e in items] == WEEK_SUBJECTS
    for e in items:
        # "The Id property is always returned"; @odata.etag is an annotation, not a property.
        assert set(e) == {"@odata.etag", "id", "subject"}, e
        assert ID_RE.match(e["id"]) and len(e["id"]) > 100


def test_calendar_view_returns_occurrences_exceptions_and_singles_never_the_master(client):
    items = all_pages(client, "me/calendarView", params={**MONTH, "$top": "1000"})
    types = {e["type"] for e in items}
    assert types == {"singleInstance", "occurrence", "exception"}
    assert not [e for e in items if e["type"] == "seriesMaster"]
    sync = [e for e in items if e["subject"] == "Weekly team sync"]
    # Tuesdays of March 2026: the 3rd was moved to 11:00 (exception), the 10th cancelled.
    assert [(e["type"], e["start"]["dateTime"]) for e in sync] == [
        ("exception", "2026-03-03T19:00:00.0000000"),
        ("occurrence", "2026-03-17T17:00:00.0000000"),   # 10:00 PDT: DST began on the 8th
        ("occurrence", "2026-03-24T17:00:00.0000000"),
        ("occurrence", "2026-03-31T17:00:00.0000000"),
    ]
    master = seeded(client, "Weekly team sync")
    assert {e["seriesMasterId"] for e in sync} == {master["id"]}


def test_calendar_view_start_end_in_the_preferred_zone(client):
    r = client.get("me/calendarView", params={**WEEK, "$select": "subject,start,end"}, headers=PACIFIC)
    assert r.status_code == 200
    assert r.headers["Preference-Applied"] == 'outlook.timezone="Pacific Standard Time"'
    by_subject = {e["subject"]: e for e in r.json()["value"]}
    assert by_subject["Quarterly planning"]["start"] == {"dateTime": "2026-03-04T13:00:00.0000000",
                                                         "timeZone": "Pacific Standard Time"}
    assert by_subject["Quarterly planning"]["end"] == {"dateTime": "2026-03-04T14:30:00.0000000",
                                                       "timeZone": "Pacific Standard Time"}
    assert by_subject["Weekly team sync"]["start"]["dateTime"] == "2026-03-03T11:00:00.0000000"


@pytest.mark.parametrize("prefer, expected", [
    ("Eastern Standard Time", "2026-03-04T16:00:00.0000000"),
    ("Europe/Berlin", "2026-03-04T22:00:00.0000000"),
    ("Tokyo Standard Time", "2026-03-05T06:00:00.0000000"),
    ("UTC", "2026-03-04T21:00:00.0000000"),
])
def test_calendar_view_windows_and_iana_zone_names(client, prefer, expected):
    r = client.get("me/calendarView", params={**WEEK, "$filter": "subject eq 'Quarterly planning'"},
                   headers={"Prefer": f'outlook.timezone="{prefer}"'})
    assert r.status_code == 200, r.text
    assert r.headers["Preference-Applied"] == f'outlook.timezone="{prefer}"'
    (event,) = r.json()["value"]
    assert event["start"] == {"dateTime": expected, "timeZone": prefer}


def test_default_zone_is_utc(client):
    r = client.get("me/calendarView", params={**WEEK, "$select": "start,end"})
    assert "Preference-Applied" not in r.headers
    for e in r.json()["value"]:
        assert e["start"]["timeZone"] == e["end"]["timeZone"] == "UTC"
        assert GRAPH_DT_RE.match(e["start"]["dateTime"]) and GRAPH_DT_RE.match(e["end"]["dateTime"])


@pytest.mark.parametrize("prefer", ["UTC", "Pacific Standard Time", "Tokyo Standard Time", "Pacific/Kiritimati",
                                    "America/Adak"])
def test_all_day_events_keep_their_dates_in_any_zone(client, prefer):
    window = {"startDateTime": "2026-03-10T00:00:00Z", "endDateTime": "2026-03-25T00:00:00Z"}
    r = client.get("me/calendarView", params={**window, "$filter": "isAllDay eq true", "$select": "subject,start,end"},
                   headers={"Prefer": f'outlook.timezone="{prefer}"'})
    assert r.status_code == 200, r.text
    got = {e["subject"]: (e["start"], e["end"]) for e in r.json()["value"]}
    assert got == {
        "Team offsite": ({"dateTime": "2026-03-13T00:00:00.0000000", "timeZone": prefer},
                         {"dateTime": "2026-03-14T00:00:00.0000000", "timeZone": prefer}),
        "Ignite conference": ({"dateTime": "2026-03-18T00:00:00.0000000", "timeZone": prefer},
                              {"dateTime": "2026-03-21T00:00:00.0000000", "timeZone": prefer}),
    }


def test_calendar_view_of_a_named_calendar(client):
    default = client.get("me/calendar").json()
    a = client.get(f"me/calendars/{default['id']}/calendarView", params={**WEEK, "$select": "subject"}).json()
    b = client.get("me/calendar/calendarView", params={**WEEK, "$select": "subject"}).json()
    assert [e["subject"] for e in a["value"]] == [e["subject"] for e in b["value"]] == WEEK_SUBJECTS
    birthdays = next(c for c in client.get("me/calendars").json()["value"] if c["name"] == "Birthdays")
    empty = client.get(f"me/calendars/{birthdays['id']}/calendarView", params=WEEK).json()
    assert empty["value"] == []


# -- Get series master and single events --------------------------------------------------------


def test_list_events_reference_request(client):
    # GET .../me/events?$select=Subject,Organizer,Start,End
    r = client.get("me/events?$select=subject,organizer,start,end")
    assert r.status_code == 200, r.text
    body = r.json()
    page = body["value"]
    assert len(page) == 10  # Graph's default page size for events
    for e in page:
        assert set(e) == {"@odata.etag", "id", "subject", "organizer", "start", "end"}, e
        organizer = INVITATIONS.get(e["subject"], ADELE)
        assert e["organizer"]["emailAddress"]["address"] == organizer, e
        if organizer == ADELE:
            assert e["organizer"] == {"emailAddress": {"name": "Adele Vance", "address": ADELE}}
        assert e["start"]["timeZone"] == "UTC"
    link = body["@odata.nextLink"]
    assert link.startswith(BASE + "me/events?"), link
    query = parse_qs(urlsplit(link).query)
    assert query["$select"] == ["subject,organizer,start,end"]
    rest = client.get(link)
    assert rest.status_code == 200
    assert len(rest.json()["value"]) == SEEDED_MASTERS_AND_SINGLES - 10
    assert "@odata.nextLink" not in rest.json()


def test_list_events_has_masters_and_singles_never_occurrences(client):
    events = all_pages(client, "me/events", params={"$select": "type,subject"})
    assert len(events) == SEEDED_MASTERS_AND_SINGLES
    assert {e["type"] for e in events} == {"seriesMaster", "singleInstance"}
    assert sorted(e["subject"] for e in events if e["type"] == "seriesMaster") == ["1:1 Adele / Alex",
                                                                                    "Weekly team sync"]


def test_list_events_of_a_named_calendar(client):
    default = client.get("me/calendar").json()
    a = all_pages(client, f"me/calendars/{default['id']}/events", params={"$select": "subject"})
    b = all_pages(client, "me/calendar/events", params={"$select": "subject"})
    assert sorted(e["id"] for e in a) == sorted(e["id"] for e in b)
    assert len(a) == SEEDED_MASTERS_AND_SINGLES


# -- Get event instances ------------------------------------------------------------------------


def test_instances_reference_request(client):
    # GET .../me/events/{id}/instances?startDateTime=...Z&endDateTime=...Z&$select=Subject,Start,End
    master = seeded(client, "Weekly team sync")
    r = client.get(f"me/events/{master['id']}/instances"
                   "?startDateTime=2026-02-01T01:00:00Z&endDateTime=2026-03-31T23:00:00Z&$select=subject,start,end")
    assert r.status_code == 200, r.text
    items = r.json()["value"]
    assert all(set(e) == {"@odata.etag", "id", "subject", "start", "end"} for e in items)
    starts = [e["start"]["dateTime"] for e in items]
    # Default page of 10 would hold all of them: 8 Tuesdays (Feb 3 .. Mar 31, Mar 10 cancelled).
    assert starts == [
        "2026-02-03T18:00:00.0000000", "2026-02-10T18:00:00.0000000", "2026-02-17T18:00:00.0000000",
        "2026-02-24T18:00:00.0000000", "2026-03-03T19:00:00.0000000",  # moved to 11:00 PST
        "2026-03-17T17:00:00.0000000", "2026-03-24T17:00:00.0000000", "2026-03-31T17:00:00.0000000",
    ]


def test_instances_in_the_preferred_zone_keep_their_wall_time_across_dst(client):
    master = seeded(client, "Weekly team sync")
    r = client.get(f"me/events/{master['id']}/instances", headers=PACIFIC,
                   params={"startDateTime": "2026-02-24T00:00:00Z", "endDateTime": "2026-03-25T00:00:00Z"})
    assert r.headers["Preference-Applied"] == 'outlook.timezone="Pacific Standard Time"'
    got = [(e["type"], e["start"]["dateTime"], e["end"]["dateTime"]) for e in r.json()["value"]]
    assert got == [
        ("occurrence", "2026-02-24T10:00:00.0000000", "2026-02-24T10:30:00.0000000"),
        ("exception", "2026-03-03T11:00:00.0000000", "2026-03-03T11:30:00.0000000"),
        ("occurrence", "2026-03-17T10:00:00.0000000", "2026-03-17T10:30:00.0000000"),
        ("occurrence", "2026-03-24T10:00:00.0000000", "2026-03-24T10:30:00.0000000"),
    ]


# -- Get an event ------------------------------------------------------------------------------


def test_get_event_reference_request(client):
    # GET .../me/events/AAMkAGI2TG93AAA=  (the example is a weekly series master)
    master = seeded(client, "Weekly team sync")
    r = client.get(f"me/events/{master['id']}")
    assert r.status_code == 200, r.text
    e = r.json()
    assert e["@odata.context"].startswith(BASE + "$metadata#")
    assert e["@odata.etag"] == f'W/"{e["changeKey"]}"'
    assert e["id"] == master["id"]
    assert e["type"] == "seriesMaster" and e["seriesMasterId"] is None
    assert e["isOrganizer"] is True and e["responseRequested"] is True and e["isCancelled"] is False
    assert e["organizer"] == {"emailAddress": {"name": "Adele Vance", "address": ADELE}}
    assert e["originalStartTimeZone"] == e["originalEndTimeZone"] == "Pacific Standard Time"
    assert e["start"] == {"dateTime": "2026-02-03T18:00:00.0000000", "timeZone": "UTC"}
    assert e["recurrence"] == {
        "pattern": {"type": "weekly", "interval": 1, "month": 0, "dayOfMonth": 0, "daysOfWeek": ["tuesday"],
                    "firstDayOfWeek": "sunday", "index": "first"},
        "range": {"type": "noEnd", "startDate": "2026-02-03", "endDate": "0001-01-01",
                  "recurrenceTimeZone": "Pacific Standard Time", "numberOfOccurrences": 0},
    }
    for a in e["attendees"]:
        assert a["status"] == {"response": "none", "time": "0001-01-01T00:00:00Z"} and a["type"] == "required"
    assert e["body"]["contentType"] == "html"  # Graph's default
    assert e["bodyPreview"] == "Agenda: wins, blockers, next steps."


def test_get_event_reference_request_with_select(client):
    # GET .../me/events/AAMkAGI2TG93AAA=?$select=Subject,Organizer,Start,End
    master = seeded(client, "Weekly team sync")
    r = client.get(f"me/events/{master['id']}?$select=subject,organizer,start,end")
    assert r.status_code == 200
    assert set(r.json()) == {"@odata.context", "@odata.etag", "id", "subject", "organizer", "start", "end"}


def test_get_event_graph_example_with_prefer_timezone(client):
    # 003: GET /me/events/{id}?$select=subject,body,bodyPreview,organizer,attendees,start,end,location,hideAttendees
    #      Prefer: outlook.timezone="Pacific Standard Time"
    e = seeded(client, "Quarterly planning")
    r = client.get(f"me/events/{e['id']}", headers=PACIFIC, params={
        "$select": "subject,body,bodyPreview,organizer,attendees,start,end,location,hideAttendees"})
    assert r.status_code == 200
    assert r.headers["Preference-Applied"] == 'outlook.timezone="Pacific Standard Time"'
    body = r.json()
    assert body["start"] == {"dateTime": "2026-03-04T13:00:00.0000000", "timeZone": "Pacific Standard Time"}
    assert body["end"] == {"dateTime": "2026-03-04T14:30:00.0000000", "timeZone": "Pacific Standard Time"}
    assert body["body"] == {"contentType": "html",
                            "content": "<p>Bring your Q1 numbers. Draft deck in the team site.</p>"}
    assert body["location"]["displayName"] == "Conf Room Baker"
    assert body["hideAttendees"] is False
    assert {a["emailAddress"]["address"] for a in body["attendees"]} == {
        "dana@contoso.com", "fanny@contoso.com", "baker@contoso.com"}
    assert {a["type"] for a in body["attendees"] if a["emailAddress"]["address"] == "baker@contoso.com"} == {"resource"}


def test_get_event_graph_example_with_body_content_type_text(client):
    # 003: Prefer: outlook.body-content-type="text" -> Preference-Applied echoes it, body comes as text.
    e = seeded(client, "Quarterly planning")
    r = client.get(f"me/events/{e['id']}?$select=subject,body,bodyPreview",
                   headers={"Prefer": 'outlook.body-content-type="text"'})
    assert r.status_code == 200
    assert r.headers["Preference-Applied"] == 'outlook.body-content-type="text"'
    assert r.json()["body"] == {"contentType": "text", "content": "Bring your Q1 numbers. Draft deck in the team site."}
    assert r.json()["bodyPreview"] == "Bring your Q1 numbers. Draft deck in the team site."


def test_body_content_type_html_wraps_a_text_body(client):
    e = seeded(client, "Weekly team sync")
    r = client.get(f"me/events/{e['id']}?$select=body", headers={"Prefer": 'outlook.body-content-type="html"'})
    assert r.headers["Preference-Applied"] == 'outlook.body-content-type="html"'
    body = r.json()["body"]
    assert body["contentType"] == "html"
    assert "Agenda: wins, blockers, next steps." in body["content"] and body["content"].lstrip().startswith("<")
    text = client.get(f"me/events/{e['id']}?$select=body", headers={"Prefer": 'outlook.body-content-type="text"'})
    assert text.json()["body"] == {"contentType": "text", "content": "Agenda: wins, blockers, next steps."}


def test_both_prefer_headers_are_echoed(client):
    e = seeded(client, "Quarterly planning")
    r = client.get(f"me/events/{e['id']}", headers=[("Prefer", 'outlook.timezone="Eastern Standard Time"'),
                                                    ("Prefer", 'outlook.body-content-type="text"')])
    applied = {p.strip() for p in r.headers["Preference-Applied"].split(",")}
    assert applied == {'outlook.timezone="Eastern Standard Time"', 'outlook.body-content-type="text"'}
    assert r.json()["start"]["timeZone"] == "Eastern Standard Time"
    assert r.json()["body"]["contentType"] == "text"


def test_get_event_with_odata_key_syntax(client):
    # The reference writes events('AAMk...=') as well as events/AAMk...=
    e = seeded(client, "Lunch with Megan")
    r = client.get(f"me/events('{e['id']}')")
    assert r.status_code == 200, r.text
    assert r.json()["id"] == e["id"]
    master = seeded(client, "Weekly team sync")
    inst = client.get(f"me/events('{master['id']}')/instances", params=WEEK)
    assert inst.status_code == 200 and len(inst.json()["value"]) == 1
    patched = client.patch(f"me/events('{e['id']}')", json={"subject": "Lunch with Megan (moved)"})
    assert patched.status_code == 200 and patched.json()["subject"] == "Lunch with Megan (moved)"
    assert client.delete(f"me/events('{e['id']}')").status_code == 204
    assert_graph_error(client.get(f"me/events/{e['id']}"), 404, "ErrorItemNotFound")


def test_get_event_through_every_documented_path(client):
    e = seeded(client, "Focus time")
    default = client.get("me/calendar").json()
    group = client.get("me/calendarGroups").json()["value"][0]
    me = client.get("me").json()
    for path in (f"me/events/{e['id']}", f"me/calendar/events/{e['id']}",
                 f"me/calendars/{default['id']}/events/{e['id']}",
                 f"me/calendarGroups/{group['id']}/calendars/{default['id']}/events/{e['id']}",
                 f"users/{me['id']}/events/{e['id']}", f"users/{ADELE}/events/{e['id']}",
                 f"users/{ADELE}/calendar/events/{e['id']}"):
        r = client.get(path)
        assert r.status_code == 200, (path, r.text)
        assert r.json()["id"] == e["id"]


# -- Create, update, delete ------------------------------------------------------------------

# POST .../me/events, the v2.0 example body in Graph v1.0 form.
REFERENCE_CREATE = {
    "subject": "Discuss the Calendar REST API",
    "body": {"contentType": "html", "content": "I think it will meet our requirements!"},
    "start": {"dateTime": "2014-02-02T18:00:00", "timeZone": "Pacific Standard Time"},
    "end": {"dateTime": "2014-02-02T19:00:00", "timeZone": "Pacific Standard Time"},
    "attendees": [{"emailAddress": {"address": "janets@a830edad9050849NDA1.onmicrosoft.com", "name": "Janet Schorr"},
                   "type": "required"}],
}


def test_create_event_reference_request(client):
    r = client.post("me/events", json=REFERENCE_CREATE, headers=PACIFIC)
    assert r.status_code == 201, r.text
    e = r.json()
    assert r.headers["Location"] == f"{BASE}me/events('{e['id']}')"
    assert r.headers["Preference-Applied"] == 'outlook.timezone="Pacific Standard Time"'
    assert ID_RE.match(e["id"]) and len(e["id"]) > 100
    assert e["@odata.etag"] == f'W/"{e["changeKey"]}"'
    assert e["subject"] == "Discuss the Calendar REST API"
    assert e["bodyPreview"] == "I think it will meet our requirements!"
    assert e["body"]["contentType"] == "html" and "I think it will meet our requirements!" in e["body"]["content"]
    assert e["start"] == {"dateTime": "2014-02-02T18:00:00.0000000", "timeZone": "Pacific Standard Time"}
    assert e["end"] == {"dateTime": "2014-02-02T19:00:00.0000000", "timeZone": "Pacific Standard Time"}
    assert e["originalStartTimeZone"] == e["originalEndTimeZone"] == "Pacific Standard Time"
    assert e["attendees"] == [{"type": "required", "status": {"response": "none", "time": "0001-01-01T00:00:00Z"},
                               "emailAddress": {"name": "Janet Schorr",
                                                "address": "janets@a830edad9050849NDA1.onmicrosoft.com"}}]
    assert e["organizer"] == {"emailAddress": {"name": "Adele Vance", "address": ADELE}}
    assert (e["importance"], e["showAs"], e["type"]) == ("normal", "busy", "singleInstance")
    assert (e["isAllDay"], e["isCancelled"], e["isOrganizer"], e["responseRequested"]) == (False, False, True, True)
    assert e["seriesMasterId"] is None and e["recurrence"] is None and e["categories"] == []
    assert e["hasAttachments"] is False and e["location"]["displayName"] == ""
    # It is there to read, and GET without Prefer answers in UTC.
    got = client.get(r.headers["Location"])
    assert got.status_code == 200
    assert got.json()["start"] == {"dateTime": "2014-02-03T02:00:00.0000000", "timeZone": "UTC"}


def test_create_event_without_prefer_answers_the_same_instant(client):
    e = post_event(client, REFERENCE_CREATE)
    assert utc(e["start"]) == dt.datetime(2014, 2, 3, 2, 0, tzinfo=UTC)
    assert utc(e["end"]) == dt.datetime(2014, 2, 3, 3, 0, tzinfo=UTC)


def test_create_event_accepts_enum_values_in_any_case(client):
    body = {**REFERENCE_CREATE, "body": {"contentType": "HTML", "content": "I think it will meet our requirements!"},
            "attendees": [{**REFERENCE_CREATE["attendees"][0], "type": "Required"}], "showAs": "Busy"}
    e = post_event(client, body)
    assert e["body"]["contentType"] == "html"
    assert e["attendees"][0]["type"] == "required" and e["showAs"] == "busy"


def test_create_and_update_honour_select(client):
    # POST .../me/events?$Select=Start,End ; PATCH .../me/events/{id}?$select=Location
    r = client.post("me/events?$select=start,end", json=REFERENCE_CREATE)
    assert r.status_code == 201
    assert set(r.json()) - {"@odata.context", "@odata.etag"} == {"id", "start", "end"}
    p = client.patch(f"me/events/{r.json()['id']}?$select=location", json={"location": {"displayName": "Your office"}})
    assert p.status_code == 200
    assert set(p.json()) - {"@odata.context", "@odata.etag"} == {"id", "location"}


def test_update_event_reference_request(client):
    # PATCH .../me/events/AAMkAGE0M4v1OAAA=  {"Location": {"DisplayName": "Your office", "Address": null}}
    created = post_event(client, REFERENCE_CREATE)
    r = client.patch(f"me/events/{created['id']}", json={"location": {"displayName": "Your office", "address": None}})
    assert r.status_code == 200, r.text
    e = r.json()
    assert e["id"] == created["id"]
    assert e["location"]["displayName"] == "Your office"
    assert e["subject"] == created["subject"] and e["attendees"] == created["attendees"]
    assert e["changeKey"] != created["changeKey"] and e["@odata.etag"] == f'W/"{e["changeKey"]}"'
    assert e["createdDateTime"] == created["createdDateTime"]
    assert e["lastModifiedDateTime"] >= created["lastModifiedDateTime"]
    again = client.get(f"me/events/{created['id']}").json()
    assert again["location"]["displayName"] == "Your office" and again["changeKey"] == e["changeKey"]


def test_delete_event_reference_request(client):
    # DELETE .../me/events/AAMkAGE0M4v1OAAA=  -> 204
    created = post_event(client, REFERENCE_CREATE)
    r = client.delete(f"me/events/{created['id']}")
    assert r.status_code == 204 and r.content == b""
    assert_graph_error(client.get(f"me/events/{created['id']}"), 404, "ErrorItemNotFound")
    assert_graph_error(client.delete(f"me/events/{created['id']}"), 404, "ErrorItemNotFound")


def test_create_event_in_a_named_calendar(client):
    cal = client.post("me/calendars", json={"name": "Side project"}).json()
    e = post_event(client, event_body("In the side calendar"), path=f"me/calendars/{cal['id']}/events")
    in_cal = client.get(f"me/calendars/{cal['id']}/events").json()["value"]
    assert [x["id"] for x in in_cal] == [e["id"]]
    assert e["id"] not in {x["id"] for x in all_pages(client, "me/events")}


# -- Calendars -------------------------------------------------------------------------------


def check_calendar(c: dict, name: str, default: bool) -> None:
    assert ID_RE.match(c["id"]) and len(c["id"]) > 100
    assert c["name"] == name
    assert c["@odata.etag"] == f'W/"{c["changeKey"]}"'
    assert c["isDefaultCalendar"] is default
    assert c["canShare"] is True and c["canViewPrivateItems"] is True and c["canEdit"] is True
    assert c["owner"] == {"name": "Adele Vance", "address": ADELE}
    assert c["color"] in {"auto", "lightGreen", "lightBlue"}


def test_list_calendars_reference_request(client):
    r = client.get("me/calendars")
    assert r.status_code == 200
    cals = r.json()["value"]
    assert [c["name"] for c in cals] == ["Calendar", "Birthdays"]
    check_calendar(cals[0], "Calendar", True)
    check_calendar(cals[1], "Birthdays", False)


def test_get_calendar_reference_request(client):
    default = client.get("me/calendar")
    assert default.status_code == 200
    r = client.get(f"me/calendars/{default.json()['id']}")
    assert r.status_code == 200
    assert r.json() == default.json() | {"@odata.context": r.json()["@odata.context"]}
    check_calendar(r.json(), "Calendar", True)


def test_create_update_delete_calendar_reference_requests(client):
    # POST .../me/calendars {"Name": "Social"} -> 201
    r = client.post("me/calendars", json={"name": "Social"})
    assert r.status_code == 201, r.text
    cal = r.json()
    check_calendar(cal, "Social", False)
    # PATCH .../me/calendars/{id} {"Name": "Social events"} -> 200
    p = client.patch(f"me/calendars/{cal['id']}", json={"name": "Social events"})
    assert p.status_code == 200, p.text
    assert p.json()["name"] == "Social events" and p.json()["id"] == cal["id"]
    assert p.json()["changeKey"] != cal["changeKey"]
    assert [c["name"] for c in client.get("me/calendars").json()["value"]] == ["Calendar", "Birthdays",
                                                                               "Social events"]
    # DELETE .../me/calendars/{id} -> 204
    d = client.delete(f"me/calendars/{cal['id']}")
    assert d.status_code == 204 and d.content == b""
    assert_graph_error(client.get(f"me/calendars/{cal['id']}"), 404, "ErrorItemNotFound")


def test_created_calendars_and_groups_have_a_location(client):
    cal = client.post("me/calendars", json={"name": "Social"})
    group = client.post("me/calendarGroups", json={"name": "Birthdays"})
    assert cal.headers.get("Location", "").endswith(f"calendars('{cal.json()['id']}')")
    assert group.headers.get("Location", "").endswith(f"calendarGroups('{group.json()['id']}')")


def test_deleting_a_calendar_deletes_its_events(client):
    cal = client.post("me/calendars", json={"name": "Temporary"}).json()
    e = post_event(client, event_body(), path=f"me/calendars/{cal['id']}/events")
    assert client.delete(f"me/calendars/{cal['id']}").status_code == 204
    assert_graph_error(client.get(f"me/events/{e['id']}"), 404, "ErrorItemNotFound")


# -- Calendar groups ---------------------------------------------------------------------------


def test_list_and_get_calendar_groups_reference_requests(client):
    r = client.get("me/calendargroups")
    assert r.status_code == 200
    groups = r.json()["value"]
    assert [(g["name"], g["classId"]) for g in groups][:1] == [("My Calendars",
                                                               "0006f0b7-0000-0000-c000-000000000046")]
    assert [g["name"] for g in groups] == ["My Calendars", "Other Calendars"]
    for g in groups:
        assert set(g) == {"@odata.etag", "id", "name", "classId", "changeKey"}
        assert g["@odata.etag"] == f'W/"{g["changeKey"]}"'
        one = client.get(f"me/calendargroups/{g['id']}")
        assert one.status_code == 200
        assert {k: v for k, v in one.json().items() if k != "@odata.context"} == g
    cals = client.get(f"me/calendarGroups/{groups[0]['id']}/calendars").json()["value"]
    assert [c["name"] for c in cals] == ["Calendar", "Birthdays"]
    assert client.get(f"me/calendarGroups/{groups[1]['id']}/calendars").json()["value"] == []


def test_create_update_delete_calendar_group_reference_requests(client):
    # POST .../me/calendargroups {"Name": "Birthdays"} -> 201
    r = client.post("me/calendargroups", json={"name": "Birthdays"})
    assert r.status_code == 201, r.text
    g = r.json()
    assert g["name"] == "Birthdays"
    assert len(g["classId"]) == 36 and g["classId"].count("-") == 4
    # PATCH .../me/calendargroups/{id} {"Name": "Holidays"} -> 200
    p = client.patch(f"me/calendargroups/{g['id']}", json={"name": "Holidays"})
    assert p.status_code == 200, p.text
    assert (p.json()["name"], p.json()["classId"], p.json()["id"]) == ("Holidays", g["classId"], g["id"])
    assert p.json()["changeKey"] != g["changeKey"]
    # DELETE .../me/calendargroups/{id} -> 204
    assert client.delete(f"me/calendargroups/{g['id']}").status_code == 204
    assert_graph_error(client.get(f"me/calendargroups/{g['id']}"), 404, "ErrorItemNotFound")


def test_create_calendar_inside_a_group(client):
    # POST .../me/calendargroups/{calendar_group_id}/calendars
    g = client.post("me/calendarGroups", json={"name": "Projects"}).json()
    r = client.post(f"me/calendarGroups/{g['id']}/calendars", json={"name": "Apollo"})
    assert r.status_code == 201, r.text
    cal = r.json()
    check_calendar(cal, "Apollo", False)
    in_group = client.get(f"me/calendarGroups/{g['id']}/calendars").json()["value"]
    assert [c["id"] for c in in_group] == [cal["id"]]
    assert cal["id"] in {c["id"] for c in client.get("me/calendars").json()["value"]}
    got = client.get(f"me/calendarGroups/{g['id']}/calendars/{cal['id']}")
    assert got.status_code == 200 and got.json()["name"] == "Apollo"
    e = post_event(client, event_body("Apollo kickoff"), path=f"me/calendarGroups/{g['id']}/calendars/{cal['id']}/events")
    assert [x["id"] for x in client.get(f"me/calendars/{cal['id']}/events").json()["value"]] == [e["id"]]


# -- Directory -------------------------------------------------------------------------------


def test_mailbox_settings(client):
    r = client.get("me/mailboxSettings")
    assert r.status_code == 200
    s = r.json()
    assert s["timeZone"] == "Pacific Standard Time"
    assert s["workingHours"] == {
        "daysOfWeek": ["monday", "tuesday", "wednesday", "thursday", "friday"],
        "startTime": "08:00:00.0000000", "endTime": "17:00:00.0000000",
        "timeZone": {"name": "Pacific Standard Time"},
    }


def test_mailbox_settings_of_other_people_with_their_own_token_or_app_only(make_client):
    dana = make_client("sandbox:dana@contoso.com").get("me/mailboxSettings").json()
    assert dana["timeZone"] == "Eastern Standard Time"
    assert dana["workingHours"]["startTime"] == "08:00:00.0000000"
    assert dana["workingHours"]["endTime"] == "16:30:00.0000000"
    app = make_client("sandbox-app")
    kenji = app.get("users/kenji@contoso.com/mailboxSettings").json()
    assert kenji["timeZone"] == "Tokyo Standard Time"


def test_users_filter_startswith(client):
    r = client.get("users?$filter=startswith(displayName,'Da')")
    assert r.status_code == 200, r.text
    users = r.json()["value"]
    assert [(u["displayName"], u["mail"], u["userPrincipalName"]) for u in users] == [
        ("Dana Swope", "dana@contoso.com", "dana@contoso.com")]
    assert users[0]["jobTitle"] == "Senior Engineer"
    assert len(users[0]["id"]) == 36


def test_users_search_needs_consistency_level(client):
    r = client.get('users?$search="Dana"', headers={"ConsistencyLevel": "eventual"})
    assert r.status_code == 200, r.text
    assert [u["displayName"] for u in r.json()["value"]] == ["Dana Swope"]
    assert_graph_error(client.get('users?$search="Dana"'), 400, contains="ConsistencyLevel")


def test_users_search_property_scoped(client):
    r = client.get('users?$search="displayName:Da"', headers={"ConsistencyLevel": "eventual"})
    assert r.status_code == 200
    assert [u["displayName"] for u in r.json()["value"]] == ["Dana Swope"]


def test_me_and_users(client):
    me = client.get("me")
    assert me.status_code == 200
    assert {k: me.json()[k] for k in ("displayName", "mail", "userPrincipalName", "jobTitle")} == {
        "displayName": "Adele Vance", "mail": ADELE, "userPrincipalName": ADELE, "jobTitle": "Product Manager"}
    by_id = client.get(f"users/{me.json()['id']}").json()
    by_upn = client.get("users/ADELE@contoso.com").json()
    assert by_id["id"] == by_upn["id"] == me.json()["id"]


# -- OData -----------------------------------------------------------------------------------


def test_calendar_view_default_page_is_ten_with_an_absolute_next_link(client):
    r = client.get("me/calendarView", params=MONTH)
    body = r.json()
    assert len(body["value"]) == 10
    link = body["@odata.nextLink"]
    assert link.startswith(BASE + "me/calendarView?")
    query = parse_qs(urlsplit(link).query)
    assert query["startDateTime"] == [MONTH["startDateTime"]] and query["endDateTime"] == [MONTH["endDateTime"]]
    everything = all_pages(client, "me/calendarView", params=MONTH)
    assert len(everything) > 10
    assert len({e["id"] for e in everything}) == len(everything)
    assert everything == all_pages(client, "me/calendarView", params={**MONTH, "$top": "1000"})


def test_odata_maxpagesize(client):
    r = client.get("me/calendarView", params=WEEK, headers={"Prefer": "odata.maxpagesize=3"})
    assert r.headers["Preference-Applied"] == "odata.maxpagesize=3"
    assert len(r.json()["value"]) == 3
    items = all_pages(client, "me/calendarView", params=WEEK, headers={"Prefer": "odata.maxpagesize=3"})
    assert [e["subject"] for e in items] == WEEK_SUBJECTS


def test_top_up_to_1000(client):
    r = client.get("me/calendarView", params={**MONTH, "$top": "1000"})
    assert r.status_code == 200
    assert "@odata.nextLink" not in r.json()
    small = client.get("me/calendarView", params={**MONTH, "$top": "2"}).json()
    assert len(small["value"]) == 2 and "@odata.nextLink" in small
    assert_graph_error(client.get("me/calendarView", params={**MONTH, "$top": "1001"}), 400, contains="$top")
    assert_graph_error(client.get("me/events", params={"$top": "1001"}), 400, contains="$top")


def test_count(client):
    r = client.get("me/calendarView", params={**MONTH, "$count": "true", "$top": "3"})
    body = r.json()
    total = len(all_pages(client, "me/calendarView", params=MONTH))
    assert body["@odata.count"] == total and len(body["value"]) == 3
    events = client.get("me/events", params={"$count": "true"}).json()
    assert events["@odata.count"] == SEEDED_MASTERS_AND_SINGLES


def test_orderby(client):
    asc = all_pages(client, "me/events", params={"$orderby": "subject", "$select": "subject"})
    assert [e["subject"] for e in asc] == sorted((e["subject"] for e in asc), key=str.casefold)
    desc = all_pages(client, "me/calendarView", params={**WEEK, "$orderby": "start/dateTime desc"})
    starts = [utc(e["start"]) for e in desc]
    assert starts == sorted(starts, reverse=True) and len(desc) == len(WEEK_SUBJECTS)


def test_filter_comparisons_on_start_and_end(client):
    r = client.get("me/calendarView", params={**WEEK, "$filter": "start/dateTime ge '2026-03-05T00:00:00'",
                                              "$select": "subject"})
    assert [e["subject"] for e in r.json()["value"]] == WEEK_SUBJECTS[4:]
    r = client.get("me/calendarView", params={**WEEK, "$filter": "end/dateTime le '2026-03-03T00:00:00'",
                                              "$select": "subject"})
    assert [e["subject"] for e in r.json()["value"]] == ["Lunch with Megan", "1:1 Adele / Alex"]
    r = client.get("me/events", params={"$filter": "start/dateTime gt '2026-03-04T00:00:00Z' and "
                                                   "start/dateTime lt '2026-03-06T00:00:00Z'", "$select": "subject"})
    assert sorted(e["subject"] for e in r.json()["value"]) == ["API design review", "Customer call with Fabrikam",
                                                                "Doctor appointment", "Quarterly planning"]


def test_filter_compares_instants_whatever_the_preferred_zone(client):
    params = {**WEEK, "$filter": "start/dateTime ge '2026-03-05T00:00:00'", "$select": "subject"}
    in_tokyo = client.get("me/calendarView", params=params, headers={"Prefer": 'outlook.timezone="Asia/Tokyo"'})
    assert [e["subject"] for e in in_tokyo.json()["value"]] == WEEK_SUBJECTS[4:]


def test_filter_categories_any_and_startswith(client):
    r = client.get("me/calendarView", params={**MONTH, "$filter": "categories/any(c:c eq 'Team')",
                                              "$select": "subject,categories", "$top": "100"})
    items = r.json()["value"]
    assert len(items) == 4 and {e["subject"] for e in items} == {"Weekly team sync"}
    r = client.get("me/events", params={"$filter": "startswith(subject,'Weekly')", "$select": "subject"})
    assert [e["subject"] for e in r.json()["value"]] == ["Weekly team sync"]
    r = client.get("me/events", params={"$filter": "categories/any(c:c eq 'Focus') or contains(subject,'bag')",
                                        "$select": "subject"})
    assert sorted(e["subject"] for e in r.json()["value"]) == ["Brown bag: intro to Graph", "Focus time"]
    r = client.get("me/events", params={"$filter": "not startswith(subject,'W') and isAllDay eq false and "
                                                   "showAs ne 'busy'", "$select": "subject"})
    # (invitations show as tentative until answered, and stay tentative when answered so)
    assert sorted(e["subject"] for e in r.json()["value"]) == ["API design review", "Brown bag: intro to Graph",
                                                                "Campaign retrospective", "Doctor appointment",
                                                                "Pipeline review with Sales"]


def test_skip(client):
    everything = all_pages(client, "me/calendarView", params={**WEEK, "$select": "subject"})
    r = client.get("me/calendarView", params={**WEEK, "$select": "subject", "$skip": "5"})
    assert [e["subject"] for e in r.json()["value"]] == [e["subject"] for e in everything[5:]]


def test_client_request_id_is_echoed(client):
    r = client.get("me", headers={"client-request-id": "5f0e7c1a-0000-4000-8000-000000000001"})
    assert r.headers["client-request-id"] == "5f0e7c1a-0000-4000-8000-000000000001"
