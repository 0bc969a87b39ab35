"""Recurring events end to end: POST a series, read calendarView, compare with an RFC 5545 oracle.

The property test POSTs a series with a random Graph ``patternedRecurrence``
(all six pattern types, intervals, daysOfWeek, dayOfMonth, month, index
including ``last``, firstDayOfWeek; endDate / noEnd / numbered ranges) in a
random zone (IANA or Windows name, most with DST, some with odd rules: Lord
Howe's 30-minute shift, Santiago's midnight change, Chatham's +12:45), reads
``calendarView`` over a random window (a third of them around one of the
zone's DST changes) through nextLinks, and compares the occurrences' start
instants with the oracle.

The oracle knows nothing of the sandbox: wall-clock times come from
``dateutil.rrule`` (RFC 5545: WKST for firstDayOfWeek, BYSETPOS for index,
BYMONTHDAY=28..d;BYSETPOS=-1 for Graph's "dayOfMonth past the month's end
means its last day"); its DTSTART is the series' first occurrence, the first
day on or after ``range.startDate`` that fits the pattern, found by a plain
day-by-day search; ``endDate`` becomes UNTIL at the end of that day and
``numberOfOccurrences`` COUNT. Wall times become instants by RFC 5545 §3.3.5:
a time in a spring-forward gap takes the offset from before the gap, an
ambiguous one the first of its two instants.

The rest of the file pins down the view's semantics: instances == calendarView
restricted to the series, stable occurrence ids, exceptions and cancellations
through PATCH and DELETE, no master in the view, no occurrence in the event list.
"""

from __future__ import annotations

import calendar
import datetime as dt
import functools
from typing import Any

import pytest
from dateutil import rrule as rr
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from .conftest import (
    WINDOWS_ZONES,
    all_pages,
    assert_graph_error,
    event_body,
    new_store,
    open_client,
    post_event,
    utc,
    zone,
)

