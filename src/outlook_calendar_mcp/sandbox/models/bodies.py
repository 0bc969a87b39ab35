"""Request-body checks for the sandbox, with Graph's wording.

A body is checked against a small declarative spec of the *writable*
properties of a Graph type before anything is stored: an unknown property,
a value of the wrong JSON type or an enum value Graph does not define is a 400
that names the property, so a bad request never changes the store.

The one spec language of the sandbox's bodies: ``"string" | "bool" | "int" |
"number" | "any"``, ``("enum", {...})``, ``("object", type_name, {prop: spec})``,
``("list", spec)``; every property may also be ``null`` unless wrapped in
``("required", spec)``. Two readers use it:

* :func:`check`, for resource bodies (an event, a calendar, mailboxSettings): strict JSON
  types, property names as Graph spells them, ``required`` enforced;
* :func:`read`, for the parameters of actions (accept, getSchedule, findMeetingTimes...):
  names and enum members case-insensitive, ``"true"``/``"12"`` read as bool/int, the value
  returned in Graph's spelling (``required`` is the action's to enforce).
"""

from __future__ import annotations

import math
import re
from typing import Any

from ..errors import GraphHTTPError, unknown_property

EMAIL = ("object", "emailAddress", {"address": "string", "name": "string"})
RECIPIENT = ("object", "recipient", {"emailAddress": EMAIL})
ADDRESS = (
    "object",
    "physicalAddress",
    {k: "string" for k in ("street", "city", "state", "countryOrRegion", "postalCode")},
)
COORDINATES = (
    "object",
    "outlookGeoCoordinates",
    {k: "number" for k in ("accuracy", "altitude", "altitudeAccuracy", "latitude", "longitude")},
)
LOCATION = (
    "object",
    "location",
    {
        "displayName": "string",
        "locationEmailAddress": "string",
        "locationUri": "string",
        "locationType": (
            "enum",
            {
                "default",
                "conferenceRoom",
                "homeAddress",
                "businessAddress",
                "geoCoordinates",
                "streetAddress",
                "hotel",
                "restaurant",
                "localBusiness",
                "postalAddress",
            },
        ),
        "uniqueId": "string",
        "uniqueIdType": ("enum", {"unknown", "locationStore", "directory", "private", "bing"}),
        "address": ADDRESS,
        "coordinates": COORDINATES,
    },
)
DATETIME_TZ = ("object", "dateTimeTimeZone", {"dateTime": ("required", "string"), "timeZone": "string"})
TIME_SLOT = ("object", "timeSlot", {"start": ("required", DATETIME_TZ), "end": ("required", DATETIME_TZ)})
RESPONSE_STATUS = (
    "object",
    "responseStatus",
    {
        "response": ("enum", {"none", "organizer", "tentativelyAccepted", "accepted", "declined", "notResponded"}),
        "time": "string",
    },
)
ATTENDEE = (
    "object",
    "attendee",
    {
        "emailAddress": ("required", EMAIL),
        "type": ("enum", {"required", "optional", "resource"}),
        "status": RESPONSE_STATUS,
        "proposedNewTime": TIME_SLOT,
    },
)
ATTENDEE_BASE = (
    "object",
    "attendeeBase",
    {"emailAddress": EMAIL, "type": ("enum", {"required", "optional", "resource"})},
)
LOCATION_ITEM = ("object", "locationConstraintItem", {**LOCATION[2], "resolveAvailability": "bool"})
ITEM_BODY = ("object", "itemBody", {"contentType": ("enum", {"text", "html"}), "content": "string"})
RECURRENCE = ("object", "patternedRecurrence", {"pattern": "any", "range": "any"})  # checked in recurrence.validate

