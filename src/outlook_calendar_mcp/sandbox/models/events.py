"""Events in the sandbox: building, changing, expanding and rendering them as Graph does.

Stored form: a Graph event document whose ``start``/``end`` keep the wall time
and zone they were given in. Rendered form: the same document with
``start``/``end`` in the zone the caller preferred (``Prefer:
outlook.timezone``, default UTC), the body in the preferred content type, and
``@odata.etag``. Occurrences of a series are never stored: they are derived
from the master (:func:`occurrence_doc`); a changed occurrence is stored as an
``exception`` row with the occurrence's id, a deleted one as a ``cancelled``
row.
"""

from __future__ import annotations

import copy
import datetime as dt
import html
import json
import re
from dataclasses import dataclass, field
from typing import Any, Final
from zoneinfo import ZoneInfo

from ... import timezones as tz
from ..errors import GraphHTTPError, bad_request
from . import recurrence as rec
from .bodies import EVENT, canonical_enums, check
from .rows import EventRow
from .store import Store, etag, graph_timestamp, new_change_key, new_ical_uid, new_item_id, occurrence_id, utc_key

NEVER = "0001-01-01T00:00:00Z"


@dataclass
class Render:
    """How the caller asked to see events (from the Prefer header)."""

    zone_name: str = "UTC"
    zone: ZoneInfo = field(default_factory=lambda: ZoneInfo("UTC"))
    body_type: str | None = None  # None: as Graph's default (html)


# -- times -------------------------------------------------------------------


def zone_of(name: str | None, label: str) -> ZoneInfo:
    if not name:
        return ZoneInfo("UTC")
    try:
        return tz.resolve(name)
    except tz.TimeZoneError:
        raise GraphHTTPError(
            400,
            "TimeZoneNotSupportedException",
            f"A valid TimeZone value must be specified. The following TimeZone value is not supported: '{name}'. "
            f"({label}.timeZone: use a Windows name such as 'Pacific Standard Time' or an IANA name such as "
            "'America/Los_Angeles'.)",
        ) from None


def wall_time(dtz: dict[str, Any], label: str) -> tuple[dt.datetime, ZoneInfo, str]:
    """(naive wall time, zone, zone name as given) of a dateTimeTimeZone value."""
    name = dtz.get("timeZone") or "UTC"
    zone = zone_of(name, label)
    try:
        value = tz.parse_graph_datetime(dtz["dateTime"])
    except (ValueError, KeyError):
        raise bad_request(
            f"{label}.dateTime: '{dtz.get('dateTime')}' is not a valid date and time; use the form "
            "'2026-11-23T15:00:00' (with no offset: the zone goes in timeZone)."
        ) from None
    if value.tzinfo is not None:
        value = value.astimezone(zone).replace(tzinfo=None)
    return value, zone, name


@dataclass
class Times:
    start: dt.datetime  # naive wall time in start zone
    end: dt.datetime  # naive wall time in end zone
    start_zone: ZoneInfo
    end_zone: ZoneInfo
    start_utc: dt.datetime
    end_utc: dt.datetime

    @property
    def duration(self) -> dt.timedelta:
        return self.end_utc - self.start_utc


def event_times(doc: dict[str, Any]) -> Times:
    start, start_zone, _ = wall_time(doc["start"], "start")
    end, end_zone, _ = wall_time(doc["end"], "end")
    start_utc, end_utc = tz.to_utc(start, start_zone), tz.to_utc(end, end_zone)
    return Times(start, end, start_zone, end_zone, start_utc, end_utc)


def check_times(doc: dict[str, Any]) -> Times:
    """Validate start/end (and the all-day rules) of a stored-form event; 400 when they do not fit."""
    for key in ("start", "end"):
        if not doc.get(key):
            raise bad_request(
                f"The property '{key}' is required: give {{'dateTime': '2026-11-23T15:00:00', "
                "'timeZone': 'Pacific Standard Time'}.",
                "ErrorInvalidRequest",
            )
    times = event_times(doc)
    if times.end_utc < times.start_utc:
        raise GraphHTTPError(
            400, "ErrorCalendarEndDateIsEarlierThanStartDate", "The end date occurs before the start date."
        )
    if doc.get("isAllDay"):
        if times.start_zone.key != times.end_zone.key:  # Graph: "start and end time ... in the same time zone"
            raise GraphHTTPError(
                400,
                "ErrorPropertyValidationFailure",
                "An all-day event's start and end must be in the same time zone "
                f"(start is in {doc['start'].get('timeZone')}, end in {doc['end'].get('timeZone')}).",
            )
        midnight = dt.time(0, 0)
        if times.start.time() != midnight or times.end.time() != midnight or times.end.date() <= times.start.date():
            raise GraphHTTPError(
                400,
                "ErrorPropertyValidationFailure",
                "An all-day event's start and end must be at midnight (00:00:00) and end must be at least one day "
                "after start, e.g. start 2026-11-23T00:00:00, end 2026-11-24T00:00:00.",
            )
    return times


