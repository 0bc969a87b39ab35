"""Free/busy in the sandbox: ``calendar/getSchedule`` and ``findMeetingTimes``, as Exchange computes them.

Free/busy of a mailbox (person or room) comes from its *default* calendar: every
instance in the window (singles, occurrences, exceptions) that is not cancelled
and not ``showAs: free``, with its ``showAs`` as status. Where items overlap the
least available status wins (oof > busy > unknown > tentative >
workingElsewhere > free). A delegated caller may read anyone's free/busy in the
organization through these two actions (that is Graph's behaviour); reading the
calendars themselves stays subject to the usual access checks.

getSchedule (``POST {mb}/calendar/getSchedule``)
    ``schedules`` (1..100 SMTP addresses), ``startTime``/``endTime``
    (dateTimeTimeZone, at most 62 days apart), ``availabilityViewInterval``
    (minutes, 5..1440, default 30). Each schedule answers with
    ``availabilityView`` (one digit per interval: 0 free, 1 tentative, 2 busy,
    3 oof, 4 workingElsewhere), ``scheduleItems`` (status, start, end, and
    subject/location unless the item is private: ``isPrivate``) and
    ``workingHours``; an address the organization does not know gets an entry
    with ``error: {message, responseCode}`` instead of failing the request.
    Times come in the ``Prefer: outlook.timezone`` zone (default UTC).

findMeetingTimes (``POST {mb}/findMeetingTimes``), delegated only
    * candidates start on the half hour (quarter hour for meetings under 30
      minutes) inside ``timeConstraint.timeSlots`` (default: the next 7 days),
      never in the past; all of a window in the past is a 400;
    * ``activityDomain`` work (default; ``unknown`` behaves as work): inside the
      working hours of the organizer and of every person in the organization
      who attends, each in their own zone
      (default Mon-Fri 08:00-17:00 in the mailbox zone); personal: the same
      hours every day of the week; unrestricted: any time;
    * the organizer (unless optional) must not be busy or oof (tentative is
      allowed: ``organizerAvailability`` says so);
    * people are always treated as required (``optional`` is echoed as
      ``required``, as the reference shows); ``resource`` attendees must be
      rooms of the organization (else 400), and a busy room rules a slot out;
    * confidence = mean attendance likelihood over the attendees (free and
      workingElsewhere 100, tentative 50, unknown 49, busy and oof 0; people
      outside the organization are unknown), or the organizer's own when there
      are no attendees; slots under ``minimumAttendeePercentage`` (default 50)
      are dropped;
    * locations: without ``locationConstraint`` a meeting with attendees gets
      its resource rooms, or else one free room (the smallest that seats
      everyone); ``suggestLocation`` picks one free location from
      ``locations`` (or from all rooms); otherwise the given ``locations`` are
      returned, those with ``resolveAvailability`` only when free;
      ``isRequired`` drops slots without an available location;
    * suggestions never overlap: ordered by confidence, then time, the first
      ``maxCandidates`` (default 5) non-overlapping slots are returned, with
      ``order`` 1..n; ``suggestionReason`` only with ``returnSuggestionReasons``;
    * no suggestion: ``emptySuggestionsReason`` is organizerUnavailable,
      attendeesUnavailable, attendeesUnavailableOrUnknown (unknown attendees
      alone could have made the quorum), locationsUnavailable or unknown.

Action bodies are read as Graph reads them: parameter and property names are
case-insensitive, booleans and numbers may come as strings ("true", "60").
"""

from __future__ import annotations

import bisect
import datetime as dt
import json
import math
import re
from dataclasses import dataclass, field
from typing import Any, Iterable

from starlette.responses import Response

from .. import timezones as tz
from . import api_calendars, lookup
from . import events as ev
from .ctx import Ctx
from .errors import GraphHTTPError, bad_request, forbidden, unknown_property

UTC = dt.timezone.utc
Span = tuple[dt.datetime, dt.datetime]          # a UTC interval [start, end)
STATUSES = ["free", "workingElsewhere", "tentative", "unknown", "busy", "oof"]   # least to most severe
SEVERITY = {name: i for i, name in enumerate(STATUSES)}
LIKELIHOOD = {"free": 100.0, "workingElsewhere": 100.0, "tentative": 50.0, "unknown": 49.0, "busy": 0.0, "oof": 0.0}
VIEW_DIGIT = {"free": "0", "tentative": "1", "busy": "2", "oof": "3", "workingElsewhere": "4", "unknown": "0"}
WEEKDAYS = ["monday", "tuesday", "wednesday", "thursday", "friday"]
ALL_DAYS = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]
MAX_SCHEDULES = 100
MAX_WINDOW = dt.timedelta(days=62)
DEFAULT_MAX_CANDIDATES = 5
DEFAULT_SEARCH = dt.timedelta(days=7)


