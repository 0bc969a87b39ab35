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
    subject/location unless the item is private: ``isPrivate``, and only to a
    caller with limitedRead or more on that calendar: freeBusyRead, the
    organization's default, sees times and status) and
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

import datetime as dt
import json
import math
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from starlette.responses import Response

from ..ctx import Ctx
from ..errors import GraphHTTPError, bad_request, forbidden
from ..models import sharing
from ..models.availability import (
    SEVERITY,
    UTC,
    Span,
    Timeline,
    busy_items,
    in_organization,
    intersect,
    timeline,
    union,
    working_hours,
    working_intervals,
)
from ..models.bodies import ATTENDEE_BASE, DATETIME_TZ, LOCATION_ITEM, TIME_SLOT
from ..models.rows import CalendarRow, MailboxRow
from . import calendars
from .actions import action_body, instant, render_instant

LIKELIHOOD = {"free": 100.0, "workingElsewhere": 100.0, "tentative": 50.0, "unknown": 49.0, "busy": 0.0, "oof": 0.0}
VIEW_DIGIT = {"free": "0", "tentative": "1", "busy": "2", "oof": "3", "workingElsewhere": "4", "unknown": "0"}
MAX_SCHEDULES = 100
MAX_WINDOW = dt.timedelta(days=62)
DEFAULT_MAX_CANDIDATES = 5
DEFAULT_SEARCH = dt.timedelta(days=7)


# -- action bodies, read as Graph reads them ---------------------------------------------------------

FIND_MEETING_TIMES = {
    "attendees": ("list", ATTENDEE_BASE),
    "locationConstraint": (
        "object",
        "locationConstraint",
        {"isRequired": "bool", "suggestLocation": "bool", "locations": ("list", LOCATION_ITEM)},
    ),
    "timeConstraint": (
        "object",
        "timeConstraint",
        {"activityDomain": ("enum", {"work", "personal", "unrestricted", "unknown"}), "timeSlots": ("list", TIME_SLOT)},
    ),
    "meetingDuration": "string",
    "maxCandidates": "int",
    "isOrganizerOptional": "bool",
    "returnSuggestionReasons": "bool",
    "minimumAttendeePercentage": "number",
}
GET_SCHEDULE = {
    "schedules": ("list", "string"),
    "startTime": DATETIME_TZ,
    "endTime": DATETIME_TZ,
    "availabilityViewInterval": "int",
}


# -- free/busy of one mailbox ------------------------------------------------------------------------


# -- getSchedule ---------------------------------------------------------------------------------------


def get_schedule(ctx: Ctx, calendar: CalendarRow) -> Response:
    body = action_body(ctx, "getSchedule", GET_SCHEDULE)
    schedules = body.get("schedules")
    if not schedules:
        raise bad_request(
            "schedules is required: a list of 1 to 100 SMTP addresses of people, rooms or "
            'resources, e.g. ["dana@contoso.com"].',
            "ErrorInvalidParameter",
        )
    if len(schedules) > MAX_SCHEDULES:
        raise bad_request(
            f"schedules lists {len(schedules)} addresses; at most {MAX_SCHEDULES} are allowed per request.",
            "ErrorInvalidParameter",
        )
    for address in schedules:
        if not isinstance(address, str) or "@" not in address:
            raise bad_request(
                f"schedules: '{address}' is not an SMTP address such as dana@contoso.com.", "ErrorInvalidParameter"
            )
    start, _ = instant(body.get("startTime"), "startTime")
    end, _ = instant(body.get("endTime"), "endTime")
    if end <= start:
        raise bad_request("endTime must be later than startTime.", "ErrorInvalidParameter")
    if end - start > MAX_WINDOW:
        raise bad_request(
            f"The requested time window is {(end - start).days} days long; getSchedule covers at most "
            f"{MAX_WINDOW.days} days per request.",
            "ErrorTimeIntervalTooBig",
        )
    interval = body.get("availabilityViewInterval")
    interval = 30 if interval is None else interval
    if not 5 <= interval <= 1440:
        raise bad_request(
            f"availabilityViewInterval must be between 5 and 1440 minutes, not {interval}.", "ErrorInvalidParameter"
        )
    values = [schedule_information(ctx, address, start, end, dt.timedelta(minutes=interval)) for address in schedules]
    return ctx.respond(
        {"@odata.context": ctx.context_url("Collection(microsoft.graph.scheduleInformation)"), "value": values}
    )


