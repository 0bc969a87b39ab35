"""findMeetingTimes: the reference's five examples, then each rule of OPERATIONS.md, then bad inputs.

The five examples are read from the reference itself (tests/data/reference/outlook-calendar-rest-v2.0.pt.txt.xz, "Localizar
horários de reunião": Outlook REST v2.0, PascalCase) and translated to Graph v1.0 (camelCase
names and enum members). Each runs against an organization arranged to match its premises:
Proseware's mailboxes (Pacific time, 08:00-17:00), the calendars the example implies, and the
sandbox's clock set to the day before (Thursday 2016-05-19). The requests are sent as the
reference writes them (booleans and numbers as strings, "Timeslots", a one-digit hour), which
Graph accepts; their typed form is checked against Graph's contract.
"""

from __future__ import annotations

import datetime as dt
import json
import lzma
import re
from pathlib import Path
from typing import Any

import pytest

from tests.contract.csdl import load_model

from .conftest import PACIFIC, Org, create, graph_error, person, unchanged, when

REFERENCE = Path(__file__).resolve().parents[1] / "data" / "reference" / "outlook-calendar-rest-v2.0.pt.txt.xz"
DOMAIN = "prosewareltd.onmicrosoft.com"
ME, FANNY, DANA = f"adelev@{DOMAIN}", f"fannyd@{DOMAIN}", f"danas@{DOMAIN}"
ENUM_KEYS = {"Type", "ActivityDomain", "Availability", "OrganizerAvailability", "EmptySuggestionsReason"}


@pytest.fixture(scope="module")
def model():
    return load_model()


# -- the reference's examples ---------------------------------------------------------------------------------

def _json_at(text: str, start: int) -> tuple[Any, int]:
    i = text.index("{", start)
    depth = 0
    for j in range(i, len(text)):
        depth += {"{": 1, "}": -1}.get(text[j], 0)
        if depth == 0:
            return json.loads(text[i:j + 1]), j + 1
    raise ValueError("unbalanced JSON in the reference")


def reference_examples() -> list[tuple[dict, dict]]:
    """(request, response) of each findMeetingTimes example of the v2.0 reference, in its order."""
    text = lzma.decompress(REFERENCE.read_bytes()).decode("utf-8")  # vendored: tests/data/reference/README.md
    section = text[text.index("Localizar horários de reunião\nEscopo"):]
    section = section[:section.index("Obter salas de reunião")]
    out = []
    for m in re.finditer(r"POST https://outlook\.office\.com/api/v2\.0/me/findmeetingtimes\n((?:[\w-]+: .*\n)*)",
                         section):
        assert 'Prefer: outlook.timezone="Pacific Standard Time"' in m.group(1)
        request, after = _json_at(section, m.end())
        response, _ = _json_at(section, section.index("Código de status: 200", after))
        out.append((request, response))
    assert len(out) == 5, "the reference has five findMeetingTimes examples"
    return out


def camel(value: Any, key: str = "") -> Any:
    """v2.0 PascalCase -> Graph v1.0 camelCase names, and enum members ('Required' -> 'required')."""
    if isinstance(value, dict):
        return {k[:1].lower() + k[1:]: camel(v, k) for k, v in value.items()}
    if isinstance(value, list):
        return [camel(v, key) for v in value]
    if key in ENUM_KEYS and isinstance(value, str):
        return value[:1].lower() + value[1:]
    return value


def typed(value: Any, key: str = "") -> Any:
    """The request as Graph's model types it: 'true' -> true, '60' -> 60.0, 'timeslots' -> 'timeSlots'."""
    if isinstance(value, dict):
        return {("timeSlots" if k == "timeslots" else k): typed(v, k) for k, v in value.items()}
    if isinstance(value, list):
        return [typed(v) for v in value]
    if isinstance(value, str) and value in ("true", "false"):
        return value == "true"
    if key == "minimumAttendeePercentage":
        return float(value)
    if key == "dateTime":
        return re.sub(r"T(\d):", r"T0\1:", value)
    return value


