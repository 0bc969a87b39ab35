"""Parameters of Graph actions and functions (getSchedule, findMeetingTimes, accept, snoozeReminder...).

The parameters are declared in the one body-spec language of :mod:`..models.bodies` and read with
its lenient reader (:func:`..models.bodies.read`), as Graph reads action parameters.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from ... import timezones as tz
from ..ctx import Ctx
from ..errors import GraphHTTPError, bad_request
from ..models import events as ev
from ..models.bodies import read


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
            raise GraphHTTPError(
                400,
                "RequestBodyRead",
                f"The parameter '{key}' in the request payload is not a valid "
                f"parameter for the operation '{operation}'.",
            )
        out[name] = read(value, params[name], name)
    return out


def instant(dtz: dict[str, Any] | None, label: str) -> tuple[dt.datetime, str]:
    """(aware UTC instant, zone name as given) of a request's dateTimeTimeZone."""
    if not dtz or not dtz.get("dateTime"):
        raise bad_request(
            f"{label} is required: give {{'dateTime': '2026-11-23T09:00:00', 'timeZone': 'Pacific Standard Time'}}.",
            "ErrorInvalidParameter",
        )
    value = dict(dtz)
    # '2016-05-20T7:00:00' (a one-digit hour, as in the reference) reads as 07:00.
    value["dateTime"] = re.sub(r"T(\d)(?=:)", r"T0\1", value["dateTime"].strip())
    wall, zone, name = ev.wall_time(value, label)
    return tz.to_utc(wall, zone), name


def render_instant(ctx: Ctx, moment: dt.datetime) -> dict[str, str]:
    """An instant as dateTimeTimeZone in the caller's preferred zone (Prefer: outlook.timezone, default UTC)."""
    local = moment.astimezone(ctx.view.zone).replace(tzinfo=None)
    return {"dateTime": tz.format_graph_datetime(local), "timeZone": ctx.view.zone_name}