def schedule_information(
    ctx: Ctx, address: str, start: dt.datetime, end: dt.datetime, interval: dt.timedelta
) -> dict[str, Any]:
    row = ctx.store.mailbox(address)
    if row is None or row["kind"] not in ("user", "room"):
        if row is not None and row["kind"] == "roomList":
            message = (
                f"{address} is a room list, not a mailbox: ask for the rooms in it "
                f"(GET /places/{address}/microsoft.graph.roomlist/rooms)."
            )
        else:
            message = f"The mailbox {address} was not found in the organization; its free/busy is unknown."
        return {
            "scheduleId": address,
            "availabilityView": "",
            "scheduleItems": [],
            "error": {"message": message, "responseCode": "ErrorMailRecipientNotFound"},
        }
    items = busy_items(ctx, row, start, end)
    timeline = Timeline(i for i in items if i.status != "unknown")
    slots = math.ceil((end - start) / interval)
    view = "".join(
        VIEW_DIGIT[timeline.worst(start + k * interval, min(start + (k + 1) * interval, end))] for k in range(slots)
    )
    out_items = []
    # Subjects and locations only for callers the owner lets see them (limitedRead or more); freeBusyRead, the
    # organization's default, sees times and status only.
    calendar = ctx.store.default_calendar(row["id"])
    details = calendar is not None and sharing.access(ctx, calendar).level >= sharing.LIMITED
    for item in items:
        private = item.doc.get("sensitivity") in ("private", "confidential")
        entry: dict[str, Any] = {"isPrivate": private, "status": item.status}
        if not private and details:
            entry["subject"] = item.doc.get("subject") or ""
            entry["location"] = (item.doc.get("location") or {}).get("displayName") or ""
        entry["start"] = render_instant(ctx, item.start)
        entry["end"] = render_instant(ctx, item.end)
        out_items.append(entry)
    return {
        "scheduleId": address,
        "availabilityView": view,
        "scheduleItems": out_items,
        "workingHours": working_hours(row),
    }


# -- findMeetingTimes ------------------------------------------------------------------------------------

_DURATION = re.compile(r"^P(?!$)(?:(\d+)W)?(?:(\d+)D)?(?:T(?=\d)(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d+)?)S)?)?$")
REASON_ALL = "Suggested because it is one of the nearest times when all attendees are available."
REASON_MOST = "Suggested because it is one of the nearest times when most attendees are available."
REASON_ORGANIZER = "Suggested because it is one of the nearest times when the organizer is available."


def parse_duration(text: Any, label: str = "meetingDuration") -> dt.timedelta:
    """An ISO 8601 duration ('PT1H', 'PT2H30M', 'P1D') -> timedelta; 400 when malformed."""
    m = _DURATION.match(text.strip().upper()) if isinstance(text, str) else None
    if m is None:
        raise GraphHTTPError(
            400,
            "RequestBodyRead",
            f"Cannot convert the literal '{text}' to the expected type 'Edm.Duration' (property "
            f"'{label}'): use ISO 8601, e.g. 'PT30M', 'PT1H' or 'PT2H30M'.",
        )
    weeks, days, hours, minutes, seconds = (float(g) if g else 0.0 for g in m.groups())
    return dt.timedelta(weeks=weeks, days=days, hours=hours, minutes=minutes, seconds=seconds)


@dataclass
class Attendee:
    entry: dict[str, Any]  # attendeeBase as echoed back
    mailbox: MailboxRow | None  # None: outside the organization (unknown availability)
    resource: bool
    timeline: Timeline | None = None

    def status(self, start: dt.datetime, end: dt.datetime) -> str:
        return "unknown" if self.timeline is None else self.timeline.worst(start, end)


@dataclass
class Place:
    entry: dict[str, Any]  # the location as returned
    room: MailboxRow | None  # a room mailbox when the location resolves to one
    check: bool  # resolve its availability
    timeline: Timeline | None = None