# -- action bodies, read as Graph reads them ---------------------------------------------------------

# Spec: "string" | "bool" | "int" | "number" | "dtz" | ("enum", {...}) | ("list", spec) | ("object", type, {prop: spec})
DTZ = ("object", "dateTimeTimeZone", {"dateTime": "string", "timeZone": "string"})
TIME_SLOT = ("object", "timeSlot", {"start": DTZ, "end": DTZ})
EMAIL = ("object", "emailAddress", {"address": "string", "name": "string"})
RECIPIENT = ("object", "recipient", {"emailAddress": EMAIL})
ATTENDEE_BASE = ("object", "attendeeBase", {"emailAddress": EMAIL,
                                            "type": ("enum", {"required", "optional", "resource"})})
LOCATION_ITEM = ("object", "locationConstraintItem", {
    "displayName": "string", "locationEmailAddress": "string", "locationUri": "string", "resolveAvailability": "bool",
    "locationType": ("enum", {"default", "conferenceRoom", "homeAddress", "businessAddress", "geoCoordinates",
                              "streetAddress", "hotel", "restaurant", "localBusiness", "postalAddress"}),
    "uniqueId": "string", "uniqueIdType": ("enum", {"unknown", "locationStore", "directory", "private", "bing"}),
    "address": ("object", "physicalAddress", {k: "string" for k in ("street", "city", "state", "countryOrRegion",
                                                                     "postalCode")}),
    "coordinates": ("object", "outlookGeoCoordinates", {k: "number" for k in ("accuracy", "altitude",
                                                                              "altitudeAccuracy", "latitude",
                                                                              "longitude")}),
})
FIND_MEETING_TIMES = {
    "attendees": ("list", ATTENDEE_BASE),
    "locationConstraint": ("object", "locationConstraint", {"isRequired": "bool", "suggestLocation": "bool",
                                                            "locations": ("list", LOCATION_ITEM)}),
    "timeConstraint": ("object", "timeConstraint", {
        "activityDomain": ("enum", {"work", "personal", "unrestricted", "unknown"}),
        "timeSlots": ("list", TIME_SLOT)}),
    "meetingDuration": "string", "maxCandidates": "int", "isOrganizerOptional": "bool",
    "returnSuggestionReasons": "bool", "minimumAttendeePercentage": "number",
}
GET_SCHEDULE = {"schedules": ("list", "string"), "startTime": DTZ, "endTime": DTZ, "availabilityViewInterval": "int"}
_EDM = {"string": "Edm.String", "bool": "Edm.Boolean", "int": "Edm.Int32", "number": "Edm.Double"}


def action_body(ctx: Ctx, operation: str, params: dict[str, Any]) -> dict[str, Any]:
    """The JSON body of a bound action, checked against ``params``; names come back in Graph's spelling."""
    if not ctx.body_bytes.strip():
        return {}
    body = ctx.json()
    if not isinstance(body, dict):
        raise bad_request(f"The request body of '{operation}' must be a JSON object of its parameters.", "BadRequest")
    out: dict[str, Any] = {}
    canonical = {name.lower(): name for name in params}
    for key, value in body.items():
        if key.startswith("@odata."):
            continue
        name = canonical.get(key.lower())
        if name is None:
            raise GraphHTTPError(400, "RequestBodyRead", f"The parameter '{key}' in the request payload is not a valid "
                                                         f"parameter for the operation '{operation}'.")
        out[name] = _coerce(value, params[name], name)
    return out


def _coerce(value: Any, spec: Any, path: str) -> Any:
    if value is None:
        return None
    if isinstance(spec, str):
        return _primitive(value, spec, path)
    kind = spec[0]
    if kind == "enum":
        members = {m.lower(): m for m in spec[1]}
        if not isinstance(value, str) or value.lower() not in members:
            allowed = ", ".join(sorted(spec[1]))
            raise GraphHTTPError(400, "RequestBodyRead",
                                 f"Invalid value '{value}' for property '{path}'. Allowed values: {allowed}.")
        return members[value.lower()]
    if kind == "list":
        if not isinstance(value, list):
            raise GraphHTTPError(400, "RequestBodyRead", f"The property '{path}' must be a JSON array (a collection), "
                                                         f"not {type(value).__name__}.")
        return [_coerce(item, spec[1], f"{path}[{i}]") for i, item in enumerate(value)]
    _, type_name, props = spec
    if not isinstance(value, dict):
        raise GraphHTTPError(400, "RequestBodyRead",
                             f"The property '{path}' must be a JSON object of type 'microsoft.graph.{type_name}'.")
    canonical = {name.lower(): name for name in props}
    out = {}
    for key, item in value.items():
        if key.startswith("@odata."):
            continue
        name = canonical.get(key.lower())
        if name is None:
            raise unknown_property(f"{path}.{key}", type_name)
        out[name] = _coerce(item, props[name], f"{path}.{name}")
    return out


