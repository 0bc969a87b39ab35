"""Tool input → Graph event body: times, attendees, locations, recurrence."""

from __future__ import annotations

import datetime as dt
import re
from enum import Enum
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, Field

from .. import timezones as tz
from .common import InputError

class Day(str, Enum):  # an Enum: one shared schema definition instead of the list spelled out twice
    sunday = "sunday"
    monday = "monday"
    tuesday = "tuesday"
    wednesday = "wednesday"
    thursday = "thursday"
    friday = "friday"
    saturday = "saturday"
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


class AttendeeInput(BaseModel):
    model_config = ConfigDict(extra="forbid")
    email: str
    name: str | None = None
    type: Literal["required", "optional", "resource"] = "required"


class RecurrenceInput(BaseModel):
    """Repeat rule; ends on end_date, after occurrences, or never."""

    model_config = ConfigDict(extra="forbid")
    pattern: Literal["daily", "weekly", "absoluteMonthly", "relativeMonthly", "absoluteYearly", "relativeYearly"]
    interval: Annotated[int, Field(ge=1, le=99, strict=True)] = 1
    days_of_week: list[Day] | None = None
    day_of_month: Annotated[int | None, Field(ge=1, le=31, strict=True)] = None
    month: Annotated[int | None, Field(ge=1, le=12, strict=True)] = None
    index: Literal["first", "second", "third", "fourth", "last"] | None = None
    first_day_of_week: Day | None = None
    start_date: str | None = Field(None, description="YYYY-MM-DD; default event start")
    end_date: str | None = Field(None, description="YYYY-MM-DD, inclusive")
    occurrences: Annotated[int | None, Field(ge=1, le=999, strict=True)] = None


def parse_time(value: str, zone: ZoneInfo, label: str) -> dt.datetime:
    moment = tz.parse_user_time(value, zone, label=label)
    wall = _naive_wall(value)
    if wall is not None and tz.is_nonexistent(wall, zone):
        raise InputError(f"{label}: {value} does not exist in {zone.key}: the clocks jump forward over it "
                         f"(daylight saving starts). Pick a time outside the gap, e.g. "
                         f"{tz.format_local(moment, zone)}, or give an explicit UTC offset.")
    return moment


def _naive_wall(value: str) -> dt.datetime | None:
    """The wall time of an input without offset (None when it carries one or is a bare date)."""
    text = value.strip().replace(" ", "T")
    if len(text) <= 10 or text.endswith(("Z", "z")) or re.search(r"[+-]\d{2}(:?\d{2})?$", text[10:]):
        return None
    try:
        return dt.datetime.fromisoformat(text)
    except ValueError:
        return None


def _date(value: str, label: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value.strip()[:10])
    except ValueError:
        raise InputError(f"{label}: '{value}' is not a date; use YYYY-MM-DD, e.g. 2026-11-27.") from None


def times_body(start: str | None, end: str | None, all_day: bool, zone_name: str, zone: ZoneInfo,
               *, duration_default: dt.timedelta | None = None) -> dict[str, Any]:
    """start/end (and isAllDay) for Graph. Times without offset are read in ``zone``."""
    if start is None:
        raise InputError("start: required, e.g. '2026-11-23T15:00' (read in the mailbox's time zone).")
    if all_day:
        first = _date(start, "start")
        last = _date(end, "end") if end else first + dt.timedelta(days=1)
        if last <= first:
            raise InputError(f"end: for an all-day event end is the day after the last day (exclusive); "
                             f"'{end}' is not after start '{start}'. Use e.g. end={first + dt.timedelta(days=1)}.")
        return {"isAllDay": True,
                "start": {"dateTime": f"{first.isoformat()}T00:00:00", "timeZone": zone_name},
                "end": {"dateTime": f"{last.isoformat()}T00:00:00", "timeZone": zone_name}}
    begin = parse_time(start, zone, "start")
    if end is None:
        if duration_default is None:
            raise InputError("end: required, e.g. '2026-11-23T16:00'.")
        finish = begin + duration_default
    else:
        finish = parse_time(end, zone, "end")
    if finish.astimezone(dt.timezone.utc) <= begin.astimezone(dt.timezone.utc):
        raise InputError(f"end: {end} is not after start {start}; give an end later than the start "
                         "(or all_day=true with dates).")
    return {"isAllDay": False, "start": tz.to_graph(begin, zone_name), "end": tz.to_graph(finish, zone_name)}


def attendees_body(attendees: list[AttendeeInput]) -> list[dict[str, Any]]:
    out, seen = [], set()
    for i, a in enumerate(attendees):
        address = a.email.strip()
        if not _EMAIL.match(address):
            raise InputError(f"attendees[{i}].email: '{a.email}' is not an email address; use find_people to look "
                             "up a name, then pass the address.")
        if address.lower() in seen:
            continue
        seen.add(address.lower())
        out.append({"type": a.type, "emailAddress": {"address": address, "name": a.name or address}})
    return out


def locations_body(location: str | None, locations: list[str] | None) -> dict[str, Any]:
    body: dict[str, Any] = {}
    if locations:
        body["locations"] = [{"displayName": name} for name in locations if name.strip()]
        body["location"] = {"displayName": location or "; ".join(locations)}
    elif location is not None:
        body["location"] = {"displayName": location}
    return body


def recurrence_body(rec: RecurrenceInput, start_date: dt.date, zone_name: str) -> dict[str, Any]:
    needs = {
        "weekly": ["days_of_week"], "absoluteMonthly": ["day_of_month"], "relativeMonthly": ["days_of_week"],
        "absoluteYearly": ["day_of_month", "month"], "relativeYearly": ["days_of_week", "month"],
    }.get(rec.pattern, [])
    for name in needs:
        if not getattr(rec, name):
            raise InputError(f"recurrence.{name}: required when pattern is '{rec.pattern}'.")
    if rec.end_date and rec.occurrences:
        raise InputError("recurrence: give end_date or occurrences, not both.")
    pattern: dict[str, Any] = {"type": rec.pattern, "interval": rec.interval}
    if rec.days_of_week:
        pattern["daysOfWeek"] = [Day(d).value for d in rec.days_of_week]
    if rec.day_of_month:
        pattern["dayOfMonth"] = rec.day_of_month
    if rec.month:
        pattern["month"] = rec.month
    if rec.pattern.startswith("relative"):
        pattern["index"] = rec.index or "first"
    if rec.first_day_of_week:
        pattern["firstDayOfWeek"] = Day(rec.first_day_of_week).value
    first = _date(rec.start_date, "recurrence.start_date") if rec.start_date else start_date
    rng: dict[str, Any] = {"type": "noEnd", "startDate": first.isoformat(), "recurrenceTimeZone": zone_name}
    if rec.end_date:
        last = _date(rec.end_date, "recurrence.end_date")
        if last < first:
            raise InputError(f"recurrence.end_date: {last} is before the series starts ({first}).")
        rng.update(type="endDate", endDate=last.isoformat())
    elif rec.occurrences:
        rng.update(type="numbered", numberOfOccurrences=rec.occurrences)
    return {"pattern": pattern, "range": rng}
