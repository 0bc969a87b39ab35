"""Time the sandbox's calendarView end to end at 1k, 5k, 20k and 50k events (a tenth of them series).

The store is a SQLite file; one mailbox (bench@contoso.com) gets N single
events spread over 2026 (a tenth of them all-day) and N/10 recurring series
(all six pattern types, noEnd / endDate / numbered ranges, started up to three
years earlier, in six zones, most with DST), written through the sandbox's own
store functions (the same path POST takes after validation) in one transaction.

Measured: ``GET /v1.0/me/calendarView`` over one month (June 2026) with
``$top=1000``, following ``@odata.nextLink``, through the real ASGI app with
``httpx.AsyncClient(transport=httpx.ASGITransport(app))`` (routing, auth,
Prefer, OData parsing, SQLite, expansion, rendering, JSON), repeated after a
warm-up. Baseline, in the same run: the same query done by hand with the
expansion by ``dateutil.rrule`` (the SQL for singles in the window, then
every series' occurrences in the window from an rrule built from its Graph
pattern; no HTTP, no rendering), so the figure is also a ratio.

The store is built into a file; ``--loopback`` serves it with ``outlook-calendar-mcp sandbox serve``
and reads it over loopback HTTP (two processes: closer to use, noisier on a shared machine).

Printed per size: a page of 10 asked again (the window's snapshot reused,
sandbox/models/snapshots.py), a page of 10 right after a write (expanded
again), the whole month through every page; calendarView/delta over the same
month (a whole first round, a next round with nothing changed, a next round
after one write) and findMeetingTimes over a week of it (asked again, and
right after a write); then the 50k / 5k ratios, each with its target.

    python bench/sandbox_bench.py [--sizes 1000,5000,20000,50000] [--runs 15] [--dateutil]
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
from dateutil import rrule as rr

from outlook_calendar_mcp import timezones as tz
from outlook_calendar_mcp.clock import Clock
from outlook_calendar_mcp.sandbox import create_app
from outlook_calendar_mcp.sandbox.models import events as ev
from outlook_calendar_mcp.sandbox.models.store import Store

sys.path.insert(0, str(Path(__file__).resolve().parent))
from harness import sandbox

UTC = dt.UTC
ZONES = ["Pacific Standard Time", "Eastern Standard Time", "W. Europe Standard Time", "Europe/London",
         "Australia/Sydney", "Tokyo Standard Time"]
DAYS = ["sunday", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday"]
KINDS = ["daily", "weekly", "weekly", "weekly", "weekly", "absoluteMonthly", "relativeMonthly", "absoluteYearly",
         "relativeYearly"]
NOW = dt.datetime(2026, 5, 15, 12, 0, tzinfo=dt.UTC)  # the sandbox's clock: fixed, so no figure depends on the day
WINDOW = {"startDateTime": "2026-06-01T00:00:00Z", "endDateTime": "2026-07-01T00:00:00Z", "$top": "1000"}
MAILBOX = "bench@contoso.com"


# -- data -------------------------------------------------------------------------------------------


def random_series(rnd: random.Random) -> dict[str, Any]:
    kind = rnd.choice(KINDS)
    pattern: dict[str, Any] = {"type": kind, "interval": rnd.choice([1, 1, 1, 1, 2, 2, 3, 4])}
    if kind == "weekly":
        pattern["daysOfWeek"] = rnd.sample(DAYS[1:6], rnd.randint(1, 3))
        pattern["firstDayOfWeek"] = rnd.choice(["sunday", "monday"])
    if kind.startswith("relative"):
        pattern["daysOfWeek"] = rnd.sample(DAYS, rnd.randint(1, 2))
        pattern["index"] = rnd.choice(["first", "second", "third", "fourth", "last"])
    if kind.startswith("absolute"):
        pattern["dayOfMonth"] = rnd.randint(1, 31)
    if kind.endswith("Yearly"):
        pattern["month"] = rnd.randint(1, 12)
    start_day = dt.date(2026, 6, 30) - dt.timedelta(days=rnd.randint(0, 3 * 365))
    rng: dict[str, Any] = {"type": rnd.choice(["noEnd", "noEnd", "endDate", "numbered"]),
                           "startDate": start_day.isoformat()}
    if rng["type"] == "endDate":
        rng["endDate"] = (start_day + dt.timedelta(days=rnd.randint(30, 4 * 365))).isoformat()
    elif rng["type"] == "numbered":
        rng["numberOfOccurrences"] = rnd.randint(5, 300)
    zone = rnd.choice(ZONES)
    start = dt.datetime.combine(start_day, dt.time(rnd.randint(7, 18), rnd.choice([0, 15, 30, 45])))
    end = start + dt.timedelta(minutes=rnd.choice([15, 30, 30, 60, 60, 90]))
    return {"subject": f"Series {kind}", "recurrence": {"pattern": pattern, "range": rng},
            "start": {"dateTime": start.isoformat(), "timeZone": zone},
            "end": {"dateTime": end.isoformat(), "timeZone": zone}}


def random_single(rnd: random.Random, i: int) -> dict[str, Any]:
    day = dt.date(2026, 1, 1) + dt.timedelta(days=rnd.randint(0, 364))
    zone = rnd.choice(ZONES)
    if i % 10 == 0:
        length = rnd.choice([1, 1, 1, 2, 3])
        return {"subject": f"All day {i}", "isAllDay": True,
                "start": {"dateTime": f"{day}T00:00:00", "timeZone": zone},
                "end": {"dateTime": f"{day + dt.timedelta(days=length)}T00:00:00", "timeZone": zone}}
    start = dt.datetime.combine(day, dt.time(rnd.randint(6, 19), rnd.choice([0, 15, 30, 45])))
    end = start + dt.timedelta(minutes=rnd.choice([15, 30, 30, 45, 60, 60, 90, 120]))
    return {"subject": f"Meeting {i}", "start": {"dateTime": start.isoformat(), "timeZone": zone},
            "end": {"dateTime": end.isoformat(), "timeZone": zone}, "categories": [rnd.choice(["A", "B", "C"])],
            "attendees": [{"emailAddress": {"address": f"p{rnd.randint(1, 50)}@contoso.com"}, "type": "required"}]}


def build_store(events: int, series: int, seed: int = 20260601, path: str = ":memory:") -> Store:
    store = Store(path)
    rnd = random.Random(seed)
    with store.transaction():
        mailbox = store.add_mailbox(MAILBOX, "user", {"displayName": "Bench Mark", "timeZone": "UTC"})
        group = store.add_group(mailbox, "My Calendars", "0006f0b7-0000-0000-c000-000000000046")
        calendar = store.add_calendar(mailbox, group, {"name": "Calendar"}, is_default=True)
        organizer = {"name": "Bench Mark", "address": MAILBOX}
        now = NOW
        bodies = [random_series(rnd) for _ in range(series)] + [random_single(rnd, i) for i in range(events - series)]
        for body in bodies:
            doc = ev.new_event_doc(ev.check_event_body(body), organizer, now)
            ev.store_event(store, mailbox, calendar, doc)
    return store


# -- measurements -----------------------------------------------------------------------------------

Where = Store | str  # the store itself (in process, through ASGI) or the URL of a sandbox serving it


def connect(where: Where) -> httpx.AsyncClient:
    """A client on the sandbox: over loopback HTTP when ``where`` is its URL, else in process (ASGI)."""
    headers = {"Authorization": f"Bearer sandbox:{MAILBOX}"}
    if isinstance(where, str):
        return httpx.AsyncClient(base_url=f"{where}/", headers=headers, timeout=300)
    app = create_app(where, clock=Clock(NOW), seed=False)
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://sandbox/v1.0/", headers=headers)


async def view_once(client: httpx.AsyncClient) -> int:
    response = await client.get("me/calendarView", params=WINDOW)
    count = 0
    while True:
        response.raise_for_status()
        body = response.json()
        count += len(body["value"])
        link = body.get("@odata.nextLink")
        if not link:
            return count
        response = await client.get(link)


async def time_first_page(store: Where, runs: int, params: dict[str, str] | None = None) -> tuple[list[float], int]:
    """One request only (by default the first page of $top=1000): the cost of a single calendarView call."""
    params = params or WINDOW
    async with connect(store) as client:
        await client.get("me/calendarView", params=params)
        timings, size = [], 0
        for _ in range(runs):
            began = time.perf_counter()
            response = await client.get("me/calendarView", params=params)
            timings.append((time.perf_counter() - began) * 1000)
            size = len(response.json()["value"])
    return timings, size


async def time_http(store: Where, runs: int, warmup: int) -> tuple[list[float], int, float]:
    async with connect(store) as client:
        began = time.perf_counter()
        count = await view_once(client)
        cold = (time.perf_counter() - began) * 1000
        for _ in range(warmup):
            await view_once(client)
        timings = []
        for _ in range(runs):
            began = time.perf_counter()
            assert await view_once(client) == count
            timings.append((time.perf_counter() - began) * 1000)
    return timings, count, cold


async def count_pages(store: Where) -> int:
    async with connect(store) as client:
        pages, link = 1, (await client.get("me/calendarView", params=WINDOW)).json().get("@odata.nextLink")
        while link:
            pages, link = pages + 1, (await client.get(link)).json().get("@odata.nextLink")
    return pages


RR_DAY = {"sunday": rr.SU, "monday": rr.MO, "tuesday": rr.TU, "wednesday": rr.WE, "thursday": rr.TH,
          "friday": rr.FR, "saturday": rr.SA}
INDEX = {"first": 1, "second": 2, "third": 3, "fourth": 4, "last": -1}


def dateutil_rule(recurrence: dict[str, Any], start: dt.datetime) -> rr.rrule:
    """An rrule for a (stored, normalised) Graph recurrence; DTSTART = the first fitting day (count=1 rule)."""
    pattern, rng = recurrence["pattern"], recurrence["range"]
    kind = pattern["type"]
    kwargs: dict[str, Any] = {"wkst": RR_DAY[pattern["firstDayOfWeek"]], "cache": False}
    if kind in ("weekly", "relativeMonthly", "relativeYearly"):
        kwargs["byweekday"] = [RR_DAY[d] for d in pattern["daysOfWeek"]]
    if kind.startswith("relative"):
        kwargs["bysetpos"] = INDEX[pattern["index"]]
    if kind.startswith("absolute"):
        day = pattern["dayOfMonth"]
        kwargs["bymonthday"] = day if day <= 28 else list(range(28, day + 1))
        if day > 28:
            kwargs["bysetpos"] = -1
    if kind.endswith("Yearly"):
        kwargs["bymonth"] = pattern["month"]
    freq = {"daily": rr.DAILY, "weekly": rr.WEEKLY}.get(kind, rr.MONTHLY if kind.endswith("Monthly") else rr.YEARLY)
    begin = dt.datetime.combine(dt.date.fromisoformat(rng["startDate"]), start.time())
    first = rr.rrule(freq, dtstart=begin, count=1, **kwargs)[0]
    if rng["type"] == "endDate":
        kwargs["until"] = dt.datetime.combine(dt.date.fromisoformat(rng["endDate"]), dt.time(23, 59, 59))
    elif rng["type"] == "numbered":
        kwargs["count"] = rng["numberOfOccurrences"]
    return rr.rrule(freq, dtstart=first, interval=pattern["interval"], **kwargs)


def dateutil_view(store: Store, docs: dict[str, dict[str, Any]]) -> int:
    """The same one-month calendarView, by hand: SQL for singles, dateutil.rrule for the series."""
    low = dt.datetime.fromisoformat(WINDOW["startDateTime"].replace("Z", "+00:00"))
    high = dt.datetime.fromisoformat(WINDOW["endDateTime"].replace("Z", "+00:00"))
    ws, we = low.strftime("%Y-%m-%dT%H:%M:%S"), high.strftime("%Y-%m-%dT%H:%M:%S")
    singles = store.db.execute("SELECT id FROM events WHERE kind = 'singleInstance' AND start_utc < ? AND "
                               "(end_utc > ? OR (end_utc = start_utc AND start_utc >= ?))", (we, ws, ws)).fetchall()
    masters = store.db.execute("SELECT id FROM events WHERE kind = 'seriesMaster' AND start_utc < ? AND "
                               "(end_utc IS NULL OR end_utc > ?)", (we, ws)).fetchall()
    count = len(singles)
    for (master_id,) in masters:
        doc = docs[master_id]
        zone = tz.resolve(doc["recurrence"]["range"]["recurrenceTimeZone"])
        start = tz.parse_graph_datetime(doc["start"]["dateTime"])
        end = tz.parse_graph_datetime(doc["end"]["dateTime"])
        duration = tz.to_utc(end, tz.resolve(doc["end"]["timeZone"])) - tz.to_utc(start, zone)
        rule = dateutil_rule(doc["recurrence"], start)
        lo = (low - duration).astimezone(zone).replace(tzinfo=None) - dt.timedelta(days=1)
        hi = high.astimezone(zone).replace(tzinfo=None) + dt.timedelta(days=1)
        for local in rule.between(lo, hi, inc=True):
            begin = local.replace(tzinfo=zone, fold=0).astimezone(UTC)
            if begin < high and begin + duration > low:
                count += 1
    return count


def time_dateutil(store: Store, runs: int, warmup: int) -> tuple[list[float], int]:
    docs = {r["id"]: json.loads(r["doc"]) for r in store.db.execute("SELECT id, doc FROM events WHERE kind = "
                                                                  "'seriesMaster'")}
    for _ in range(warmup):
        count = dateutil_view(store, docs)
    timings = []
    for _ in range(runs):
        began = time.perf_counter()
        count = dateutil_view(store, docs)
        timings.append((time.perf_counter() - began) * 1000)
    return timings, count


def p90(values: list[float]) -> float:
    return statistics.quantiles(values, n=10)[-1]


async def time_page_after_write(store: Where, runs: int) -> list[float]:
    """A first page of 10 right after a write (a new data version: the window is expanded again)."""
    async with connect(store) as client:
        timings = []
        for i in range(runs):
            r = await client.post("me/events", json={
                "subject": f"write {i}", "start": {"dateTime": "2026-06-10T10:00:00", "timeZone": "UTC"},
                "end": {"dateTime": "2026-06-10T10:30:00", "timeZone": "UTC"}})
            r.raise_for_status()
            began = time.perf_counter()
            (await client.get("me/calendarView", params=PAGE_OF_10)).raise_for_status()
            timings.append((time.perf_counter() - began) * 1000)
            (await client.delete(f"me/events/{r.json()['id']}")).raise_for_status()
    return timings


PAGE_OF_10 = {k: v for k, v in WINDOW.items() if k != "$top"}  # Graph's default page: 10
DELTA_PAGE = {"Prefer": "odata.maxpagesize=100"}  # the page size calendar/sync.py asks for
JUNE_WRITE = {"subject": "write", "start": {"dateTime": "2026-06-10T10:00:00", "timeZone": "UTC"},
              "end": {"dateTime": "2026-06-10T10:30:00", "timeZone": "UTC"}}
# findMeetingTimes over the working week of 8-12 June 2026 (the bench mailbox's calendar is the large one)
FIND_TIMES = {"meetingDuration": "PT1H", "maxCandidates": 20, "isOrganizerOptional": False,
              "timeConstraint": {"activityDomain": "unrestricted", "timeSlots": [
                  {"start": {"dateTime": "2026-06-08T08:00:00", "timeZone": "UTC"},
                   "end": {"dateTime": "2026-06-12T18:00:00", "timeZone": "UTC"}}]}}


async def delta_round(client: httpx.AsyncClient, link: str | None) -> tuple[int, int, str]:
    """One round of calendarView/delta over the month (from ``link``, else a new one): (items, pages, deltaLink)."""
    if link is None:
        response = await client.get("me/calendarView/delta", params={k: v for k, v in PAGE_OF_10.items()},
                                    headers=DELTA_PAGE)
    else:
        response = await client.get(link, headers=DELTA_PAGE)
    items = pages = 0
    while True:
        response.raise_for_status()
        body = response.json()
        items, pages = items + len(body["value"]), pages + 1
        if "@odata.deltaLink" in body:
            return items, pages, body["@odata.deltaLink"]
        response = await client.get(body["@odata.nextLink"], headers=DELTA_PAGE)


async def time_delta(where: Where, runs: int) -> dict[str, float]:
    """A whole first round (every page), a next round with nothing changed, a next round after one write."""
    async with connect(where) as client:
        await delta_round(client, None)
        whole, count, pages = [], 0, 0
        for _ in range(runs):
            began = time.perf_counter()
            count, pages, link = await delta_round(client, None)
            whole.append((time.perf_counter() - began) * 1000)
        unchanged = []
        for _ in range(runs):
            began = time.perf_counter()
            items, _, link = await delta_round(client, link)
            unchanged.append((time.perf_counter() - began) * 1000)
            assert items == 0, f"a round with nothing changed sent {items} items"
        after_write = []
        for _ in range(max(3, runs // 3)):
            r = await client.post("me/events", json=JUNE_WRITE)
            r.raise_for_status()
            began = time.perf_counter()
            items, _, link = await delta_round(client, link)
            after_write.append((time.perf_counter() - began) * 1000)
            assert items == 1, f"a round after one write sent {items} items"
            (await client.delete(f"me/events/{r.json()['id']}")).raise_for_status()
            _, _, link = await delta_round(client, link)
    return {"delta_items": count, "delta_pages": pages, "delta_whole_ms": statistics.median(whole),
            "delta_next_ms": statistics.median(unchanged), "delta_after_write_ms": statistics.median(after_write)}


async def time_find_times(where: Where, runs: int) -> dict[str, float]:
    """findMeetingTimes over a week of the large calendar: asked again (nothing changed), and after a write."""
    async with connect(where) as client:
        async def ask() -> float:
            began = time.perf_counter()
            r = await client.post("me/findMeetingTimes", json=FIND_TIMES)
            took = (time.perf_counter() - began) * 1000
            r.raise_for_status()
            return took

        await ask()
        again = [await ask() for _ in range(runs)]
        after_write = []
        for _ in range(max(3, runs // 3)):
            r = await client.post("me/events", json=JUNE_WRITE)
            r.raise_for_status()
            after_write.append(await ask())
            (await client.delete(f"me/events/{r.json()['id']}")).raise_for_status()
    return {"find_again_ms": statistics.median(again), "find_after_write_ms": statistics.median(after_write)}


def measure(events: int, runs: int, warmup: int, with_dateutil: bool, in_process: bool) -> dict[str, float]:
    series = events // 10
    with tempfile.TemporaryDirectory(prefix="bench-sandbox-") as name:
        began = time.perf_counter()
        store = build_store(events, series, path=str(Path(name) / "bench.db"))
        built = time.perf_counter() - began
        out: dict[str, float] = {"events": events, "series": series, "built_s": built}
        if with_dateutil:
            base, _ = time_dateutil(store, runs, warmup)
            out["dateutil_ms"] = statistics.median(base)
        if in_process:
            out.update(figures(store, runs, warmup))
        else:
            store.close()
            with sandbox(Path(name), db=Path(name) / "bench.db", now=NOW.isoformat()) as url:
                out.update(figures(url, runs, warmup))
        if in_process:
            store.close()
    return out


def figures(where: Where, runs: int, warmup: int) -> dict[str, float]:
    whole, count, cold = asyncio.run(time_http(where, runs, warmup))
    pages = asyncio.run(count_pages(where))
    first, _ = asyncio.run(time_first_page(where, runs, PAGE_OF_10))
    after_write = asyncio.run(time_page_after_write(where, max(3, runs // 3)))
    return {"instances": count, "pages": pages, "page10_ms": statistics.median(first),
            "page10_after_write_ms": statistics.median(after_write), "whole_ms": statistics.median(whole),
            "whole_cold_ms": cold, **asyncio.run(time_delta(where, runs)), **asyncio.run(time_find_times(where, runs))}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000,5000,20000,50000", help="events per mailbox (a tenth are series)")
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--dateutil", action="store_true", help="also time the same window by hand (dateutil)")
    parser.add_argument("--loopback", action="store_true",
                        help="serve the store with `sandbox serve` and read it over loopback HTTP (noisier: two processes)")
    args = parser.parse_args()
    rows = []
    how = "in process (ASGI)" if not args.loopback else "over loopback HTTP (`sandbox serve` on the store's file)"
    print(f"calendarView over one month (June 2026), one mailbox, a tenth of the events are series, {how}; "
          f"median ms of {args.runs} runs")
    print(f"{'events':>7} {'instances':>9} {'page of 10':>10} {'after write':>11} {'whole month':>11} "
          f"{'(pages)':>7} {'cold whole':>10}" + ("  dateutil" if args.dateutil else ""))
    for size in (int(s) for s in args.sizes.split(",")):
        r = measure(size, args.runs, args.warmup, args.dateutil, not args.loopback)
        rows.append(r)
        print(f"{r['events']:>7} {r['instances']:>9} {r['page10_ms']:>10.1f} {r['page10_after_write_ms']:>11.1f} "
              f"{r['whole_ms']:>11.1f} {r['pages']:>7} {r['whole_cold_ms']:>10.1f}"
              + (f" {r['dateutil_ms']:>9.1f}" if args.dateutil else ""), flush=True)
    print("page of 10: the first page, asked again with no write in between (the window's snapshot is reused); "
          "after write: the first page right after a POST (the window expanded again); whole month: $top=1000, "
          "every nextLink followed; cold whole: the first such read")
    print()
    print("calendarView/delta over the same month (Prefer: odata.maxpagesize=100) and findMeetingTimes over a week "
          "of it (8-12 June, 1 h); median ms")
    print(f"{'events':>7} {'delta items':>11} {'whole round':>11} {'(pages)':>7} {'next round':>10} "
          f"{'after write':>11} {'find times':>10} {'after write':>11}")
    for r in rows:
        print(f"{r['events']:>7} {r['delta_items']:>11} {r['delta_whole_ms']:>11.1f} {r['delta_pages']:>7} "
              f"{r['delta_next_ms']:>10.1f} {r['delta_after_write_ms']:>11.1f} {r['find_again_ms']:>10.1f} "
              f"{r['find_after_write_ms']:>11.1f}")
    print("whole round: a first round, every page; next round: the deltaLink followed with nothing changed; "
          "after write: the deltaLink followed right after one POST (one item); find times: findMeetingTimes asked "
          "again with nothing changed; after write: asked right after a POST in the week")
    by_size = {r["events"]: r for r in rows}
    if 5000 in by_size and 50000 in by_size:
        print(ratios(by_size[5000], by_size[50000]))


TARGETS = [  # (label, figure, the most 50k may cost as a multiple of 5k, or None: printed only)
    ("calendarView page of 10", "page10_ms", 2.0),
    ("page of 10 after a write", "page10_after_write_ms", None),
    ("whole month", "whole_ms", 12.0),
    ("delta next round", "delta_next_ms", 2.0),
    ("delta round after a write", "delta_after_write_ms", 12.0),
    ("delta whole round", "delta_whole_ms", 12.0),
    ("findMeetingTimes again", "find_again_ms", 2.0),
    ("findMeetingTimes after a write", "find_after_write_ms", 12.0),
]


def ratios(small: dict[str, float], big: dict[str, float]) -> str:
    """The 50k / 5k ratios, each with its target and whether this run met it."""
    lines = [f"50k / 5k (instances in the month {big['instances'] / small['instances']:.2f}x):"]
    for label, key, target in TARGETS:
        ratio = big[key] / small[key]
        verdict = "" if target is None else f" (target <= {target:g}x: {'met' if ratio <= target else 'NOT met'})"
        lines.append(f"  {label:<31} {ratio:6.2f}x{verdict}")
    return "\n".join(lines)

if __name__ == "__main__":
    main()
