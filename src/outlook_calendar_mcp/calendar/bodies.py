"""Tool input → Graph event body: times, attendees, locations, recurrence (RRULE or a pattern)."""

from __future__ import annotations

import datetime as dt
import re
from enum import StrEnum
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, Field

from .. import timezones as tz
from .errors import InputError
from .times import parse_time


class Day(StrEnum):  # an Enum: one shared schema definition instead of the list spelled out twice
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


RRULE_HELP = "e.g. FREQ=WEEKLY;BYDAY=MO,WE;COUNT=10 or FREQ=MONTHLY;BYDAY=-1FR;UNTIL=20271231"
_RR_DAYS = {d.value[:2].upper(): d for d in Day}
_RR_INDEX = {1: "first", 2: "second", 3: "third", 4: "fourth", -1: "last"}
_RR_KEYS = {"FREQ", "INTERVAL", "BYDAY", "BYMONTHDAY", "BYMONTH", "BYSETPOS", "COUNT", "UNTIL", "WKST"}


def parse_rrule(text: str, label: str = "recurrence") -> RecurrenceInput:
    """An RFC 5545 RRULE (what Outlook's patterns can express) → the recurrence model Graph's patterns map from.

    DAILY; WEEKLY with BYDAY; MONTHLY with BYMONTHDAY (absolute) or BYDAY with an ordinal / BYSETPOS (relative);
    YEARLY with BYMONTH and BYMONTHDAY or an ordinal BYDAY; INTERVAL; COUNT or UNTIL; WKST."""
    rule = text.strip()
    if rule.upper().startswith("RRULE:"):
        rule = rule[6:]
    parts: dict[str, str] = {}
    for item in filter(None, rule.split(";")):
        key, sep, value = item.partition("=")
        key = key.strip().upper()
        if not sep or not value.strip():
            raise InputError(f"{label}: '{item}' is not KEY=VALUE; write an RRULE, {RRULE_HELP}.")
        if key not in _RR_KEYS:
            raise InputError(
                f"{label}: {key} is not supported (Outlook repeats by day, week, month or year); "
                f"use FREQ, INTERVAL, BYDAY, BYMONTHDAY, BYMONTH, BYSETPOS, COUNT, UNTIL, WKST."
            )
        parts[key] = value.strip().upper()
    freq = parts.get("FREQ")
    if freq not in ("DAILY", "WEEKLY", "MONTHLY", "YEARLY"):
        raise InputError(f"{label}: FREQ must be DAILY, WEEKLY, MONTHLY or YEARLY; {RRULE_HELP}.")
    if "COUNT" in parts and "UNTIL" in parts:
        raise InputError(f"{label}: give COUNT or UNTIL, not both.")

    def number(key: str, low: int, high: int) -> int:
        try:
            value = int(parts[key])
        except ValueError:
            raise InputError(f"{label}: {key}={parts[key]} is not a whole number.") from None
        if not low <= value <= high:
            raise InputError(f"{label}: {key} must be between {low} and {high}.")
        return value

    days, ordinals = [], set()
    for token in filter(None, parts.get("BYDAY", "").split(",")):
        match = re.fullmatch(r"([+-]?\d)?(MO|TU|WE|TH|FR|SA|SU)", token)
        if not match:
            raise InputError(f"{label}: BYDAY value '{token}' is not a weekday such as MO or -1FR.")
        days.append(_RR_DAYS[match.group(2)])
        if match.group(1):
            ordinals.add(int(match.group(1)))
    if "BYSETPOS" in parts:
        ordinals.add(number("BYSETPOS", -1, 4))
    if len(ordinals) > 1 or (ordinals and ordinals - set(_RR_INDEX)):
        raise InputError(f"{label}: Outlook supports one position: 1, 2, 3, 4 or -1 (last).")
    index = _RR_INDEX[ordinals.pop()] if ordinals else None
    monthday = number("BYMONTHDAY", 1, 31) if "BYMONTHDAY" in parts else None
    month = number("BYMONTH", 1, 12) if "BYMONTH" in parts else None
    pattern = {"DAILY": "daily", "WEEKLY": "weekly"}.get(freq, "")  # monthly and yearly: just below
    if freq in ("MONTHLY", "YEARLY"):
        # As in RFC 5545, what the rule leaves out comes from the start (the day of the month, the month).
        kind = "relative" if days else "absolute"
        if kind == "relative" and not index:
            raise InputError(
                f"{label}: a {freq.lower()} rule by weekday needs a position, e.g. BYDAY=2TU or "
                "BYDAY=FR;BYSETPOS=-1 (Outlook cannot repeat every Tuesday of a month)."
            )
        pattern = kind + ("Monthly" if freq == "MONTHLY" else "Yearly")
    until = None
    if "UNTIL" in parts:
        match = re.fullmatch(r"(\d{4})-?(\d{2})-?(\d{2})(T.*)?", parts["UNTIL"])
        if not match:
            raise InputError(f"{label}: UNTIL must be a date such as 20271231.")
        until = "-".join(match.groups()[:3])
    first_day = _RR_DAYS.get(parts.get("WKST", ""))
    if "WKST" in parts and first_day is None:
        raise InputError(f"{label}: WKST must be a weekday such as MO or SU.")
    return RecurrenceInput(
        pattern=pattern,
        interval=number("INTERVAL", 1, 99) if "INTERVAL" in parts else 1,
        days_of_week=days or None,
        day_of_month=monthday,
        month=month,
        index=index if pattern.startswith("relative") else None,
        first_day_of_week=first_day,
        end_date=until,
        occurrences=number("COUNT", 1, 999) if "COUNT" in parts else None,
    )


