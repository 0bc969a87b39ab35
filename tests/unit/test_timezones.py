"""Tables for outlook_calendar_mcp.timezones: names, DST gaps and folds, Graph and user formats."""

from __future__ import annotations

import importlib.resources
from datetime import UTC, date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from tzlocal.windows_tz import tz_win, win_tz

from outlook_calendar_mcp import timezones as tz
from outlook_calendar_mcp.calendar import InputError, times
from outlook_calendar_mcp.clock import Clock
from outlook_calendar_mcp.timezones import DateTimeFormatError, TimeZoneError

NY = ZoneInfo("America/New_York")
LA = ZoneInfo("America/Los_Angeles")
UTC_ZONE = ZoneInfo("UTC")


def in_tzdata(key: str) -> bool:
    """The zone file ships in the tzdata package (not only in the host's /usr/share/zoneinfo)."""
    return importlib.resources.files("tzdata.zoneinfo").joinpath(*key.split("/")).is_file()


# ---------------------------------------------------------------- names

@pytest.mark.parametrize("windows", sorted(win_tz))
def test_every_windows_name_resolves_to_its_cldr_zone_and_round_trips(windows):
    zone = tz.resolve(windows)
    assert in_tzdata(zone.key)
    assert zone.key == ("UTC" if windows == "UTC" else win_tz[windows])
    assert tz.windows_name(zone) == windows
    assert tz.windows_name(windows) == windows
    assert tz.resolve(windows.upper()) is zone
    assert tz.iana_name(windows) == zone.key


@pytest.mark.parametrize("wall", [datetime(2026, 1, 15, 9), datetime(2026, 7, 1, 17, 30),
                                  datetime(2026, 3, 8, 2, 30), datetime(2026, 11, 1, 1, 30)])
def test_windows_and_iana_names_give_the_same_instant(wall):
    assert tz.to_utc(wall, tz.resolve("Pacific Standard Time")) == tz.to_utc(wall, tz.resolve("America/Los_Angeles"))


@pytest.mark.parametrize("windows, expected", [
    ("Pacific Standard Time", {"America/Los_Angeles"}),
    ("China Standard Time", {"Asia/Shanghai"}),
    ("Romance Standard Time", {"Europe/Paris"}),
    ("India Standard Time", {"Asia/Calcutta", "Asia/Kolkata"}),
    ("Eastern Standard Time", {"America/New_York"}),
    ("W. Europe Standard Time", {"Europe/Berlin"}),
])
def test_known_dead_zone_pitfalls(windows, expected):
    key = tz.resolve(windows).key
    assert key in expected and in_tzdata(key)
    assert not key.startswith(("US/", "SystemV/")) and key != "US/Pacific-New"


def test_india_zone_is_in_tzdata():
    # CLDR's table still says Asia/Calcutta; tzdata ships it as a link beside Asia/Kolkata.
    assert win_tz["India Standard Time"] == "Asia/Calcutta"
    assert in_tzdata("Asia/Calcutta") and in_tzdata("Asia/Kolkata")


@pytest.mark.parametrize("name", ["UTC", "Etc/UTC", "tzone://Microsoft/Utc", "utc", " UTC "])
def test_utc_spellings(name):
    assert tz.resolve(name).key == "UTC"
    assert tz.iana_name(name) == "UTC"
    assert tz.windows_name(name) == "UTC"


@pytest.mark.parametrize("name, iana, windows", [
    ("america/new_york", "America/New_York", "Eastern Standard Time"),
    ("Europe/London", "Europe/London", "GMT Standard Time"),
    ("Asia/Kolkata", "Asia/Kolkata", "India Standard Time"),
    ("tokyo standard time", "Asia/Tokyo", "Tokyo Standard Time"),
    ("GMT", "GMT", "UTC"),
    ("PST8PDT", "PST8PDT", "Pacific Standard Time"),
])
def test_iana_and_windows_names(name, iana, windows):
    assert tz.iana_name(name) == iana
    assert tz.windows_name(name) == windows
    assert tz.is_known(name)


