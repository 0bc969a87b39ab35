"""calendar_view's series rules: read in one round trip, reused for a short while, forgotten on a write.

Graph's occurrences carry no rule, so calendar_view reads each series master's; issue 13 made the
reads one ``$batch`` and keeps what it read for ``SERIES_RULE_TTL_S`` (the per-call round trip that
remains is the calendarView itself), except that any write this server sends forgets every rule.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from outlook_calendar_mcp.calendar.series import SERIES_RULE_TTL_S
from tests.instants import clock_at

from .conftest import open_harness, structured

pytestmark = pytest.mark.anyio

WEEK = {"start": "2027-03-08T00:00", "end": "2027-03-15T00:00", "time_zone": "America/Los_Angeles"}


async def test_rules_read_once_then_again_after_a_write_or_the_ttl(tmp_path: Path) -> None:
    sent: list[str] = []
    clock = clock_at("2027-03-10T09:00:00-08:00")
    async with open_harness(tmp_path, clock=clock) as h:
        h.graph.on_request.append(lambda m, u, hd, b: sent.append(f"{m} {u.split('/v1.0/', 1)[1].split('?')[0]}"))

        async def view() -> dict[str, str]:
            sent.clear()
            events = structured(await h.client.call_tool("calendar_view", WEEK))["events"]
            return {e["subject"]: e["repeat"] for e in events if e.get("repeat")}

        first = await view()
        assert set(first) == {"1:1 Adele / Alex", "Weekly team sync"}, first
        assert sent == ["GET me/calendar/calendarView", "POST $batch"]  # both masters in one round trip
        assert await view() == first and sent == ["GET me/calendar/calendarView"]  # reused

        sync = next(e for e in structured(await h.client.call_tool("calendar_view", WEEK))["events"]
                    if e["subject"] == "Weekly team sync")
        ended = structured(await h.client.call_tool(
            "update_event", {"event": sync["series"], "series_ends_on": "2027-03-31"}))
        assert ended["event"]["repeat"].endswith("UNTIL=20270331")
        after = await view()  # this server's write: the new rule at once
        assert after["Weekly team sync"] == ended["event"]["repeat"] and "POST $batch" in sent

        await view()
        assert sent == ["GET me/calendar/calendarView"]
        clock.set(clock.now() + dt.timedelta(seconds=SERIES_RULE_TTL_S + 1))  # the clock runs: from now, not 09:00
        assert await view() == after and sent == ["GET me/calendar/calendarView", "POST $batch"]  # read again