def _primitive(value: Any, kind: str, path: str) -> Any:
    text = value.strip().lower() if isinstance(value, str) else None
    if kind == "string" and isinstance(value, str):
        return value
    if kind == "bool":
        if isinstance(value, bool):
            return value
        if text in ("true", "false"):
            return text == "true"
    if kind == "int":
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        if text is not None and re.fullmatch(r"[+-]?\d{1,9}", text):
            return int(text)
    if kind == "number":
        if isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value):
            return float(value)
        if text is not None and re.fullmatch(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?", text):
            return float(text)
    shown = value if isinstance(value, (str, int, float, bool)) else type(value).__name__
    raise GraphHTTPError(400, "RequestBodyRead", f"Cannot convert the literal '{shown}' to the expected type "
                                                 f"'{_EDM[kind]}' (property '{path}').")


def instant(dtz: dict[str, Any] | None, label: str) -> tuple[dt.datetime, str]:
    """(aware UTC instant, zone name as given) of a request's dateTimeTimeZone."""
    if not dtz or not dtz.get("dateTime"):
        raise bad_request(f"{label} is required: give {{'dateTime': '2026-11-23T09:00:00', "
                          "'timeZone': 'Pacific Standard Time'}.", "ErrorInvalidParameter")
    value = dict(dtz)
    # '2016-05-20T7:00:00' (a one-digit hour, as in the reference) reads as 07:00.
    value["dateTime"] = re.sub(r"T(\d)(?=:)", r"T0\1", value["dateTime"].strip())
    wall, zone, name = ev.wall_time(value, label)
    return tz.to_utc(wall, zone), name


def render_instant(ctx: Ctx, moment: dt.datetime) -> dict[str, str]:
    """An instant as dateTimeTimeZone in the caller's preferred zone (Prefer: outlook.timezone, default UTC)."""
    local = moment.astimezone(ctx.view.zone).replace(tzinfo=None)
    return {"dateTime": tz.format_graph_datetime(local), "timeZone": ctx.view.zone_name}


# -- free/busy of one mailbox ------------------------------------------------------------------------

@dataclass(frozen=True)
class Item:
    start: dt.datetime
    end: dt.datetime
    status: str
    doc: dict[str, Any] = field(compare=False, hash=False)


def busy_items(ctx: Any, mailbox: Any, start: dt.datetime, end: dt.datetime,
               skip_uid: str | None = None) -> list[Item]:
    """Items that make ``mailbox`` less than free in [start, end), from its default calendar.

    ``ctx`` needs only a ``store`` (the seed calls this outside a request).
    """
    calendar = ctx.store.default_calendar(mailbox["id"])
    if calendar is None:
        return []
    out = []
    for _, _, doc in lookup.window_items(ctx, [calendar["id"]], start, end):
        status = doc.get("showAs") or "busy"
        if doc.get("isCancelled") or status == "free" or (skip_uid and doc.get("iCalUId") == skip_uid):
            continue
        times = ev.event_times(doc)
        if times.end_utc <= times.start_utc or times.end_utc <= start or times.start_utc >= end:
            continue
        out.append(Item(times.start_utc, times.end_utc, status if status in SEVERITY else "busy", doc))
    out.sort(key=lambda i: (i.start, i.end))
    return out


class Timeline:
    """Disjoint segments of a mailbox's time, each with its most severe status: fast slot lookups."""

    def __init__(self, items: Iterable[Item]):
        deltas: dict[dt.datetime, list[int]] = {}
        for item in items:
            if item.end <= item.start:
                continue
            sev = SEVERITY[item.status]
            deltas.setdefault(item.start, [0] * len(STATUSES))[sev] += 1
            deltas.setdefault(item.end, [0] * len(STATUSES))[sev] -= 1
        self.starts: list[dt.datetime] = []
        self.ends: list[dt.datetime] = []
        self.severities: list[int] = []
        active = [0] * len(STATUSES)
        points = sorted(deltas)
        for i, point in enumerate(points[:-1]):
            for k, d in enumerate(deltas[point]):
                active[k] += d
            worst = max((k for k in range(len(STATUSES)) if active[k] > 0), default=0)
            if worst == 0:
                continue
            if self.ends and self.ends[-1] == point and self.severities[-1] == worst:
                self.ends[-1] = points[i + 1]
            else:
                self.starts.append(point)
                self.ends.append(points[i + 1])
                self.severities.append(worst)

    def worst(self, start: dt.datetime, end: dt.datetime) -> str:
        """The least available status anywhere in [start, end)."""
        i = max(bisect.bisect_right(self.starts, start) - 1, 0)
        worst = 0
        while i < len(self.starts) and self.starts[i] < end:
            if self.ends[i] > start and self.severities[i] > worst:
                worst = self.severities[i]
            i += 1
        return STATUSES[worst]


def mailbox_zone(mailbox: Any) -> tuple[str, Any]:
    doc = json.loads(mailbox["doc"])
    name = (doc.get("workingHours") or {}).get("timeZone") or doc.get("timeZone") or "UTC"
    if isinstance(name, dict):
        name = name.get("name") or "UTC"
    try:
        return name, tz.resolve(name)
    except tz.TimeZoneError:
        return "UTC", tz.resolve("UTC")


def working_hours(mailbox: Any) -> dict[str, Any]:
    """The workingHours of a mailbox as Graph shows them (default Mon-Fri 08:00-17:00 in its zone)."""
    doc = json.loads(mailbox["doc"])
    hours = doc.get("workingHours") or {}
    zone_name, _ = mailbox_zone(mailbox)
    return {"daysOfWeek": list(hours.get("daysOfWeek") or WEEKDAYS),
            "startTime": hours.get("startTime") or "08:00:00.0000000",
            "endTime": hours.get("endTime") or "17:00:00.0000000",
            "timeZone": {"name": zone_name}}


def _time_of_day(text: str) -> dt.time:
    try:
        return dt.time.fromisoformat(text.split(".")[0])
    except ValueError:
        return dt.time(0, 0)


def working_intervals(mailbox: Any, start: dt.datetime, end: dt.datetime, domain: str) -> list[Span]:
    """The mailbox's working time within [start, end) as UTC intervals, for an activityDomain."""
    if domain == "unrestricted":
        return [(start, end)]
    hours = working_hours(mailbox)
    _, zone = mailbox_zone(mailbox)
    days = set(ALL_DAYS if domain == "personal" else (d.lower() for d in hours["daysOfWeek"]))
    t0, t1 = _time_of_day(hours["startTime"]), _time_of_day(hours["endTime"])
    out = []
    day = start.astimezone(zone).date() - dt.timedelta(days=1)
    last = end.astimezone(zone).date() + dt.timedelta(days=1)
    while day <= last:
        if ALL_DAYS[day.weekday()] in days:
            s = tz.to_utc(dt.datetime.combine(day, t0), zone)
            e = tz.to_utc(dt.datetime.combine(day + dt.timedelta(days=0 if t1 > t0 else 1), t1), zone)
            s, e = max(s, start), min(e, end)
            if s < e:
                out.append((s, e))
        day += dt.timedelta(days=1)
    return out


def intersect(a: list[Span], b: list[Span]) -> list[Span]:
    out, i, j = [], 0, 0
    while i < len(a) and j < len(b):
        s, e = max(a[i][0], b[j][0]), min(a[i][1], b[j][1])
        if s < e:
            out.append((s, e))
        if a[i][1] < b[j][1]:
            i += 1
        else:
            j += 1
    return out


def union(intervals: list[Span]) -> list[Span]:
    out: list[Span] = []
    for s, e in sorted(intervals):
        if out and s <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], e))
        else:
            out.append((s, e))
    return out