def _date(value: str, label: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value.strip()[:10])
    except ValueError:
        raise InputError(f"{label}: '{value}' is not a date; use YYYY-MM-DD, e.g. 2026-11-27.") from None


def times_body(
    start: str | None,
    end: str | None,
    all_day: bool,
    zone_name: str,
    zone: ZoneInfo,
    *,
    duration_default: dt.timedelta | None = None,
) -> dict[str, Any]:
    """start/end (and isAllDay) for Graph. Times without offset are read in ``zone``."""
    if start is None:
        raise InputError("start: required, e.g. '2026-11-23T15:00' (read in the mailbox's time zone).")
    if all_day:
        first = _date(start, "start")
        last = _date(end, "end") if end else first + dt.timedelta(days=1)
        if last <= first:
            raise InputError(
                f"end: for an all-day event end is the day after the last day (exclusive); "
                f"'{end}' is not after start '{start}'. Use e.g. end={first + dt.timedelta(days=1)}."
            )
        return {
            "isAllDay": True,
            "start": {"dateTime": f"{first.isoformat()}T00:00:00", "timeZone": zone_name},
            "end": {"dateTime": f"{last.isoformat()}T00:00:00", "timeZone": zone_name},
        }
    begin = parse_time(start, zone, "start")
    if end is None:
        if duration_default is None:
            raise InputError("end: required, e.g. '2026-11-23T16:00'.")
        finish = begin + duration_default
    else:
        finish = parse_time(end, zone, "end")
    if finish.astimezone(dt.UTC) <= begin.astimezone(dt.UTC):
        raise InputError(
            f"end: {end} is not after start {start}; give an end later than the start (or all_day=true with dates)."
        )
    return {"isAllDay": False, "start": tz.to_graph(begin, zone_name), "end": tz.to_graph(finish, zone_name)}


def attendees_body(attendees: list[AttendeeInput]) -> list[dict[str, Any]]:
    out, seen = [], set()
    for i, a in enumerate(attendees):
        address = a.email.strip()
        if not _EMAIL.match(address):
            raise InputError(
                f"attendees[{i}].email: '{a.email}' is not an email address; use find_people to look "
                "up a name, then pass the address."
            )
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


def recurrence_body(rec: RecurrenceInput | str, start_date: dt.date, zone_name: str) -> dict[str, Any]:
    if isinstance(rec, str):
        rec = parse_rrule(rec)
        # What an RRULE leaves out comes from the start date (RFC 5545): the weekday, the day, the month.
        weekday = list(Day)[(start_date.weekday() + 1) % 7]
        rec = rec.model_copy(
            update={
                "days_of_week": rec.days_of_week or ([weekday] if rec.pattern == "weekly" else None),
                "day_of_month": rec.day_of_month or (start_date.day if rec.pattern.startswith("absolute") else None),
                "month": rec.month or (start_date.month if rec.pattern.endswith("Yearly") else None),
            }
        )
    needs = {
        "weekly": ["days_of_week"],
        "absoluteMonthly": ["day_of_month"],
        "relativeMonthly": ["days_of_week"],
        "absoluteYearly": ["day_of_month", "month"],
        "relativeYearly": ["days_of_week", "month"],
    }.get(rec.pattern, [])
    rrule = {"days_of_week": "BYDAY", "day_of_month": "BYMONTHDAY", "month": "BYMONTH"}
    for name in needs:
        if not getattr(rec, name):
            raise InputError(f"recurrence: {rrule[name]} is required for this rule ({RRULE_HELP}).")
    if rec.end_date and rec.occurrences:
        raise InputError("recurrence: give COUNT or UNTIL, not both.")
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
            raise InputError(f"recurrence: UNTIL {last} is before the series starts ({first}).")
        rng.update(type="endDate", endDate=last.isoformat())
    elif rec.occurrences:
        rng.update(type="numbered", numberOfOccurrences=rec.occurrences)
    return {"pattern": pattern, "range": rng}