def find_meeting_times(ctx: Ctx) -> Response:
    if ctx.principal.app_only:
        raise forbidden(
            "findMeetingTimes is available only with delegated permissions: sign in as a user "
            "(Bearer sandbox:<address>), not as the app."
        )
    calendars.require_owner_or_app(ctx)
    body = action_body(ctx, "findMeetingTimes", FIND_MEETING_TIMES)
    organizer = ctx.mailbox
    duration = (
        parse_duration(body["meetingDuration"]) if body.get("meetingDuration") is not None else dt.timedelta(minutes=30)
    )
    if duration <= dt.timedelta(0):
        raise bad_request(
            f"meetingDuration must be longer than zero, not '{body['meetingDuration']}': e.g. 'PT30M' or 'PT1H'.",
            "ErrorInvalidParameter",
        )
    max_candidates = body.get("maxCandidates")
    max_candidates = DEFAULT_MAX_CANDIDATES if max_candidates is None else max_candidates
    if max_candidates < 1:
        raise bad_request(f"maxCandidates must be at least 1, not {max_candidates}.", "ErrorInvalidParameter")
    minimum = body.get("minimumAttendeePercentage")
    minimum = 50.0 if minimum is None else minimum
    if not 0 <= minimum <= 100:
        raise bad_request(
            f"minimumAttendeePercentage is a percentage from 0 to 100, not {minimum:g}.", "ErrorInvalidParameter"
        )
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
    organizer_line = timeline(ctx, organizer, span[0], span[1])

    accepted, rejected = [], {"organizer": 0, "attendees": 0, "unknown": 0, "locations": 0}
    for start in _starts(allowed, duration, step):
        end = start + duration
        org_status = organizer_line.worst(start, end)
        if not organizer_optional and org_status in ("busy", "oof"):
            rejected["organizer"] += 1
            continue
        statuses = [a.status(start, end) for a in attendees]
        confidence = sum(LIKELIHOOD[s] for s in statuses) / len(statuses) if attendees else LIKELIHOOD[org_status]
        if confidence + 1e-9 < minimum:
            hopeful = sum(100.0 if s == "unknown" else LIKELIHOOD[s] for s in statuses) / max(len(statuses), 1)
            rejected["unknown" if attendees and hopeful + 1e-9 >= minimum else "attendees"] += 1
            continue
        if any(a.resource and s in ("busy", "oof", "tentative") for a, s in zip(attendees, statuses, strict=True)):
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
        explain = (
            REASON_ORGANIZER if not attendees else (REASON_ALL if all(c[0] >= 100 for c in chosen) else REASON_MOST)
        )
    suggestions = []
    for order, (confidence, start, end, org_status, statuses, locations) in enumerate(chosen, 1):
        item: dict[str, Any] = {
            "meetingTimeSlot": {"start": render_instant(ctx, start), "end": render_instant(ctx, end)},
            "confidence": round(confidence, 2),
            "order": order,
            "organizerAvailability": org_status,
            "attendeeAvailability": [
                {"attendee": a.entry, "availability": s} for a, s in zip(attendees, statuses, strict=True)
            ],
            "locations": locations,
        }
        if explain:
            item["suggestionReason"] = explain
        suggestions.append(item)
    return ctx.respond(
        {
            "@odata.context": ctx.context_url("microsoft.graph.meetingTimeSuggestionsResult"),
            "emptySuggestionsReason": reason,
            "meetingTimeSuggestions": suggestions,
        }
    )


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
        raise bad_request(
            f"timeConstraint.timeSlots span more than {MAX_WINDOW.days} days; ask for a shorter window.",
            "ErrorInvalidParameter",
        )
    if all(e - s < duration for s, e in merged):
        raise bad_request(
            f"meetingDuration ({_iso(duration)}) is longer than every time slot in "
            "timeConstraint.timeSlots: lengthen a slot or shorten the meeting.",
            "ErrorInvalidParameter",
        )
    future = [(max(s, now), e) for s, e in merged if e > now]
    if not future:
        raise bad_request(
            f"timeConstraint.timeSlots all end in the past (now is {now:%Y-%m-%dT%H:%M:%SZ}): ask for times to come.",
            "ErrorInvalidParameter",
        )
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
            raise bad_request(
                f"attendees[{i}].emailAddress.address is required: an SMTP address such as dana@contoso.com.",
                "ErrorInvalidRecipients",
            )
        if address.lower() in seen:
            continue
        seen.add(address.lower())
        kind = a.get("type") or "required"
        row = in_organization(ctx, address)
        if kind == "resource":
            if row is None:
                raise bad_request(
                    f"attendees[{i}]: the resource '{address}' was not found in the organization. "
                    "Resources are rooms: list them with GET /places/microsoft.graph.room.",
                    "ErrorInvalidParameter",
                )
            if row["kind"] != "room":
                raise bad_request(
                    f"attendees[{i}]: '{address}' is a person, not a room: give people the type "
                    "'required' (or 'optional'), rooms the type 'resource'.",
                    "ErrorInvalidParameter",
                )
        elif row is not None and row["kind"] == "room":
            kind = "resource"
        email = {"name": a["emailAddress"].get("name") or address, "address": address}
        entry = {"type": "resource" if kind == "resource" else "required", "emailAddress": email}
        attendee = Attendee(entry, row, kind == "resource")
        if row is not None:
            attendee.timeline = timeline(ctx, row, span[0], span[1])
        out.append(attendee)
    return out