def proseware(build_org, busy: dict[str, list[tuple[str, str, str, str]]], clock) -> Org:
    """Proseware: the signed-in organizer, Fanny, Dana and two rooms; ``busy``: address -> (start, end, showAs)."""
    clock.set(dt.datetime(2016, 5, 19, 12, 0, tzinfo=dt.UTC))
    org = build_org()
    org.add_person(ME, "Adele Vance")
    org.add_person(FANNY, "Fanny Downs")
    org.add_person(DANA, "Dana Swope")
    org.add_room(f"tokyo@{DOMAIN}", "Tokyo conference room", capacity=10)
    org.add_room(f"paris@{DOMAIN}", "Paris conference room", capacity=10)
    app = org.client("sandbox-app")
    for address, items in busy.items():
        for start, end, show in items:
            r = app.post(f"users/{address}/events", json={
                "subject": "Premise", "showAs": show,
                "start": {"dateTime": start, "timeZone": "Pacific Standard Time"},
                "end": {"dateTime": end, "timeZone": "Pacific Standard Time"}})
            assert r.status_code == 201, r.text
    return org


FRI = "2016-05-20"
PREMISES = {
    # 1: Fanny free all day; the organizer only 10:00-12:00; Paris taken 10-11, Tokyo 11-12.
    1: {ME: [(f"{FRI}T08:00:00", f"{FRI}T10:00:00", "busy"), (f"{FRI}T12:00:00", f"{FRI}T17:00:00", "busy")],
        f"paris@{DOMAIN}": [(f"{FRI}T10:00:00", f"{FRI}T11:00:00", "busy")],
        f"tokyo@{DOMAIN}": [(f"{FRI}T11:00:00", f"{FRI}T12:00:00", "busy")]},
    # 2: a two-hour meeting: the organizer is free only 10:00-12:00.
    2: {ME: [(f"{FRI}T08:00:00", f"{FRI}T10:00:00", "busy"), (f"{FRI}T12:00:00", f"{FRI}T17:00:00", "busy")]},
    # 3: Fanny is busy all the window long.
    3: {FANNY: [(f"{FRI}T07:00:00", f"{FRI}T14:00:00", "busy")]},
    # 4: the organizer is free 09:00-12:00; Fanny busy 09:00-10:00; Dana's 11:00-12:00 shows as unknown.
    4: {ME: [(f"{FRI}T12:00:00", f"{FRI}T17:00:00", "busy")], FANNY: [(f"{FRI}T09:00:00", f"{FRI}T10:00:00", "busy")],
        DANA: [(f"{FRI}T11:00:00", f"{FRI}T12:00:00", "unknown")]},
    # 5: over the weekend the organizer has three free hours.
    5: {ME: [(f"{FRI}T07:00:00", "2016-05-21T09:00:00", "busy"), ("2016-05-21T10:00:00", "2016-05-22T19:00:00", "busy"),
             ("2016-05-22T20:00:00", "2016-05-22T23:00:00", "busy")]},
}


@pytest.mark.parametrize("number", [1, 2, 3, 4, 5])
def test_reference_example(number, build_org, clock, model):
    request, response = (camel(x) for x in reference_examples()[number - 1])
    assert model.check_request("POST", "me/findMeetingTimes", typed(request)) == []
    org = proseware(build_org, PREMISES[number], clock)
    r = org.as_user(ME).post("me/findMeetingTimes", json=request, headers=PACIFIC)
    assert r.status_code == 200, r.text
    assert r.headers["Preference-Applied"] == 'outlook.timezone="Pacific Standard Time"'
    got = r.json()
    assert model.validate("meetingTimeSuggestionsResult", got) == []
    assert got["@odata.context"] == "http://sandbox/v1.0/$metadata#microsoft.graph.meetingTimeSuggestionsResult"
    assert got["emptySuggestionsReason"] == response["emptySuggestionsReason"]
    expected = response["meetingTimeSuggestions"]
    assert len(got["meetingTimeSuggestions"]) == len(expected), got
    for order, (mine, theirs) in enumerate(zip(got["meetingTimeSuggestions"], expected, strict=False), 1):
        assert mine["order"] == order
        for key in ("meetingTimeSlot", "confidence", "organizerAvailability", "attendeeAvailability"):
            assert mine[key] == theirs[key], (key, mine[key], theirs[key])
        assert mine.get("suggestionReason") == theirs.get("suggestionReason")
        if number == 1:   # suggested rooms: the sandbox also names the room's address (the reference leaves it "")
            assert [loc["displayName"] for loc in mine["locations"]] == [t["displayName"] for t in theirs["locations"]]
            assert all(loc["locationEmailAddress"].endswith(DOMAIN) for loc in mine["locations"])
        else:
            assert mine["locations"] == theirs["locations"]


