"""The one parser of times people and models give, and the windows made of them.

:func:`parse_time` is what every operation reads a time with (calendar_view, sync_events, reminders,
scheduling, responses and event bodies alike): ISO 8601 through
:func:`~outlook_calendar_mcp.timezones.parse_user_time`, read in the calendar's zone when it has no
offset, and a wall time that does not exist there (the clocks jump over it when daylight saving starts)
refused with the fix rather than moved silently. A wall time that happens twice reads as the first.
"""

from __future__ import annotations

import datetime as dt
import re
from zoneinfo import ZoneInfo

from .. import timezones as tz
from ..clock import Clock
from .errors import InputError

__all__ = ["any_zone_view", "default_window", "parse_time", "utc_text", "window"]


def parse_time(value: str, zone: ZoneInfo, label: str = "time") -> dt.datetime:
    """A time from a person or model -> aware datetime in ``zone``; ``label`` names the argument in errors."""
    moment = tz.parse_user_time(value, zone, label=label)
    wall = _naive_wall(value)
    if wall is not None and tz.is_nonexistent(wall, zone):
        raise InputError(
            f"{label}: {value} does not exist in {zone.key}: the clocks jump forward over it "
            f"(daylight saving starts). Pick a time outside the gap, e.g. "
            f"{tz.format_local(moment, zone)}, or give an explicit UTC offset."
        )
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


def utc_text(moment: dt.datetime) -> str:
    """An aware instant as Graph's query parameters take it: ``2026-11-23T23:00:00Z``."""
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def window(start: str, end: str, zone: ZoneInfo) -> tuple[str, str]:
    """``start``..``end`` (read in ``zone``) as UTC query parameters; the end must be after the start."""
    begin = parse_time(start, zone, "start")
    finish = parse_time(end, zone, "end")
    if finish <= begin:
        raise InputError(f"end: {end} is not after start {start}; give a window whose end is later than its start.")
    return utc_text(begin), utc_text(finish)


def default_window(clock: Clock, zone: ZoneInfo, start: str | None, end: str | None, days: int) -> tuple[str, str]:
    """``start`` (default: today 00:00 in ``zone``) and ``end`` (default: ``days`` after the start)."""
    if start is None:
        start = clock.today(zone).isoformat()
    if end is None:
        end = (parse_time(start, zone, "start") + dt.timedelta(days=days)).isoformat()
    return start, end


# The zones furthest apart (UTC+14 and UTC-12): a wall time is an instant between its readings in these two.
_EXTREMES = (ZoneInfo("Etc/GMT-14"), ZoneInfo("Etc/GMT+12"))
_MARGIN = dt.timedelta(days=2)  # a day's length and a date's zone-dependence (today, daylight saving), with room


def any_zone_view(
    clock: Clock, start: str | None, end: str | None, days: int
) -> tuple[dt.datetime, dt.datetime] | None:
    """A UTC window holding :func:`default_window` then :func:`window` of these arguments in every zone: what
    can be read before the mailbox's zone is known (None when they make no window; the exact one says why)."""
    begins, ends = [], []
    for zone in _EXTREMES:
        try:
            s, e = default_window(clock, zone, start, end, days)
            begins.append(tz.parse_user_time(s, zone))
            ends.append(tz.parse_user_time(e, zone))
        except (InputError, ValueError):
            return None
    return min(begins) - _MARGIN, max(ends) + _MARGIN