def test_every_iana_zone_in_cldr_table_has_its_windows_name():
    for key, windows in tz_win.items():
        if not key:  # tzlocal's table carries one empty key
            continue
        assert tz.windows_name(key) == windows


def test_resolve_is_cached():
    assert tz.resolve("Pacific Standard Time") is tz.resolve("Pacific Standard Time")


@pytest.mark.parametrize("bad, suggestion", [
    ("Pacific Standrd Time", "'Pacific Standard Time'"),
    ("America/Los_Angles", "'America/Los_Angeles'"),
    ("europe/pariss", "'Europe/Paris'"),
    ("Eastern Standard Tme", "'Eastern Standard Time'"),
])
def test_unknown_zone_suggests_close_matches(bad, suggestion):
    with pytest.raises(TimeZoneError) as err:
        tz.resolve(bad)
    message = str(err.value)
    assert message.startswith(f"Unknown time zone {bad!r}. Use an IANA name such as 'America/Los_Angeles'")
    assert f"(did you mean {suggestion}" in message
    assert not tz.is_known(bad)


def test_unknown_zone_message_exactly():
    with pytest.raises(TimeZoneError, match=r"^Unknown time zone 'Mars/Olympus'\. Use an IANA name such as "
                       r"'America/Los_Angeles' or a Windows name such as 'Pacific Standard Time'\.$"):
        tz.resolve("Mars/Olympus")


@pytest.mark.parametrize("bad, fragment", [
    ("", "Time zone is empty"),
    ("   ", "Time zone is empty"),
    (None, "must be a string, got NoneType"),
    ("localtime", "Unknown time zone 'localtime'"),
    ("tzone://Microsoft/Custom", "custom time zone"),
])
def test_bad_zone_names(bad, fragment):
    with pytest.raises(TimeZoneError, match=fragment):
        tz.resolve(bad)
    assert issubclass(TimeZoneError, ValueError)


def test_zone_without_windows_equivalent():
    with pytest.raises(TimeZoneError, match="'Antarctica/Troll' has no Windows equivalent"):
        tz.windows_name("Antarctica/Troll")


# ---------------------------------------------------------------- DST tables

