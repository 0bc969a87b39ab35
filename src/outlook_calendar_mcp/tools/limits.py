"""How big and how far any tool argument may be, checked before anything is sent to Graph.

The error boundary (:mod:`.common`) runs :func:`check` on every call's arguments. It refuses, with the
argument's name and the limit:

* a string longer than its maximum (ids and handles 1,024 characters, subjects 255, bodies 1,000,000,
  every other string 4,096) or holding a NUL character (ids, paths and names: any control character);
* a list with more items than its maximum (attendees 500, everything else 100), at any depth;
* a time outside what Exchange stores (years 1601 to 4500) or a window longer than the tool's limit
  (views and delta 10 years, reminders 1 year, findMeetingTimes and getSchedule 62 days);
* a file name over 255 bytes, or a path over 4,096 bytes.

The limits are the server's own: the tools' JSON schemas stay free of them (OpenAI strict mode refuses
``maxLength`` and friends), so a client sees them only in the message of a refused call. :func:`clip` keeps a
value quoted in any message short.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel

from ..calendar import InputError

__all__ = ["EARLIEST", "LATEST", "WINDOW_DAYS", "check", "clip", "max_length"]

ID_MAX = 1024
DEFAULT_MAX = 4096
# Arguments naming an item: a handle (ev_..., short) or a Graph id (about 150 characters), an address.
IDS = frozenset(
    {
        "event",
        "calendar_id",
        "group_id",
        "attachment",
        "permission",
        "reminder",
        "item_event",
        "etag",
        "mailbox",
        "share_with",
        "room_list",
        "time_zone",
    }
)
MAXIMA: dict[str, int] = {
    "subject": 255,  # Exchange truncates subjects at 255 characters
    "name": 255,
    "description": 1_000_000,
    "content_base64": 200_000_000,  # checked again, decoded, against the attachment size limit
    "comment": 4000,
    "query": 255,
    "subject_contains": 255,
    "location": 255,
    "recurrence": 1024,
    "filter": 2048,
    "source_url": 2048,
    "path": 4096,
    "save_as": 4096,
}
LIST_MAXIMA: dict[str, int] = {"attendees": 500, "optional_attendees": 500, "to": 500}
LIST_MAX = 100
TIMES = frozenset({"start", "end", "until", "proposed_start", "proposed_end"})
FILE_NAMES = frozenset({"name", "save_as"})  # end up as file names (attachments, saved files)
PATHS = frozenset({"path", "save_as"})
EARLIEST = dt.date(1601, 1, 1)  # Exchange's first day (FILETIME's epoch)
LATEST = dt.date(4500, 12, 31)  # Exchange's last storable year
WINDOW_DAYS: dict[str, int] = {
    "calendar_view": 3653,
    "list_event_instances": 3653,
    "sync_events": 3653,
    "list_reminders": 366,
    "find_meeting_times": 62,
    "get_schedule": 62,
}
_YEAR = re.compile(r"^\s*([+-]?\d+)-")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def max_length(argument: str) -> int:
    return ID_MAX if argument in IDS else MAXIMA.get(argument, DEFAULT_MAX)


def clip(value: Any, limit: int = 80) -> str:
    """``value`` as text short enough to quote in a message (its length said when cut)."""
    text = value if isinstance(value, str) else repr(value)
    if len(text) <= limit:
        return text
    return f"{text[:limit]}… ({len(text):,} characters)"


def check(tool: str, arguments: Mapping[str, Any], today: dt.date | None) -> None:
    """Raise InputError for the first argument beyond its limit (see the module's docstring)."""
    for name, value in arguments.items():
        if value is None:
            continue
        _check_value(name, name, value)
        if name in TIMES and isinstance(value, str):
            _check_time(name, value)
    _check_window(tool, arguments, today)


def _check_value(argument: str, where: str, value: Any) -> None:
    if isinstance(value, BaseModel):
        value = value.model_dump(exclude_none=True)
    if isinstance(value, str):
        _check_string(argument, where, value)
    elif isinstance(value, (list, tuple)):
        limit = LIST_MAXIMA.get(argument, LIST_MAX)
        if len(value) > limit:
            raise InputError(f"{where}: {len(value)} items; at most {limit} are accepted. Send fewer.")
        for i, item in enumerate(value):
            _check_value(argument, f"{where}[{i}]", item)
    elif isinstance(value, dict):
        if len(value) > LIST_MAX:
            raise InputError(f"{where}: {len(value)} fields; at most {LIST_MAX} are accepted.")
        for key, item in value.items():
            _check_value(str(key), f"{where}.{clip(key, 40)}", item)


def _check_string(argument: str, where: str, value: str) -> None:
    limit = max_length(argument)
    if len(value) > limit:
        raise InputError(f"{where}: {len(value):,} characters; at most {limit:,} are accepted. Shorten it.")
    strict = argument in IDS or argument in PATHS or argument in FILE_NAMES or argument in TIMES
    bad = _CONTROL.search(value) if strict else re.search("\x00", value)
    if bad:
        raise InputError(
            f"{where}: contains the control character {bad.group()!r} at position {bad.start()}; remove it."
        )
    if argument in FILE_NAMES:
        leaf = value.replace("\\", "/").rsplit("/", 1)[-1]
        if len(leaf.encode("utf-8")) > 255:
            raise InputError(f"{where}: the file name is {len(leaf.encode()):,} bytes; at most 255 are accepted.")
    if argument in PATHS and len(value.encode("utf-8")) > 4096:
        raise InputError(f"{where}: the path is over 4,096 bytes; give a shorter one.")


def _year(value: str) -> int | None:
    m = _YEAR.match(value)
    return int(m.group(1)) if m else None


def _check_time(argument: str, value: str) -> None:
    year = _year(value)
    if year is not None and not EARLIEST.year <= year <= LATEST.year:
        raise InputError(
            f"{argument}: {clip(value, 40)} is outside the dates a calendar can hold "
            f"({EARLIEST.isoformat()} to {LATEST.isoformat()}); give a date in that range."
        )


def _rough(value: Any) -> dt.datetime | None:
    """The instant a time argument names, to the day (zones do not matter for a limit in days)."""
    if not isinstance(value, str):
        return None
    text = value.strip().replace(" ", "T")
    try:
        moment = dt.datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        return None
    return moment.replace(tzinfo=None)


def _check_window(tool: str, arguments: Mapping[str, Any], today: dt.date | None) -> None:
    limit = WINDOW_DAYS.get(tool)
    if limit is None:
        return
    start, end = _rough(arguments.get("start")), _rough(arguments.get("end"))
    if end is None or (start is None and today is None):
        return
    begin = start or dt.datetime.combine(today or dt.date.min, dt.time())
    if (end - begin).days > limit + 1:
        raise InputError(
            f"end: the window from {clip(arguments.get('start') or 'today', 40)} to {clip(arguments.get('end'), 40)} "
            f"spans {(end - begin).days:,} days; {tool} reads at most {limit} days at a time. Ask for a shorter window."
        )