def in_organization(ctx: Any, address: str) -> Any | None:
    """The mailbox (person or room) behind an address, or None for anyone outside the organization."""
    row = ctx.store.mailbox(address)
    return row if row is not None and row["kind"] in ("user", "room") else None


# -- getSchedule ---------------------------------------------------------------------------------------



def get_schedule(ctx: Ctx, calendar: Any) -> Response:
    body = action_body(ctx, "getSchedule", GET_SCHEDULE)
    schedules = body.get("schedules")
    if not schedules:
        raise bad_request("schedules is required: a list of 1 to 100 SMTP addresses of people, rooms or "
                          "resources, e.g. [\"dana@contoso.com\"].", "ErrorInvalidParameter")
    if len(schedules) > MAX_SCHEDULES:
        raise bad_request(f"schedules lists {len(schedules)} addresses; at most {MAX_SCHEDULES} are allowed per "
                          "request.", "ErrorInvalidParameter")
    for address in schedules:
        if not isinstance(address, str) or "@" not in address:
            raise bad_request(f"schedules: '{address}' is not an SMTP address such as dana@contoso.com.",
                              "ErrorInvalidParameter")
    start, _ = instant(body.get("startTime"), "startTime")
    end, _ = instant(body.get("endTime"), "endTime")
    if end <= start:
        raise bad_request("endTime must be later than startTime.", "ErrorInvalidParameter")
    if end - start > MAX_WINDOW:
        raise bad_request(f"The requested time window is {(end - start).days} days long; getSchedule covers at most "
                          f"{MAX_WINDOW.days} days per request.", "ErrorTimeIntervalTooBig")
    interval = body.get("availabilityViewInterval")
    interval = 30 if interval is None else interval
    if not 5 <= interval <= 1440:
        raise bad_request(f"availabilityViewInterval must be between 5 and 1440 minutes, not {interval}.",
                          "ErrorInvalidParameter")
    values = [schedule_information(ctx, address, start, end, dt.timedelta(minutes=interval)) for address in schedules]
    return ctx.respond({"@odata.context": ctx.context_url("Collection(microsoft.graph.scheduleInformation)"),
                        "value": values})