def test_reference_confidence_of_one_free_and_one_unknown_attendee_is_74_5(build_org, clock):
    # Someone outside the organization has unknown availability: (100 + 49) / 2.
    org = proseware(build_org, {}, clock)
    r = org.as_user(ME).post("me/findMeetingTimes", headers=PACIFIC, json={
        "attendees": [person(FANNY), person("jordan@fabrikam.com")],
        "timeConstraint": {"timeSlots": [when(FRI, "09:00", "10:00")]}, "meetingDuration": "PT1H"})
    (s,) = r.json()["meetingTimeSuggestions"]
    assert s["confidence"] == 74.5
    assert [a["availability"] for a in s["attendeeAvailability"]] == ["free", "unknown"]


# -- the rules, on the seeded organization ---------------------------------------------------------------------

def find(org: Org, body: dict, token: str = "sandbox", headers: dict | None = None) -> dict:
    r = org.client(token).post("me/findMeetingTimes", json=body, headers=PACIFIC if headers is None else headers)
    assert r.status_code == 200, r.text
    assert load_model().validate("meetingTimeSuggestionsResult", r.json()) == []
    assert load_model().check_request("POST", "me/findMeetingTimes", body) == []
    return r.json()


def starts(result: dict) -> list[str]:
    return [s["meetingTimeSlot"]["start"]["dateTime"][:16] for s in result["meetingTimeSuggestions"]]


def slot(day: str, start: str, end: str) -> dict:
    return {"timeSlots": [when(day, start, end)]}


def test_defaults_half_hour_meetings_utc_times_and_five_candidates(org):
    # Wednesday 2026-03-04, Adele alone: PT30M by default, five suggestions, times in UTC without Prefer.
    result = find(org, {"timeConstraint": slot("2026-03-04", "08:00", "17:00")}, headers={})
    suggestions = result["meetingTimeSuggestions"]
    assert len(suggestions) == 5
    first = suggestions[0]["meetingTimeSlot"]
    assert first == {"start": {"dateTime": "2026-03-04T16:00:00.0000000", "timeZone": "UTC"},
                     "end": {"dateTime": "2026-03-04T16:30:00.0000000", "timeZone": "UTC"}}
    assert [s["order"] for s in suggestions] == [1, 2, 3, 4, 5]
    assert all(s["attendeeAvailability"] == [] and s["locations"] == [] for s in suggestions)
    assert all("suggestionReason" not in s for s in suggestions)


def test_ordered_by_confidence_then_time_without_overlaps(org):
    # Fanny has a tentative vendor demo on Thursday 13:00-14:00 Eastern (10:00-11:00 Pacific).
    body = {"attendees": [person("fanny@contoso.com")], "meetingDuration": "PT1H", "maxCandidates": 20,
            "timeConstraint": slot("2026-03-05", "09:00", "12:00")}
    result = find(org, body)
    got = [(s["meetingTimeSlot"]["start"]["dateTime"][11:16], s["confidence"]) for s in result["meetingTimeSuggestions"]]
    # Adele has the (private, oof) doctor 08:00-09:00 and the Fabrikam call 11:00-12:00 Pacific.
    assert got == [("09:00", 100.0), ("10:00", 50.0)]
    spans = [(s["meetingTimeSlot"]["start"]["dateTime"], s["meetingTimeSlot"]["end"]["dateTime"])
             for s in result["meetingTimeSuggestions"]]
    assert all(a[1] <= b[0] or b[1] <= a[0] for i, a in enumerate(spans) for b in spans[i + 1:])