Z = UTC
DST_TABLE = [
    # zone, naive wall time, expected UTC, expected local rendering, nonexistent, ambiguous
    ("America/New_York", datetime(2026, 3, 8, 2, 30), datetime(2026, 3, 8, 7, 30, tzinfo=Z),
     "2026-03-08T03:30:00-04:00", True, False),
    ("America/New_York", datetime(2026, 11, 1, 1, 30), datetime(2026, 11, 1, 5, 30, tzinfo=Z),
     "2026-11-01T01:30:00-04:00", False, True),
    ("America/New_York", datetime(2026, 6, 1, 12), datetime(2026, 6, 1, 16, tzinfo=Z),
     "2026-06-01T12:00:00-04:00", False, False),
    ("Europe/London", datetime(2026, 3, 29, 1, 30), datetime(2026, 3, 29, 1, 30, tzinfo=Z),
     "2026-03-29T02:30:00+01:00", True, False),
    ("Europe/London", datetime(2026, 10, 25, 1, 30), datetime(2026, 10, 25, 0, 30, tzinfo=Z),
     "2026-10-25T01:30:00+01:00", False, True),
    ("Europe/London", datetime(2026, 1, 10, 9), datetime(2026, 1, 10, 9, tzinfo=Z),
     "2026-01-10T09:00:00+00:00", False, False),
    # Lord Howe moves its clocks by 30 minutes.
    ("Australia/Lord_Howe", datetime(2026, 10, 4, 2, 15), datetime(2026, 10, 3, 15, 45, tzinfo=Z),
     "2026-10-04T02:45:00+11:00", True, False),
    ("Australia/Lord_Howe", datetime(2026, 4, 5, 1, 45), datetime(2026, 4, 4, 14, 45, tzinfo=Z),
     "2026-04-05T01:45:00+11:00", False, True),
    ("Australia/Lord_Howe", datetime(2026, 7, 1, 9), datetime(2026, 6, 30, 22, 30, tzinfo=Z),
     "2026-07-01T09:00:00+10:30", False, False),
    # Chatham: +12:45 standard, +13:45 summer; transitions at 02:45 local.
    ("Pacific/Chatham", datetime(2026, 9, 27, 3, 0), datetime(2026, 9, 26, 14, 15, tzinfo=Z),
     "2026-09-27T04:00:00+13:45", True, False),
    ("Pacific/Chatham", datetime(2026, 4, 5, 3, 0), datetime(2026, 4, 4, 13, 15, tzinfo=Z),
     "2026-04-05T03:00:00+13:45", False, True),
    ("Pacific/Chatham", datetime(2026, 7, 1, 12), datetime(2026, 6, 30, 23, 15, tzinfo=Z),
     "2026-07-01T12:00:00+12:45", False, False),
    # Kiritimati: +14, and it skipped 1994-12-31 entirely when it left -10.
    ("Pacific/Kiritimati", datetime(2026, 1, 1, 0, 0), datetime(2025, 12, 31, 10, tzinfo=Z),
     "2026-01-01T00:00:00+14:00", False, False),
    ("Pacific/Kiritimati", datetime(1994, 12, 31, 12), datetime(1994, 12, 31, 22, tzinfo=Z),
     "1995-01-01T12:00:00+14:00", True, False),
    # Santiago: clocks change at midnight, so midnight itself can be missing.
    ("America/Santiago", datetime(2026, 9, 6, 0, 30), datetime(2026, 9, 6, 4, 30, tzinfo=Z),
     "2026-09-06T01:30:00-03:00", True, False),
    ("America/Santiago", datetime(2026, 4, 4, 23, 30), datetime(2026, 4, 5, 2, 30, tzinfo=Z),
     "2026-04-04T23:30:00-03:00", False, True),
    ("America/Santiago", datetime(2026, 7, 1, 9), datetime(2026, 7, 1, 13, tzinfo=Z),
     "2026-07-01T09:00:00-04:00", False, False),
]


@pytest.mark.parametrize("zone_name, wall, utc, local, nonexistent, ambiguous", DST_TABLE,
                         ids=[f"{row[0]}-{row[1]:%Y%m%dT%H%M}" for row in DST_TABLE])
def test_dst_table(zone_name, wall, utc, local, nonexistent, ambiguous):
    zone = tz.resolve(zone_name)
    got = tz.to_utc(wall, zone)
    assert got == utc and got.utcoffset() == timedelta(0)
    assert tz.format_local(got, zone) == local
    assert tz.is_nonexistent(wall, zone) is nonexistent
    assert tz.is_ambiguous(wall, zone) is ambiguous
    # The same wall time through every entry point gives the same instant. Compare in UTC: by
    # PEP 495, == between zones is always False when one side is an ambiguous wall time.
    assert tz.parse_user_time(wall.isoformat(), zone).astimezone(UTC) == utc
    graph = {"dateTime": tz.format_graph_datetime(wall), "timeZone": zone_name}
    assert tz.from_graph(graph).astimezone(UTC) == utc
    assert tz.format_local(tz.from_graph(graph), zone) == local
    windows = {"dateTime": tz.format_graph_datetime(wall), "timeZone": tz.windows_name(zone_name)}
    if tz.iana_name(windows["timeZone"]) == zone_name:
        assert tz.from_graph(windows).astimezone(UTC) == utc