EVENT = (
    "object",
    "event",
    {
        "subject": "string",
        "body": ITEM_BODY,
        "start": DATETIME_TZ,
        "end": DATETIME_TZ,
        "location": LOCATION,
        "locations": ("list", LOCATION),
        "attendees": ("list", ATTENDEE),
        "isAllDay": "bool",
        "recurrence": RECURRENCE,
        "reminderMinutesBeforeStart": "int",
        "isReminderOn": "bool",
        "showAs": ("enum", {"free", "tentative", "busy", "oof", "workingElsewhere", "unknown"}),
        "sensitivity": ("enum", {"normal", "personal", "private", "confidential"}),
        "importance": ("enum", {"low", "normal", "high"}),
        "categories": ("list", "string"),
        "isOnlineMeeting": "bool",
        "onlineMeetingProvider": ("enum", {"unknown", "skypeForBusiness", "skypeForConsumer", "teamsForBusiness"}),
        "allowNewTimeProposals": "bool",
        "responseRequested": "bool",
        "hideAttendees": "bool",
        "transactionId": "string",
        "originalStartTimeZone": "string",
        "originalEndTimeZone": "string",
        "organizer": RECIPIENT,
        "isDraft": "bool",
    },
)

CALENDAR_COLORS = {
    "auto",
    "lightBlue",
    "lightGreen",
    "lightOrange",
    "lightGray",
    "lightYellow",
    "lightTeal",
    "lightPink",
    "lightBrown",
    "lightRed",
    "maxColor",
}
CALENDAR = (
    "object",
    "calendar",
    {
        "name": "string",
        "color": ("enum", CALENDAR_COLORS),
        "hexColor": "string",
        "defaultOnlineMeetingProvider": (
            "enum",
            {"unknown", "skypeForBusiness", "skypeForConsumer", "teamsForBusiness"},
        ),
    },
)
CALENDAR_GROUP = ("object", "calendarGroup", {"name": "string", "classId": "string"})