def test_minimum_attendee_percentage_defaults_to_50(org):
    # Thursday 10:00 Pacific: Fanny tentative (50). At 50 % it is offered; at 51 % it is not.
    body = {"attendees": [person("fanny@contoso.com")], "meetingDuration": "PT1H",
            "timeConstraint": slot("2026-03-05", "10:00", "11:00")}
    assert [s["confidence"] for s in find(org, body)["meetingTimeSuggestions"]] == [50.0]
    empty = find(org, {**body, "minimumAttendeePercentage": 51})
    assert empty["meetingTimeSuggestions"] == [] and empty["emptySuggestionsReason"] == "attendeesUnavailable"


def test_each_attendee_keeps_their_own_working_hours_and_zone(org):
    # Kenji works 09:00-17:30 in Tokyo: with Adele (08:00-17:00 Pacific) that is 16:00-17:00 Pacific,
    # Monday to Thursday (Friday 16:00 Pacific is Saturday in Tokyo).
    body = {"attendees": [person("kenji@contoso.com")], "maxCandidates": 20,
            "timeConstraint": {"activityDomain": "work", **slot("2026-03-02", "00:00", "23:59")}}
    body["timeConstraint"]["timeSlots"][0]["end"]["dateTime"] = "2026-03-07T00:00:00"
    assert starts(find(org, body)) == [f"2026-03-0{d}T{t}" for d in (2, 3, 4, 5) for t in ("16:00", "16:30")]
    # unrestricted: any hour; personal: working hours on every day (Saturday included).
    body["timeConstraint"]["activityDomain"] = "unrestricted"
    assert starts(find(org, body))[0] == "2026-03-02T00:00"
    body["timeConstraint"]["timeSlots"] = [when("2026-03-07", "00:00", "23:30")]     # Saturday
    body["timeConstraint"]["activityDomain"] = "work"
    result = find(org, body)
    assert starts(result) == [] and result["emptySuggestionsReason"] == "organizerUnavailable"
    body["timeConstraint"]["activityDomain"] = "personal"     # Saturday 16:00 Pacific is Sunday 09:00 in Tokyo
    assert starts(find(org, body)) == ["2026-03-07T16:00", "2026-03-07T16:30"]


def test_organizer_busy_is_organizer_unavailable_unless_optional(org):
    # Friday 09:00-11:00 is Adele's focus time (busy).
    body = {"attendees": [person("dana@contoso.com")], "meetingDuration": "PT2H",
            "timeConstraint": slot("2026-03-06", "09:00", "11:00")}
    result = find(org, body)
    assert result == {**result, "meetingTimeSuggestions": [], "emptySuggestionsReason": "organizerUnavailable"}
    optional = find(org, {**body, "isOrganizerOptional": True})["meetingTimeSuggestions"]
    assert [(s["organizerAvailability"], s["confidence"]) for s in optional] == [("busy", 100.0)]


def test_organizer_tentative_is_allowed(org):
    # Friday 12:00-13:00 Adele has the (tentative) brown bag.
    s = find(org, {"attendees": [person("alex@contoso.com")], "meetingDuration": "PT1H",
                   "timeConstraint": slot("2026-03-06", "12:00", "13:00")})["meetingTimeSuggestions"]
    assert [(x["organizerAvailability"], x["attendeeAvailability"][0]["availability"]) for x in s] == [
        ("tentative", "workingElsewhere")]
    assert s[0]["confidence"] == 100.0        # working elsewhere still attends