def schedule_information(ctx: Ctx, address: str, start: dt.datetime, end: dt.datetime,
                         interval: dt.timedelta) -> dict[str, Any]:
    row = ctx.store.mailbox(address)
    if row is None or row["kind"] not in ("user", "room"):
        if row is not None and row["kind"] == "roomList":
            message = (f"{address} is a room list, not a mailbox: ask for the rooms in it "
                       f"(GET /places/{address}/microsoft.graph.roomlist/rooms).")
        else:
            message = f"The mailbox {address} was not found in the organization; its free/busy is unknown."
        return {"scheduleId": address, "availabilityView": "", "scheduleItems": [],
                "error": {"message": message, "responseCode": "ErrorMailRecipientNotFound"}}
    items = busy_items(ctx, row, start, end)
    timeline = Timeline(i for i in items if i.status != "unknown")
    slots = math.ceil((end - start) / interval)
    view = "".join(VIEW_DIGIT[timeline.worst(start + k * interval, min(start + (k + 1) * interval, end))]
                   for k in range(slots))
    out_items = []
    for item in items:
        private = item.doc.get("sensitivity") in ("private", "confidential")
        entry: dict[str, Any] = {"isPrivate": private, "status": item.status}
        if not private:
            entry["subject"] = item.doc.get("subject") or ""
            entry["location"] = (item.doc.get("location") or {}).get("displayName") or ""
        entry["start"] = render_instant(ctx, item.start)
        entry["end"] = render_instant(ctx, item.end)
        out_items.append(entry)
    return {"scheduleId": address, "availabilityView": view, "scheduleItems": out_items,
            "workingHours": working_hours(row)}


# -- findMeetingTimes ------------------------------------------------------------------------------------

_DURATION = re.compile(r"^P(?!$)(?:(\d+)W)?(?:(\d+)D)?(?:T(?=\d)(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d+)?)S)?)?$")
REASON_ALL = "Suggested because it is one of the nearest times when all attendees are available."
REASON_MOST = "Suggested because it is one of the nearest times when most attendees are available."
REASON_ORGANIZER = "Suggested because it is one of the nearest times when the organizer is available."


def parse_duration(text: Any, label: str = "meetingDuration") -> dt.timedelta:
    """An ISO 8601 duration ('PT1H', 'PT2H30M', 'P1D') -> timedelta; 400 when malformed."""
    m = _DURATION.match(text.strip().upper()) if isinstance(text, str) else None
    if m is None:
        raise GraphHTTPError(400, "RequestBodyRead",
                             f"Cannot convert the literal '{text}' to the expected type 'Edm.Duration' (property "
                             f"'{label}'): use ISO 8601, e.g. 'PT30M', 'PT1H' or 'PT2H30M'.")
    weeks, days, hours, minutes, seconds = (float(g) if g else 0.0 for g in m.groups())
    return dt.timedelta(weeks=weeks, days=days, hours=hours, minutes=minutes, seconds=seconds)




@dataclass
class Attendee:
    entry: dict[str, Any]          # attendeeBase as echoed back
    mailbox: Any | None            # None: outside the organization (unknown availability)
    resource: bool
    timeline: Timeline | None = None

    def status(self, start: dt.datetime, end: dt.datetime) -> str:
        return "unknown" if self.timeline is None else self.timeline.worst(start, end)


