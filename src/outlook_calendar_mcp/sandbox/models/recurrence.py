"""Recurrence engine of the sandbox: Microsoft Graph ``patternedRecurrence`` expanded as Exchange does.

A series is a ``patternedRecurrence`` (``pattern`` + ``range``, Graph v1.0 JSON) plus the series' start
(a naive wall time whose time of day every occurrence keeps) and the zone it recurs in.

Semantics, with their sources:

* Required properties per pattern type, ``firstDayOfWeek`` default ``sunday``, ``index`` default ``first``;
  ignored properties are still validated ("Schedule repeating appointments as recurring events in
  Outlook", learn.microsoft.com/graph/outlook-schedule-recurring-events; recurrencePattern resource).
* The first occurrence is the first date on or after ``range.startDate`` that fits the pattern, and the
  interval counts from the period (day, week, month, year) holding that first occurrence, not from the
  period holding ``startDate``: Graph's own example "first Thursday of every other month starting
  2017-08-29" has its first occurrence in September (same page); MS-OXOCAL 2.2.1.44.1.1 anchors a weekly
  series on the week, begun by ``firstDayOfWeek``, that holds the first event. Weeks start on
  ``firstDayOfWeek`` (RFC 5545 WKST), so it decides which weeks an every-other-week series hits.
* ``dayOfMonth`` beyond the month's length means the month's last day (EWS DayOfMonth: "If for a particular
  month this value is larger than the number of days in the month, the last day of the month is assumed").
* ``relativeMonthly``/``relativeYearly`` with several ``daysOfWeek``: the Nth (or last) day of the month
  that is any of those days, RFC 5545 BYSETPOS over their union (MS-OXOCAL 2.2.1.44.1.6 MonthNth: "the
  second occurrence of the days specified"; Graph: "the event falls on the first day that satisfies the
  pattern").
* Limits from EWS: interval 1-999 for daily, 1-99 otherwise; numberOfOccurrences 1-999; startDate not
  before 1601-04-01, endDate not after 4500-08-31 (series without end stop there too).
* ``endDate`` is inclusive. Occurrences keep their wall-clock time across DST: a time inside a
  spring-forward gap moves forward by the gap, an ambiguous one takes its first instance (``to_utc``).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

__all__ = [
    "DAYS_OF_WEEK",
    "MAX_OCCURRENCES",
    "PATTERN_TYPES",
    "RANGE_TYPES",
    "WEEK_INDEXES",
    "RecurrenceError",
    "expand",
    "occurrence_at",
    "series_bounds",
    "to_utc",
    "validate",
]

PATTERN_TYPES = ("daily", "weekly", "absoluteMonthly", "relativeMonthly", "absoluteYearly", "relativeYearly")
RANGE_TYPES = ("endDate", "noEnd", "numbered")
DAYS_OF_WEEK = ("sunday", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday")
WEEK_INDEXES = ("first", "second", "third", "fourth", "last")
MAX_OCCURRENCES = 999
MIN_DATE = date(1601, 4, 1)
MAX_DATE = date(4500, 8, 31)
UNUSED_DATE = "0001-01-01"

_PATTERN_KEYS = frozenset({"type", "interval", "month", "dayOfMonth", "daysOfWeek", "firstDayOfWeek", "index"})
_RANGE_KEYS = frozenset({"type", "startDate", "endDate", "recurrenceTimeZone", "numberOfOccurrences"})
_USED = {  # the pattern properties each type uses; the others are validated, then reset to Graph's defaults
    "daily": frozenset(),
    "weekly": frozenset({"daysOfWeek"}),
    "absoluteMonthly": frozenset({"dayOfMonth"}),
    "relativeMonthly": frozenset({"daysOfWeek", "index"}),
    "absoluteYearly": frozenset({"dayOfMonth", "month"}),
    "relativeYearly": frozenset({"daysOfWeek", "month", "index"}),
}
_UNITS = {
    "daily": "days",
    "weekly": "weeks",
    "absoluteMonthly": "months",
    "relativeMonthly": "months",
    "absoluteYearly": "years",
    "relativeYearly": "years",
}
_WEEKDAY = {name: (i - 1) % 7 for i, name in enumerate(DAYS_OF_WEEK)}  # Graph name -> date.weekday()
_DATE_RE = re.compile(r"\d{4}-\d{2}-\d{2}")


class RecurrenceError(ValueError):
    """A user-facing message naming the offending property and how to fix it, e.g.
    "recurrence.pattern.daysOfWeek is required when recurrence.pattern.type is 'weekly'." """


# ----------------------------------------------------------------------------------------- validation


def validate(recurrence: dict) -> dict:
    """Validate a Graph patternedRecurrence dict (as received in a request body) and return a normalized
    copy with Graph's defaults filled in and the shape Graph returns (pattern: type, interval, month,
    dayOfMonth, daysOfWeek, firstDayOfWeek, index; range: type, startDate, endDate ("0001-01-01" when
    unused), recurrenceTimeZone, numberOfOccurrences (0 when unused)).

    Enum values are matched case-insensitively (Graph's own examples write "Monday") and returned in
    Graph's camelCase; daysOfWeek comes back deduplicated in Sunday-first order; ``@odata.*`` annotations
    are dropped. Time zone names are kept as given, not resolved. Raises RecurrenceError."""
    _check_object(recurrence, "recurrence", frozenset({"pattern", "range"}))
    for name in ("pattern", "range"):
        if recurrence.get(name) is None:
            raise RecurrenceError(f"recurrence.{name} is required; a recurrence needs both a pattern and a range.")
    return {"pattern": _validate_pattern(recurrence["pattern"]), "range": _validate_range(recurrence["range"])}


def _validate_pattern(raw: object) -> dict:
    path = "recurrence.pattern"
    raw = _check_object(raw, path, _PATTERN_KEYS)
    kind = _enum(raw, path, "type", PATTERN_TYPES)
    used = _USED[kind]
    when = f" when {path}.type is '{kind}'"
    interval = _integer(
        raw,
        path,
        "interval",
        1,
        999 if kind == "daily" else 99,
        required=f"; give the number of {_UNITS[kind]} between occurrences",
    )
    month = _integer(raw, path, "month", 1, 12, required=when if "month" in used else None)
    day = _integer(raw, path, "dayOfMonth", 1, 31, required=when if "dayOfMonth" in used else None)
    days = _days_of_week(raw, path, required=when if "daysOfWeek" in used else None)
    first_day = _enum(raw, path, "firstDayOfWeek", DAYS_OF_WEEK, default="sunday")
    index = _enum(raw, path, "index", WEEK_INDEXES, default="first")
    return {
        "type": kind,
        "interval": interval,
        "month": month if "month" in used else 0,
        "dayOfMonth": day if "dayOfMonth" in used else 0,
        "daysOfWeek": days if "daysOfWeek" in used else [],
        "firstDayOfWeek": first_day,
        "index": index if "index" in used else "first",
    }


def _validate_range(raw: object) -> dict:
    path = "recurrence.range"
    raw = _check_object(raw, path, _RANGE_KEYS)
    kind = _enum(raw, path, "type", RANGE_TYPES)
    when = f" when {path}.type is '{kind}'"
    start = _date(raw, path, "startDate", required="; give the date of the series' first day")
    assert start is not None  # required: _date raised otherwise
    _check_supported(start, path, "startDate")
    end = _date(raw, path, "endDate", required=when if kind == "endDate" else None)
    count = _integer(
        raw, path, "numberOfOccurrences", 1, MAX_OCCURRENCES, required=when if kind == "numbered" else None
    )
    if kind == "endDate":
        assert end is not None  # required for an endDate range: _date raised otherwise
        _check_supported(end, path, "endDate")
        if end < start:
            raise RecurrenceError(
                f"{path}.endDate ({end}) is before {path}.startDate ({start}); "
                "give an endDate on or after the startDate."
            )
    zone = raw.get("recurrenceTimeZone")
    if zone is not None and not isinstance(zone, str):
        raise RecurrenceError(f"{path}.recurrenceTimeZone must be a time zone name (a string) or null; got {zone!r}.")
    return {
        "type": kind,
        "startDate": start.isoformat(),
        "endDate": end.isoformat() if kind == "endDate" and end is not None else UNUSED_DATE,
        "recurrenceTimeZone": zone,
        "numberOfOccurrences": count if kind == "numbered" else 0,
    }


def _check_object(value: object, path: str, allowed: frozenset) -> dict:
    """``value`` itself, once it is a JSON object of ``allowed`` properties (else a RecurrenceError)."""
    if not isinstance(value, dict):
        raise RecurrenceError(f"{path} must be a JSON object; got {type(value).__name__}.")
    for key in value:
        if key not in allowed and not (isinstance(key, str) and key.startswith("@odata.")):
            raise RecurrenceError(f"{path}.{key} is not a known property; use only {', '.join(sorted(allowed))}.")
    return value


def _enum(obj: dict, path: str, name: str, allowed: tuple, default: str | None = None) -> str:
    value = obj.get(name)
    if value is None:
        if default is None:
            raise RecurrenceError(f"{path}.{name} is required; use one of {', '.join(allowed)}.")
        return default
    return _member(value, f"{path}.{name}", allowed)


def _member(value: object, where: str, allowed: tuple) -> str:
    """``value`` as spelled in ``allowed``, matched case-insensitively."""
    canonical = {item.lower(): item for item in allowed}.get(value.lower()) if isinstance(value, str) else None
    if canonical is None:
        raise RecurrenceError(f"{where} must be one of {', '.join(allowed)}; got {value!r}.")
    return canonical


def _integer(obj: dict, path: str, name: str, low: int, high: int, *, required: str | None) -> int | None:
    """An integer in [low, high]; when not required, absent, null and Graph's unset value 0 give None."""
    value = obj.get(name)
    if value is None:
        if required is not None:
            raise RecurrenceError(f"{path}.{name} is required{required}.")
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise RecurrenceError(f"{path}.{name} must be an integer; got {value!r}.")
    if value == 0 and required is None:
        return None
    if not low <= value <= high:
        raise RecurrenceError(f"{path}.{name} must be between {low} and {high}; got {value}.")
    return value


def _days_of_week(obj: dict, path: str, *, required: str | None) -> list[str]:
    value = obj.get("daysOfWeek")
    if value is None:
        value = []
    if not isinstance(value, list):
        raise RecurrenceError(f"{path}.daysOfWeek must be a list of day names; got {value!r}.")
    names = {_member(item, f"{path}.daysOfWeek", DAYS_OF_WEEK) for item in value}
    if not names and required is not None:
        raise RecurrenceError(
            f"{path}.daysOfWeek is required{required}; list at least one of {', '.join(DAYS_OF_WEEK)}."
        )
    return [name for name in DAYS_OF_WEEK if name in names]


def _date(obj: dict, path: str, name: str, *, required: str | None) -> date | None:
    value = obj.get(name)
    if value is None:
        if required is not None:
            raise RecurrenceError(f"{path}.{name} is required{required}.")
        return None
    if not isinstance(value, str) or not _DATE_RE.fullmatch(value):
        raise RecurrenceError(f"{path}.{name} must be a date written YYYY-MM-DD; got {value!r}.")
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise RecurrenceError(f"{path}.{name} is not a calendar date; got {value!r}.") from None


def _check_supported(value: date, path: str, name: str) -> None:
    if not MIN_DATE <= value <= MAX_DATE:
        raise RecurrenceError(f"{path}.{name} must be between {MIN_DATE} and {MAX_DATE}; got {value}.")


# ------------------------------------------------------------------------------------- period models
# A series is a run of periods p = 0, 1, 2, ...: the days, weeks, months or years that the interval
# selects, period 0 holding the first occurrence. Each period yields the same number of dates, sorted, so
# the period of any date and the n-th occurrence are plain arithmetic (no iteration from the start).


class _Daily:
    """Period p is the single day first + p * interval."""

    __slots__ = ("origin", "step")
    per_period = 1

    def __init__(self, first: date, interval: int) -> None:
        self.origin, self.step = first.toordinal(), interval

    def dates(self, p: int) -> tuple[date, ...]:
        return (date.fromordinal(self.origin + p * self.step),)

    def period(self, day: date) -> int:
        """The last period starting on or before ``day``."""
        return (day.toordinal() - self.origin) // self.step


class _Weekly:
    """Period p is the week (begun by firstDayOfWeek) interval * p weeks after the first occurrence's."""

    __slots__ = ("offsets", "origin", "per_period", "step")

    def __init__(self, first: date, interval: int, weekdays: list[int], week_start: int) -> None:
        self.origin = first.toordinal() - (first.weekday() - week_start) % 7
        self.step = 7 * interval
        self.offsets = sorted((w - week_start) % 7 for w in weekdays)
        self.per_period = len(self.offsets)

    def dates(self, p: int) -> tuple[date, ...]:
        base = self.origin + p * self.step
        return tuple(date.fromordinal(base + offset) for offset in self.offsets)

    def period(self, day: date) -> int:
        return (day.toordinal() - self.origin) // self.step


class _Monthly:
    """Period p is the month ``step * p`` months after the first occurrence's (step 12n for yearly)."""

    __slots__ = ("day_of", "origin", "step")
    per_period = 1

    def __init__(self, first: date, step: int, day_of: Callable[[int, int], date]) -> None:
        self.origin, self.step, self.day_of = first.year * 12 + first.month - 1, step, day_of

    def dates(self, p: int) -> tuple[date, ...]:
        year, month0 = divmod(self.origin + p * self.step, 12)
        return (self.day_of(year, month0 + 1),)

    def period(self, day: date) -> int:
        return (day.year * 12 + day.month - 1 - self.origin) // self.step


def _days_in_month(year: int, month: int) -> int:
    if month == 2:
        return 29 if year % 4 == 0 and (year % 100 != 0 or year % 400 == 0) else 28
    return 30 if month in (4, 6, 9, 11) else 31


def _absolute_day(day: int) -> Callable[[int, int], date]:
    """dayOfMonth, clamped to the month's last day (EWS DayOfMonth)."""
    return lambda year, month: date(year, month, min(day, _days_in_month(year, month)))


def _relative_day(weekdays: list[int], index: str) -> Callable[[int, int], date]:
    """The index-th day of the month that falls on any of ``weekdays`` (BYSETPOS over their union)."""
    if index == "last":

        def last(year: int, month: int) -> date:
            end = _days_in_month(year, month)
            end_weekday = date(year, month, end).weekday()
            return date(year, month, max(end - (end_weekday - w) % 7 for w in weekdays))

        return last
    n = WEEK_INDEXES.index(index)

    def nth(year: int, month: int) -> date:
        # Days 1-7 hold each weekday once, so the union repeats every 7 days: element n is
        # firsts[n % k] + 7 * (n // k), at most day 28 for n <= 3.
        first_weekday = date(year, month, 1).weekday()
        firsts = sorted(1 + (w - first_weekday) % 7 for w in weekdays)
        return date(year, month, firsts[n % len(firsts)] + 7 * (n // len(firsts)))

    return nth


@dataclass(frozen=True, slots=True)
class _Series:
    periods: _Daily | _Weekly | _Monthly
    first: date  # the first occurrence (after ``last`` when the series has none)
    last: date  # no occurrence after this date: endDate, the numbered last one, or MAX_DATE
    ends: bool  # False for a noEnd range


def _compile(recurrence: dict) -> _Series:
    """The period model of a validate()d recurrence."""
    pattern, rng = recurrence["pattern"], recurrence["range"]
    periods, first = _periods(pattern, date.fromisoformat(rng["startDate"]))
    return _Series(periods, first, _range_last(rng, periods, first), rng["type"] != "noEnd")


def _periods(pattern: dict, start: date) -> tuple[_Daily | _Weekly | _Monthly, date]:
    """The period model anchored on the first occurrence, and that occurrence's date."""
    kind, interval = pattern["type"], pattern["interval"]
    if kind == "daily":
        return _Daily(start, interval), start
    weekdays = [_WEEKDAY[name] for name in pattern["daysOfWeek"]]
    if kind == "weekly":
        first = start + timedelta(days=min((w - start.weekday()) % 7 for w in weekdays))
        return _Weekly(first, interval, weekdays, _WEEKDAY[pattern["firstDayOfWeek"]]), first
    if kind.startswith("relative"):
        day_of = _relative_day(weekdays, pattern["index"])
    else:
        day_of = _absolute_day(pattern["dayOfMonth"])
    if kind.endswith("Monthly"):
        first = day_of(start.year, start.month)
        if first < start:
            first = day_of(start.year + start.month // 12, start.month % 12 + 1)
        return _Monthly(first, interval, day_of), first
    first = day_of(start.year, pattern["month"])
    if first < start:
        first = day_of(start.year + 1, pattern["month"])
    return _Monthly(first, 12 * interval, day_of), first


def _range_last(rng: dict, periods: _Daily | _Weekly | _Monthly, first: date) -> date:
    if rng["type"] == "endDate":
        return date.fromisoformat(rng["endDate"])
    if rng["type"] == "noEnd":
        return MAX_DATE
    skipped = sum(1 for day in periods.dates(0) if day < first)  # weekly: days of week 0 before the start
    p, j = divmod(rng["numberOfOccurrences"] - 1 + skipped, periods.per_period)
    try:
        return min(periods.dates(p)[j], MAX_DATE)
    except ValueError:  # past year 9999: beyond what Exchange stores anyway
        return MAX_DATE


def _dates(series: _Series, low: date, high: date) -> Iterator[date]:
    """Occurrence dates within [low, high], ascending, starting at the period that holds ``low``."""
    low, high = max(low, series.first), min(high, series.last)
    if low > high:
        return
    periods = series.periods
    p = max(0, periods.period(low))
    while True:
        for day in periods.dates(p):
            if day > high:
                return
            if day >= low:
                yield day
        p += 1


def _last_date(series: _Series) -> date | None:
    """The last occurrence date of a bounded series, None when it has no occurrence."""
    if series.first > series.last:
        return None
    periods = series.periods
    p = periods.period(series.last)
    for q in (p, p - 1):  # the period holding ``last`` may have all its dates after it
        found = [day for day in periods.dates(q) if series.first <= day <= series.last]
        if found:
            return found[-1]
    return series.first


# ------------------------------------------------------------------------------------------ public API


def to_utc(local: datetime, zone: ZoneInfo) -> datetime:
    """Naive wall time in ``zone`` -> aware UTC. A time in a spring-forward gap moves forward by the gap,
    an ambiguous (fall-back) time takes its first instance: zoneinfo's reading of fold=0."""
    if local.tzinfo is not None:
        raise ValueError("to_utc expects a naive wall-clock datetime")
    return local.replace(tzinfo=zone, fold=0).astimezone(UTC)


def expand(
    recurrence: dict,
    start: datetime,
    zone: ZoneInfo,
    duration: timedelta,
    window_start: datetime,
    window_end: datetime,
    limit: int | None = None,
) -> list[datetime]:
    """recurrence: a validate()d dict. start: naive local wall time of the series' start (its time of day
    is used for every occurrence). zone: the zone the series recurs in. window_start/window_end: aware
    datetimes. Return the naive local wall-clock *original start* of every occurrence whose interval
    [to_utc(occ), to_utc(occ)+duration) overlaps [window_start, window_end) (for a zero-length event:
    start in [window_start, window_end)), sorted ascending, at most ``limit`` of them.

    The original start is the nominal wall time (02:30 even on the day 02:30 does not exist); its
    instant is ``to_utc`` of it. Work is proportional to the window, not to the series' age."""
    if duration < timedelta(0):
        raise ValueError("expand expects a duration >= 0")
    if limit is not None and limit <= 0:
        return []
    low_utc, high_utc = window_start.astimezone(UTC), window_end.astimezone(UTC)
    series = _compile(recurrence)
    at = _time_of_day(start)
    # Candidate dates get margins of whole days for UTC offsets (and the duration); dates two days
    # inside the window's local dates start inside it for sure and skip the UTC check.
    low_day, high_day = _local_ordinal(low_utc, zone), _local_ordinal(high_utc, zone)
    low, high = _day(low_day - duration.days - 4), _day(high_day + 2)
    inner_low, inner_high = _day(low_day + 2), _day(high_day - 2)
    found: list[datetime] = []
    for day in _dates(series, low, high):
        local = datetime.combine(day, at)
        if not inner_low <= day <= inner_high and not _overlaps(to_utc(local, zone), duration, low_utc, high_utc):
            continue
        found.append(local)
        if len(found) == limit:
            break
    return found


def occurrence_at(recurrence: dict, start: datetime, zone: ZoneInfo, original_start: datetime) -> bool:
    """True when naive local ``original_start`` is an occurrence of the series (used to validate
    occurrence ids). Membership is a wall-clock question, so ``zone`` does not change the answer."""
    if original_start.tzinfo is not None:
        raise ValueError("occurrence_at expects a naive wall-clock original_start")
    if _time_of_day(original_start) != _time_of_day(start):
        return False
    series = _compile(recurrence)
    day = original_start.date()
    if not series.first <= day <= series.last:
        return False
    return day in series.periods.dates(series.periods.period(day))


def series_bounds(
    recurrence: dict, start: datetime, zone: ZoneInfo, duration: timedelta
) -> tuple[datetime, datetime | None]:
    """Aware UTC start of the first occurrence and aware UTC end of the last (None when the range is
    noEnd). Used to index series in SQLite so a calendarView only expands series that can overlap the
    window. A series without any occurrence (an endDate before the first fitting day) gets an empty
    interval (start, start)."""
    series = _compile(recurrence)
    at = _time_of_day(start)
    first = to_utc(datetime.combine(series.first, at), zone)
    if not series.ends:
        return first, None
    last = _last_date(series)
    if last is None:
        return first, first
    return first, to_utc(datetime.combine(last, at), zone) + duration


def _time_of_day(moment: datetime) -> time:
    return time(moment.hour, moment.minute, moment.second, moment.microsecond)


def _overlaps(begin: datetime, duration: timedelta, low: datetime, high: datetime) -> bool:
    if duration:
        return begin < high and begin + duration > low
    return low <= begin < high


def _local_ordinal(moment: datetime, zone: ZoneInfo) -> int:
    """The ordinal of an aware instant's local date in ``zone`` (clamped at datetime's limits)."""
    try:
        return moment.astimezone(zone).toordinal()
    except OverflowError:
        return 1 if moment.year < 5000 else date.max.toordinal()


def _day(ordinal: int) -> date:
    return date.fromordinal(min(max(ordinal, 1), date.max.toordinal()))
