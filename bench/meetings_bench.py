"""Time findMeetingTimes for 20 attendees over 10 working days, through the sandbox's ASGI app.

Builds an organization of 21 people (the organizer and 20 attendees, in four time zones, each
with their own working hours) whose calendars are busy: every working day holds 3-6 meetings of
30-120 minutes (a fifth of them tentative, some out of office), plus a weekly series per person.
Then, through httpx.ASGITransport (the whole request path: auth, routing, JSON, free/busy from
SQLite, candidate search), it times

* ``POST /me/findMeetingTimes``: 20 required attendees, PT1H, work hours, 10 working days,
  minimumAttendeePercentage 50, maxCandidates 20;
* the baseline, measured in the same run: ``POST /me/calendar/getSchedule`` for the same 21 people
  and the same window (30-minute view), i.e. just reading everyone's free/busy;

and prints the median milliseconds of each, their ratio and the target (findMeetingTimes <= 200 ms).

    python bench/meetings_bench.py [--rounds 30] [--attendees 20] [--days 10]
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import random
import statistics
import time

import httpx

from outlook_calendar_mcp.clock import Clock
from outlook_calendar_mcp.sandbox import create_app
from outlook_calendar_mcp.sandbox.models import events as ev
from outlook_calendar_mcp.sandbox.models.store import Store

DOMAIN = "bench.example"
ZONES = [("Pacific Standard Time", "08:00", "17:00"), ("Mountain Standard Time", "08:00", "17:00"),
         ("Central Standard Time", "09:00", "18:00"), ("Eastern Standard Time", "10:00", "19:00")]
WEEKDAYS = ["monday", "tuesday", "wednesday", "thursday", "friday"]
MONDAY = dt.date(2027, 3, 1)          # window: Mon 2027-03-01 .. Fri 2027-03-12 (10 working days)
NOW = dt.datetime(2027, 2, 26, 12, 0, tzinfo=dt.UTC)
TARGET_MS = 200.0


def build(attendees: int, days: int, seed: int = 7) -> tuple[Store, list[str]]:
    rng = random.Random(seed)
    store = Store(":memory:")
    people = []
    with store.transaction():
        for i in range(attendees + 1):
            zone, start, end = ZONES[i % len(ZONES)]
            address = f"person{i:02d}@{DOMAIN}"
            mailbox_id = store.add_mailbox(address, "user", {
                "displayName": f"Person {i:02d}", "timeZone": zone,
                "workingHours": {"daysOfWeek": WEEKDAYS, "startTime": f"{start}:00.0000000",
                                 "endTime": f"{end}:00.0000000", "timeZone": zone}})
            group = store.add_group(mailbox_id, "My Calendars")
            calendar_id = store.add_calendar(mailbox_id, group, {"name": "Calendar"}, is_default=True)
            people.append(address)
            organizer = {"name": f"Person {i:02d}", "address": address}
            day = MONDAY - dt.timedelta(days=7)
            while day < MONDAY + dt.timedelta(days=days + 7):
                if day.weekday() < 5:
                    for _ in range(rng.randint(3, 6)):
                        begin = dt.datetime.combine(day, dt.time(int(start[:2]))) + dt.timedelta(
                            minutes=30 * rng.randint(0, 16))
                        length = dt.timedelta(minutes=30 * rng.randint(1, 4))
                        show = rng.choices(["busy", "tentative", "oof"], [75, 20, 5])[0]
                        _add(store, mailbox_id, calendar_id, organizer, zone, begin, begin + length, show)
                day += dt.timedelta(days=1)
            begin = dt.datetime.combine(MONDAY - dt.timedelta(days=28), dt.time(int(start[:2]) + 1))
            _add(store, mailbox_id, calendar_id, organizer, zone, begin, begin + dt.timedelta(minutes=30), "busy",
                 recurrence={"pattern": {"type": "weekly", "interval": 1, "daysOfWeek": [WEEKDAYS[i % 5]]},
                             "range": {"type": "noEnd", "startDate": begin.date().isoformat()}})
    return store, people


def _add(store: Store, mailbox_id: str, calendar_id: str, organizer: dict, zone: str, start: dt.datetime,
         end: dt.datetime, show: str, **extra: object) -> None:
    body = {"subject": "Busy", "showAs": show, **extra,
            "start": {"dateTime": start.isoformat(), "timeZone": zone},
            "end": {"dateTime": end.isoformat(), "timeZone": zone}}
    ev.store_event(store, mailbox_id, calendar_id, ev.new_event_doc(body, organizer, NOW))


async def measure(client: httpx.AsyncClient, method: str, path: str, body: dict, rounds: int,
                  headers: dict[str, str]) -> tuple[float, httpx.Response]:
    times = []
    response = None
    for _ in range(rounds):
        t0 = time.perf_counter()
        response = await client.request(method, path, json=body, headers=headers)
        times.append((time.perf_counter() - t0) * 1000)
        assert response.status_code == 200, response.text
    return statistics.median(times), response


async def run(args: argparse.Namespace) -> None:
    t0 = time.perf_counter()
    store, people = build(args.attendees, args.days)
    setup_s = time.perf_counter() - t0
    app = create_app(store, clock=Clock(NOW, frozen=True), seed=False)   # the sandbox's clock: the window lies ahead
    organizer, attendees = people[0], people[1:]
    end_day = MONDAY + dt.timedelta(days=(args.days // 5) * 7 + args.days % 5)
    window = {"start": {"dateTime": f"{MONDAY.isoformat()}T00:00:00", "timeZone": "Pacific Standard Time"},
              "end": {"dateTime": f"{end_day.isoformat()}T00:00:00", "timeZone": "Pacific Standard Time"}}
    find = {"attendees": [{"type": "required", "emailAddress": {"address": a}} for a in attendees],
            "timeConstraint": {"activityDomain": "work", "timeSlots": [window]},
            "meetingDuration": "PT1H", "maxCandidates": 20, "minimumAttendeePercentage": 50,
            "returnSuggestionReasons": True}
    schedule = {"schedules": people, "startTime": window["start"], "endTime": window["end"],
                "availabilityViewInterval": 30}
    headers = {"Authorization": f"Bearer sandbox:{organizer}", "Prefer": 'outlook.timezone="Pacific Standard Time"'}
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://sandbox/v1.0/") as client:
        await measure(client, "POST", "me/findMeetingTimes", find, 3, headers)          # warm up
        await measure(client, "POST", "me/calendar/getSchedule", schedule, 3, headers)
        base_ms, base = await measure(client, "POST", "me/calendar/getSchedule", schedule, args.rounds, headers)
        find_ms, found = await measure(client, "POST", "me/findMeetingTimes", find, args.rounds, headers)
    events = store.db.execute("SELECT COUNT(*) FROM events").fetchone()[0]
    suggestions = found.json()["meetingTimeSuggestions"]
    busy_items = sum(len(s["scheduleItems"]) for s in base.json()["value"])
    print(f"organization: {len(people)} mailboxes, {events} stored events ({busy_items} busy items in the window), "
          f"built in {setup_s:.2f} s")
    print(f"window: {args.days} working days from {MONDAY} (Pacific), work hours in 4 zones, PT1H, "
          f"{len(attendees)} required attendees; {args.rounds} rounds each")
    print(f"baseline  getSchedule      {len(people)} schedules: median {base_ms:7.1f} ms")
    print(f"findMeetingTimes        {len(attendees)} attendees: median {find_ms:7.1f} ms "
          f"({len(suggestions)} suggestions, best confidence "
          f"{suggestions[0]['confidence'] if suggestions else '-'}, reason '{found.json()['emptySuggestionsReason']}')")
    print(f"ratio findMeetingTimes / getSchedule: {find_ms / base_ms:.2f}")
    verdict = "OK" if find_ms <= TARGET_MS else "OVER TARGET"
    print(f"target: findMeetingTimes <= {TARGET_MS:.0f} ms -> {verdict}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=30)
    parser.add_argument("--attendees", type=int, default=20)
    parser.add_argument("--days", type=int, default=10)
    asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    main()