def test_unknown_attendees_alone_missing_the_quorum(org):
    body = {"attendees": [person("dana@contoso.com"), person("x@fabrikam.com")], "minimumAttendeePercentage": 80,
            "meetingDuration": "PT1H", "timeConstraint": slot("2026-03-02", "09:00", "10:00")}
    result = find(org, body)
    assert result["emptySuggestionsReason"] == "attendeesUnavailableOrUnknown"


def test_optional_people_are_required_and_rooms_are_resources(org):
    body = {"attendees": [person("dana@contoso.com", "optional", "Dana"), person("hood@contoso.com", "resource")],
            "meetingDuration": "PT1H", "timeConstraint": slot("2026-03-02", "09:00", "10:00")}
    (s,) = find(org, body)["meetingTimeSuggestions"]
    assert [a["attendee"] for a in s["attendeeAvailability"]] == [
        {"type": "required", "emailAddress": {"name": "Dana", "address": "dana@contoso.com"}},
        {"type": "resource", "emailAddress": {"name": "hood@contoso.com", "address": "hood@contoso.com"}}]
    assert [loc["displayName"] for loc in s["locations"]] == ["Conf Room Hood"]   # the room is the place


def test_a_busy_room_rules_the_slot_out(org):
    # Baker hosts Quarterly planning on Wednesday 13:00-14:30 Pacific (it accepted the seeded invitation).
    body = {"attendees": [person("alex@contoso.com"), person("baker@contoso.com", "resource")],
            "meetingDuration": "PT1H", "timeConstraint": slot("2026-03-04", "13:00", "14:00")}
    assert find(org, body)["emptySuggestionsReason"] in ("organizerUnavailable", "locationsUnavailable")
    org.client().delete(f"me/events/{_seeded_id(org, 'Quarterly planning')}")      # frees Adele and Baker
    assert find(org, body)["meetingTimeSuggestions"][0]["attendeeAvailability"][1]["availability"] == "free"
    org.client("sandbox-app").post("users/baker@contoso.com/events", json={
        "subject": "Maintenance", **when("2026-03-04", "13:00", "14:00")})
    assert find(org, body)["emptySuggestionsReason"] == "locationsUnavailable"


def _seeded_id(org: Org, subject: str) -> str:
    return org.client().get("me/events", params={"$filter": f"subject eq '{subject}'"}).json()["value"][0]["id"]


def test_location_constraint(org):
    base = {"attendees": [person("alex@contoso.com")], "meetingDuration": "PT1H",
            "timeConstraint": slot("2026-03-04", "13:00", "14:00"), "isOrganizerOptional": True}
    # suggestLocation: the first free one of the given rooms (Baker is booked then, Hood is free).
    constraint = {"isRequired": True, "suggestLocation": True, "locations": [
        {"displayName": "Conf Room Baker", "locationEmailAddress": "baker@contoso.com", "resolveAvailability": True},
        {"displayName": "Conf Room Hood", "locationEmailAddress": "hood@contoso.com", "resolveAvailability": True}]}
    (s,) = find(org, {**base, "locationConstraint": constraint})["meetingTimeSuggestions"]
    assert s["locations"] == [{"displayName": "Conf Room Hood", "locationEmailAddress": "hood@contoso.com"}]
    # Required and only a busy room: locationsUnavailable. Not required: the slot stays, without it.
    only_baker = {**constraint, "suggestLocation": False, "locations": constraint["locations"][:1]}
    result = find(org, {**base, "locationConstraint": only_baker})
    assert result["emptySuggestionsReason"] == "locationsUnavailable"
    result = find(org, {**base, "locationConstraint": {**only_baker, "isRequired": False}})
    assert [s["locations"] for s in result["meetingTimeSuggestions"]] == [[]]
    # resolveAvailability false: echoed as given.
    echo = {"isRequired": False, "suggestLocation": False,
            "locations": [{"displayName": "Conf Room Baker", "resolveAvailability": False}]}
    assert find(org, {**base, "locationConstraint": echo})["meetingTimeSuggestions"][0]["locations"] == [
        {"displayName": "Conf Room Baker"}]
    # No constraint: a free room that seats everyone is suggested, the smallest first (Crystal seats 4).
    s = find(org, {k: v for k, v in base.items() if k != "isOrganizerOptional"} | {
        "timeConstraint": slot("2026-03-02", "09:00", "10:00")})["meetingTimeSuggestions"][0]
    assert s["locations"][0]["displayName"] == "Conf Room Crystal"