# -- building ----------------------------------------------------------------


def text_to_html(text: str) -> str:
    return "<html><head></head><body>" + html.escape(text).replace("\n", "<br>") + "</body></html>"


_TAG = re.compile(r"<[^>]+>")


def html_to_text(content: str) -> str:
    content = re.sub(r"(?is)<(script|style|head)[^>]*>.*?</\1>", "", content)
    content = re.sub(r"(?i)<br\s*/?>|</p>|</div>", "\n", content)
    return html.unescape(_TAG.sub("", content)).strip()


def body_preview(body: dict[str, Any] | None) -> str:
    if not body or not body.get("content"):
        return ""
    text = body["content"] if body.get("contentType") == "text" else html_to_text(body["content"])
    return " ".join(text.split())[:255]


def default_location(loc: dict[str, Any] | None) -> dict[str, Any]:
    loc = dict(loc or {})
    loc.setdefault("displayName", "")
    loc.setdefault("locationType", "default")
    loc.setdefault("uniqueIdType", "unknown" if not loc.get("uniqueId") else "private")
    if loc.get("displayName") and not loc.get("uniqueId"):
        loc["uniqueId"] = loc["displayName"]
        loc["uniqueIdType"] = "private"
    return loc


def normalise_attendees(attendees: list[dict[str, Any]] | None) -> list[dict[str, Any]]:
    out = []
    for a in attendees or []:
        email = a["emailAddress"]
        if not email.get("address"):
            raise bad_request("attendees: every attendee needs emailAddress.address.", "ErrorInvalidRecipients")
        out.append(
            {
                "type": a.get("type") or "required",
                "status": a.get("status") or {"response": "none", "time": NEVER},
                "emailAddress": {"name": email.get("name") or email["address"], "address": email["address"]},
            }
        )
    return out


def new_event_doc(body: dict[str, Any], organizer: dict[str, str], now: dt.datetime) -> dict[str, Any]:
    """A new stored-form event from a POST body (already type-checked)."""
    stamp = graph_timestamp(now)
    doc: dict[str, Any] = {
        "createdDateTime": stamp,
        "lastModifiedDateTime": stamp,
        "changeKey": new_change_key(),
        "categories": [],
        "transactionId": None,
        "originalStartTimeZone": (body.get("start") or {}).get("timeZone") or "UTC",
        "originalEndTimeZone": (body.get("end") or {}).get("timeZone") or "UTC",
        "iCalUId": new_ical_uid(),
        "reminderMinutesBeforeStart": 15,
        "isReminderOn": True,
        "hasAttachments": False,
        "subject": "",
        "bodyPreview": "",
        "importance": "normal",
        "sensitivity": "normal",
        "isAllDay": False,
        "isCancelled": False,
        "isOrganizer": True,
        "responseRequested": True,
        "seriesMasterId": None,
        "showAs": "busy",
        "type": "singleInstance",
        "webLink": None,
        "onlineMeetingUrl": None,
        "isOnlineMeeting": False,
        "onlineMeetingProvider": "unknown",
        "allowNewTimeProposals": True,
        "isDraft": False,
        "hideAttendees": False,
        "responseStatus": {"response": "organizer", "time": NEVER},
        "body": {"contentType": "html", "content": ""},
        "start": None,
        "end": None,
        "location": default_location(None),
        "locations": [],
        "recurrence": None,
        "attendees": [],
        "organizer": {"emailAddress": organizer},
        "onlineMeeting": None,
    }
    apply_changes(doc, body)
    return doc