def test_inter_zone_equality_pitfall_at_a_fold():
    """Why callers should compare instants in UTC (PEP 495), pinned so nobody 'simplifies' it away."""
    local = tz.from_graph({"dateTime": "2026-11-01T01:30:00.0000000", "timeZone": "Eastern Standard Time"})
    utc = datetime(2026, 11, 1, 5, 30, tzinfo=Z)
    assert local != utc  # Python's rule, not ours
    assert tz.to_utc(local, NY) == utc and local.astimezone(UTC) == utc and local.timestamp() == utc.timestamp()


def test_fold_zero_is_the_earlier_instant():
    first = tz.to_utc(datetime(2026, 11, 1, 1, 30), NY)
    assert first.astimezone(NY).fold == 0 and first.astimezone(NY).utcoffset() == timedelta(hours=-4)
    assert tz.to_utc(datetime(2026, 11, 1, 1, 30, fold=1), NY) == first  # fold on input is ignored


def test_to_utc_accepts_an_aware_instant_as_is():
    aware = datetime(2026, 5, 1, 12, tzinfo=timezone(timedelta(hours=2)))
    assert tz.to_utc(aware, NY) == datetime(2026, 5, 1, 10, tzinfo=Z)


ZONES = ["America/New_York", "Europe/London", "Australia/Lord_Howe", "Pacific/Chatham",
         "Pacific/Kiritimati", "America/Santiago", "Asia/Calcutta"]


@settings(max_examples=300, deadline=None)
@given(st.datetimes(min_value=datetime(1990, 1, 1), max_value=datetime(2040, 1, 1), timezones=st.just(UTC)),
       st.sampled_from(ZONES))
def test_wall_time_round_trip(instant, zone_name):
    zone = tz.resolve(zone_name)
    local = instant.astimezone(zone)
    if local.fold == 0:  # the second occurrence of an ambiguous wall time cannot be named without fold
        assert tz.to_utc(local.replace(tzinfo=None), zone) == instant
    assert tz.from_graph(tz.to_graph(instant, zone_name)).astimezone(UTC) == instant or local.fold == 1


# ---------------------------------------------------------------- Graph dateTime

@pytest.mark.parametrize("text, expected", [
    ("2017-04-15T12:00:00.0000000", datetime(2017, 4, 15, 12)),
    ("2017-04-15T12:00:00.1234567", datetime(2017, 4, 15, 12, 0, 0, 123456)),
    ("2017-04-15T12:00:00.9999999", datetime(2017, 4, 15, 12, 0, 0, 999999)),
    ("2017-04-15T12:00:00.5", datetime(2017, 4, 15, 12, 0, 0, 500000)),
    ("2017-04-15T12:00:00", datetime(2017, 4, 15, 12)),
    ("2017-04-15T12:00", datetime(2017, 4, 15, 12)),
    ("2017-04-15T12:00:00Z", datetime(2017, 4, 15, 12, tzinfo=Z)),
    ("2017-04-15T12:00:00.0000000Z", datetime(2017, 4, 15, 12, tzinfo=Z)),
    ("2017-04-15T12:00:00+02:00", datetime(2017, 4, 15, 12, tzinfo=timezone(timedelta(hours=2)))),
    ("2017-04-15T12:00:00-05:30", datetime(2017, 4, 15, 12, tzinfo=timezone(-timedelta(hours=5, minutes=30)))),
    ("2017-04-15T12:00:00+0200", datetime(2017, 4, 15, 12, tzinfo=timezone(timedelta(hours=2)))),
])
def test_parse_graph_datetime(text, expected):
    got = tz.parse_graph_datetime(text)
    assert got == expected
    assert (got.tzinfo is None) == (expected.tzinfo is None)
    if expected.tzinfo is not None:
        assert got.utcoffset() == expected.utcoffset()