def _locations(
    ctx: Ctx, constraint: dict[str, Any] | None, attendees: list[Attendee]
) -> tuple[list[Place], bool, bool]:
    """(places to consider, suggest one of them?, is a location required?)."""
    if constraint is None:
        rooms = [a for a in attendees if a.resource]
        if rooms:
            return (
                [Place(_room_location(a.mailbox), a.mailbox, False) for a in rooms if a.mailbox is not None],
                False,
                False,
            )
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
                raise bad_request(
                    f"locationConstraint.locations[{i}]: '{item['locationEmailAddress']}' is not a room "
                    "of the organization, so its availability cannot be resolved. List rooms with "
                    "GET /places/microsoft.graph.room.",
                    "ErrorInvalidParameter",
                )
        elif item.get("displayName"):
            room = next(
                (
                    r
                    for r in ctx.store.mailboxes("room")
                    if json.loads(r["doc"])["displayName"].lower() == item["displayName"].strip().lower()
                ),
                None,
            )
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
            rooms.append((capacity if capacity is not None else 10**6, doc["displayName"].lower(), row))
    return [r for _, _, r in sorted(rooms, key=lambda t: (t[0], t[1]))]


def _room_location(row: MailboxRow) -> dict[str, Any]:
    doc = json.loads(row["doc"])
    place = doc.get("place") or {}
    return {
        "displayName": doc["displayName"],
        "locationEmailAddress": row["address"],
        "locationUri": "",
        "locationType": "conferenceRoom",
        "uniqueId": row["address"],
        "uniqueIdType": "directory",
        "address": place.get("address"),
        "coordinates": place.get("geoCoordinates"),
    }


def _pick_locations(
    ctx: Ctx, places: list[Place], suggest: bool, start: dt.datetime, end: dt.datetime, span: Span
) -> list[dict[str, Any]]:
    free = []
    for p in places:
        if p.check and p.room is not None:  # checked locations resolve to a room
            if p.timeline is None:
                p.timeline = timeline(ctx, p.room, span[0], span[1])
            if SEVERITY[p.timeline.worst(start, end)] > SEVERITY["workingElsewhere"]:
                continue
        free.append(p.entry)
        if suggest:
            break
    return free


def _empty_reason(
    rejected: dict[str, int],
    windows: list[Any],
    org_hours: list[Any],
    allowed: list[Any],
    duration: dt.timedelta,
    step: dt.timedelta,
) -> str:
    if not any(rejected.values()):
        if not any(True for _ in _starts(windows, duration, step)):
            return "unknown"
        if not any(True for _ in _starts(org_hours, duration, step)):
            return "organizerUnavailable"
        return "attendeesUnavailable"  # their working hours never meet the organizer's
    if rejected["attendees"] or rejected["unknown"]:
        return "attendeesUnavailableOrUnknown" if rejected["unknown"] else "attendeesUnavailable"
    if rejected["locations"]:
        return "locationsUnavailable"
    return "organizerUnavailable"


# -- registration ------------------------------------------------------------------------------------------