@dataclass
class Place:
    entry: dict[str, Any]          # the location as returned
    room: Any | None               # a room mailbox when the location resolves to one
    check: bool                    # resolve its availability
    timeline: Timeline | None = None


def find_meeting_times(ctx: Ctx) -> Response:
    if ctx.principal.app_only:
        raise forbidden("findMeetingTimes is available only with delegated permissions: sign in as a user "
                        "(Bearer sandbox:<address>), not as the app.")
    api_calendars.require_owner_or_app(ctx)
    body = action_body(ctx, "findMeetingTimes", FIND_MEETING_TIMES)
    organizer = ctx.mailbox
    duration = parse_duration(body["meetingDuration"]) if body.get("meetingDuration") is not None \
        else dt.timedelta(minutes=30)
    if duration <= dt.timedelta(0):
        raise bad_request(f"meetingDuration must be longer than zero, not '{body['meetingDuration']}': e.g. 'PT30M' "
                          "or 'PT1H'.", "ErrorInvalidParameter")
    max_candidates = body.get("maxCandidates")
    max_candidates = DEFAULT_MAX_CANDIDATES if max_candidates is None else max_candidates
    if max_candidates < 1:
        raise bad_request(f"maxCandidates must be at least 1, not {max_candidates}.", "ErrorInvalidParameter")
    minimum = body.get("minimumAttendeePercentage")
    minimum = 50.0 if minimum is None else minimum
    if not 0 <= minimum <= 100:
        raise bad_request(f"minimumAttendeePercentage is a percentage from 0 to 100, not {minimum:g}.",
                          "ErrorInvalidParameter")
    organizer_optional = bool(body.get("isOrganizerOptional"))
    constraint = body.get("timeConstraint") or {}
    domain = constraint.get("activityDomain") or "work"
    domain = "work" if domain == "unknown" else domain
    windows = _windows(ctx, constraint.get("timeSlots"), duration)
    span = (windows[0][0], windows[-1][1])
    attendees = _attendees(ctx, body.get("attendees") or [], span)
    places, suggest, required_place = _locations(ctx, body.get("locationConstraint"), attendees)

    # Where the meeting may fall: the windows, within the working hours of whoever must be there.
    step = dt.timedelta(minutes=30 if duration >= dt.timedelta(minutes=30) else 15)
    org_hours = allowed = intersect(windows, working_intervals(organizer, span[0], span[1], domain))
    for a in attendees:
        if a.mailbox is not None and not a.resource:
            allowed = intersect(allowed, working_intervals(a.mailbox, span[0], span[1], domain))
    organizer_line = Timeline(busy_items(ctx, organizer, span[0], span[1]))

    accepted, rejected = [], {"organizer": 0, "attendees": 0, "unknown": 0, "locations": 0}
    for start in _starts(allowed, duration, step):
        end = start + duration
        org_status = organizer_line.worst(start, end)
        if not organizer_optional and org_status in ("busy", "oof"):
            rejected["organizer"] += 1
            continue
        statuses = [a.status(start, end) for a in attendees]
        if attendees:
            confidence = sum(LIKELIHOOD[s] for s in statuses) / len(statuses)
        else:
            confidence = LIKELIHOOD[org_status]
        if confidence + 1e-9 < minimum:
            hopeful = sum(100.0 if s == "unknown" else LIKELIHOOD[s] for s in statuses) / max(len(statuses), 1)
            rejected["unknown" if attendees and hopeful + 1e-9 >= minimum else "attendees"] += 1
            continue
        if any(a.resource and s in ("busy", "oof", "tentative") for a, s in zip(attendees, statuses)):
            rejected["locations"] += 1
            continue
        locations = _pick_locations(ctx, places, suggest, start, end, span)
        if locations is None or (required_place and not locations):
            rejected["locations"] += 1
            continue
        accepted.append((confidence, start, end, org_status, statuses, locations))

    accepted.sort(key=lambda s: (-s[0], s[1]))
    chosen: list[tuple[Any, ...]] = []
    for suggestion in accepted:
        if len(chosen) >= max_candidates:
            break
        if all(suggestion[2] <= c[1] or suggestion[1] >= c[2] for c in chosen):
            chosen.append(suggestion)

    reason = ""
    if not chosen:
        reason = _empty_reason(rejected, windows, org_hours, allowed, duration, step)
    explain = None
    if body.get("returnSuggestionReasons"):
        explain = REASON_ORGANIZER if not attendees else (
            REASON_ALL if all(c[0] >= 100 for c in chosen) else REASON_MOST)
    suggestions = []
    for order, (confidence, start, end, org_status, statuses, locations) in enumerate(chosen, 1):
        item: dict[str, Any] = {
            "meetingTimeSlot": {"start": render_instant(ctx, start), "end": render_instant(ctx, end)},
            "confidence": round(confidence, 2), "order": order, "organizerAvailability": org_status,
            "attendeeAvailability": [{"attendee": a.entry, "availability": s} for a, s in zip(attendees, statuses)],
            "locations": locations,
        }
        if explain:
            item["suggestionReason"] = explain
        suggestions.append(item)
    return ctx.respond({"@odata.context": ctx.context_url("microsoft.graph.meetingTimeSuggestionsResult"),
                        "emptySuggestionsReason": reason, "meetingTimeSuggestions": suggestions})


