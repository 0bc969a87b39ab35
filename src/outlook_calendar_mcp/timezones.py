"""Time zones and times for Graph and for tool inputs.

Names: IANA ("America/Los_Angeles") and Windows ("Pacific Standard Time",
case-insensitive) are both accepted, as are the UTC spellings Graph uses
("UTC", "Etc/UTC", "tzone://Microsoft/Utc"). Windows -> IANA goes through
CLDR's windowsZones table as shipped by tzlocal (``win_tz``: the territory
"001" zone of each Windows name); IANA -> Windows through its ``tz_win``.
The first is never derived by inverting the second: inversion picks an
arbitrary alias and yields dead zones such as ``US/Pacific-New``.

Wall times: a naive wall time is turned into an instant with ``fold=0``.
For an ambiguous time (DST ends) that is the first, earlier occurrence; for a
nonexistent time (DST starts) zoneinfo then applies the offset from before
the transition, which moves the time forward by the size of the gap
(02:30 on a New York spring-forward day becomes 03:30 EDT). Results are in
the zone itself; compare instants in UTC, since by PEP 495 ``==`` between
different zones is always False when one side is an ambiguous wall time.

Graph's ``dateTime`` strings carry 7 fractional digits and no offset; Python
keeps 6, so parsing truncates and formatting appends a zero.

The current time is not read here: it comes from the one injectable
:class:`~outlook_calendar_mcp.clock.Clock` (``Services.clock`` in the server).
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta, timezone
from functools import cache, lru_cache
from zoneinfo import ZoneInfo, available_timezones

from tzlocal.windows_tz import tz_win, win_tz

__all__ = [
    "DateTimeFormatError",
    "TimeZoneError",
    "format_graph_datetime",
    "format_local",
    "from_graph",
    "iana_name",
    "is_ambiguous",
    "is_known",
    "is_nonexistent",
    "parse_graph_datetime",
    "parse_user_time",
    "resolve",
    "to_graph",
    "to_utc",
    "windows_name",
]


class TimeZoneError(ValueError):
    """A time zone name that cannot be resolved; the message says how to fix it."""


class DateTimeFormatError(ValueError):
    """A date-time string in the wrong form; the message shows the expected form."""


UTC_NAMES = frozenset({"utc", "etc/utc", "tzone://microsoft/utc"})
_ZONE_HINT = "Use an IANA name such as 'America/Los_Angeles' or a Windows name such as 'Pacific Standard Time'"
# IANA zones missing from CLDR's IANA -> Windows table that still have an obvious Windows zone.
_EXTRA_TZ_WIN = {
    "GMT": "UTC",
    "EST5EDT": "Eastern Standard Time",
    "CST6CDT": "Central Standard Time",
    "MST7MDT": "Mountain Standard Time",
    "PST8PDT": "Pacific Standard Time",
    "US/East-Indiana": "US Eastern Standard Time",
    "Europe/Uzhgorod": "FLE Standard Time",
    "Europe/Zaporozhye": "FLE Standard Time",
}


@cache
def _names() -> dict[str, tuple[str, str]]:
    """Lower-cased accepted name -> (kind, proper spelling); kind is 'utc', 'iana' or 'windows'."""
    table: dict[str, tuple[str, str]] = {}
    # "localtime" names whatever the host is set to: never a mailbox's zone.
    for key in available_timezones() - {"localtime"}:
        table[key.lower()] = ("iana", key)
    for name in win_tz:
        table.setdefault(name.lower(), ("windows", name))
    for alias in UTC_NAMES:
        table[alias] = ("utc", "UTC")
    return table


def _lookup(name: object) -> tuple[str, str]:
    if not isinstance(name, str):
        raise TimeZoneError(f"Time zone must be a string, got {type(name).__name__}. {_ZONE_HINT}.")
    key = name.strip()
    if not key:
        raise TimeZoneError(f"Time zone is empty. {_ZONE_HINT}.")
    table = _names()
    found = table.get(key.lower())
    if found is None:
        if key.lower().startswith("tzone://"):
            raise TimeZoneError(
                f"Time zone {name!r} is a Graph custom time zone with no name to resolve. {_ZONE_HINT}."
            )
        close = difflib.get_close_matches(key.lower(), list(table), n=4, cutoff=0.75)
        names = [repr(n) for n in dict.fromkeys(table[c][1] for c in close)][:3]
        hint = ""
        if names:
            hint = " (did you mean " + (", ".join(names[:-1]) + " or " if len(names) > 1 else "") + names[-1] + "?)"
        raise TimeZoneError(f"Unknown time zone {name!r}. {_ZONE_HINT}{hint}.")
    return found


def iana_name(name: str) -> str:
    """Windows or IANA name (any case) -> the IANA key; every UTC spelling -> 'UTC'."""
    kind, proper = _lookup(name)
    return win_tz[proper] if kind == "windows" else proper


@lru_cache(maxsize=512)
def resolve(name: str) -> ZoneInfo:
    """Windows, IANA or UTC name -> ZoneInfo; raises TimeZoneError with a suggestion."""
    return ZoneInfo(iana_name(name))


def is_known(name: str) -> bool:
    """True when ``resolve(name)`` would succeed."""
    try:
        _lookup(name)
    except TimeZoneError:
        return False
    return True


def windows_name(name_or_zone: str | ZoneInfo) -> str:
    """IANA or Windows name, or a ZoneInfo -> the Windows name Graph knows ('UTC' for UTC)."""
    if isinstance(name_or_zone, ZoneInfo):
        if name_or_zone.key is None:
            raise TimeZoneError("This time zone was loaded from a file and has no name. " + _ZONE_HINT + ".")
        name_or_zone = name_or_zone.key
    kind, proper = _lookup(name_or_zone)
    if kind == "utc":
        return "UTC"
    if kind == "windows":
        return proper
    found = tz_win.get(proper) or _EXTRA_TZ_WIN.get(proper)
    if not found:
        raise TimeZoneError(
            f"Time zone {proper!r} has no Windows equivalent. Use a zone such as "
            "'Europe/Oslo' or a Windows name such as 'W. Europe Standard Time'."
        )
    return found


# ---------------------------------------------------------------- Graph dateTime

_GRAPH_RE = re.compile(r"(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?(Z|[+-]\d{2}:?\d{2})?")
_GRAPH_FORM = (
    "Expected 'YYYY-MM-DDTHH:MM:SS[.fffffff]' with an optional 'Z' or '+HH:MM', e.g. '2017-04-15T12:00:00.0000000'"
)


def _offset(text: str) -> timezone:
    if text in ("Z", "z"):
        return UTC
    sign = -1 if text[0] == "-" else 1
    digits = text[1:].replace(":", "")
    hours, minutes = int(digits[:2]), int(digits[2:] or 0)
    if hours > 23 or minutes > 59:
        raise ValueError(f"offset {text} must be between -23:59 and +23:59")
    return timezone(sign * timedelta(hours=hours, minutes=minutes))


def _build(m: re.Match[str], value: str, form: str) -> datetime:
    """Datetime from the groups (y, m, d, H, M, S, fraction, offset) of a match."""
    y, mo, d, h, mi, s, frac, off = m.groups()
    try:
        tz = _offset(off) if off else None
        return datetime(
            int(y),
            int(mo),
            int(d),
            int(h or 0),
            int(mi or 0),
            int(s or 0),
            int((frac or "").ljust(6, "0")[:6]),
            tzinfo=tz,
        )
    except ValueError as e:  # month 13, hour 25, offset beyond 24h, ...
        raise DateTimeFormatError(f"{value!r} is not a valid date-time ({e}). {form}.") from None


def parse_graph_datetime(value: str) -> datetime:
    """Graph dateTime -> datetime: naive without an offset, aware with 'Z' or '+HH:MM'.

    Fractions beyond microseconds (Graph sends 7 digits) are truncated.
    """
    if not isinstance(value, str):
        raise DateTimeFormatError(f"Expected a date-time string, got {type(value).__name__}. {_GRAPH_FORM}.")
    m = _GRAPH_RE.fullmatch(value.strip())
    if m is None:
        raise DateTimeFormatError(f"{value!r} is not a Graph dateTime. {_GRAPH_FORM}.")
    return _build(m, value, _GRAPH_FORM)


def format_graph_datetime(dt: datetime) -> str:
    """Wall time of ``dt`` (naive or aware) -> 'YYYY-MM-DDTHH:MM:SS.fffffff' (Graph's 7 digits)."""
    return (
        f"{dt.year:04d}-{dt.month:02d}-{dt.day:02d}T{dt.hour:02d}:{dt.minute:02d}:{dt.second:02d}.{dt.microsecond:06d}0"
    )


# ---------------------------------------------------------------- wall time <-> instant


def to_utc(local: datetime, zone: ZoneInfo) -> datetime:
    """Naive wall time in ``zone`` -> aware UTC (gap: moved forward; fold: the earlier one).

    An aware ``local`` is already an instant and is converted as it is.
    """
    if local.tzinfo is not None:
        return local.astimezone(UTC)
    return local.replace(tzinfo=zone, fold=0).astimezone(UTC)


def is_nonexistent(local: datetime, zone: ZoneInfo) -> bool:
    """True when the naive wall time falls in a DST gap of ``zone``."""
    local = local.replace(tzinfo=None)
    return to_utc(local, zone).astimezone(zone).replace(tzinfo=None) != local


def is_ambiguous(local: datetime, zone: ZoneInfo) -> bool:
    """True when the naive wall time happens twice in ``zone`` (DST ends)."""
    local = local.replace(tzinfo=None)
    first, second = (local.replace(tzinfo=zone, fold=f) for f in (0, 1))
    return not is_nonexistent(local, zone) and first.utcoffset() != second.utcoffset()


def from_graph(dtz: Mapping[str, object], label: str = "dateTimeTimeZone") -> datetime:
    """Graph dateTimeTimeZone -> aware datetime in its zone (UTC when timeZone is absent).

    Errors name the field, e.g. "start.timeZone: Unknown time zone ...".
    """
    if not isinstance(dtz, Mapping):
        raise DateTimeFormatError(
            f'{label}: expected an object like {{"dateTime": '
            f'"2017-04-15T12:00:00.0000000", "timeZone": "Pacific Standard Time"}}, '
            f"got {type(dtz).__name__}."
        )
    raw_zone = dtz.get("timeZone")
    try:
        zone = resolve("UTC" if raw_zone is None else raw_zone)
    except TimeZoneError as e:
        raise TimeZoneError(f"{label}.timeZone: {e}") from None
    if "dateTime" not in dtz or dtz["dateTime"] is None:
        raise DateTimeFormatError(f"{label}.dateTime is required. {_GRAPH_FORM}.")
    try:
        parsed = parse_graph_datetime(dtz["dateTime"])  # type: ignore[arg-type]
    except DateTimeFormatError as e:
        raise DateTimeFormatError(f"{label}.dateTime: {e}") from None
    return to_utc(parsed, zone).astimezone(zone)


def to_graph(dt: datetime, zone_name: str) -> dict[str, str]:
    """Aware datetime -> {"dateTime": wall time in zone_name, "timeZone": zone_name as given}."""
    if dt.tzinfo is None or dt.utcoffset() is None:
        raise ValueError(f"to_graph() needs an aware datetime, got naive {dt.isoformat()}.")
    return {"dateTime": format_graph_datetime(dt.astimezone(resolve(zone_name))), "timeZone": zone_name}


# ---------------------------------------------------------------- tool inputs and outputs

_USER_RE = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})(?:[Tt ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?"
    r"(Z|z|[+-]\d{2}(?::?\d{2})?)?)?"
)


def parse_user_time(value: str, zone: ZoneInfo, *, label: str = "time") -> datetime:
    """ISO 8601 from a person or model -> aware datetime in ``zone`` (same instant).

    Accepts '2026-11-23T15:00', '2026-11-23 15:00:00', '...Z', '...+01:00' and a
    date alone ('2026-11-23', midnight). A time without an offset is read in ``zone``.
    """
    form = (
        f"Use ISO 8601, e.g. '2026-11-23T15:00' (read in {zone.key or 'the given zone'}), "
        "'2026-11-23T15:00:00+01:00', '2026-11-23T23:00:00Z', or '2026-11-23' for midnight"
    )
    if not isinstance(value, str):
        raise DateTimeFormatError(f"{label}: expected a string, got {type(value).__name__}. {form}.")
    m = _USER_RE.fullmatch(value.strip())
    if m is None:
        raise DateTimeFormatError(f"{label}: {value!r} is not an ISO 8601 date or date-time. {form}.")
    try:
        parsed = _build(m, value, form)
    except DateTimeFormatError as e:
        raise DateTimeFormatError(f"{label}: {e}") from None
    return to_utc(parsed, zone).astimezone(zone)


def format_local(dt: datetime, zone: ZoneInfo) -> str:
    """Aware datetime -> '2026-11-23T15:00:00-08:00' in ``zone`` (seconds, offset always)."""
    if dt.tzinfo is None or dt.utcoffset() is None:
        raise ValueError(f"format_local() needs an aware datetime, got naive {dt.isoformat()}.")
    return dt.astimezone(zone).isoformat(timespec="seconds")