@pytest.mark.parametrize("bad, fragment", [
    ("", "'' is not a Graph dateTime"),
    ("2017-04-15", "'2017-04-15' is not a Graph dateTime"),
    ("2017-04-15 12:00:00", "is not a Graph dateTime"),
    ("15/04/2017 12:00", "is not a Graph dateTime"),
    ("2017-04-15T12:00:00.0000000 PST", "is not a Graph dateTime"),
    ("2017-13-01T00:00:00", r"not a valid date-time \(month must be in 1\.\.12\)"),
    ("2017-02-29T00:00:00", r"day is out of range for month"),
    ("2017-04-15T24:00:00", r"hour must be in 0\.\.23"),
    ("2017-04-15T12:00:00+24:00", r"offset \+24:00 must be between -23:59 and \+23:59"),
])
def test_parse_graph_datetime_errors(bad, fragment):
    with pytest.raises(DateTimeFormatError, match=fragment) as err:
        tz.parse_graph_datetime(bad)
    assert "e.g. '2017-04-15T12:00:00.0000000'" in str(err.value)
    assert issubclass(DateTimeFormatError, ValueError)


def test_parse_graph_datetime_rejects_non_strings():
    with pytest.raises(DateTimeFormatError, match="got int"):
        tz.parse_graph_datetime(20170415)


@pytest.mark.parametrize("dt, text", [
    (datetime(2017, 4, 15, 12), "2017-04-15T12:00:00.0000000"),
    (datetime(2017, 4, 15, 12, 0, 5, 123456), "2017-04-15T12:00:05.1234560"),
    (datetime(2017, 4, 15, 12, tzinfo=timezone(timedelta(hours=9))), "2017-04-15T12:00:00.0000000"),
    (datetime(999, 1, 2, 3, 4, 5), "0999-01-02T03:04:05.0000000"),
])
def test_format_graph_datetime(dt, text):
    assert tz.format_graph_datetime(dt) == text
    assert tz.parse_graph_datetime(text) == dt.replace(tzinfo=None)


@given(st.datetimes(min_value=datetime(1, 1, 1), max_value=datetime(9999, 12, 31)))
def test_graph_datetime_round_trip(dt):
    text = tz.format_graph_datetime(dt)
    assert len(text) == 27 and text[19] == "."
    assert tz.parse_graph_datetime(text) == dt


# ---------------------------------------------------------------- dateTimeTimeZone

def test_from_graph_windows_and_iana():
    a = tz.from_graph({"dateTime": "2026-11-23T15:00:00.0000000", "timeZone": "Pacific Standard Time"})
    b = tz.from_graph({"dateTime": "2026-11-23T15:00:00.0000000", "timeZone": "America/Los_Angeles"})
    assert a == b == datetime(2026, 11, 23, 23, tzinfo=Z)
    assert a.tzinfo.key == "America/Los_Angeles" and a.hour == 15


def test_from_graph_defaults_to_utc_and_normalises_gaps():
    assert tz.from_graph({"dateTime": "2026-11-23T15:00:00.0000000"}) == datetime(2026, 11, 23, 15, tzinfo=Z)
    gap = tz.from_graph({"dateTime": "2026-03-08T02:30:00.0000000", "timeZone": "Eastern Standard Time"})
    assert (gap.hour, gap.minute, gap.utcoffset()) == (3, 30, timedelta(hours=-4))


def test_from_graph_with_offset_in_datetime_is_that_instant():
    got = tz.from_graph({"dateTime": "2026-11-23T15:00:00Z", "timeZone": "Tokyo Standard Time"})
    assert got == datetime(2026, 11, 23, 15, tzinfo=Z) and got.hour == 0


