"""Parameters of Graph actions and functions (getSchedule, findMeetingTimes, accept, snoozeReminder...), read as Graph reads them.

Spec: "string" | "bool" | "int" | "number" | ("enum", {...}) | ("list", spec) | ("object", type, {prop: spec}).
"""

from __future__ import annotations

import datetime as dt
import math
import re
from typing import Any

from ... import timezones as tz
from ..ctx import Ctx
from ..errors import GraphHTTPError, bad_request, unknown_property
from ..models import events as ev

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