def apply_changes(doc: dict[str, Any], body: dict[str, Any]) -> None:
    """Apply a (type-checked) POST/PATCH body to a stored-form event, Graph's way."""
    for key, value in body.items():
        if key.startswith("@odata.") or key == "organizer":
            continue
        if key == "body":
            value = {
                "contentType": (value or {}).get("contentType") or "text",
                "content": (value or {}).get("content") or "",
            }
        elif key in ("start", "end") and value is not None:
            value = {"dateTime": value["dateTime"], "timeZone": value.get("timeZone") or "UTC"}
            doc["originalStartTimeZone" if key == "start" else "originalEndTimeZone"] = value["timeZone"]
        elif key == "location":
            value = default_location(value)
        elif key == "locations":
            value = [default_location(v) for v in value or []]
        elif key == "attendees":
            value = normalise_attendees(value)
        elif key == "recurrence" and value is not None:
            try:
                value = rec.validate(value)
            except rec.RecurrenceError as e:
                raise bad_request(str(e), "ErrorInvalidRequest") from None
        elif key == "categories":
            value = list(value or [])
        doc[key] = value
    if "location" in body and "locations" not in body:
        doc["locations"] = [doc["location"]] if doc["location"].get("displayName") else []
    elif "locations" in body and "location" not in body:
        names = [loc["displayName"] for loc in doc["locations"] if loc.get("displayName")]
        doc["location"] = default_location({"displayName": "; ".join(names)} if names else None)
    if "body" in body:
        doc["bodyPreview"] = body_preview(doc["body"])
    if doc.get("isOnlineMeeting") and not doc.get("onlineMeeting"):
        if doc.get("onlineMeetingProvider") in (None, "unknown"):
            doc["onlineMeetingProvider"] = "teamsForBusiness"
        url = "https://teams.microsoft.com/l/meetup-join/19%3ameeting_" + doc["iCalUId"][-32:] + "%40thread.v2/0"
        doc["onlineMeeting"] = {"joinUrl": url}
        doc["onlineMeetingUrl"] = None
    elif "isOnlineMeeting" in body and not doc.get("isOnlineMeeting"):
        doc["onlineMeeting"] = None
        doc["onlineMeetingProvider"] = "unknown"
    doc["type"] = "seriesMaster" if doc.get("recurrence") else doc.get("type", "singleInstance")
    if doc["type"] == "seriesMaster" and not doc.get("recurrence"):
        doc["type"] = "singleInstance"


def check_event_body(body: Any) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise bad_request("The request body must be a JSON object describing a microsoft.graph.event.", "BadRequest")
    check(body, EVENT)
    return canonical_enums(body, EVENT)


def series_fields(doc: dict[str, Any], times: Times) -> tuple[dict[str, Any], ZoneInfo]:
    """Normalise a master's recurrence (startDate defaulting to the start date, zone to the start zone)."""
    recurrence = doc["recurrence"]
    rng = recurrence["range"]
    if not rng.get("startDate") or rng["startDate"] == "0001-01-01":
        rng["startDate"] = times.start.date().isoformat()
    if not rng.get("recurrenceTimeZone"):
        rng["recurrenceTimeZone"] = doc["start"].get("timeZone") or "UTC"
    zone = zone_of(rng["recurrenceTimeZone"], "recurrence.range.recurrenceTimeZone")
    return recurrence, zone


def index_columns(doc: dict[str, Any]) -> tuple[str, str | None, Times]:
    """(start_utc, end_utc, times) to store beside a document; series use their whole span."""
    times = check_times(doc)
    if doc.get("type") != "seriesMaster":
        return utc_key(times.start_utc), utc_key(times.end_utc), times
    recurrence, zone = series_fields(doc, times)
    try:
        first, last = rec.series_bounds(recurrence, series_start(doc, times, zone), zone, times.duration)
    except rec.RecurrenceError as e:
        raise bad_request(str(e)) from None
    return utc_key(first), (utc_key(last) if last else None), times


def series_start(doc: dict[str, Any], times: Times, zone: ZoneInfo) -> dt.datetime:
    """The series' start as a wall time in its recurrence zone."""
    return tz.to_utc(times.start, times.start_zone).astimezone(zone).replace(tzinfo=None)


# -- occurrences -------------------------------------------------------------


def occurrence_doc(
    master_id: str,
    master: dict[str, Any],
    original: dt.datetime,
    zone_name: str,
    duration: dt.timedelta,
    kind: str = "occurrence",
) -> dict[str, Any]:
    """A series occurrence (stored form), derived from its master and its original local start.

    Its start and end are kept as UTC instants, so an end inside a repeated (fall-back) hour keeps its fold."""
    zone = zone_of(zone_name, "recurrence.range.recurrenceTimeZone")
    start_utc = tz.to_utc(original, zone)
    return occurrence_from(master_id, master, original, start_utc, duration, kind)