@pytest.mark.parametrize("value, error, message", [
    ({"dateTime": "2026-11-23T15:00:00", "timeZone": "Pacific Standrd Time"}, TimeZoneError,
     "start.timeZone: Unknown time zone 'Pacific Standrd Time'"),
    ({"dateTime": "2026-11-23T15:00:00", "timeZone": ""}, TimeZoneError, "start.timeZone: Time zone is empty"),
    ({"timeZone": "UTC"}, DateTimeFormatError, "start.dateTime is required"),
    ({"dateTime": "tomorrow", "timeZone": "UTC"}, DateTimeFormatError,
     "start.dateTime: 'tomorrow' is not a Graph dateTime"),
    ("2026-11-23T15:00:00", DateTimeFormatError, "start: expected an object like"),
])
def test_from_graph_errors_name_the_field(value, error, message):
    with pytest.raises(error) as err:
        tz.from_graph(value, label="start")
    assert str(err.value).startswith(message)


@pytest.mark.parametrize("zone_name", ["Pacific Standard Time", "America/Los_Angeles", "UTC",
                                       "tzone://Microsoft/Utc", "pacific standard time"])
def test_to_graph_echoes_the_name(zone_name):
    instant = datetime(2026, 11, 23, 23, 0, 0, 250000, tzinfo=Z)
    body = tz.to_graph(instant, zone_name)
    wall = "2026-11-23T23:00:00.2500000" if tz.iana_name(zone_name) == "UTC" else "2026-11-23T15:00:00.2500000"
    assert body == {"dateTime": wall, "timeZone": zone_name}
    assert tz.from_graph(body).astimezone(UTC) == instant


def test_to_graph_rejects_naive():
    with pytest.raises(ValueError, match="aware"):
        tz.to_graph(datetime(2026, 11, 23, 15), "UTC")


# ---------------------------------------------------------------- tool inputs and outputs

@pytest.mark.parametrize("text, zone, expected", [
    ("2026-11-23T15:00", LA, "2026-11-23T15:00:00-08:00"),
    ("2026-11-23T15:00:00", LA, "2026-11-23T15:00:00-08:00"),
    ("2026-11-23T15:00:00.5", LA, "2026-11-23T15:00:00-08:00"),
    ("2026-11-23 15:00", LA, "2026-11-23T15:00:00-08:00"),
    ("  2026-11-23t15:00  ", LA, "2026-11-23T15:00:00-08:00"),
    ("2026-11-23T15:00:00+01:00", LA, "2026-11-23T06:00:00-08:00"),
    ("2026-11-23T15:00+0100", LA, "2026-11-23T06:00:00-08:00"),
    ("2026-11-23T15:00+01", LA, "2026-11-23T06:00:00-08:00"),
    ("2026-11-23T23:00:00Z", LA, "2026-11-23T15:00:00-08:00"),
    ("2026-11-23", LA, "2026-11-23T00:00:00-08:00"),
    ("2026-09-06", ZoneInfo("America/Santiago"), "2026-09-06T01:00:00-03:00"),  # midnight does not exist
    ("2026-03-08T02:30", NY, "2026-03-08T03:30:00-04:00"),
])
def test_parse_user_time(text, zone, expected):
    got = tz.parse_user_time(text, zone)
    assert got.tzinfo is zone
    assert tz.format_local(got, zone) == expected


@pytest.mark.parametrize("text, fragment", [
    ("3pm tomorrow", "start: '3pm tomorrow' is not an ISO 8601 date or date-time"),
    ("", "start: '' is not an ISO 8601"),
    ("23/11/2026 15:00", "is not an ISO 8601"),
    ("2026-11-23T15", "is not an ISO 8601"),
    ("2026-11-23T15:00 PST", "is not an ISO 8601"),
    ("2026-02-30", r"start: '2026-02-30' is not a valid date-time \(day is out of range for month\)"),
    ("2026-11-23T25:00", r"hour must be in 0\.\.23"),
    ("2026-11-23T10:00+25:00", r"offset \+25:00 must be between"),
    (None, "start: expected a string, got NoneType"),
])
def test_parse_user_time_errors(text, fragment):
    with pytest.raises(DateTimeFormatError, match=fragment) as err:
        tz.parse_user_time(text, LA, label="start")
    assert "e.g. '2026-11-23T15:00' (read in America/Los_Angeles)" in str(err.value)