def _windows(ctx: Ctx, slots: list[dict[str, Any]] | None, duration: dt.timedelta) -> list[Span]:
    """The requested time slots as merged UTC windows, clipped to the future; 400 when none can hold the meeting."""
    now = ctx.now.astimezone(UTC)
    if not slots:
        start = now
        return [(start, start + DEFAULT_SEARCH)]
    raw = []
    for i, slot in enumerate(slots):
        if not slot or not slot.get("start") or not slot.get("end"):
            raise bad_request(f"timeConstraint.timeSlots[{i}] needs both start and end.", "ErrorInvalidParameter")
        start, _ = instant(slot["start"], f"timeConstraint.timeSlots[{i}].start")
        end, _ = instant(slot["end"], f"timeConstraint.timeSlots[{i}].end")
        if end <= start:
            raise bad_request(f"timeConstraint.timeSlots[{i}]: end must be later than start.", "ErrorInvalidParameter")
        raw.append((start, end))
    merged = union(raw)
    if merged[-1][1] - merged[0][0] > MAX_WINDOW:
        raise bad_request(f"timeConstraint.timeSlots span more than {MAX_WINDOW.days} days; ask for a shorter "
                          "window.", "ErrorInvalidParameter")
    if all(e - s < duration for s, e in merged):
        raise bad_request(f"meetingDuration ({_iso(duration)}) is longer than every time slot in "
                          "timeConstraint.timeSlots: lengthen a slot or shorten the meeting.", "ErrorInvalidParameter")
    future = [(max(s, now), e) for s, e in merged if e > now]
    if not future:
        raise bad_request(f"timeConstraint.timeSlots all end in the past (now is {now:%Y-%m-%dT%H:%M:%SZ}): ask for "
                          "times to come.", "ErrorInvalidParameter")
    return future


