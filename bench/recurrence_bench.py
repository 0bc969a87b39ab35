"""Time the recurrence engine as a one-month calendarView sees it.

Builds 500 varied series (daily, weekly, monthly, yearly; noEnd, endDate, numbered; many started
years ago; several zones with DST), then expands all of them over one month, many times, and prints
the median milliseconds per calendarView (all 500 series).

    python bench/recurrence_bench.py [--series 500] [--rounds 60]
"""

from __future__ import annotations

import argparse
import random
import statistics
import time
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from outlook_calendar_mcp.sandbox.models.recurrence import DAYS_OF_WEEK, WEEK_INDEXES, expand, validate

ZONES = [ZoneInfo(name) for name in ("America/New_York", "Europe/London", "Australia/Lord_Howe",
                                     "Pacific/Chatham", "America/Santiago", "Asia/Tokyo", "UTC")]
KINDS = ["daily", "weekly", "weekly", "weekly", "absoluteMonthly", "relativeMonthly",
         "absoluteYearly", "relativeYearly"]


def make_series(rng: random.Random) -> tuple[dict, datetime, ZoneInfo, timedelta]:
    """One random series: (validated recurrence, start, zone, duration)."""
    kind = rng.choice(KINDS)
    pattern: dict = {"type": kind, "interval": rng.choice([1, 1, 1, 2, 3])}
    if kind in ("weekly", "relativeMonthly", "relativeYearly"):
        pattern["daysOfWeek"] = rng.sample(DAYS_OF_WEEK, rng.randint(1, 5 if kind == "weekly" else 2))
        pattern["firstDayOfWeek"] = rng.choice(DAYS_OF_WEEK)
    if kind.startswith("relative"):
        pattern["index"] = rng.choice(WEEK_INDEXES)
    if kind.startswith("absolute"):
        pattern["dayOfMonth"] = rng.randint(1, 31)
    if kind.endswith("Yearly"):
        pattern["month"] = rng.randint(1, 12)
    start_day = date(2026, 1, 1) - timedelta(days=rng.randint(0, 12 * 365))
    range_type = rng.choice(["noEnd", "noEnd", "endDate", "numbered"])
    rng_body: dict = {"type": range_type, "startDate": start_day.isoformat()}
    if range_type == "endDate":
        rng_body["endDate"] = (start_day + timedelta(days=rng.randint(30, 20 * 365))).isoformat()
    if range_type == "numbered":
        rng_body["numberOfOccurrences"] = rng.randint(1, 999)
    start = datetime.combine(start_day, datetime.min.time()) + timedelta(minutes=15 * rng.randint(24, 80))
    duration = timedelta(minutes=rng.choice([0, 30, 60, 90, 24 * 60]))
    return validate({"pattern": pattern, "range": rng_body}), start, rng.choice(ZONES), duration


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--series", type=int, default=500)
    parser.add_argument("--rounds", type=int, default=60)
    args = parser.parse_args()
    rng = random.Random(20240601)
    series = [make_series(rng) for _ in range(args.series)]
    window_start = datetime(2026, 3, 1, tzinfo=UTC)
    window_end = datetime(2026, 4, 1, tzinfo=UTC)
    timings, occurrences = [], 0
    for _ in range(args.rounds):
        began = time.perf_counter()
        occurrences = sum(len(expand(rec, start, zone, duration, window_start, window_end))
                          for rec, start, zone, duration in series)
        timings.append((time.perf_counter() - began) * 1000)
    print(f"{args.series} series, one-month window, {occurrences} occurrences: "
          f"median {statistics.median(timings):.2f} ms (min {min(timings):.2f} ms) over {args.rounds} rounds")


if __name__ == "__main__":
    main()