def occurrence_from(
    master_id: str,
    master: dict[str, Any],
    original: dt.datetime,
    start_utc: dt.datetime,
    duration: dt.timedelta,
    kind: str = "occurrence",
) -> dict[str, Any]:
    doc = dict(master)
    end_utc = start_utc + duration
    doc.update(
        {
            "type": kind,
            "seriesMasterId": master_id,
            "recurrence": None,
            "start": {"dateTime": tz.format_graph_datetime(start_utc.replace(tzinfo=None)), "timeZone": "UTC"},
            "end": {"dateTime": tz.format_graph_datetime(end_utc.replace(tzinfo=None)), "timeZone": "UTC"},
            # Graph: the start "when it is initially created as an occurrence or exception" (an exception keeps it)
            "originalStart": start_utc.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        }
    )
    if master.get("isAllDay"):  # all-day occurrences are dates: keep midnight wall times in the series zone
        zone = zone_of(master["recurrence"]["range"].get("recurrenceTimeZone") or "UTC", "recurrence")
        local_end = (start_utc + duration).astimezone(zone).replace(tzinfo=None)
        doc["start"] = {"dateTime": tz.format_graph_datetime(original), "timeZone": zone.key}
        doc["end"] = {"dateTime": tz.format_graph_datetime(local_end), "timeZone": zone.key}
    doc["_id"] = occurrence_id(master_id, original)
    return doc


# One entry of a calendar window: a stored row (its JSON text), or an occurrence to derive from its master's
# (lookup.instance_doc makes the document). A plain tuple of strings, numbers and datetimes: the garbage
# collector stops tracking such tuples (not a NamedTuple's: only exact tuples), so a window of 20,000 instances
# kept for paging costs collections nothing. Its fields, by position:
Instance = tuple[str, str, str, str, int, str | None, dt.datetime | None, dt.datetime | None, dt.timedelta | None]
START_KEY: Final = 0  # the start as a UTC key (sorts)
EVENT_ID: Final = 1
KIND: Final = 2  # singleInstance | exception | occurrence
TEXT: Final = 3  # the row's stored document (JSON); for an occurrence, its master's
SEQ: Final = 4  # the row's change counter; for an occurrence, its master's
MASTER_ID: Final = 5  # exceptions and occurrences: the series master
ORIGINAL: Final = 6  # occurrences: the original local start
START_UTC: Final = 7  # occurrences: the start, an aware UTC instant
DURATION: Final = 8  # occurrences


def row_instance(row: EventRow) -> Instance:
    """The window entry of a stored single or exception."""
    kind, master = row["kind"], row["series_master_id"]
    return (row["start_utc"] or "", row["id"], kind, row["doc"], row["seq"], master, None, None, None)


# What expanding a series and showing an occurrence in brief need of its master's document: (recurrence zone, the
# series' first start as a wall time in it, the duration, the recurrence as JSON text, the master's changeKey, the
# master's isAllDay). A tuple of strings, datetimes and a zone only, so the garbage collector stops tracking it: a
# window keeps one per series (thousands in a large mailbox) without every collection walking them, as it would
# walk the parsed documents (a dict holding dicts or lists stays tracked).
Series = tuple[ZoneInfo, dt.datetime, dt.timedelta, str, str, bool]


def series_of(master: dict[str, Any]) -> Series:
    """The :data:`Series` of a stored series master's document."""
    times = event_times(master)
    zone_name = master["recurrence"]["range"].get("recurrenceTimeZone") or master["start"].get("timeZone") or "UTC"
    zone = zone_of(zone_name, "recurrence.range.recurrenceTimeZone")
    recurrence = json.dumps(master["recurrence"])
    return (
        zone,
        series_start(master, times, zone),
        times.duration,
        recurrence,
        master["changeKey"],
        bool(master.get("isAllDay")),
    )


def occurrence_brief(inst: Instance, series: Series, view: Render) -> dict[str, Any]:
    """An occurrence as a delta round shows it (``@odata.etag``, ``id``, ``seriesMasterId``, ``type``, ``start``,
    ``end``: the rest is its master's), from its window entry and its master's :data:`Series`: what
    :func:`render` makes of :func:`occurrence_from`'s document, without the master's document."""
    master_id, original, start_utc, duration = inst[MASTER_ID], inst[ORIGINAL], inst[START_UTC], inst[DURATION]
    assert master_id and original and start_utc and duration is not None  # an occurrence has them all
    _, _, _, recurrence, change_key, all_day = series
    stub: dict[str, Any] = {"changeKey": change_key, "isAllDay": all_day}
    if all_day:  # occurrence_from places all-day dates in the recurrence's zone
        stub["recurrence"] = {"range": json.loads(recurrence)["range"]}
    doc = occurrence_from(master_id, stub, original, start_utc, duration)
    return {
        "@odata.etag": etag(change_key),
        "id": inst[EVENT_ID],
        "seriesMasterId": master_id,
        "type": "occurrence",
        "start": _render_time(doc, "start", view),
        "end": _render_time(doc, "end", view),
    }