def _iso(duration: dt.timedelta) -> str:
    minutes = int(duration.total_seconds() // 60)
    hours, minutes = divmod(minutes, 60)
    return "PT" + (f"{hours}H" if hours else "") + (f"{minutes}M" if minutes or not hours else "")


def _starts(allowed: list[Span], duration: dt.timedelta, step: dt.timedelta) -> Iterable[dt.datetime]:
    """Candidate starts on the step grid (in UTC) where the whole meeting fits inside an allowed interval."""
    step_s = int(step.total_seconds())
    for s, e in allowed:
        ts = math.ceil(s.timestamp() / step_s) * step_s
        start = dt.datetime.fromtimestamp(ts, UTC)
        while start + duration <= e:
            yield start
            start += step


def _attendees(ctx: Ctx, given: list[dict[str, Any]], span: Span) -> list[Attendee]:
    out: list[Attendee] = []
    seen = {ctx.mailbox["address"].lower()}
    for i, a in enumerate(given):
        address = ((a or {}).get("emailAddress") or {}).get("address")
        if not address or "@" not in address:
            raise bad_request(f"attendees[{i}].emailAddress.address is required: an SMTP address such as "
                              "dana@contoso.com.", "ErrorInvalidRecipients")
        if address.lower() in seen:
            continue
        seen.add(address.lower())
        kind = a.get("type") or "required"
        row = in_organization(ctx, address)
        if kind == "resource":
            if row is None:
                raise bad_request(f"attendees[{i}]: the resource '{address}' was not found in the organization. "
                                  "Resources are rooms: list them with GET /places/microsoft.graph.room.",
                                  "ErrorInvalidParameter")
            if row["kind"] != "room":
                raise bad_request(f"attendees[{i}]: '{address}' is a person, not a room: give people the type "
                                  "'required' (or 'optional'), rooms the type 'resource'.", "ErrorInvalidParameter")
        elif row is not None and row["kind"] == "room":
            kind = "resource"
        email = {"name": a["emailAddress"].get("name") or address, "address": address}
        entry = {"type": "resource" if kind == "resource" else "required", "emailAddress": email}
        attendee = Attendee(entry, row, kind == "resource")
        if row is not None:
            attendee.timeline = Timeline(busy_items(ctx, row, span[0], span[1]))
        out.append(attendee)
    return out


def _locations(ctx: Ctx, constraint: dict[str, Any] | None,
               attendees: list[Attendee]) -> tuple[list[Place], bool, bool]:
    """(places to consider, suggest one of them?, is a location required?)."""
    if constraint is None:
        rooms = [a for a in attendees if a.resource]
        if rooms:
            return [Place(_room_location(a.mailbox), a.mailbox, False) for a in rooms], False, False
        if not attendees:
            return [], False, False
        return [Place(_room_location(r), r, True) for r in _all_rooms(ctx, 1 + len(attendees))], True, False
    places = []
    for i, item in enumerate(constraint.get("locations") or []):
        entry = {k: v for k, v in item.items() if k != "resolveAvailability"}
        room = None
        if item.get("locationEmailAddress"):
            room = in_organization(ctx, item["locationEmailAddress"])
            if item.get("resolveAvailability") and (room is None or room["kind"] != "room"):
                raise bad_request(f"locationConstraint.locations[{i}]: '{item['locationEmailAddress']}' is not a room "
                                  "of the organization, so its availability cannot be resolved. List rooms with "
                                  "GET /places/microsoft.graph.room.", "ErrorInvalidParameter")
        elif item.get("displayName"):
            room = next((r for r in ctx.store.mailboxes("room")
                         if json.loads(r["doc"])["displayName"].lower() == item["displayName"].strip().lower()), None)
        if room is not None and room["kind"] != "room":
            room = None
        places.append(Place(entry, room, bool(item.get("resolveAvailability")) and room is not None))
    suggest = bool(constraint.get("suggestLocation"))
    if suggest and not places:
        places = [Place(_room_location(r), r, True) for r in _all_rooms(ctx, 1 + len(attendees))]
    if suggest:
        for p in places:
            p.check = p.room is not None
    return places, suggest, bool(constraint.get("isRequired"))


def _all_rooms(ctx: Ctx, headcount: int) -> list[Any]:
    """Rooms that seat everyone, smallest first (then by name)."""
    rooms = []
    for row in ctx.store.mailboxes("room"):
        doc = json.loads(row["doc"])
        capacity = (doc.get("place") or {}).get("capacity")
        if capacity is None or capacity >= headcount:
            rooms.append((capacity if capacity is not None else 10 ** 6, doc["displayName"].lower(), row))
    return [r for _, _, r in sorted(rooms, key=lambda t: (t[0], t[1]))]


def _room_location(row: Any) -> dict[str, Any]:
    doc = json.loads(row["doc"])
    place = doc.get("place") or {}
    return {"displayName": doc["displayName"], "locationEmailAddress": row["address"], "locationUri": "",
            "locationType": "conferenceRoom", "uniqueId": row["address"], "uniqueIdType": "directory",
            "address": place.get("address"), "coordinates": place.get("geoCoordinates")}


def _pick_locations(ctx: Ctx, places: list[Place], suggest: bool, start: dt.datetime, end: dt.datetime,
                    span: Span) -> list[dict[str, Any]]:
    free = []
    for p in places:
        if p.check:
            if p.timeline is None:
                p.timeline = Timeline(busy_items(ctx, p.room, span[0], span[1]))
            if SEVERITY[p.timeline.worst(start, end)] > SEVERITY["workingElsewhere"]:
                continue
        free.append(p.entry)
        if suggest:
            break
    return free


def _empty_reason(rejected: dict[str, int], windows: list[Any], org_hours: list[Any], allowed: list[Any],
                  duration: dt.timedelta, step: dt.timedelta) -> str:
    if not any(rejected.values()):
        if not any(True for _ in _starts(windows, duration, step)):
            return "unknown"
        if not any(True for _ in _starts(org_hours, duration, step)):
            return "organizerUnavailable"
        return "attendeesUnavailable"       # their working hours never meet the organizer's
    if rejected["attendees"] or rejected["unknown"]:
        return "attendeesUnavailableOrUnknown" if rejected["unknown"] else "attendeesUnavailable"
    if rejected["locations"]:
        return "locationsUnavailable"
    return "organizerUnavailable"


# -- registration ------------------------------------------------------------------------------------------