def test_suggestion_reasons(org):
    body = {"attendees": [person("dana@contoso.com")], "meetingDuration": "PT1H", "returnSuggestionReasons": True,
            "timeConstraint": slot("2026-03-02", "09:00", "11:00")}
    reasons = {s["suggestionReason"] for s in find(org, body)["meetingTimeSuggestions"]}
    assert reasons == {"Suggested because it is one of the nearest times when all attendees are available."}


def test_prefer_time_zone_applies_to_suggestions(org):
    body = {"meetingDuration": "PT1H", "timeConstraint": slot("2026-03-02", "09:00", "10:00")}
    (s,) = find(org, body, headers={"Prefer": 'outlook.timezone="Tokyo Standard Time"'})["meetingTimeSuggestions"]
    assert s["meetingTimeSlot"]["start"] == {"dateTime": "2026-03-03T02:00:00.0000000",
                                             "timeZone": "Tokyo Standard Time"}


def test_a_window_partly_past_starts_now(org, clock):
    clock.set(dt.datetime(2026, 3, 2, 17, 10, tzinfo=dt.UTC))       # Monday 09:10 Pacific
    result = find(org, {"meetingDuration": "PT1H", "timeConstraint": slot("2026-03-02", "08:00", "11:00")})
    assert starts(result)[0] == "2026-03-02T09:30"


def test_delegated_user_reads_others_free_busy_but_not_their_calendars(org):
    dana = org.as_user("dana@contoso.com")
    body = {"attendees": [person("adele@contoso.com")], "meetingDuration": "PT1H", "minimumAttendeePercentage": 0,
            "timeConstraint": slot("2026-03-02", "12:00", "13:00")}     # Adele's lunch with Megan
    r = dana.post("me/findMeetingTimes", json=body, headers=PACIFIC)
    assert r.json()["meetingTimeSuggestions"][0]["attendeeAvailability"][0]["availability"] == "busy"
    graph_error(dana.get("users/adele@contoso.com/calendarView", params={
        "startDateTime": "2026-03-04T00:00:00Z", "endDateTime": "2026-03-05T00:00:00Z"}), 403, "ErrorAccessDenied")
    graph_error(dana.post("users/adele@contoso.com/findMeetingTimes", json=body), 403, "ErrorAccessDenied")
    graph_error(org.client("sandbox-app").post("users/adele@contoso.com/findMeetingTimes", json=body), 403,
                "ErrorAccessDenied", "delegated")


BAD = [
    ({"meetingDuration": "PT0M"}, "ErrorInvalidParameter", "longer than zero"),
    ({"meetingDuration": "PT0S"}, "ErrorInvalidParameter", "longer than zero"),
    ({"meetingDuration": "an hour"}, "RequestBodyRead", "Edm.Duration"),
    ({"timeConstraint": slot("2026-02-20", "09:00", "17:00")}, "ErrorInvalidParameter", "in the past"),
    ({"timeConstraint": slot("2026-03-04", "10:00", "09:00")}, "ErrorInvalidParameter", "end must be later"),
    ({"timeConstraint": slot("2026-03-04", "09:00", "09:30"), "meetingDuration": "PT1H"}, "ErrorInvalidParameter",
     "longer than every time slot"),
    ({"timeConstraint": {"timeSlots": [{"start": {"dateTime": "2026-03-04T09:00:00", "timeZone": "Mars/Olympus"},
                                        "end": {"dateTime": "2026-03-04T10:00:00"}}]}},
     "TimeZoneNotSupportedException", "Mars/Olympus"),
    ({"timeConstraint": {"activityDomain": "weekend"}}, "RequestBodyRead", "activityDomain"),
    ({"attendees": [person("nobody-room@contoso.com", "resource")]}, "ErrorInvalidParameter", "not found"),
    ({"attendees": [person("dana@contoso.com", "resource")]}, "ErrorInvalidParameter", "not a room"),
    ({"attendees": [{"type": "required", "emailAddress": {"name": "Dana"}}]}, "ErrorInvalidRecipients", "address"),
    ({"attendees": "dana@contoso.com"}, "RequestBodyRead", "array"),
    ({"maxCandidates": 0}, "ErrorInvalidParameter", "maxCandidates"),
    ({"minimumAttendeePercentage": 120}, "ErrorInvalidParameter", "0 to 100"),
    ({"isOrganizerOptional": "maybe"}, "RequestBodyRead", "Edm.Boolean"),
    ({"meetingLength": "PT1H"}, "RequestBodyRead", "not a valid parameter for the operation 'findMeetingTimes'"),
    ({"locationConstraint": {"locations": [{"locationEmailAddress": "dana@contoso.com",
                                            "resolveAvailability": True}]}}, "ErrorInvalidParameter", "not a room"),
]