def test_parse_user_time_default_label():
    with pytest.raises(DateTimeFormatError, match=r"^time: "):
        tz.parse_user_time("soon", UTC_ZONE)


@pytest.mark.parametrize("dt, zone, text", [
    (datetime(2026, 11, 23, 23, tzinfo=Z), LA, "2026-11-23T15:00:00-08:00"),
    (datetime(2026, 11, 23, 23, 0, 0, 999999, tzinfo=Z), UTC_ZONE, "2026-11-23T23:00:00+00:00"),
    (datetime(2026, 11, 1, 6, 30, tzinfo=Z), NY, "2026-11-01T01:30:00-05:00"),
    (datetime(2026, 7, 1, 0, 0, tzinfo=Z), ZoneInfo("Pacific/Chatham"), "2026-07-01T12:45:00+12:45"),
])
def test_format_local(dt, zone, text):
    assert tz.format_local(dt, zone) == text


def test_format_local_rejects_naive():
    with pytest.raises(ValueError, match="aware"):
        tz.format_local(datetime(2026, 11, 23, 15), LA)


def test_the_clock_gives_now_and_today_in_a_zone():
    clock = Clock(datetime(2026, 11, 1, 6, 30, tzinfo=Z), frozen=True)
    assert clock.now() == datetime(2026, 11, 1, 6, 30, tzinfo=Z) and clock.now().utcoffset() == timedelta(0)
    local = clock.now(NY)
    assert (local.hour, local.minute, local.fold) == (1, 30, 1)  # the second 01:30, EST
    assert tz.format_local(local, NY) == "2026-11-01T01:30:00-05:00"
    assert clock.today(ZoneInfo("Pacific/Kiritimati")) == date(2026, 11, 1)
    assert clock.today(ZoneInfo("Pacific/Pago_Pago")) == date(2026, 10, 31)


def test_the_clock_rejects_a_naive_instant():
    with pytest.raises(ValueError, match="zone or offset"):
        Clock(datetime(2026, 11, 1))
    with pytest.raises(ValueError, match="aware"):
        Clock().set(datetime(2026, 11, 1))


def test_real_clock_is_aware_utc():
    assert Clock().now().tzinfo is not None and Clock().now().utcoffset() == timedelta(0)


# -- the one user-time parser of the calendar operations (calendar/times.py) ----------------------------------

def test_the_calendar_parser_refuses_a_time_the_clocks_jump_over():
    with pytest.raises(InputError, match=r"start: 2027-03-14T02:30 does not exist in America/New_York"):
        times.parse_time("2027-03-14T02:30", NY, "start")
    # the same wall time with an offset, a date alone, and a time that happens twice (the first) are fine
    assert times.parse_time("2027-03-14T02:30-05:00", NY).astimezone(UTC) == datetime(2027, 3, 14, 7, 30, tzinfo=UTC)
    assert times.parse_time("2027-03-14", NY) == datetime(2027, 3, 14, tzinfo=NY)
    assert times.parse_time("2026-11-01T01:30", NY).utcoffset() == timedelta(hours=-4)


def test_windows_come_out_in_utc_and_refuse_a_gap_or_an_end_before_the_start():
    assert times.window("2027-03-13", "2027-03-14T12:00", NY) == ("2027-03-13T05:00:00Z", "2027-03-14T16:00:00Z")
    with pytest.raises(InputError, match=r"end: .* does not exist"):
        times.window("2027-03-13", "2027-03-14T02:00", NY)
    with pytest.raises(InputError, match="is not after start"):
        times.window("2027-03-14", "2027-03-13", NY)
    clock = Clock(datetime(2027, 3, 1, 20, 0, tzinfo=UTC), frozen=True)
    assert times.default_window(clock, LA, None, None, 7) == ("2027-03-01", "2027-03-08T00:00:00-08:00")