UTC = dt.UTC
DAYS = ("sunday", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday")
RR_DAY = {"sunday": rr.SU, "monday": rr.MO, "tuesday": rr.TU, "wednesday": rr.WE, "thursday": rr.TH,
          "friday": rr.FR, "saturday": rr.SA}
PY_DAY = {"monday": 0, "tuesday": 1, "wednesday": 2, "thursday": 3, "friday": 4, "saturday": 5, "sunday": 6}
INDEX = {"first": 1, "second": 2, "third": 3, "fourth": 4, "last": -1}
TYPES = ("daily", "weekly", "absoluteMonthly", "relativeMonthly", "absoluteYearly", "relativeYearly")
# Zone names as a client sends them: Windows or IANA, mostly with DST.
ZONE_NAMES = [
    "Pacific Standard Time", "America/Los_Angeles", "Eastern Standard Time", "America/New_York",
    "GMT Standard Time", "Europe/London", "W. Europe Standard Time", "Europe/Berlin",
    "AUS Eastern Standard Time", "Australia/Sydney", "Lord Howe Standard Time", "Australia/Lord_Howe",
    "Chatham Islands Standard Time", "Pacific/Chatham", "Pacific SA Standard Time", "America/Santiago",
    "Newfoundland Standard Time", "New Zealand Standard Time", "Tokyo Standard Time", "UTC",
]
VIEW_HEADERS = {"Prefer": "odata.maxpagesize=1000"}


# -- the oracle --------------------------------------------------------------------------------


def iana(name: str) -> str:
    return WINDOWS_ZONES.get(name, name)


def _nth_in_month(day: dt.date, weekdays: set[int], index: str) -> bool:
    last = calendar.monthrange(day.year, day.month)[1]
    fits = [d for d in range(1, last + 1) if dt.date(day.year, day.month, d).weekday() in weekdays]
    return day.day == fits[INDEX[index] - 1 if index != "last" else -1]


def fits_pattern(pattern: dict[str, Any], day: dt.date) -> bool:
    """Whether ``day`` fits the pattern ignoring its interval (a day-by-day predicate, no rrule)."""
    kind = pattern["type"]
    if kind == "daily":
        return True
    if kind == "weekly":
        return day.weekday() in {PY_DAY[d] for d in pattern["daysOfWeek"]}
    if kind.endswith("Yearly") and day.month != pattern["month"]:
        return False
    if kind.startswith("absolute"):
        return day.day == min(pattern["dayOfMonth"], calendar.monthrange(day.year, day.month)[1])
    return _nth_in_month(day, {PY_DAY[d] for d in pattern["daysOfWeek"]}, pattern.get("index", "first"))


def first_occurrence(pattern: dict[str, Any], start: dt.date) -> dt.date:
    day = start
    while not fits_pattern(pattern, day):
        day += dt.timedelta(days=1)
    return day


def oracle_rule(pattern: dict[str, Any], rng: dict[str, Any], at: dt.time) -> rr.rrule:
    kind = pattern["type"]
    first = first_occurrence(pattern, dt.date.fromisoformat(rng["startDate"]))
    kwargs: dict[str, Any] = {"dtstart": dt.datetime.combine(first, at), "interval": pattern["interval"],
                              "wkst": RR_DAY[pattern.get("firstDayOfWeek", "sunday")], "cache": False}
    if kind in ("weekly", "relativeMonthly", "relativeYearly"):
        kwargs["byweekday"] = [RR_DAY[d] for d in pattern["daysOfWeek"]]
    if kind.startswith("relative"):
        kwargs["bysetpos"] = INDEX[pattern.get("index", "first")]
    if kind.startswith("absolute"):
        day = pattern["dayOfMonth"]
        kwargs["bymonthday"] = day if day <= 28 else list(range(28, day + 1))
        if day > 28:
            kwargs["bysetpos"] = -1
    if kind.endswith("Yearly"):
        kwargs["bymonth"] = pattern["month"]
    if rng["type"] == "endDate":
        kwargs["until"] = dt.datetime.combine(dt.date.fromisoformat(rng["endDate"]), dt.time(23, 59, 59))
    elif rng["type"] == "numbered":
        kwargs["count"] = rng["numberOfOccurrences"]
    freq = {"daily": rr.DAILY, "weekly": rr.WEEKLY}.get(kind, rr.MONTHLY if kind.endswith("Monthly") else rr.YEARLY)
    return rr.rrule(freq, **kwargs)


def rfc5545_instant(local: dt.datetime, tz: dt.tzinfo) -> dt.datetime:
    """RFC 5545 3.3.5: a nonexistent local time uses the offset before the gap; an ambiguous one, the first."""
    return local.replace(tzinfo=tz, fold=0).astimezone(UTC)


def oracle_starts(pattern, rng, at: dt.time, zone_name: str, duration: dt.timedelta,
                  low: dt.datetime, high: dt.datetime) -> list[dt.datetime]:
    tz = zone(zone_name)
    rule = oracle_rule(pattern, rng, at)
    lo = (low - duration).astimezone(tz).replace(tzinfo=None) - dt.timedelta(days=2)
    hi = high.astimezone(tz).replace(tzinfo=None) + dt.timedelta(days=2)
    out = []
    for local in rule.between(lo, hi, inc=True):
        begin = rfc5545_instant(local, tz)
        if (begin < high and begin + duration > low) if duration else (low <= begin < high):
            out.append(begin)
    return out


@functools.cache
def transitions(iana_name: str) -> tuple[dt.datetime, ...]:
    """UTC instants where the zone's offset changes, 2018-2034."""
    tz = zone(iana_name)
    out = []
    moment = dt.datetime(2018, 1, 1, tzinfo=UTC)
    step = dt.timedelta(hours=6)
    while moment.year < 2035:
        nxt = moment + step
        if moment.astimezone(tz).utcoffset() != nxt.astimezone(tz).utcoffset():
            lo, hi = moment, nxt
            while hi - lo > dt.timedelta(minutes=1):
                mid = lo + (hi - lo) / 2
                if mid.astimezone(tz).utcoffset() == lo.astimezone(tz).utcoffset():
                    lo = mid
                else:
                    hi = mid
            out.append(hi.replace(second=0, microsecond=0))
        moment = nxt
    return tuple(out)


def test_the_oracle_knows_graphs_examples():
    """The oracle reproduces the examples on Graph's recurrence page (learn.microsoft.com/graph/
    outlook-schedule-recurring-events) and dayOfMonth 31 / index last / firstDayOfWeek cases."""
    def dates(pattern, rng, n=None):
        rule = oracle_rule(pattern, rng, dt.time(9))
        return [d.date().isoformat() for d in (list(rule) if n is None else rule[:n])]

    assert dates({"type": "weekly", "interval": 2, "daysOfWeek": ["monday", "tuesday"]},
                 {"type": "numbered", "startDate": "2017-06-01", "numberOfOccurrences": 4}) == [
        "2017-06-05", "2017-06-06", "2017-06-19", "2017-06-20"]
    # "first Thursday of every other month starting 2017-08-29": first in September.
    assert dates({"type": "relativeMonthly", "interval": 2, "daysOfWeek": ["thursday"], "index": "first"},
                 {"type": "noEnd", "startDate": "2017-08-29"}, 3) == ["2017-09-07", "2017-11-02", "2018-01-04"]
    assert dates({"type": "absoluteMonthly", "interval": 1, "dayOfMonth": 31},
                 {"type": "numbered", "startDate": "2024-01-15", "numberOfOccurrences": 4}) == [
        "2024-01-31", "2024-02-29", "2024-03-31", "2024-04-30"]
    assert dates({"type": "relativeYearly", "interval": 1, "daysOfWeek": ["monday"], "month": 5, "index": "last"},
                 {"type": "endDate", "startDate": "2025-06-01", "endDate": "2027-05-31"}) == ["2026-05-25", "2027-05-31"]
    # firstDayOfWeek decides which weeks an every-other-week series hits.
    sun = dates({"type": "weekly", "interval": 2, "daysOfWeek": ["sunday", "saturday"], "firstDayOfWeek": "sunday"},
                {"type": "numbered", "startDate": "2026-03-07", "numberOfOccurrences": 3})
    mon = dates({"type": "weekly", "interval": 2, "daysOfWeek": ["sunday", "saturday"], "firstDayOfWeek": "monday"},
                {"type": "numbered", "startDate": "2026-03-07", "numberOfOccurrences": 3})
    assert sun == ["2026-03-07", "2026-03-15", "2026-03-21"]
    assert mon == ["2026-03-07", "2026-03-08", "2026-03-21"]
    la = "America/Los_Angeles"
    assert rfc5545_instant(dt.datetime(2026, 3, 8, 2, 30), zone(la)) == dt.datetime(2026, 3, 8, 10, 30, tzinfo=UTC)
    assert rfc5545_instant(dt.datetime(2026, 11, 1, 1, 30), zone(la)) == dt.datetime(2026, 11, 1, 8, 30, tzinfo=UTC)
    assert len(transitions(la)) == 2 * 17


# -- generated series ------------------------------------------------------------------------


@st.composite
def patterns(draw) -> dict[str, Any]:
    kind = draw(st.sampled_from(TYPES))
    high = 999 if kind == "daily" else 99
    pattern: dict[str, Any] = {"type": kind,
                               "interval": draw(st.integers(1, 3) | st.integers(1, 12) | st.integers(1, high))}
    if kind in ("weekly", "relativeMonthly", "relativeYearly"):
        pattern["daysOfWeek"] = draw(st.lists(st.sampled_from(DAYS), min_size=1,
                                              max_size=7 if kind == "weekly" else 3, unique=True))
    if draw(st.booleans()):
        pattern["firstDayOfWeek"] = draw(st.sampled_from(DAYS))
    if kind.startswith("relative") and draw(st.integers(0, 5)):
        pattern["index"] = draw(st.sampled_from(tuple(INDEX)))
    if kind.startswith("absolute"):
        pattern["dayOfMonth"] = draw(st.integers(1, 31) | st.integers(28, 31))
    if kind.endswith("Yearly"):
        pattern["month"] = draw(st.integers(1, 12) | st.just(2))
    return pattern


@st.composite
def series(draw) -> dict[str, Any]:
    pattern = draw(patterns())
    zone_name = draw(st.sampled_from(ZONE_NAMES))
    start_date = draw(st.dates(dt.date(2019, 1, 1), dt.date(2030, 12, 31)))
    near_dst = draw(st.integers(0, 2)) == 0 and transitions(iana(zone_name))
    if near_dst:  # start a few weeks before one of the zone's changes, at a time near it
        change = draw(st.sampled_from(transitions(iana(zone_name)))).astimezone(zone(zone_name))
        start_date = change.date() - dt.timedelta(days=draw(st.integers(0, 60)))
        minutes = change.hour * 60 + change.minute + draw(st.integers(-90, 90))
    else:
        minutes = draw(st.sampled_from([0, 30, 60, 90, 120, 150]) | st.integers(0, 24 * 60 - 1))
    at = dt.time((minutes // 60) % 24, minutes % 60)
    local_start = dt.datetime.combine(start_date, at)
    tz = zone(zone_name)
    # The series' own start is never in a gap (what that means is not pinned down); occurrences may be.
    if rfc5545_instant(local_start, tz).astimezone(tz).replace(tzinfo=None) != local_start:
        at = (dt.datetime.combine(start_date, at) + dt.timedelta(hours=1)).time()
        local_start = dt.datetime.combine(start_date, at)
    rng: dict[str, Any] = {"type": draw(st.sampled_from(("endDate", "noEnd", "numbered"))),
                           "startDate": start_date.isoformat()}
    if rng["type"] == "endDate":
        rng["endDate"] = (start_date + dt.timedelta(days=draw(st.integers(0, 90) | st.integers(0, 1500)))).isoformat()
    elif rng["type"] == "numbered":
        rng["numberOfOccurrences"] = draw(st.integers(1, 30) | st.integers(1, 999))
    naming = draw(st.sampled_from(["same", "omitted", "other"]))
    if naming == "same":
        rng["recurrenceTimeZone"] = zone_name
    elif naming == "other":  # the same zone by its other name (Windows <-> IANA)
        other = {v: k for k, v in WINDOWS_ZONES.items()}.get(zone_name) or iana(zone_name)
        rng["recurrenceTimeZone"] = other
    duration = dt.timedelta(minutes=draw(st.sampled_from([30, 60, 0, 90]) | st.integers(0, 3 * 24 * 60)))
    return {"pattern": pattern, "range": rng, "zone": zone_name, "start": local_start, "duration": duration}


@st.composite
def windows(draw, s: dict[str, Any]) -> tuple[dt.datetime, dt.datetime]:
    """A window that usually cuts the series: holding one of its first 400 occurrences, with an edge
    near one (before, on or after it), around one of the zone's DST changes (or the occurrence nearest
    to it), or anywhere in the next years."""
    tz = zone(s["zone"])
    rule = oracle_rule(s["pattern"], s["range"], s["start"].time())
    place = draw(st.sampled_from(["occurrence", "occurrence", "occurrence", "edge", "edge", "dst", "dst", "anywhere"]))
    changes = [c for c in transitions(iana(s["zone"])) if c.date() >= s["start"].date() - dt.timedelta(days=7)]
    span = int(s["duration"].total_seconds() // 60) + 120
    centre = None
    if place == "dst" and changes:
        change = draw(st.sampled_from(changes[:6]))
        centre = change
        if draw(st.booleans()):
            local = change.astimezone(tz).replace(tzinfo=None)
            near = rule.between(local - dt.timedelta(days=60), local + dt.timedelta(days=60), inc=True)
            if near:
                centre = rfc5545_instant(min(near, key=lambda d: abs(d - local)), tz)
        low = centre - dt.timedelta(minutes=draw(st.integers(0, span) | st.integers(0, 3 * 1440)
                                                 | st.integers(0, 20 * 1440)))
        high = centre + dt.timedelta(minutes=draw(st.integers(1, span) | st.integers(1, 3 * 1440)
                                                  | st.integers(1, 20 * 1440)))
        return low, high
    if place in ("occurrence", "edge"):
        head = [d for _, d in zip(range(400), rule, strict=False) if d.year < 2200]
        if head:
            centre = rfc5545_instant(draw(st.sampled_from(head)), tz)
    length = st.sampled_from([1, 60, 1440]) | st.integers(1, 45 * 1440) | st.integers(1, 400 * 1440)
    if place == "occurrence" and centre is not None:  # a window holding that occurrence's start
        low = centre - dt.timedelta(minutes=draw(st.integers(0, span) | st.integers(0, 40 * 1440)))
        return low, centre + dt.timedelta(minutes=draw(length))
    if centre is None:
        first = first_occurrence(s["pattern"], dt.date.fromisoformat(s["range"]["startDate"]))
        day = first + dt.timedelta(days=draw(st.integers(-10, 60) | st.integers(-10, 400) | st.integers(0, 2000)))
        centre = rfc5545_instant(dt.datetime.combine(day, s["start"].time()), tz)
    low = centre + dt.timedelta(minutes=draw(st.integers(-span, span) | st.integers(-3 * 1440, 3 * 1440)))
    return low, low + dt.timedelta(minutes=draw(length))


def query_instant(moment: dt.datetime, style: str) -> str:
    """startDateTime/endDateTime as clients write them: Z, an offset, or no zone (read as UTC)."""
    if style == "offset":
        shifted = moment.astimezone(dt.timezone(dt.timedelta(hours=5, minutes=30)))
        return shifted.strftime("%Y-%m-%dT%H:%M:%S+05:30")
    text = moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S")
    return text + ("Z" if style == "z" else "")


@pytest.fixture(scope="module")
def property_client():
    store = new_store()
    with open_client(store) as c:
        yield c
    store.close()


@pytest.fixture(scope="module")
def property_calendar(property_client):
    r = property_client.post("me/calendars", json={"name": "Recurrence property"})
    assert r.status_code == 201
    return r.json()["id"]


@settings(max_examples=1500, derandomize=True, deadline=None, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture,
                                 HealthCheck.data_too_large])
@given(s=series(), data=st.data())
def test_calendar_view_matches_the_rfc5545_oracle(property_client, property_calendar, s, data):
    c, cal = property_client, property_calendar
    low, high = data.draw(windows(s))
    start = s["start"]
    tz = zone(s["zone"])
    end = rfc5545_instant(start, tz) + s["duration"]
    end_local = end.astimezone(tz).replace(tzinfo=None)
    if rfc5545_instant(end_local, tz) != end:  # a wall time that names another instant (a fold): say it in UTC
        end_value = {"dateTime": end.replace(tzinfo=None).isoformat(), "timeZone": "UTC"}
    else:
        end_value = {"dateTime": end_local.isoformat(), "timeZone": s["zone"]}
    body = {"subject": "Property", "recurrence": {"pattern": s["pattern"], "range": s["range"]},
            "start": {"dateTime": start.isoformat(), "timeZone": s["zone"]}, "end": end_value}
    created = c.post(f"me/calendars/{cal}/events", json=body)
    assert created.status_code == 201, created.text
    master = created.json()
    assert master["type"] == "seriesMaster"
    try:
        prefer = data.draw(st.sampled_from([None, None, "Pacific Standard Time", "Asia/Kolkata", s["zone"]]))
        headers = dict(VIEW_HEADERS)
        if prefer:
            headers["Prefer"] += f', outlook.timezone="{prefer}"'
        style = data.draw(st.sampled_from(["z", "offset", "naive"]))
        params = {"startDateTime": query_instant(low, style), "endDateTime": query_instant(high, style),
                  "$top": "1000", "$select": "start,end,type,seriesMasterId"}
        view = all_pages(c, f"me/calendars/{cal}/calendarView", params=params, headers=headers)
        expected = oracle_starts(s["pattern"], s["range"], start.time(), s["zone"], s["duration"], low, high)
        got = [utc(e["start"]) for e in view]
        assert got == expected, (len(got), len(expected))
        for e in view:
            assert e["type"] == "occurrence" and e["seriesMasterId"] == master["id"]
            begin = utc(e["start"])
            shown_in = zone(prefer) if prefer else UTC
            if (begin + s["duration"]).astimezone(shown_in).fold == 0:
                # An end inside a repeated (fall-back) hour of the zone it is shown in is ambiguous in
                # Graph's wall-time format itself; every other end must keep the exact duration.
                assert utc(e["end"]) - begin == s["duration"]
            assert e["start"]["timeZone"] == (prefer or "UTC")
        # instances == the view restricted to this series (here: the whole view).
        instances = all_pages(c, f"me/calendars/{cal}/events/{master['id']}/instances", params=params, headers=headers)
        assert [e["id"] for e in instances] == [e["id"] for e in view]
    finally:
        assert c.delete(f"me/events/{master['id']}").status_code == 204


# -- the view's semantics, by example ----------------------------------------------------------


def test_zero_length_last_occurrence_at_the_window_start(client):
    moment = {"dateTime": "2026-03-10T09:00:00", "timeZone": "UTC"}
    single = post_event(client, {"subject": "Zero single", "start": moment, "end": moment})
    master = post_event(client, {"subject": "Zero series", "start": moment, "end": moment, "recurrence": {
        "pattern": {"type": "daily", "interval": 1},
        "range": {"type": "numbered", "startDate": "2026-03-08", "numberOfOccurrences": 3}}})
    window = {"startDateTime": "2026-03-10T09:00:00Z", "endDateTime": "2026-03-10T10:00:00Z"}
    ids = [e.get("seriesMasterId") or e["id"] for e in view_of(client, window)]
    assert sorted(ids) == sorted([single["id"], master["id"]])  # both: same start, order between them unspecified

def test_occurrence_ending_in_a_fold(client):
    # Sundays 01:00-02:00 Pacific; on 2026-11-01 01:00 PDT (08:00Z) + 1 h = 01:00 PST (09:00Z).
    master = post_event(client, event_body("Night shift", "2026-10-25T01:00:00", "2026-10-25T02:00:00",
                                           "Pacific Standard Time", recurrence={
        "pattern": {"type": "weekly", "interval": 1, "daysOfWeek": ["sunday"]},
        "range": {"type": "numbered", "startDate": "2026-10-25", "numberOfOccurrences": 3}}))
    window = {"startDateTime": "2026-10-20T00:00:00Z", "endDateTime": "2026-11-20T00:00:00Z"}
    got = [(e["start"]["dateTime"][:16], e["end"]["dateTime"][:16]) for e in view_of(client, window)
           if e.get("seriesMasterId") == master["id"]]
    assert got == [("2026-10-25T08:00", "2026-10-25T09:00"), ("2026-11-01T08:00", "2026-11-01T09:00"),
                   ("2026-11-08T09:00", "2026-11-08T10:00")]


WEEKLY = event_body(
    "Standup", "2026-03-02T09:00:00", "2026-03-02T09:15:00", "W. Europe Standard Time",
    recurrence={"pattern": {"type": "weekly", "interval": 1, "daysOfWeek": ["monday", "wednesday"]},
                "range": {"type": "numbered", "startDate": "2026-03-02", "numberOfOccurrences": 12}})
APRIL = {"startDateTime": "2026-03-01T00:00:00Z", "endDateTime": "2026-05-01T00:00:00Z", "$top": "1000"}


def view_of(client, params=APRIL, **kwargs):
    return all_pages(client, "me/calendarView", params=params, **kwargs)


def series_view(client, master_id, params=APRIL):
    return [e for e in view_of(client, params) if e.get("seriesMasterId") == master_id]


def test_wall_time_is_kept_across_dst_in_the_series_zone(client):
    master = post_event(client, WEEKLY)
    got = [(e["start"]["dateTime"][:16], e["end"]["dateTime"][:16]) for e in series_view(client, master["id"])]
    # Berlin switches to CEST on 2026-03-29: 09:00 local is 08:00Z before and 07:00Z after.
    assert got[:8] == [("2026-03-02T08:00", "2026-03-02T08:15"), ("2026-03-04T08:00", "2026-03-04T08:15"),
                       ("2026-03-09T08:00", "2026-03-09T08:15"), ("2026-03-11T08:00", "2026-03-11T08:15"),
                       ("2026-03-16T08:00", "2026-03-16T08:15"), ("2026-03-18T08:00", "2026-03-18T08:15"),
                       ("2026-03-23T08:00", "2026-03-23T08:15"), ("2026-03-25T08:00", "2026-03-25T08:15")]
    assert got[8:] == [("2026-03-30T07:00", "2026-03-30T07:15"), ("2026-04-01T07:00", "2026-04-01T07:15"),
                       ("2026-04-06T07:00", "2026-04-06T07:15"), ("2026-04-08T07:00", "2026-04-08T07:15")]
    berlin = view_of(client, headers={"Prefer": 'outlook.timezone="Europe/Berlin"'})
    assert {e["start"]["dateTime"][11:16] for e in berlin if e.get("seriesMasterId") == master["id"]} == {"09:00"}


def test_occurrences_in_a_spring_forward_gap_move_forward(client):
    body = event_body("Early", "2026-03-07T02:30:00", "2026-03-07T03:00:00", "America/Los_Angeles", recurrence={
        "pattern": {"type": "daily", "interval": 1}, "range": {"type": "numbered", "startDate": "2026-03-07",
                                                                "numberOfOccurrences": 3}})
    master = post_event(client, body)
    got = [(e["start"]["dateTime"][:16], e["end"]["dateTime"][:16]) for e in series_view(client, master["id"])]
    # 2026-03-08 02:30 does not exist in Los Angeles: it is 03:30 PDT (10:30Z), and lasts 30 minutes.
    assert got == [("2026-03-07T10:30", "2026-03-07T11:00"), ("2026-03-08T10:30", "2026-03-08T11:00"),
                   ("2026-03-09T09:30", "2026-03-09T10:00")]


def test_instances_equal_the_view_restricted_to_the_series(client):
    seeded = client.get("me/events", params={"$filter": "type eq 'seriesMaster'"}).json()["value"]
    created = post_event(client, WEEKLY)
    for master in [*seeded, created]:
        for params in (APRIL, {"startDateTime": "2026-03-03T18:00:00Z", "endDateTime": "2026-03-17T18:00:01Z"},
                       {"startDateTime": "2025-01-01T00:00:00Z", "endDateTime": "2027-01-01T00:00:00Z",
                        "$top": "1000"}):
            instances = all_pages(client, f"me/events/{master['id']}/instances", params=params)
            assert instances == series_view(client, master["id"], params)
            assert all(e["type"] in ("occurrence", "exception") for e in instances)


def test_occurrence_ids_are_stable(client, store):
    master = post_event(client, WEEKLY)
    first = [e["id"] for e in series_view(client, master["id"])]
    post_event(client, event_body("Unrelated", "2026-03-04T10:00:00", "2026-03-04T11:00:00"))
    client.patch(f"me/events/{master['id']}", json={"subject": "Standup (renamed)"})
    second = [e["id"] for e in series_view(client, master["id"])]
    narrow = all_pages(client, f"me/events/{master['id']}/instances",
                       params={"startDateTime": "2026-03-10T00:00:00Z", "endDateTime": "2026-03-12T00:00:00Z"})
    assert first == second and len(first) == 12 and len(set(first)) == 12
    assert [e["id"] for e in narrow] == first[3:4]
    for occ_id in first:
        got = client.get(f"me/events/{occ_id}")
        assert got.status_code == 200 and got.json()["id"] == occ_id and got.json()["type"] == "occurrence"
        assert got.json()["subject"] == "Standup (renamed)"
    # ... and across app instances on the same store.
    with open_client(store) as other:
        assert [e["id"] for e in other.get(f"me/events/{master['id']}/instances", params=APRIL).json()["value"]] == first


def test_patching_an_occurrence_makes_an_exception_at_the_new_time(client):
    master = post_event(client, WEEKLY)
    before = series_view(client, master["id"])
    target = before[2]  # Monday 2026-03-09 09:00 Berlin
    r = client.patch(f"me/events/{target['id']}", json={
        "subject": "Standup (moved)",
        "start": {"dateTime": "2026-03-10T14:00:00", "timeZone": "W. Europe Standard Time"},
        "end": {"dateTime": "2026-03-10T14:30:00", "timeZone": "W. Europe Standard Time"}})
    assert r.status_code == 200, r.text
    moved = r.json()
    assert (moved["id"], moved["type"], moved["seriesMasterId"]) == (target["id"], "exception", master["id"])
    assert moved["start"] == {"dateTime": "2026-03-10T13:00:00.0000000", "timeZone": "UTC"}
    after = series_view(client, master["id"])
    assert len(after) == len(before)
    starts = {e["start"]["dateTime"] for e in after}
    assert target["start"]["dateTime"] not in starts  # the original slot is gone
    (exc,) = [e for e in after if e["type"] == "exception"]
    assert (exc["id"], exc["subject"], exc["start"]["dateTime"]) == (target["id"], "Standup (moved)",
                                                                     "2026-03-10T13:00:00.0000000")
    assert {e["subject"] for e in after if e["type"] == "occurrence"} == {"Standup"}
    assert client.get(f"me/events/{target['id']}").json()["type"] == "exception"
    # Patching it again keeps it an exception; the master is unchanged.
    again = client.patch(f"me/events/{target['id']}", json={"subject": "Standup (moved twice)"})
    assert again.json()["type"] == "exception" and again.json()["start"] == moved["start"]
    assert client.get(f"me/events/{master['id']}").json()["subject"] == "Standup"
    instances = all_pages(client, f"me/events/{master['id']}/instances", params=APRIL)
    assert [e["id"] for e in instances] == [e["id"] for e in after]


def test_an_exception_moved_outside_the_window_leaves_it(client):
    master = post_event(client, WEEKLY)
    target = series_view(client, master["id"])[0]
    client.patch(f"me/events/{target['id']}", json={
        "start": {"dateTime": "2026-02-20T09:00:00", "timeZone": "UTC"},
        "end": {"dateTime": "2026-02-20T09:15:00", "timeZone": "UTC"}})
    assert target["id"] not in {e["id"] for e in series_view(client, master["id"])}
    feb = {"startDateTime": "2026-02-01T00:00:00Z", "endDateTime": "2026-03-01T00:00:00Z"}
    assert [e["id"] for e in series_view(client, master["id"], feb)] == [target["id"]]


def test_deleting_an_occurrence_cancels_it(client):
    master = post_event(client, WEEKLY)
    before = series_view(client, master["id"])
    target = before[5]
    r = client.delete(f"me/events/{target['id']}")
    assert r.status_code == 204
    after = series_view(client, master["id"])
    assert [e["id"] for e in after] == [e["id"] for e in before if e["id"] != target["id"]]
    assert_graph_error(client.get(f"me/events/{target['id']}"), 404, "ErrorItemNotFound")
    assert_graph_error(client.patch(f"me/events/{target['id']}", json={"subject": "x"}), 404, "ErrorItemNotFound")
    assert target["id"] not in {e["id"] for e in all_pages(client, f"me/events/{master['id']}/instances",
                                                           params=APRIL)}
    assert client.get(f"me/events/{master['id']}").status_code == 200


def test_deleting_an_exception_cancels_it_too(client):
    master = post_event(client, WEEKLY)
    target = series_view(client, master["id"])[1]
    client.patch(f"me/events/{target['id']}", json={"subject": "Changed"})
    assert client.delete(f"me/events/{target['id']}").status_code == 204
    assert target["id"] not in {e["id"] for e in series_view(client, master["id"])}
    assert_graph_error(client.get(f"me/events/{target['id']}"), 404, "ErrorItemNotFound")


def test_deleting_the_master_removes_the_whole_series(client, store):
    master = post_event(client, WEEKLY)
    occ = series_view(client, master["id"])
    client.patch(f"me/events/{occ[0]['id']}", json={"subject": "Changed"})
    client.delete(f"me/events/{occ[1]['id']}")
    assert client.delete(f"me/events/{master['id']}").status_code == 204
    assert series_view(client, master["id"]) == []
    for e in (master, occ[0], occ[2]):
        assert_graph_error(client.get(f"me/events/{e['id']}"), 404, "ErrorItemNotFound")
    assert store.db.execute("SELECT COUNT(*) FROM events WHERE series_master_id = ?", (master["id"],)).fetchone()[0] == 0


def test_the_master_never_appears_in_the_view_and_occurrences_never_in_the_event_list(client):
    master = post_event(client, WEEKLY)
    occ = series_view(client, master["id"])
    client.patch(f"me/events/{occ[0]['id']}", json={"subject": "Exception"})
    client.delete(f"me/events/{occ[1]['id']}")
    view = view_of(client, {"startDateTime": "2025-01-01T00:00:00Z", "endDateTime": "2027-12-31T00:00:00Z",
                            "$top": "1000"})
    assert master["id"] not in {e["id"] for e in view}
    assert "seriesMaster" not in {e["type"] for e in view}
    events = all_pages(client, "me/events")
    assert {e["type"] for e in events} == {"seriesMaster", "singleInstance"}
    ids = {e["id"] for e in events}
    assert master["id"] in ids and not ids & {e["id"] for e in occ}


def test_patching_the_series_pattern_is_reflected_in_the_view(client):
    master = post_event(client, WEEKLY)
    r = client.patch(f"me/events/{master['id']}", json={"recurrence": {
        "pattern": {"type": "weekly", "interval": 2, "daysOfWeek": ["friday"]},
        "range": {"type": "endDate", "startDate": "2026-03-02", "endDate": "2026-04-30"}}})
    assert r.status_code == 200, r.text
    starts = [e["start"]["dateTime"][:10] for e in series_view(client, master["id"])]
    assert starts == ["2026-03-06", "2026-03-20", "2026-04-03", "2026-04-17"]


def test_a_single_event_becomes_a_series_and_back(client):
    single = post_event(client, event_body("Becomes a series", "2026-03-03T12:00:00", "2026-03-03T12:30:00"))
    r = client.patch(f"me/events/{single['id']}", json={"recurrence": {
        "pattern": {"type": "daily", "interval": 1}, "range": {"type": "numbered", "startDate": "2026-03-03",
                                                                "numberOfOccurrences": 3}}})
    assert r.json()["type"] == "seriesMaster"
    assert len(series_view(client, single["id"])) == 3
    r = client.patch(f"me/events/{single['id']}", json={"recurrence": None})
    assert r.json()["type"] == "singleInstance"
    assert series_view(client, single["id"]) == []
    assert single["id"] in {e["id"] for e in view_of(client)}


def test_all_day_series_keep_their_dates_in_any_zone(client):
    master = post_event(client, event_body(
        "Gym day", "2026-03-02T00:00:00", "2026-03-03T00:00:00", "Pacific Standard Time", isAllDay=True,
        recurrence={"pattern": {"type": "weekly", "interval": 1, "daysOfWeek": ["monday"]},
                    "range": {"type": "numbered", "startDate": "2026-03-02", "numberOfOccurrences": 6}}))
    for prefer in ("Pacific Standard Time", "Tokyo Standard Time", "UTC"):
        view = view_of(client, headers={"Prefer": f'outlook.timezone="{prefer}"'})
        got = [(e["start"]["dateTime"], e["end"]["dateTime"]) for e in view if e.get("seriesMasterId") == master["id"]]
        assert got == [(f"2026-{m}T00:00:00.0000000", f"2026-{n}T00:00:00.0000000") for m, n in [
            ("03-02", "03-03"), ("03-09", "03-10"), ("03-16", "03-17"), ("03-23", "03-24"), ("03-30", "03-31"),
            ("04-06", "04-07")]], prefer