@pytest.mark.parametrize(("body", "code", "text"), BAD, ids=[t for _, _, t in BAD])
def test_bad_inputs_are_clear_400s_and_change_nothing(org, body, code, text):
    full = {"timeConstraint": slot("2026-03-04", "09:00", "17:00"), **body}
    r = unchanged(org.store, lambda: org.client().post("me/findMeetingTimes", json=full))
    graph_error(r, 400, code, text)


def test_method_and_path_errors(org):
    graph_error(org.client().get("me/findMeetingTimes"), 405)
    graph_error(org.client().post("me/findMeetingTimes/extra", json={}), 400, "BadRequest", "extra")


def test_created_meeting_from_a_suggestion(org):
    # The natural-language flow: find an hour with Dana and Fanny, in a room for six, then book it.
    body = {"attendees": [person("dana@contoso.com"), person("fanny@contoso.com")], "meetingDuration": "PT1H",
            "locationConstraint": {"isRequired": True, "suggestLocation": True,
                                   "locations": [{"displayName": "Conf Room Hood",
                                                  "locationEmailAddress": "hood@contoso.com",
                                                  "resolveAvailability": True}]},
            "timeConstraint": slot("2026-03-03", "08:00", "17:00")}
    best = find(org, body)["meetingTimeSuggestions"][0]
    event = create(org.client(), "Design sync", "2026-03-03", best["meetingTimeSlot"]["start"]["dateTime"][11:16],
                   best["meetingTimeSlot"]["end"]["dateTime"][11:16],
                   attendees=body["attendees"] + [person("hood@contoso.com", "resource")],
                   location={"displayName": "Conf Room Hood", "locationEmailAddress": "hood@contoso.com"})
    statuses = {a["emailAddress"]["address"]: a["status"]["response"] for a in event["attendees"]}
    assert statuses == {"dana@contoso.com": "none", "fanny@contoso.com": "none", "hood@contoso.com": "accepted"}
    again = find(org, body)["meetingTimeSuggestions"]
    assert best["meetingTimeSlot"] not in [s["meetingTimeSlot"] for s in again]


def test_asking_again_sees_every_write_in_between(org):
    # The busy timelines are kept per window and data version: a write by anyone is in the next answer.
    body = {"attendees": [person("dana@contoso.com")], "meetingDuration": "PT1H",
            "timeConstraint": slot("2026-03-10", "09:00", "12:00")}
    first = starts(find(org, body))
    assert first and first == starts(find(org, body))
    dana = org.as_user("dana@contoso.com")
    hour = int(first[0][11:13])
    blocked = create(dana, "Dana's new block", "2026-03-10", f"{hour:02d}:00", f"{hour + 1:02d}:00")
    after = starts(find(org, body))
    assert first[0] not in after and after and set(after) < set(first)
    assert dana.delete(f"me/events/{blocked['id']}").status_code == 204
    assert starts(find(org, body)) == first
