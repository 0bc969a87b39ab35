"""The instants the suite runs at: "now" for every test comes from here, never from the system.

``OUTLOOK_MCP_TEST_NOW`` picks the instant: one of the names below, or any ISO 8601 instant with an
offset. Unset, the suite runs at :data:`DEFAULT`. The ``clock`` fixture (tests/conftest.py) is a
:class:`~outlook_calendar_mcp.clock.Clock` travelling from that instant; servers the tests start as
child processes get the same instant through ``OUTLOOK_MCP_NOW`` (``--now``).

The names are the instants the issue of record asks the suite to pass at, in the demo user's zone
(Adele Vance, America/Los_Angeles) unless they say otherwise. ``.ci/run`` runs the date-sensitive
tests (``-m clock``) at each of them, and the whole suite once under libfaketime with the system
clock set elsewhere, so that any code reading the system date shows up as a wrong answer.
"""

from __future__ import annotations

import datetime as dt
import os

from outlook_calendar_mcp.clock import Clock, parse_instant

ENV = "OUTLOOK_MCP_TEST_NOW"

INSTANTS: dict[str, str] = {
    "monday-0800": "2026-11-30T08:00:00-08:00",
    "wednesday-1600": "2026-12-02T16:00:00-08:00",
    "friday-1730": "2026-12-04T17:30:00-08:00",
    "sunday-2330": "2026-12-06T23:30:00-08:00",
    # The US springs forward on Sunday 2027-03-14 at 02:00 (01:30 is just before) ...
    "us-dst-start": "2027-03-14T01:30:00-08:00",
    # ... and falls back on Sunday 2027-11-07 at 02:00: 01:30 happens twice; this is the first (PDT).
    "us-dst-end": "2027-11-07T01:30:00-07:00",
    # The EU springs forward on 2027-03-28 at 01:00 UTC and falls back on 2027-10-31 at 01:00 UTC.
    "eu-dst-start": "2027-03-28T00:30:00+00:00",
    "eu-dst-end": "2027-10-31T00:30:00+00:00",
    "new-year-eve-2300": "2026-12-31T23:00:00-08:00",
}
DEFAULT = "wednesday-1600"

#: For tests that schedule on fixed dates in March 2027 and use tools that look ahead (find_meeting_times
#: refuses a window in the past, a reminder is snoozed to a later time): a Monday morning the week before, so
#: those dates lie ahead whatever the suite's instant. Such a test runs on its own clock, not the suite's.
BEFORE_MARCH_2027 = "2027-02-22T08:00:00-08:00"


def suite_instant() -> dt.datetime:
    """The instant this run of the suite is at (``OUTLOOK_MCP_TEST_NOW``, else :data:`DEFAULT`)."""
    chosen = os.environ.get(ENV, "").strip() or DEFAULT
    text = INSTANTS.get(chosen, chosen)
    try:
        return parse_instant(text)
    except ValueError as e:
        raise SystemExit(f"{ENV}={chosen!r}: {e} Or name one of: {', '.join(INSTANTS)}.") from None


def clock_at(instant: str) -> Clock:
    """A fresh clock travelling from ``instant`` (ISO 8601 with an offset), for a test with a "now" of its own."""
    return Clock(parse_instant(instant))


def suite_clock() -> Clock:
    """A fresh clock travelling from the suite's instant."""
    return Clock(suite_instant())