DAYS = {"sunday", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday"}
WORKING_HOURS = (
    "object",
    "workingHours",
    {
        "daysOfWeek": ("list", ("enum", DAYS)),
        "startTime": "string",
        "endTime": "string",
        "timeZone": ("object", "timeZoneBase", {"name": "string", "@odata.type": "string"}),
    },
)
MAILBOX_SETTINGS = (
    "object",
    "mailboxSettings",
    {
        "timeZone": "string",
        "workingHours": WORKING_HOURS,
        "dateFormat": "string",
        "timeFormat": "string",
    },
)

_JSON_NAMES = {"string": "Edm.String", "bool": "Edm.Boolean", "int": "Edm.Int32", "number": "Edm.Double"}


def canonical_enums(value: Any, spec: Any) -> Any:
    """Graph reads enum members case-insensitively ("HTML" == "html") and stores its own spelling."""
    if isinstance(spec, tuple) and spec[0] == "required":
        spec = spec[1]
    if value is None or not isinstance(spec, tuple):
        return value
    if spec[0] == "enum" and isinstance(value, str):
        return next((m for m in spec[1] if m.lower() == value.lower()), value)
    if spec[0] == "list" and isinstance(value, list):
        return [canonical_enums(v, spec[1]) for v in value]
    if spec[0] == "object" and isinstance(value, dict):
        return {k: canonical_enums(v, spec[2].get(k)) for k, v in value.items()}
    return value


def check(value: Any, spec: Any, path: str = "") -> None:
    """Raise a 400 GraphHTTPError naming the first property of ``value`` that does not fit ``spec``."""
    required = isinstance(spec, tuple) and spec[0] == "required"
    if required:
        spec = spec[1]
    if value is None:
        if required:
            raise GraphHTTPError(400, "ErrorInvalidRequest", f"The property '{path}' is required and cannot be null.")
        return
    if spec == "any":
        return
    if isinstance(spec, str):
        ok = {
            "string": isinstance(value, str),
            "bool": isinstance(value, bool),
            "int": isinstance(value, int) and not isinstance(value, bool),
            "number": isinstance(value, (int, float)) and not isinstance(value, bool),
        }[spec]
        if not ok:
            raise _type_error(value, _JSON_NAMES[spec], path)
        return
    kind = spec[0]
    if kind == "enum":
        if not isinstance(value, str) or value.lower() not in {m.lower() for m in spec[1]}:
            allowed = ", ".join(sorted(spec[1]))
            raise GraphHTTPError(
                400, "RequestBodyRead", f"Invalid value '{value}' for property '{path}'. Allowed values: {allowed}."
            )
        return
    if kind == "list":
        if not isinstance(value, list):
            raise GraphHTTPError(
                400,
                "RequestBodyRead",
                f"The property '{path}' must be a JSON array (a collection), not {type(value).__name__}.",
            )
        for i, item in enumerate(value):
            check(item, spec[1], f"{path}[{i}]")
        return
    _, type_name, props = spec
    if not isinstance(value, dict):
        raise GraphHTTPError(
            400,
            "RequestBodyRead",
            f"The property '{path or type_name}' must be a JSON object of type 'microsoft.graph.{type_name}'.",
        )
    for key, item in value.items():
        if key.startswith("@odata."):
            continue
        if key not in props:
            raise unknown_property(key if not path else f"{path}.{key}", type_name)
        check(item, props[key], f"{path}.{key}" if path else key)
    for key, prop in props.items():
        if isinstance(prop, tuple) and prop[0] == "required" and key not in value:
            raise GraphHTTPError(
                400, "ErrorInvalidRequest", f"The property '{f'{path}.{key}' if path else key}' is required."
            )


def _type_error(value: Any, edm: str, path: str) -> GraphHTTPError:
    shown = value if isinstance(value, (str, int, float, bool)) else type(value).__name__
    return GraphHTTPError(
        400,
        "RequestBodyRead",
        f"Cannot convert the literal '{shown}' to the expected type '{edm}' (property '{path}').",
    )


def read(value: Any, spec: Any, path: str) -> Any:
    """``value`` read as Graph reads an action's parameters: names and enum members case-insensitively (back
    in Graph's spelling), "true"/"12" as bool/int; a 400 naming the first property that does not fit."""
    if isinstance(spec, tuple) and spec[0] == "required":  # parameters are checked by their action, not here
        spec = spec[1]
    if value is None:
        return None
    if spec == "any":
        return value
    if isinstance(spec, str):
        return _read_primitive(value, spec, path)
    kind = spec[0]
    if kind == "enum":
        members = {m.lower(): m for m in spec[1]}
        if not isinstance(value, str) or value.lower() not in members:
            allowed = ", ".join(sorted(spec[1]))
            raise GraphHTTPError(
                400, "RequestBodyRead", f"Invalid value '{value}' for property '{path}'. Allowed values: {allowed}."
            )
        return members[value.lower()]
    if kind == "list":
        if not isinstance(value, list):
            raise GraphHTTPError(
                400,
                "RequestBodyRead",
                f"The property '{path}' must be a JSON array (a collection), not {type(value).__name__}.",
            )
        return [read(item, spec[1], f"{path}[{i}]") for i, item in enumerate(value)]
    _, type_name, props = spec
    if not isinstance(value, dict):
        raise GraphHTTPError(
            400,
            "RequestBodyRead",
            f"The property '{path}' must be a JSON object of type 'microsoft.graph.{type_name}'.",
        )
    canonical = {name.lower(): name for name in props}
    out = {}
    for key, item in value.items():
        if key.startswith("@odata."):
            continue
        name = canonical.get(key.lower())
        if name is None:
            raise unknown_property(f"{path}.{key}", type_name)
        out[name] = read(item, props[name], f"{path}.{name}")
    return out


def _read_primitive(value: Any, kind: str, path: str) -> Any:
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
    raise GraphHTTPError(
        400,
        "RequestBodyRead",
        f"Cannot convert the literal '{shown}' to the expected type '{_JSON_NAMES[kind]}' (property '{path}').",
    )