def expand_master(
    row: EventRow, series: Series, window_start: dt.datetime, window_end: dt.datetime, skip: set[str]
) -> list[Instance]:
    """Occurrences of the series of ``row`` (its :data:`Series`) overlapping the window, minus ids in ``skip``."""
    zone, first, duration, recurrence, _, _ = series
    # Its recurrence is parsed and compiled anew each time (microseconds): kept, the parsed and compiled forms would
    # be objects the garbage collector tracks, thousands of them for a large mailbox, slowing every collection more
    # than making them costs.
    starts = rec.expand(json.loads(recurrence), first, zone, duration, window_start, window_end)
    out: list[Instance] = []
    master_id, text, seq = row["id"], row["doc"], row["seq"]
    for original in starts:
        occ_id = occurrence_id(master_id, original)
        if occ_id in skip:
            continue
        start_utc = tz.to_utc(original, zone)
        out.append((utc_key(start_utc), occ_id, "occurrence", text, seq, master_id, original, start_utc, duration))
    return out


# -- rendering ---------------------------------------------------------------


def render(doc: dict[str, Any], event_id: str, view: Render) -> dict[str, Any]:
    """The Graph event a caller sees: times in the preferred zone, body in the preferred type, etag."""
    out: dict[str, Any] = {"@odata.etag": etag(doc["changeKey"]), "id": event_id}
    for key, value in doc.items():
        if not key.startswith("_"):
            out[key] = value
    if doc.get("start") and doc.get("end"):
        out["start"], out["end"] = _render_time(doc, "start", view), _render_time(doc, "end", view)
    body = doc.get("body") or {"contentType": "html", "content": ""}
    want = view.body_type or "html"
    if body.get("contentType") != want:
        content = body.get("content") or ""
        body = {"contentType": want, "content": text_to_html(content) if want == "html" else html_to_text(content)}
    out["body"] = body
    out["recurrence"] = copy.deepcopy(doc.get("recurrence"))
    if not out.get("webLink"):
        # ids are url-safe base64: only the padding needs escaping in a query string
        out["webLink"] = (
            "https://outlook.office365.com/owa/?itemid="
            + event_id.replace("=", "%3D")
            + "&exvsurl=1&path=/calendar/item"
        )
    return out


def _render_time(doc: dict[str, Any], key: str, view: Render) -> dict[str, str]:
    stored = doc[key]
    if (
        view.zone_name == "UTC"
        and stored.get("timeZone") == "UTC"
        and not doc.get("isAllDay")
        and len(stored["dateTime"]) == 27
    ):  # already Graph's 7-digit form: nothing to convert
        return {"dateTime": stored["dateTime"], "timeZone": "UTC"}
    value, zone, _ = wall_time(doc[key], key)
    if doc.get("isAllDay"):
        # All-day events are dates, not instants: they keep their dates in every zone.
        return {"dateTime": tz.format_graph_datetime(value), "timeZone": view.zone_name}
    moment = tz.to_utc(value, zone).astimezone(view.zone).replace(tzinfo=None)
    return {"dateTime": tz.format_graph_datetime(moment), "timeZone": view.zone_name}


def utc_form(doc: dict[str, Any]) -> dict[str, Any]:
    """start/end in UTC, for $filter comparisons (Graph compares instants)."""
    out = dict(doc)
    if doc.get("start") and doc.get("end"):
        view = Render()
        out["start"], out["end"] = _render_time(doc, "start", view), _render_time(doc, "end", view)
    return out


# -- store operations ----------------------------------------------------------


def store_event(
    store: Store,
    mailbox_id: str,
    calendar_id: str,
    doc: dict[str, Any],
    event_id: str | None = None,
    kind: str | None = None,
    master_id: str | None = None,
    original: str | None = None,
) -> str:
    doc = {k: v for k, v in doc.items() if not k.startswith("_")}  # derived, in-memory-only keys
    start_utc, end_utc, _ = index_columns(doc)
    event_id = event_id or new_item_id()
    store.put_event(
        {
            "id": event_id,
            "mailbox_id": mailbox_id,
            "calendar_id": calendar_id,
            "kind": kind or doc["type"],
            "series_master_id": master_id,
            "original_start": original,
            "ical_uid": doc["iCalUId"],
            "start_utc": start_utc,
            "end_utc": end_utc,
            "doc": doc,
        }
    )
    return event_id


def touch(doc: dict[str, Any], now: dt.datetime) -> None:
    doc["lastModifiedDateTime"] = graph_timestamp(now)
    doc["changeKey"] = new_change_key()
