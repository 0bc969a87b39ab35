"""Time the sandbox's calendarView end to end at 1k, 5k, 20k and 50k events (a tenth of them series).

The store is a SQLite file; one mailbox (bench@contoso.com) gets N single
events spread over 2026 (a tenth of them all-day) and N/10 recurring series
(all six pattern types, noEnd / endDate / numbered ranges, started up to three
years earlier, in six zones, most with DST), written through the sandbox's own
store functions (the same path POST takes after validation) in one transaction.

Measured: ``GET /v1.0/me/calendarView`` over one month (June 2026) with
``$top=1000``, following ``@odata.nextLink``, through the real ASGI app with
``httpx.AsyncClient(transport=httpx.ASGITransport(app))`` (routing, auth,
Prefer, OData parsing, SQLite, expansion, rendering, JSON). Each size lives in
a process of its own (its heap is its own, as a sandbox's is), and the sizes
take turns, figure by figure and round by round, after a warm-up round: the
load of a shared machine falls on both sides of a ratio alike. In process, the
client decodes every page in the sandbox's heap (a large window makes each of
its garbage collections longer); ``--loopback`` keeps them apart. Baseline
(``--dateutil``), in the same run: the same query done by hand with the
expansion by ``dateutil.rrule`` (the SQL for singles in the window, then
every series' occurrences in the window from an rrule built from its Graph
pattern; no HTTP, no rendering), so the figure is also a ratio.

The store is built into a file by a process of its own; ``--loopback`` serves it with ``outlook-calendar-mcp sandbox serve``
and reads it over loopback HTTP (two processes: closer to use, noisier on a shared machine). There the
measuring client imports httpx, not the sandbox
(``--dateutil`` opens the store in it): a client's heap, which its own garbage collector walks.

Printed per size: a page of 10 asked again (the window's snapshot reused,
sandbox/models/snapshots.py), a page of 10 right after a write (the window
brought forward from the one before: sandbox/models/lookup.py), the whole month through every page (per read, over a batch of at least 20 pages at every size;
the median of single reads beside it); calendarView/delta over the same
month (a whole first round, a next round with nothing changed, a next round
after one write) and findMeetingTimes over a week of it (asked again, and
right after a write); then the 50k / 5k ratios, each with its target, and their spread (the
quartiles of each size's samples and of the round-by-round ratio).

    python bench/sandbox_bench.py [--sizes 1000,5000,20000,50000] [--runs 15] [--dateutil] [--loopback]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import json
import multiprocessing
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx
from dateutil import rrule as rr

sys.path.insert(0, str(Path(__file__).resolve().parent))
from harness import sandbox

if TYPE_CHECKING:
    from outlook_calendar_mcp.sandbox.models.store import Store

# The sandbox's modules are imported where they are used, not here: the measuring client of --loopback is a process
# of its own that imports httpx only (the store is built in another process), as a client of a sandbox is a program
# of its own. Its garbage collector then walks its own heap, not the sandbox's modules nor what building a 50,000-
# event store left behind: a full collection of a process that imported the sandbox walks twice the objects, and a
# whole-month read at 50k runs about three of them (in process, the client shares the sandbox's heap by design).

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
    from outlook_calendar_mcp.sandbox.models import events as ev
    from outlook_calendar_mcp.sandbox.models.store import Store

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

Where = Any  # Store | str: the store itself (in process, through ASGI) or the URL of a sandbox serving it


def connect(where: Where) -> httpx.AsyncClient:
    """A client on the sandbox: over loopback HTTP when ``where`` is its URL, else in process (ASGI)."""
    headers = {"Authorization": f"Bearer sandbox:{MAILBOX}"}
    if isinstance(where, str):
        return httpx.AsyncClient(base_url=f"{where}/", headers=headers, timeout=300)
    from outlook_calendar_mcp.clock import Clock
    from outlook_calendar_mcp.sandbox import create_app

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
    from outlook_calendar_mcp import timezones as tz

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
        response = await client.get("me/calendarView/delta", params=PAGE_OF_10, headers=DELTA_PAGE)
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


class Bench:
    """One mailbox size, in a process of its own (its heap is its own, as a sandbox's is): each figure, once."""

    def __init__(self, where: Where) -> None:
        self.loop = asyncio.new_event_loop()
        self.client = connect(where)
        self.link = ""  # the last deltaLink
        self.pages = 1  # pages of the whole month (facts)

    def run(self, figure: str) -> float:
        """One measurement of ``figure``, in ms."""
        return self.loop.run_until_complete(getattr(self, figure)())

    def close(self) -> None:
        self.loop.run_until_complete(self.client.aclose())
        self.loop.close()

    @staticmethod
    async def _timed(call: Any) -> float:
        began = time.perf_counter()
        await call
        return (time.perf_counter() - began) * 1000

    async def _write(self) -> str:
        r = await self.client.post("me/events", json=JUNE_WRITE)
        r.raise_for_status()
        return r.json()["id"]

    async def _undo(self, event_id: str) -> None:
        (await self.client.delete(f"me/events/{event_id}")).raise_for_status()

    async def _page10(self) -> None:
        (await self.client.get("me/calendarView", params=PAGE_OF_10)).raise_for_status()

    async def page10(self) -> float:
        """The first page of 10, asked again with no write in between."""
        await self._page10()
        return await self._timed(self._page10())

    async def page10_after_write(self) -> float:
        written = await self._write()
        took = await self._timed(self._page10())
        await self._undo(written)
        return took

    async def whole_single(self) -> float:
        """The whole month, $top=1000, every nextLink followed (read once before: the window's snapshot)."""
        await view_once(self.client)
        return await self._timed(view_once(self.client))

    async def whole(self) -> float:
        """The whole month as :meth:`whole_single` reads it, per read over a batch of reads of at least
        :data:`BATCH_PAGES` pages. The client's garbage collector runs a full collection every ten of its middle
        ones, i.e. after a number of decoded pages, not of reads: at 5k (3 pages) one read in three or four has
        one, at 50k (23 pages) every read has several. The median of single reads at 5k is a read without one,
        so the small side of the ratio left out a cost the large side always paid; a batch of the same number of
        pages at every size pays it alike (the median of such batches, per read)."""
        await view_once(self.client)
        reads = max(1, -(-BATCH_PAGES // self.pages))
        began = time.perf_counter()
        for _ in range(reads):
            await view_once(self.client)
        return (time.perf_counter() - began) * 1000 / reads

    async def _round(self, expected: int | None) -> None:
        items, _, self.link = await delta_round(self.client, self.link if expected is not None else None)
        assert expected is None or items == expected, f"a round sent {items} items, not {expected}"

    async def delta_whole(self) -> float:
        """A first round of the month, every page."""
        return await self._timed(self._round(None))

    async def delta_next(self) -> float:
        """The last deltaLink followed with nothing changed since."""
        return await self._timed(self._round(0))

    async def delta_after_write(self) -> float:
        """The last deltaLink followed right after one write (one item)."""
        written = await self._write()
        took = await self._timed(self._round(1))
        await self._undo(written)
        await self._round(1)  # the removal: the client is even again
        return took

    async def _find(self) -> None:
        (await self.client.post("me/findMeetingTimes", json=FIND_TIMES)).raise_for_status()

    async def find_again(self) -> float:
        await self._find()
        return await self._timed(self._find())

    async def find_after_write(self) -> float:
        written = await self._write()
        took = await self._timed(self._find())
        await self._undo(written)
        return took

    async def facts(self) -> dict[str, float]:
        """What the figures are of (instances, pages, delta items), and the first (cold) read of the month."""
        began = time.perf_counter()
        instances = await view_once(self.client)
        cold = (time.perf_counter() - began) * 1000
        pages, link = 1, (await self.client.get("me/calendarView", params=WINDOW)).json().get("@odata.nextLink")
        while link:
            pages, link = pages + 1, (await self.client.get(link)).json().get("@odata.nextLink")
        delta_items, delta_pages, self.link = await delta_round(self.client, None)
        self.pages = pages
        return {"instances": instances, "pages": pages, "whole_cold_ms": cold, "delta_items": delta_items,
                "delta_pages": delta_pages}


BATCH_PAGES = 20  # the whole month's figure: reads per sample, enough for this many pages at every size
FIGURES = ["page10", "page10_after_write", "whole", "whole_single", "delta_whole", "delta_next", "delta_after_write", "find_again",
           "find_after_write"]


def build_file(events: int, path: str) -> None:
    """A child process of a --loopback worker: the store of ``events`` built into ``path``."""
    build_store(events, events // 10, path=path).close()


def worker(events: int, loopback: bool, with_dateutil: bool, runs: int, conn: Any) -> None:
    """A child process: build the store of ``events``, then measure what the parent asks over ``conn``."""
    with tempfile.TemporaryDirectory(prefix="bench-sandbox-") as name, contextlib.ExitStack() as stack:
        began = time.perf_counter()
        path = str(Path(name) / "bench.db")
        # Built in a process of its own, as a sandbox opens a store written before: over loopback this process, the
        # client, keeps a client's heap; in process the sandbox's heap is not the one building 50,000 events left.
        builder = multiprocessing.get_context("spawn").Process(target=build_file, args=(events, path))
        builder.start()
        builder.join()
        if builder.exitcode != 0:
            raise RuntimeError(f"building the store of {events} events failed ({builder.exitcode})")
        store = None
        if not loopback:
            from outlook_calendar_mcp.sandbox.models.store import Store

            store = Store(path)
        info: dict[str, float] = {"events": events, "series": events // 10, "built_s": time.perf_counter() - began}
        if with_dateutil:
            from outlook_calendar_mcp.sandbox.models.store import Store

            opened = store or Store(path)  # over loopback: opened in the client for the baseline only
            info["dateutil_ms"] = statistics.median(time_dateutil(opened, runs, 2)[0])
            if store is None:
                opened.close()
        where: Where = store
        if loopback:
            where = stack.enter_context(sandbox(Path(name), db=Path(name) / "bench.db", now=NOW.isoformat()))
        bench = Bench(where)
        info.update(bench.loop.run_until_complete(bench.facts()))
        conn.send(info)
        while (figure := conn.recv()) is not None:
            conn.send(bench.run(figure))
        bench.close()
        if store is not None:
            store.close()


def measure(sizes: list[int], runs: int, warmup: int, with_dateutil: bool, loopback: bool) -> list[dict[str, float]]:
    """Every figure at every size: a process per size, the sizes taking turns figure by figure, round by round
    (the machine's load falls on all of them alike), ``warmup`` rounds first; medians."""
    spawn = multiprocessing.get_context("spawn")
    pipes, children = [], []
    for size in sizes:
        here, there = spawn.Pipe()
        # not a daemon: a --loopback worker starts the process that builds its store
        child = spawn.Process(target=worker, args=(size, loopback, with_dateutil, runs, there))
        child.start()
        pipes.append(here)
        children.append(child)
    try:
        rows = [pipe.recv() for pipe in pipes]
        timings: list[dict[str, list[float]]] = [{f: [] for f in FIGURES} for _ in sizes]
        for round_ in range(warmup + runs):
            for figure in FIGURES:
                for pipe, kept in zip(pipes, timings, strict=True):
                    pipe.send(figure)
                    took = pipe.recv()
                    if round_ >= warmup:
                        kept[figure].append(took)
        for row, kept in zip(rows, timings, strict=True):
            row.update({f"{figure}_ms": statistics.median(values) for figure, values in kept.items()})
            row["samples"] = kept  # every round's figure, for the spread
        return rows
    finally:
        for pipe in pipes:
            with contextlib.suppress(OSError):
                pipe.send(None)
        for child in children:
            child.join(timeout=60)
            if child.is_alive():
                child.kill()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000,5000,20000,50000", help="events per mailbox (a tenth are series)")
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--dateutil", action="store_true", help="also time the same window by hand (dateutil)")
    parser.add_argument("--loopback", action="store_true",
                        help="serve the store with `sandbox serve` and read it over loopback HTTP (noisier: two processes)")
    args = parser.parse_args()
    how = "in process (ASGI)" if not args.loopback else "over loopback HTTP (`sandbox serve` on the store's file)"
    print(f"calendarView over one month (June 2026), one mailbox, a tenth of the events are series, {how}; "
          f"a process per size, the sizes taking turns; median ms of {args.runs} rounds")
    print(f"{'events':>7} {'instances':>9} {'page of 10':>10} {'after write':>11} {'whole month':>11} "
          f"{'(pages)':>7} {'one read':>8} {'cold whole':>10}" + ("  dateutil" if args.dateutil else ""))
    rows = measure([int(s) for s in args.sizes.split(",")], args.runs, args.warmup, args.dateutil, args.loopback)
    for r in rows:
        print(f"{r['events']:>7} {r['instances']:>9} {r['page10_ms']:>10.1f} {r['page10_after_write_ms']:>11.1f} "
              f"{r['whole_ms']:>11.1f} {r['pages']:>7} {r['whole_single_ms']:>8.1f} {r['whole_cold_ms']:>10.1f}"
              + (f" {r['dateutil_ms']:>9.1f}" if args.dateutil else ""), flush=True)
    print("page of 10: the first page, asked again with no write in between (the window's snapshot is reused); "
          "after write: the first page right after a POST (the window brought forward); whole month: $top=1000, "
          f"every nextLink followed, per read over a batch of at least {BATCH_PAGES} pages (the client's periodic "
          "full collections fall on every size alike); one read: the median of single reads; cold whole: the "
          "first such read")
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
    ("whole month, single reads", "whole_single_ms", None),
    ("delta next round", "delta_next_ms", 2.0),
    ("delta round after a write", "delta_after_write_ms", 12.0),
    ("delta whole round", "delta_whole_ms", 12.0),
    ("findMeetingTimes again", "find_again_ms", 2.0),
    ("findMeetingTimes after a write", "find_after_write_ms", 12.0),
]


def quartiles(values: list[float]) -> tuple[float, float]:
    """The first and third quartiles of ``values``."""
    if len(values) < 2:
        return values[0], values[0]
    q = statistics.quantiles(values, n=4, method="inclusive")
    return q[0], q[2]


def ratios(small: dict[str, Any], big: dict[str, Any]) -> str:
    """The 50k / 5k ratios (of the medians), each with its target and whether this run met it, and their spread:
    the quartiles of each size's figure and of the ratio round by round (both sizes measured back to back in a
    round, so a round's ratio pairs samples taken under the same load)."""
    lines = [f"50k / 5k (instances in the month {big['instances'] / small['instances']:.2f}x); spread: the quartiles "
             "of each size's samples (ms) and of the round-by-round ratio"]
    for label, key, target in TARGETS:
        ratio = big[key] / small[key]
        verdict = "" if target is None else f" (target <= {target:g}x: {'met' if ratio <= target else 'NOT met'})"
        figure = key.removesuffix("_ms")
        few, many = small["samples"][figure], big["samples"][figure]
        (s1, s3), (b1, b3) = quartiles(few), quartiles(many)
        r1, r3 = quartiles([b / a for a, b in zip(few, many, strict=True)])
        spread = f"5k {s1:.1f}-{s3:.1f}, 50k {b1:.1f}-{b3:.1f}, ratio {r1:.2f}-{r3:.2f}"
        lines.append(f"  {label:<31} {ratio:6.2f}x{verdict:<29} [{spread}]")
    return "\n".join(lines)

if __name__ == "__main__":
    main()
