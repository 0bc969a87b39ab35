"""Tests of the sandbox recurrence engine (outlook_calendar_mcp.sandbox.models.recurrence).

1. Tables with hand-checked dates: the examples of Graph's recurrence pages, every pattern and range
   type, firstDayOfWeek, dayOfMonth 31, 'last', leap days, DST in five zones, the 02:30 gap.
2. Properties (hypothesis) against an RFC 5545 oracle built with dateutil.rrule from the Graph JSON
   alone, plus occurrence_at() against expand() and series_bounds() around expand().
3. validate(): every error path, and the normalized shape.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, timezone
from functools import cache
from itertools import islice
from zoneinfo import ZoneInfo

import pytest
from dateutil import rrule as rr
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from outlook_calendar_mcp.sandbox.models.recurrence import (
    DAYS_OF_WEEK,
    MAX_OCCURRENCES,
    PATTERN_TYPES,
    RANGE_TYPES,
    WEEK_INDEXES,
    RecurrenceError,
    expand,
    occurrence_at,
    series_bounds,
    to_utc,
    validate,
)

UTC = UTC
EVER = (datetime(1990, 1, 1, tzinfo=UTC), datetime(2060, 1, 1, tzinfo=UTC))


def series(pattern: dict, range_: dict) -> dict:
    return validate({"pattern": pattern, "range": range_})


def start_of(range_: dict, at: str = "09:00") -> datetime:
    return datetime.combine(date.fromisoformat(range_["startDate"]), time.fromisoformat(at))


def dates(pattern: dict, range_: dict, window: tuple[datetime, datetime] = EVER, **kw) -> list[str]:
    """ISO dates of the occurrences in ``window`` (UTC, 09:00 one-hour events unless told)."""
    zone = ZoneInfo(kw.pop("zone", "UTC"))
    found = expand(series(pattern, range_), start_of(range_, kw.pop("at", "09:00")), zone,
                   kw.pop("duration", timedelta(hours=1)), *window, **kw)
    return [moment.date().isoformat() for moment in found]


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


# ------------------------------------------------------------------------------- 1. tables: patterns

WEEKLY_MON = {"type": "weekly", "interval": 1, "daysOfWeek": ["monday"]}

PATTERN_TABLE = [
    # Graph recurrencePattern page: "Repeat event every 3 days."
    ("daily every 3 days", {"type": "daily", "interval": 3},
     {"type": "numbered", "startDate": "2017-06-01", "numberOfOccurrences": 5},
     ["2017-06-01", "2017-06-04", "2017-06-07", "2017-06-10", "2017-06-13"]),
    # Graph: "Repeat event Monday and Tuesday of every other week." 2017-06-01 is a Thursday.
    ("weekly mon+tue every other week", {"type": "weekly", "interval": 2, "daysOfWeek": ["Monday", "Tuesday"]},
     {"type": "numbered", "startDate": "2017-06-01", "numberOfOccurrences": 6},
     ["2017-06-05", "2017-06-06", "2017-06-19", "2017-06-20", "2017-07-03", "2017-07-04"]),
    # Graph: "Repeat event quarterly (every 3 months) on the 15th."
    ("absoluteMonthly quarterly 15th", {"type": "absoluteMonthly", "interval": 3, "dayOfMonth": 15},
     {"type": "numbered", "startDate": "2017-06-01", "numberOfOccurrences": 4},
     ["2017-06-15", "2017-09-15", "2017-12-15", "2018-03-15"]),
    # Graph: "second Thursday or Friday every three months": the 2nd day of the month that is a Thu or Fri.
    # June 2017: Thu 1, Fri 2 -> 2nd; Sep: Fri 1, Thu 7 -> 7th; Dec: Fri 1, Thu 7 -> 7th.
    ("relativeMonthly 2nd thu-or-fri", {"type": "relativeMonthly", "interval": 3,
                                        "daysOfWeek": ["thursday", "friday"], "index": "second"},
     {"type": "numbered", "startDate": "2017-06-01", "numberOfOccurrences": 3},
     ["2017-06-02", "2017-09-07", "2017-12-07"]),
    # Graph: "Repeat event on the 15th of March every 3 years." March 15 2017 precedes the start.
    ("absoluteYearly march 15 every 3 years", {"type": "absoluteYearly", "interval": 3, "dayOfMonth": 15, "month": 3},
     {"type": "numbered", "startDate": "2017-06-01", "numberOfOccurrences": 3},
     ["2018-03-15", "2021-03-15", "2024-03-15"]),
    # Graph: "second Thursday or Friday of every November every 3 years."
    # Nov 2017: Thu 2, Fri 3 -> 3rd; Nov 2020: Thu 5, Fri 6 -> 6th; Nov 2023: Thu 2, Fri 3 -> 3rd.
    ("relativeYearly 2nd thu-or-fri of november", {"type": "relativeYearly", "interval": 3, "month": 11,
                                                   "daysOfWeek": ["thursday", "friday"], "index": "second"},
     {"type": "numbered", "startDate": "2017-06-01", "numberOfOccurrences": 3},
     ["2017-11-03", "2020-11-06", "2023-11-03"]),
    # Concept page: "last Wednesday of November every year" (Nov 30: 2017 Thu, 2018 Fri, 2019 Sat).
    ("relativeYearly last wednesday of november", {"type": "relativeYearly", "interval": 1, "month": 11,
                                                   "daysOfWeek": ["wednesday"], "index": "last"},
     {"type": "numbered", "startDate": "2017-01-01", "numberOfOccurrences": 3},
     ["2017-11-29", "2018-11-28", "2019-11-27"]),
    # Concept page: "first Thursday or Friday of every month".
    ("relativeMonthly first thu-or-fri", {"type": "relativeMonthly", "interval": 1,
                                          "daysOfWeek": ["Thursday", "Friday"], "index": "first"},
     {"type": "numbered", "startDate": "2017-08-01", "numberOfOccurrences": 3},
     ["2017-08-03", "2017-09-01", "2017-10-05"]),
    # Concept page: "April 15 every year".
    ("absoluteYearly april 15", {"type": "absoluteYearly", "interval": 1, "dayOfMonth": 15, "month": 4},
     {"type": "numbered", "startDate": "2017-04-15", "numberOfOccurrences": 2}, ["2017-04-15", "2018-04-15"]),
    # dayOfMonth 31 in shorter months means their last day (EWS DayOfMonth); 2024 is a leap year.
    ("dayOfMonth 31", {"type": "absoluteMonthly", "interval": 1, "dayOfMonth": 31},
     {"type": "numbered", "startDate": "2024-01-01", "numberOfOccurrences": 6},
     ["2024-01-31", "2024-02-29", "2024-03-31", "2024-04-30", "2024-05-31", "2024-06-30"]),
    ("leap day yearly", {"type": "absoluteYearly", "interval": 1, "dayOfMonth": 29, "month": 2},
     {"type": "numbered", "startDate": "2024-01-01", "numberOfOccurrences": 5},
     ["2024-02-29", "2025-02-28", "2026-02-28", "2027-02-28", "2028-02-29"]),
    ("last friday monthly", {"type": "relativeMonthly", "interval": 1, "daysOfWeek": ["friday"], "index": "last"},
     {"type": "numbered", "startDate": "2024-01-01", "numberOfOccurrences": 4},
     ["2024-01-26", "2024-02-23", "2024-03-29", "2024-04-26"]),
    ("last weekend day monthly", {"type": "relativeMonthly", "interval": 1,
                                  "daysOfWeek": ["saturday", "sunday"], "index": "last"},
     {"type": "numbered", "startDate": "2024-03-01", "numberOfOccurrences": 3},
     ["2024-03-31", "2024-04-28", "2024-05-26"]),
    ("fourth tuesday monthly", {"type": "relativeMonthly", "interval": 1, "daysOfWeek": ["tuesday"], "index": "fourth"},
     {"type": "numbered", "startDate": "2024-04-01", "numberOfOccurrences": 2}, ["2024-04-23", "2024-05-28"]),
    ("third weekday monthly", {"type": "relativeMonthly", "interval": 1, "index": "third",
                               "daysOfWeek": ["monday", "tuesday", "wednesday", "thursday", "friday"]},
     {"type": "numbered", "startDate": "2024-06-01", "numberOfOccurrences": 2}, ["2024-06-05", "2024-07-03"]),
]


@pytest.mark.parametrize(("pattern", "range_", "expected"), [case[1:] for case in PATTERN_TABLE],
                         ids=[case[0] for case in PATTERN_TABLE])
def test_pattern_table(pattern, range_, expected):
    assert dates(pattern, range_) == expected


RANGE_TABLE = [
    # recurrenceRange page: "Repeat event in the date range between June 1, 2017 and June 15, 2017." endDate inclusive.
    ("endDate inclusive", {"type": "daily", "interval": 7},
     {"type": "endDate", "startDate": "2017-06-01", "endDate": "2017-06-15"},
     ["2017-06-01", "2017-06-08", "2017-06-15"]),
    # "starting on June 1, 2017, for 10 occurrences."
    ("numbered 10", {"type": "daily", "interval": 1}, {"type": "numbered", "startDate": "2017-06-01",
                                                         "numberOfOccurrences": 10},
     [f"2017-06-{day:02d}" for day in range(1, 11)]),
    ("noEnd", {"type": "absoluteMonthly", "interval": 12, "dayOfMonth": 1},
     {"type": "noEnd", "startDate": "2050-01-01"},
     ["2050-01-01", "2051-01-01", "2052-01-01", "2053-01-01", "2054-01-01", "2055-01-01",
      "2056-01-01", "2057-01-01", "2058-01-01", "2059-01-01"]),
    # numbered counts from the first fitting day: Wed 3 Jan 2024 start, Mon/Wed/Fri.
    ("numbered weekly from mid-week",
     {"type": "weekly", "interval": 1, "daysOfWeek": ["monday", "wednesday", "friday"]},
     {"type": "numbered", "startDate": "2024-01-03", "numberOfOccurrences": 5},
     ["2024-01-03", "2024-01-05", "2024-01-08", "2024-01-10", "2024-01-12"]),
    ("endDate before first fitting day", WEEKLY_MON,
     {"type": "endDate", "startDate": "2024-01-02", "endDate": "2024-01-07"}, []),
]


@pytest.mark.parametrize(("pattern", "range_", "expected"), [case[1:] for case in RANGE_TABLE],
                         ids=[case[0] for case in RANGE_TABLE])
def test_range_table(pattern, range_, expected):
    assert dates(pattern, range_) == expected


def test_graph_example_weekly_until_end_of_year():
    """Concept page: every Monday from 2017-09-04 to 2017-12-31 ends on Monday December 25."""
    found = dates(WEEKLY_MON, {"type": "endDate", "startDate": "2017-09-04", "endDate": "2017-12-31"})
    assert (found[0], found[-1], len(found)) == ("2017-09-04", "2017-12-25", 17)


def test_graph_example_interval_counts_from_first_occurrence():
    """Concept page: first Thursday of every other month from 2017-08-29 starts in September.

    Plain RRULE would count the interval from August and skip to October; Graph does not."""
    pattern = {"type": "relativeMonthly", "interval": 2, "daysOfWeek": ["Thursday"], "index": "first"}
    assert dates(pattern, {"type": "noEnd", "startDate": "2017-08-29"},
                 (utc("2017-01-01T00:00"), utc("2018-02-01T00:00"))) == ["2017-09-07", "2017-11-02", "2018-01-04"]


@pytest.mark.parametrize(("pattern", "start", "expected"), [
    ({"type": "absoluteMonthly", "interval": 3, "dayOfMonth": 7}, "2017-06-10", ["2017-07-07", "2017-10-07"]),
    ({"type": "weekly", "interval": 2, "daysOfWeek": ["monday"]}, "2024-01-03", ["2024-01-08", "2024-01-22"]),
    ({"type": "absoluteYearly", "interval": 2, "dayOfMonth": 1, "month": 3}, "2024-06-01",
     ["2025-03-01", "2027-03-01"]),
], ids=["monthly", "weekly", "yearly"])
def test_start_date_that_does_not_fit_the_pattern(pattern, start, expected):
    """The first occurrence is the first fitting day on or after startDate; the interval runs from it."""
    assert dates(pattern, {"type": "numbered", "startDate": start, "numberOfOccurrences": 2}) == expected


@pytest.mark.parametrize(("first_day", "expected"), [
    ("sunday", ["2024-01-01", "2024-01-14", "2024-01-15", "2024-01-28", "2024-01-29"]),
    ("monday", ["2024-01-01", "2024-01-07", "2024-01-15", "2024-01-21", "2024-01-29"]),
])
def test_first_day_of_week_decides_the_weeks_of_a_biweekly_series(first_day, expected):
    """Sunday+Monday every other week from Monday 2024-01-01: the Sunday after belongs to the first
    week when weeks begin on Monday, to the (skipped) next week when they begin on Sunday."""
    pattern = {"type": "weekly", "interval": 2, "daysOfWeek": ["sunday", "monday"], "firstDayOfWeek": first_day}
    assert dates(pattern, {"type": "noEnd", "startDate": "2024-01-01"},
                 (utc("2024-01-01T00:00"), utc("2024-02-01T00:00"))) == expected


def test_series_started_long_ago_jumps_to_the_window():
    pattern = {"type": "daily", "interval": 7}  # 1990-01-01 is a Monday: every Monday
    assert dates(pattern, {"type": "noEnd", "startDate": "1990-01-01"},
                 (utc("2030-01-01T00:00"), utc("2030-02-01T00:00"))) == ["2030-01-07", "2030-01-14", "2030-01-21",
                                                                         "2030-01-28"]


def test_numbered_last_occurrence_is_arithmetic():
    """999 weekdays from Wednesday 2020-01-01: 3 in the first week, 199 full weeks, then one Monday."""
    range_ = {"type": "numbered", "startDate": "2020-01-01", "numberOfOccurrences": 999}
    pattern = {"type": "weekly", "interval": 1, "daysOfWeek": ["monday", "tuesday", "wednesday", "thursday", "friday"]}
    everything = dates(pattern, range_)
    assert (len(everything), everything[-1]) == (999, "2023-10-30")
    first, last = series_bounds(series(pattern, range_), start_of(range_), ZoneInfo("UTC"), timedelta(hours=1))
    assert (first, last) == (utc("2020-01-01T09:00"), utc("2023-10-30T10:00"))


# ----------------------------------------------------------------------------------- 1. tables: windows

DAILY_9 = ({"type": "daily", "interval": 1}, {"type": "noEnd", "startDate": "2024-01-01"})


@pytest.mark.parametrize(("window", "duration", "expected"), [
    (("2024-01-02T09:30", "2024-01-02T10:30"), timedelta(hours=1), ["2024-01-02"]),  # cuts through 09:00-10:00
    (("2024-01-02T10:00", "2024-01-03T09:00"), timedelta(hours=1), []),  # both ends exclusive of touching events
    (("2024-01-02T08:00", "2024-01-02T09:00"), timedelta(0), []),  # zero-length event at the window's end
    (("2024-01-02T09:00", "2024-01-02T09:01"), timedelta(0), ["2024-01-02"]),  # ... and at its start
    (("2024-01-03T08:00", "2024-01-03T08:30"), timedelta(days=2), ["2024-01-01", "2024-01-02"]),  # long events
    (("2024-01-05T00:00", "2024-01-04T00:00"), timedelta(hours=1), []),  # inverted window
])
def test_window_overlap(window, duration, expected):
    assert dates(*DAILY_9, (utc(window[0]), utc(window[1])), duration=duration) == expected


def test_window_in_another_offset_and_limit():
    tokyo = timezone(timedelta(hours=9))
    window = (datetime(2024, 1, 10, 0, 0, tzinfo=tokyo), datetime(2024, 2, 10, 0, 0, tzinfo=tokyo))
    assert dates(*DAILY_9, window, limit=3) == ["2024-01-10", "2024-01-11", "2024-01-12"]
    assert dates(*DAILY_9, window, limit=0) == []


def test_window_at_the_limits_of_datetime():
    window = (datetime.min.replace(tzinfo=UTC), datetime.max.replace(tzinfo=UTC))
    assert dates(*DAILY_9, window, zone="Pacific/Kiritimati", limit=2) == ["2024-01-01", "2024-01-02"]
    assert dates(*DAILY_9, (utc("9000-01-01T00:00"), datetime.max.replace(tzinfo=UTC))) == []


def test_no_end_stops_where_exchange_does():
    pattern = {"type": "absoluteYearly", "interval": 1, "dayOfMonth": 31, "month": 12}
    found = dates(pattern, {"type": "noEnd", "startDate": "4498-01-01"},
                  (utc("4490-01-01T00:00"), utc("4600-01-01T00:00")))
    assert found == ["4498-12-31", "4499-12-31"]


# --------------------------------------------------------------------------------------- 1. tables: DST

DST_TABLE = [
    ("new york spring", "America/New_York", "09:00", "2024-03-08", 4,
     ["2024-03-08T14:00", "2024-03-09T14:00", "2024-03-10T13:00", "2024-03-11T13:00"]),
    ("new york fall", "America/New_York", "09:00", "2024-11-02", 2, ["2024-11-02T13:00", "2024-11-03T14:00"]),
    ("london spring", "Europe/London", "09:00", "2024-03-30", 2, ["2024-03-30T09:00", "2024-03-31T08:00"]),
    ("london fall", "Europe/London", "09:00", "2024-10-26", 2, ["2024-10-26T08:00", "2024-10-27T09:00"]),
    # Lord Howe moves by 30 minutes: +11 in summer, +10:30 in winter.
    ("lord howe april", "Australia/Lord_Howe", "09:00", "2024-04-06", 2, ["2024-04-05T22:00", "2024-04-06T22:30"]),
    ("lord howe october", "Australia/Lord_Howe", "09:00", "2024-10-05", 2, ["2024-10-04T22:30", "2024-10-05T22:00"]),
    ("lord howe 02:15 gap", "Australia/Lord_Howe", "02:15", "2024-10-05", 3,
     ["2024-10-04T15:45", "2024-10-05T15:45", "2024-10-06T15:15"]),
    # Chatham: +13:45 in summer, +12:45 in winter.
    ("chatham april", "Pacific/Chatham", "09:00", "2024-04-06", 2, ["2024-04-05T19:15", "2024-04-06T20:15"]),
    ("chatham september", "Pacific/Chatham", "09:00", "2024-09-28", 2, ["2024-09-27T20:15", "2024-09-28T19:15"]),
    # Santiago changes at midnight: 2024-09-08 has no 00:00-01:00, 2024-04-06 has 23:00-24:00 twice.
    ("santiago midnight gap", "America/Santiago", "00:30", "2024-09-07", 3,
     ["2024-09-07T04:30", "2024-09-08T04:30", "2024-09-09T03:30"]),
    ("santiago midnight fold", "America/Santiago", "23:30", "2024-04-05", 3,
     ["2024-04-06T02:30", "2024-04-07T02:30", "2024-04-08T03:30"]),
    # 02:30 does not exist on 2024-03-10 in New York: it becomes 03:30 EDT (07:30Z); 01:30 on 11-03 is EDT.
    ("new york 02:30 gap", "America/New_York", "02:30", "2024-03-09", 3,
     ["2024-03-09T07:30", "2024-03-10T07:30", "2024-03-11T06:30"]),
    ("new york 01:30 fold", "America/New_York", "01:30", "2024-11-02", 3,
     ["2024-11-02T05:30", "2024-11-03T05:30", "2024-11-04T06:30"]),
]


@pytest.mark.parametrize(("zone_name", "at", "start", "count", "expected_utc"), [case[1:] for case in DST_TABLE],
                         ids=[case[0] for case in DST_TABLE])
def test_dst_keeps_wall_clock_time(zone_name, at, start, count, expected_utc):
    zone = ZoneInfo(zone_name)
    range_ = {"type": "numbered", "startDate": start, "numberOfOccurrences": count}
    found = expand(series({"type": "daily", "interval": 1}, range_), start_of(range_, at), zone,
                   timedelta(minutes=30), *EVER)
    assert {moment.time() for moment in found} == {time.fromisoformat(at)}  # the nominal wall time
    assert [to_utc(moment, zone).strftime("%Y-%m-%dT%H:%M") for moment in found] == expected_utc
    assert len({to_utc(moment, zone).astimezone(zone).utcoffset() for moment in found}) == 2  # the offset moved


def test_weekly_series_across_both_london_transitions():
    zone = ZoneInfo("Europe/London")
    range_ = {"type": "noEnd", "startDate": "2024-03-24"}
    rec = series({"type": "weekly", "interval": 1, "daysOfWeek": ["sunday"]}, range_)
    window = (utc("2024-03-24T00:00"), utc("2024-11-04T00:00"))
    instants = [to_utc(moment, zone) for moment in expand(rec, start_of(range_), zone, timedelta(hours=1), *window)]
    assert instants[0] == utc("2024-03-24T09:00") and instants[1] == utc("2024-03-31T08:00")
    assert instants[-2] == utc("2024-10-27T09:00") and instants[-1] == utc("2024-11-03T09:00")
    assert len(instants) == 33


def test_0230_series_across_the_spring_forward_gap():
    zone = ZoneInfo("America/New_York")
    range_ = {"type": "noEnd", "startDate": "2024-03-01"}
    rec = series({"type": "daily", "interval": 1}, range_)
    start = start_of(range_, "02:30")
    found = expand(rec, start, zone, timedelta(minutes=30), utc("2024-03-10T07:00"), utc("2024-03-10T07:45"))
    assert found == [datetime(2024, 3, 10, 2, 30)]
    assert to_utc(found[0], zone).astimezone(zone).isoformat() == "2024-03-10T03:30:00-04:00"
    assert occurrence_at(rec, start, zone, datetime(2024, 3, 10, 2, 30))


@pytest.mark.parametrize("first_day", ["sunday", "monday"])
@pytest.mark.parametrize("zone_name", ["America/New_York", "Europe/London", "Australia/Lord_Howe",
                                       "Pacific/Chatham", "America/Santiago"])
def test_agrees_with_recurring_ical_events_across_dst(zone_name, first_day):
    """A second RFC 5545 engine (recurring-ical-events, as DESIGN.md suggests) gives the same instants
    for a biweekly Sunday+Monday 09:00 series over a year of DST changes (the start fits the pattern,
    where RRULE and Graph anchor the interval alike)."""
    import icalendar
    import recurring_ical_events

    wkst = first_day[:2].upper()
    calendar = icalendar.Calendar.from_ical(
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//tests//EN\r\nBEGIN:VEVENT\r\nUID:series\r\n"
        f"DTSTART;TZID={zone_name}:20240303T090000\r\nDTEND;TZID={zone_name}:20240303T100000\r\n"
        f"RRULE:FREQ=WEEKLY;INTERVAL=2;BYDAY=SU,MO;WKST={wkst}\r\nSUMMARY:x\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n")
    low, high = utc("2024-03-05T00:00"), utc("2025-03-01T00:00")
    theirs = sorted(event["DTSTART"].dt.astimezone(UTC)
                    for event in recurring_ical_events.of(calendar).between(date(2024, 3, 1), date(2025, 3, 3)))
    theirs = [moment for moment in theirs if low <= moment < high]
    zone = ZoneInfo(zone_name)
    range_ = {"type": "noEnd", "startDate": "2024-03-03"}
    rec = series({"type": "weekly", "interval": 2, "daysOfWeek": ["sunday", "monday"], "firstDayOfWeek": first_day},
                 range_)
    ours = [to_utc(moment, zone) for moment in expand(rec, start_of(range_), zone, timedelta(0), low, high)]
    assert ours == theirs
    # Sunday weeks: 25 whole fortnights inside the window; Monday weeks: 26 Mondays, and 25 Sundays
    # (the Sunday of the 26th falls on 2025-03-02, after the window)
    assert len(ours) == {"sunday": 50, "monday": 51}[first_day]


def test_to_utc_gap_and_fold():
    zone = ZoneInfo("America/New_York")
    assert to_utc(datetime(2024, 3, 10, 2, 30), zone) == utc("2024-03-10T07:30")
    assert to_utc(datetime(2024, 11, 3, 1, 30), zone) == utc("2024-11-03T05:30")
    assert to_utc(datetime(2024, 11, 3, 1, 30, fold=1), zone) == utc("2024-11-03T05:30")  # fold is ignored
    with pytest.raises(ValueError):
        to_utc(datetime(2024, 1, 1, tzinfo=UTC), zone)


# ------------------------------------------------------------------ 1. tables: occurrence_at, bounds

BIWEEKLY = {"type": "weekly", "interval": 2, "daysOfWeek": ["monday"]}


@pytest.mark.parametrize(("range_", "probe", "expected"), [
    ({"type": "noEnd", "startDate": "2024-01-08"}, "2024-01-22T09:00", True),
    ({"type": "noEnd", "startDate": "2024-01-08"}, "2024-01-15T09:00", False),  # the off week
    ({"type": "noEnd", "startDate": "2024-01-08"}, "2024-01-22T10:00", False),  # another time of day
    ({"type": "noEnd", "startDate": "2024-01-08"}, "2024-01-22T09:00:01", False),
    ({"type": "noEnd", "startDate": "2024-01-08"}, "2023-12-25T09:00", False),  # before the start
    ({"type": "numbered", "startDate": "2024-01-08", "numberOfOccurrences": 3}, "2024-02-05T09:00", True),
    ({"type": "numbered", "startDate": "2024-01-08", "numberOfOccurrences": 3}, "2024-02-19T09:00", False),
    ({"type": "endDate", "startDate": "2024-01-08", "endDate": "2024-02-05"}, "2024-02-05T09:00", True),
    ({"type": "endDate", "startDate": "2024-01-08", "endDate": "2024-02-04"}, "2024-02-05T09:00", False),
])
def test_occurrence_at_table(range_, probe, expected):
    rec = series(BIWEEKLY, range_)
    assert occurrence_at(rec, start_of(range_), ZoneInfo("Europe/Berlin"), datetime.fromisoformat(probe)) is expected


@pytest.mark.parametrize(("range_", "expected"), [
    ({"type": "numbered", "startDate": "2024-01-03", "numberOfOccurrences": 3},
     ("2024-01-08T08:00", "2024-02-05T09:00")),  # first fitting Monday, then two more every other week
    ({"type": "endDate", "startDate": "2024-01-08", "endDate": "2024-03-03"}, ("2024-01-08T08:00", "2024-02-19T09:00")),
    ({"type": "endDate", "startDate": "2024-03-04", "endDate": "2024-04-01"},
     ("2024-03-04T08:00", "2024-04-01T08:00")),  # the last one is in summer time
    ({"type": "noEnd", "startDate": "2024-01-08"}, ("2024-01-08T08:00", None)),
    ({"type": "endDate", "startDate": "2024-01-09", "endDate": "2024-01-14"}, ("2024-01-15T08:00", "2024-01-15T08:00")),
], ids=["numbered", "endDate", "endDate across DST", "noEnd", "no occurrence"])
def test_series_bounds_table(range_, expected):
    first, last = series_bounds(series(BIWEEKLY, range_), start_of(range_), ZoneInfo("Europe/Berlin"),
                                timedelta(hours=1))
    assert (first, last) == (utc(expected[0]), utc(expected[1]) if expected[1] else None)


# ------------------------------------------------------------------------------ 2. RFC 5545 oracle

_FREQ = {"daily": rr.DAILY, "weekly": rr.WEEKLY, "absoluteMonthly": rr.MONTHLY, "relativeMonthly": rr.MONTHLY,
         "absoluteYearly": rr.YEARLY, "relativeYearly": rr.YEARLY}
_RR_DAY = dict(zip(DAYS_OF_WEEK, (rr.SU, rr.MO, rr.TU, rr.WE, rr.TH, rr.FR, rr.SA), strict=False))
_SETPOS = {"first": 1, "second": 2, "third": 3, "fourth": 4, "last": -1}


def oracle_rule(recurrence: dict, at: time) -> rr.rrule:
    """The series as an RFC 5545 rule, built from the Graph JSON alone (naive wall times).

    Where Graph deliberately differs from plain RRULE, the difference is encoded here:
    * dayOfMonth past the end of a month means its last day (EWS DayOfMonth element: "If for a particular
      month this value is larger than the number of days in the month, the last day of the month is
      assumed"): BYMONTHDAY=d,-1;BYSETPOS=1 (dateutil's documented recipe).
    * the interval counts from the first occurrence, the first fitting day on or after startDate (Graph
      "Schedule repeating appointments as recurring events in Outlook": every other month from
      2017-08-29 starts in September; MS-OXOCAL 2.2.1.44.1.1 for weeks): DTSTART is that day, found by
      the same rule with INTERVAL=1.
    * index over several daysOfWeek is BYSETPOS over their union; firstDayOfWeek is WKST.
    * nothing recurs after Exchange's horizon (HORIZON, applied by the callers).
    """
    pattern, range_ = recurrence["pattern"], recurrence["range"]
    kind = pattern["type"]
    by: dict = {}
    if kind in ("weekly", "relativeMonthly", "relativeYearly"):
        by["byweekday"] = [_RR_DAY[day] for day in pattern["daysOfWeek"]]
    if kind.startswith("relative"):
        by["bysetpos"] = _SETPOS[pattern["index"]]
    if kind.startswith("absolute"):
        by.update(bymonthday=(pattern["dayOfMonth"], -1), bysetpos=1)
    if kind.endswith("Yearly"):
        by["bymonth"] = pattern["month"]
    wkst = _RR_DAY[pattern["firstDayOfWeek"]]
    begin = datetime.combine(date.fromisoformat(range_["startDate"]), at)
    first = rr.rrule(_FREQ[kind], dtstart=begin, wkst=wkst, **by)[0]
    end: dict = {}
    if range_["type"] == "numbered":
        end["count"] = range_["numberOfOccurrences"]
    elif range_["type"] == "endDate":
        end["until"] = datetime.combine(date.fromisoformat(range_["endDate"]), time.max)
    return rr.rrule(_FREQ[kind], dtstart=first, interval=pattern["interval"], wkst=wkst, cache=False, **by, **end)


HORIZON = date(4500, 8, 31)  # EWS EndDate (Recurrence): "The value cannot be larger than September 1, 4500"


def oracle_utc(local: datetime, zone: ZoneInfo) -> datetime:
    return local.replace(tzinfo=zone).astimezone(UTC)  # zoneinfo, fold=0: gaps move forward, folds take the first


def oracle_expand(rule: rr.rrule, zone: ZoneInfo, duration: timedelta, low: datetime, high: datetime) -> list:
    around = (low - duration).astimezone(zone).replace(tzinfo=None) - timedelta(days=2)
    until = high.astimezone(zone).replace(tzinfo=None) + timedelta(days=2)
    found = []
    for local in rule.between(around, until, inc=True):
        begin = oracle_utc(local, zone)
        if (begin < high and begin + duration > low) if duration else (low <= begin < high):
            found.append(local)
    return found


ZONES = ("America/New_York", "Europe/London", "Australia/Lord_Howe", "Pacific/Chatham", "America/Santiago",
         "Australia/Sydney", "America/St_Johns", "Europe/Berlin", "Asia/Tehran", "UTC")


@cache
def transitions(zone_name: str) -> tuple[datetime, ...]:
    """Naive local wall times at which the zone's UTC offset changes, 2016-2030 (the gap or fold)."""
    zone, found = ZoneInfo(zone_name), []
    moment = datetime(2016, 1, 1, tzinfo=UTC)
    offset = moment.astimezone(zone).utcoffset()
    while moment.year < 2031:
        if (moment + timedelta(days=1)).astimezone(zone).utcoffset() != offset:
            low, high = 0, 24 * 60  # bisect to the minute of the change
            while high - low > 1:
                middle = (low + high) // 2
                same = (moment + timedelta(minutes=middle)).astimezone(zone).utcoffset() == offset
                low, high = (middle, high) if same else (low, middle)
            change = moment + timedelta(minutes=high)
            found.append((change - timedelta(minutes=1)).astimezone(zone).replace(tzinfo=None) + timedelta(minutes=1))
            offset = change.astimezone(zone).utcoffset()
        moment += timedelta(days=1)
    return tuple(found) or (datetime(2020, 1, 1, 2, 0),)


@dataclass(frozen=True)
class Case:
    recurrence: dict
    start: datetime
    zone: ZoneInfo
    duration: timedelta


@st.composite
def cases(draw) -> Case:
    near_dst = draw(st.booleans())  # start shortly before a DST change, at a time of day near its gap or fold
    kind = draw(st.sampled_from(("daily", "weekly") if near_dst and draw(st.booleans()) else PATTERN_TYPES))
    high = {"daily": 40, "weekly": 8, "absoluteYearly": 5, "relativeYearly": 5}.get(kind, 14)
    pattern: dict = {"type": kind, "interval": draw(st.integers(1, 3) | st.integers(1, high)),
                     "firstDayOfWeek": draw(st.sampled_from(DAYS_OF_WEEK))}
    if kind in ("weekly", "relativeMonthly", "relativeYearly"):
        pattern["daysOfWeek"] = draw(st.lists(st.sampled_from(DAYS_OF_WEEK), min_size=1, max_size=7, unique=True))
    if kind.startswith("relative"):
        pattern["index"] = draw(st.sampled_from(WEEK_INDEXES))
    if kind.startswith("absolute"):
        pattern["dayOfMonth"] = draw(st.integers(1, 31) | st.integers(28, 31))
    if kind.endswith("Yearly"):
        pattern["month"] = draw(st.integers(1, 12) | st.just(2))
    zone_name = draw(st.sampled_from(ZONES))
    if near_dst:
        change = draw(st.sampled_from(transitions(zone_name)))
        start_day = change.date() - timedelta(days=draw(st.integers(0, 40)))
        at = (change + timedelta(minutes=draw(st.integers(-90, 90)))).time()
    else:
        start_day = draw(st.dates(date(2016, 1, 1), date(2030, 12, 31)))
        minute = draw(st.integers(0, 4 * 60) | st.integers(0, 24 * 60 - 1))
        at = time(minute // 60, minute % 60)
    range_: dict = {"type": draw(st.sampled_from(RANGE_TYPES)), "startDate": start_day.isoformat()}
    if range_["type"] == "numbered":
        range_["numberOfOccurrences"] = draw(st.integers(1, 40) | st.integers(1, MAX_OCCURRENCES))
    if range_["type"] == "endDate":
        range_["endDate"] = (start_day + timedelta(days=draw(st.integers(0, 60) | st.integers(0, 1500)))).isoformat()
    duration = timedelta(minutes=draw(st.sampled_from([0, 30, 60]) | st.integers(0, 3 * 24 * 60)))
    return Case(validate({"pattern": pattern, "range": range_}),
                datetime.combine(start_day, at), ZoneInfo(zone_name), duration)


def windows(data: st.DataObject, case: Case) -> tuple[datetime, datetime]:
    """A window near an occurrence time (so that it often cuts occurrences), up to two months long,
    placed at one of the series' first 400 occurrences, at the zone's next DST change, or anywhere in
    four years."""
    place = data.draw(st.sampled_from(["occurrence", "dst", "anywhere"]))
    head = list(islice(oracle_rule(case.recurrence, case.start.time()), 400)) if place == "occurrence" else []
    changes = [change for change in transitions(case.zone.key) if change.date() >= case.start.date()]
    minutes = st.integers(0, 3 * 1440) | st.integers(0, 20 * 1440)
    if place == "dst" and changes:  # around the occurrence time on the day of the change
        middle = oracle_utc(datetime.combine(changes[0].date(), case.start.time()), case.zone)
        return middle - timedelta(minutes=data.draw(minutes)), middle + timedelta(minutes=data.draw(minutes))
    if head:
        day = data.draw(st.sampled_from(head)).date()
    else:
        day = case.start.date() + timedelta(days=data.draw(st.integers(-20, 90) | st.integers(-20, 1300)))
    span = int(case.duration.total_seconds() // 60) + 120
    low = oracle_utc(datetime.combine(day, case.start.time()), case.zone)
    low += timedelta(minutes=data.draw(st.integers(-span, span) | st.integers(-3 * 1440, 3 * 1440)))
    high = low + timedelta(minutes=data.draw(st.sampled_from([0, 1, 60]) | st.integers(0, 62 * 1440)))
    if data.draw(st.booleans()):
        low, high = low.astimezone(case.zone), high.astimezone(case.zone)  # windows need not be in UTC
    return low, high


PROPERTY = settings(max_examples=1500, derandomize=True, deadline=None, database=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


@PROPERTY
@given(case=cases(), data=st.data())
def test_expand_matches_rrule_oracle(case, data):
    low, high = windows(data, case)
    rule = oracle_rule(case.recurrence, case.start.time())
    expected = oracle_expand(rule, case.zone, case.duration, low, high)
    assert expand(case.recurrence, case.start, case.zone, case.duration, low, high) == expected
    limit = data.draw(st.integers(1, 5))
    assert expand(case.recurrence, case.start, case.zone, case.duration, low, high, limit) == expected[:limit]
    assert validate(case.recurrence) == case.recurrence  # normalized output is a fixed point


@settings(PROPERTY, max_examples=1000)
@given(case=cases(), data=st.data())
def test_occurrence_at_agrees_with_expand_and_oracle(case, data):
    low = oracle_utc(datetime.combine(case.start.date(), time()), case.zone)
    low += timedelta(days=data.draw(st.integers(-10, 90) | st.integers(-10, 1300)))
    high = low + timedelta(days=40)
    at = case.start.time()
    found = set(expand(case.recurrence, case.start, case.zone, timedelta(0), low, high))
    inside = low.astimezone(case.zone).date() + timedelta(days=1)
    while inside < high.astimezone(case.zone).date():  # whole local days inside the window
        probe = datetime.combine(inside, at)
        assert occurrence_at(case.recurrence, case.start, case.zone, probe) == (probe in found)
        inside += timedelta(days=1)
    probe = datetime.combine(case.start.date() + timedelta(days=data.draw(st.integers(-10, 1500))), at)
    expected = bool(oracle_rule(case.recurrence, at).between(probe, probe, inc=True))
    assert occurrence_at(case.recurrence, case.start, case.zone, probe) == expected
    assert not occurrence_at(case.recurrence, case.start, case.zone, probe + timedelta(minutes=1))


@settings(PROPERTY, max_examples=1000)
@given(case=cases(), data=st.data())
def test_series_bounds_bracket_every_occurrence(case, data):
    first, last = series_bounds(case.recurrence, case.start, case.zone, case.duration)
    low, high = windows(data, case)
    for local in expand(case.recurrence, case.start, case.zone, case.duration, low, high):
        begin = to_utc(local, case.zone)
        assert first <= begin and (last is None or begin + case.duration <= last)
    rule = oracle_rule(case.recurrence, case.start.time())
    if case.recurrence["range"]["type"] == "noEnd":
        assert (first, last) == (oracle_utc(rule[0], case.zone), None)
        return
    everything = [local for local in rule if local.date() <= HORIZON]
    if everything:  # the bounds are tight
        assert first == oracle_utc(everything[0], case.zone)
        assert last == oracle_utc(everything[-1], case.zone) + case.duration
    else:
        assert first == last and expand(case.recurrence, case.start, case.zone, case.duration, *EVER) == []


# ---------------------------------------------------------------------------------------- 3. validate()

PATTERN = {"type": "weekly", "interval": 1, "daysOfWeek": ["monday"]}
RANGE = {"type": "noEnd", "startDate": "2024-01-01"}


def with_pattern(**changes) -> dict:
    return {"pattern": {**PATTERN, **changes}, "range": RANGE}


def with_range(**changes) -> dict:
    return {"pattern": PATTERN, "range": {**RANGE, **changes}}


def without(body: dict, part: str, key: str) -> dict:
    return {**body, part: {k: v for k, v in body[part].items() if k != key}}


ERRORS = [
    ([], "recurrence must be a JSON object"),
    ({"range": RANGE}, "recurrence.pattern is required"),
    ({"pattern": PATTERN, "range": None}, "recurrence.range is required"),
    ({"pattern": PATTERN, "range": RANGE, "rule": "FREQ=DAILY"}, "recurrence.rule is not a known property"),
    ({"pattern": "weekly", "range": RANGE}, "recurrence.pattern must be a JSON object"),
    (with_pattern(daysOfWeeks=["monday"]), "recurrence.pattern.daysOfWeeks is not a known property"),
    (without(with_pattern(), "pattern", "type"), "recurrence.pattern.type is required"),
    (with_pattern(type="hourly"), "recurrence.pattern.type must be one of daily, weekly"),
    (with_pattern(type=3), "recurrence.pattern.type must be one of"),
    (without(with_pattern(), "pattern", "interval"),
     "recurrence.pattern.interval is required; give the number of weeks"),
    (with_pattern(interval="2"), "recurrence.pattern.interval must be an integer"),
    (with_pattern(interval=True), "recurrence.pattern.interval must be an integer"),
    (with_pattern(interval=1.5), "recurrence.pattern.interval must be an integer"),
    (with_pattern(interval=0), "recurrence.pattern.interval must be between 1 and 99; got 0"),
    (with_pattern(interval=-1), "recurrence.pattern.interval must be between 1 and 99"),
    (with_pattern(interval=100), "recurrence.pattern.interval must be between 1 and 99"),
    (with_pattern(type="daily", interval=1000), "recurrence.pattern.interval must be between 1 and 999"),
    (without(with_pattern(), "pattern", "daysOfWeek"),
     "recurrence.pattern.daysOfWeek is required when recurrence.pattern.type is 'weekly'"),
    (with_pattern(daysOfWeek=[]), "recurrence.pattern.daysOfWeek is required when recurrence.pattern.type is 'weekly'"),
    (with_pattern(daysOfWeek="monday"), "recurrence.pattern.daysOfWeek must be a list"),
    (with_pattern(daysOfWeek=["funday"]), "recurrence.pattern.daysOfWeek must be one of sunday"),
    (with_pattern(daysOfWeek=[1]), "recurrence.pattern.daysOfWeek must be one of"),
    (with_pattern(daysOfWeek=[None]), "recurrence.pattern.daysOfWeek must be one of"),
    (with_pattern(type="relativeMonthly", daysOfWeek=None),
     "recurrence.pattern.daysOfWeek is required when recurrence.pattern.type is 'relativeMonthly'"),
    (with_pattern(type="relativeYearly", month=5, daysOfWeek=[]),
     "recurrence.pattern.daysOfWeek is required when recurrence.pattern.type is 'relativeYearly'"),
    (with_pattern(type="relativeYearly"),
     "recurrence.pattern.month is required when recurrence.pattern.type is 'relativeYearly'"),
    (with_pattern(type="absoluteMonthly"),
     "recurrence.pattern.dayOfMonth is required when recurrence.pattern.type is 'absoluteMonthly'"),
    (with_pattern(type="absoluteMonthly", dayOfMonth=0),
     "recurrence.pattern.dayOfMonth must be between 1 and 31; got 0"),
    (with_pattern(type="absoluteMonthly", dayOfMonth=32), "recurrence.pattern.dayOfMonth must be between 1 and 31"),
    (with_pattern(type="absoluteMonthly", dayOfMonth="15"), "recurrence.pattern.dayOfMonth must be an integer"),
    (with_pattern(type="absoluteYearly", dayOfMonth=15),
     "recurrence.pattern.month is required when recurrence.pattern.type is 'absoluteYearly'"),
    (with_pattern(type="absoluteYearly", month=4),
     "recurrence.pattern.dayOfMonth is required when recurrence.pattern.type is 'absoluteYearly'"),
    (with_pattern(type="absoluteYearly", month=13, dayOfMonth=1), "recurrence.pattern.month must be between 1 and 12"),
    (with_pattern(type="relativeMonthly", index="fifth"), "recurrence.pattern.index must be one of first, second"),
    (with_pattern(firstDayOfWeek="someday"), "recurrence.pattern.firstDayOfWeek must be one of sunday"),
    # ignored properties are still validated (Graph concept page note)
    (with_pattern(type="daily", index="fifth"), "recurrence.pattern.index must be one of"),
    (with_pattern(type="daily", month=13), "recurrence.pattern.month must be between 1 and 12"),
    (with_pattern(type="absoluteMonthly", dayOfMonth=1, daysOfWeek=["x"]),
     "recurrence.pattern.daysOfWeek must be one of"),
    ({"pattern": PATTERN, "range": "noEnd"}, "recurrence.range must be a JSON object"),
    (with_range(count=3), "recurrence.range.count is not a known property"),
    (without(with_range(), "range", "type"), "recurrence.range.type is required; use one of endDate, noEnd, numbered"),
    (with_range(type="forever"), "recurrence.range.type must be one of endDate, noEnd, numbered"),
    (without(with_range(), "range", "startDate"), "recurrence.range.startDate is required"),
    (with_range(startDate="2024/01/01"), "recurrence.range.startDate must be a date written YYYY-MM-DD"),
    (with_range(startDate=20240101), "recurrence.range.startDate must be a date written YYYY-MM-DD"),
    (with_range(startDate="2024-01-01T00:00:00"), "recurrence.range.startDate must be a date written YYYY-MM-DD"),
    (with_range(startDate="2024-02-30"), "recurrence.range.startDate is not a calendar date"),
    (with_range(startDate="1601-03-31"), "recurrence.range.startDate must be between 1601-04-01 and 4500-08-31"),
    (with_range(type="endDate"), "recurrence.range.endDate is required when recurrence.range.type is 'endDate'"),
    (with_range(type="endDate", endDate="2023-12-31"),
     "recurrence.range.endDate (2023-12-31) is before recurrence.range.startDate (2024-01-01)"),
    (with_range(type="endDate", endDate="4500-09-01"),
     "recurrence.range.endDate must be between 1601-04-01 and 4500-08-31"),
    (with_range(endDate="someday"), "recurrence.range.endDate must be a date written YYYY-MM-DD"),
    (with_range(type="numbered"),
     "recurrence.range.numberOfOccurrences is required when recurrence.range.type is 'numbered'"),
    (with_range(type="numbered", numberOfOccurrences=0),
     "recurrence.range.numberOfOccurrences must be between 1 and 999"),
    (with_range(type="numbered", numberOfOccurrences=-3),
     "recurrence.range.numberOfOccurrences must be between 1 and 999"),
    (with_range(type="numbered", numberOfOccurrences=1000),
     "recurrence.range.numberOfOccurrences must be between 1 and 999"),
    (with_range(type="numbered", numberOfOccurrences="5"), "recurrence.range.numberOfOccurrences must be an integer"),
    (with_range(recurrenceTimeZone=5), "recurrence.range.recurrenceTimeZone must be a time zone name"),
]


@pytest.mark.parametrize(("body", "message"), ERRORS, ids=[message for _, message in ERRORS])
def test_validate_errors_name_the_property(body, message):
    with pytest.raises(RecurrenceError, match=re.escape(message)) as caught:
        validate(body)
    assert isinstance(caught.value, ValueError)


def test_validate_fills_defaults_in_graphs_shape():
    assert validate({"pattern": {"type": "weekly", "interval": 2, "daysOfWeek": ["friday", "Monday", "FRIDAY"]},
                     "range": {"type": "numbered", "startDate": "2024-01-01", "numberOfOccurrences": 5}}) == {
        "pattern": {"type": "weekly", "interval": 2, "month": 0, "dayOfMonth": 0, "daysOfWeek": ["monday", "friday"],
                    "firstDayOfWeek": "sunday", "index": "first"},
        "range": {"type": "numbered", "startDate": "2024-01-01", "endDate": "0001-01-01", "recurrenceTimeZone": None,
                  "numberOfOccurrences": 5},
    }


def test_validate_accepts_what_graph_returns_unchanged():
    returned = {
        "pattern": {"type": "relativeYearly", "interval": 1, "month": 11, "dayOfMonth": 0,
                    "daysOfWeek": ["wednesday"], "firstDayOfWeek": "monday", "index": "last"},
        "range": {"type": "noEnd", "startDate": "2017-09-04", "endDate": "0001-01-01",
                  "recurrenceTimeZone": "Pacific Standard Time", "numberOfOccurrences": 0},
    }
    assert validate(returned) == returned


def test_validate_normalizes_case_annotations_and_unused_properties():
    body = {
        "@odata.type": "microsoft.graph.patternedRecurrence",
        "pattern": {"@odata.type": "microsoft.graph.recurrencePattern", "type": "AbsoluteMonthly", "interval": 1,
                    "dayOfMonth": 31, "daysOfWeek": ["Monday"], "index": "Last", "month": 5,
                    "firstDayOfWeek": "Monday"},
        "range": {"type": "EndDate", "startDate": "2024-01-01", "endDate": "2024-12-31", "numberOfOccurrences": 7},
    }
    snapshot = repr(body)
    assert validate(body) == {
        "pattern": {"type": "absoluteMonthly", "interval": 1, "month": 0, "dayOfMonth": 31, "daysOfWeek": [],
                    "firstDayOfWeek": "monday", "index": "first"},
        "range": {"type": "endDate", "startDate": "2024-01-01", "endDate": "2024-12-31", "recurrenceTimeZone": None,
                  "numberOfOccurrences": 0},
    }
    assert repr(body) == snapshot  # the input is not modified


def test_validate_resets_unused_end_properties():
    body = with_range(type="numbered", numberOfOccurrences=3, endDate="2030-01-01", recurrenceTimeZone="UTC")
    assert validate(body)["range"] == {"type": "numbered", "startDate": "2024-01-01", "endDate": "0001-01-01",
                                       "recurrenceTimeZone": "UTC", "numberOfOccurrences": 3}


def test_validate_nulls_mean_defaults():
    body = {"pattern": {"type": "daily", "interval": 1, "month": None, "dayOfMonth": None, "daysOfWeek": None,
                        "firstDayOfWeek": None, "index": None},
            "range": {"type": "noEnd", "startDate": "2024-01-01", "endDate": None, "recurrenceTimeZone": None,
                      "numberOfOccurrences": None}}
    assert validate(body) == {
        "pattern": {"type": "daily", "interval": 1, "month": 0, "dayOfMonth": 0, "daysOfWeek": [],
                    "firstDayOfWeek": "sunday", "index": "first"},
        "range": {"type": "noEnd", "startDate": "2024-01-01", "endDate": "0001-01-01", "recurrenceTimeZone": None,
                  "numberOfOccurrences": 0},
    }
