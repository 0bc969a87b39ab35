"""The demo organization the sandbox starts with: people, rooms and a living week.

Contoso has eight people in five time zones (each with their own working
hours), two room lists with seven rooms, and a calendar for the default user
(Adele Vance, Pacific time) filled relative to today: a weekly series with one
moved and one cancelled occurrence, a weekly 1:1, one-offs with attendees and a
room, an online meeting with an outside guest, a private appointment, an
all-day and a multi-day event. Colleagues' calendars hold a few events of their
own so that free/busy has something to show.

Sharing, as a newcomer would find it: Alex Wilber shares his calendar with
Adele (read) and Megan Bowen hers (write); everyone else's primary calendar
shows the organization free/busy only. Two Microsoft 365 groups have
calendars: "Product Launch" (launch@contoso.com, public; Adele, Alex, Dana and
Megan are members) with a review and a weekly stand-up, and "Leadership Team"
(leadership@contoso.com, private; Pavel and Megan) with one event.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from ... import timezones as tz
from ...clock import Clock
from . import events as ev
from .groups import add_group
from .meetings import deliver_seeded
from .rows import CalendarRow, MailboxRow
from .sharing import seed_share
from .store import Store, occurrence_id

DOMAIN = "contoso.com"
WEEKDAYS = ["monday", "tuesday", "wednesday", "thursday", "friday"]

PEOPLE = [
    # address, name, title, Windows zone, working hours (start, end), department, office
    (
        "adele",
        "Adele Vance",
        "Product Manager",
        "Pacific Standard Time",
        ("08:00", "17:00"),
        "Product",
        "Seattle 18/2111",
    ),
    (
        "alex",
        "Alex Wilber",
        "Marketing Assistant",
        "Pacific Standard Time",
        ("09:00", "18:00"),
        "Marketing",
        "Seattle 131/1104",
    ),
    (
        "dana",
        "Dana Swope",
        "Senior Engineer",
        "Eastern Standard Time",
        ("08:00", "16:30"),
        "Engineering",
        "New York 20/1101",
    ),
    ("fanny", "Fanny Downs", "Designer", "Eastern Standard Time", ("09:30", "18:00"), "Design", "New York 20/1203"),
    (
        "megan",
        "Megan Bowen",
        "Marketing Manager",
        "GMT Standard Time",
        ("08:30", "17:00"),
        "Marketing",
        "London 4/1012",
    ),
    ("pavel", "Pavel Bansky", "Sales Director", "W. Europe Standard Time", ("08:00", "16:00"), "Sales", "Berlin 2/203"),
    ("kenji", "Kenji Sato", "Support Engineer", "Tokyo Standard Time", ("09:00", "17:30"), "Support", "Tokyo 1/704"),
    (
        "priya",
        "Priya Raman",
        "Data Scientist",
        "India Standard Time",
        ("10:00", "18:30"),
        "Engineering",
        "Bengaluru 3/310",
    ),
]

ROOM_LISTS = [
    ("building1", "Building 1 Rooms", "Seattle Building 1", "Pacific Standard Time"),
    ("building2", "Building 2 Rooms", "Seattle Building 2", "Pacific Standard Time"),
]

ROOMS = [
    # alias, name, list, capacity, floor, device, wheelchair
    ("adams", "Conf Room Adams", "building1", 8, 1, "Surface Hub Adams", True),
    ("baker", "Conf Room Baker", "building1", 12, 2, "Teams Room Baker", True),
    ("crystal", "Conf Room Crystal", "building1", 4, 2, None, False),
    ("hood", "Conf Room Hood", "building2", 6, 1, "Teams Room Hood", True),
    ("rainier", "Conf Room Rainier", "building2", 16, 3, "Surface Hub Rainier", True),
    ("stevens", "Conf Room Stevens", "building2", 10, 3, "Teams Room Stevens", False),
    ("lake", "Conf Room Lake", "building1", 6, 3, "Teams Room Lake", True),
]


def address(alias: str) -> str:
    return f"{alias}@{DOMAIN}"


def _mailbox(store: Store, alias: str) -> MailboxRow:
    row = store.mailbox(address(alias))
    assert row is not None, alias  # the seed adds every mailbox it names
    return row


def _calendar(store: Store, mailbox_id: str) -> CalendarRow:
    row = store.default_calendar(mailbox_id)
    assert row is not None, mailbox_id
    return row


def seed_store(store: Store, clock: Clock) -> None:
    """Fill an empty store with the demo organization (one transaction).

    The living week is the one of ``clock``'s today in the demo user's zone (Pacific time).
    """
    now = clock.now()
    today = clock.today(tz.resolve("Pacific Standard Time"))
    with store.transaction():
        _people(store)
        _rooms(store)
        _calendars(store)
        _events(store, today, now)
        _groups_and_sharing(store, today, now)
        deliver_seeded(store, now)  # invitations reach attendees, rooms book themselves


def _people(store: Store) -> None:
    for alias, name, title, zone, (start, end), dept, office in PEOPLE:
        given, surname = name.split(" ", 1)
        store.add_mailbox(
            address(alias),
            "user",
            {
                "displayName": name,
                "givenName": given,
                "surname": surname,
                "jobTitle": title,
                "department": dept,
                "officeLocation": office,
                "businessPhones": ["+1 425 555 01" + str(10 + len(alias))],
                "timeZone": zone,
                "preferredLanguage": "en-US",
                "workingHours": {
                    "daysOfWeek": WEEKDAYS,
                    "startTime": f"{start}:00.0000000",
                    "endTime": f"{end}:00.0000000",
                    "timeZone": zone,
                },
            },
        )


def _rooms(store: Store) -> None:
    for alias, name, building, zone in ROOM_LISTS:
        store.add_mailbox(
            address(alias),
            "roomList",
            {
                "displayName": name,
                "timeZone": zone,
                "place": {"building": building},
                "address": _address(building),
            },
        )
    for alias, name, room_list, capacity, floor, device, wheelchair in ROOMS:
        building = next(b for a, _, b, _ in ROOM_LISTS if a == room_list)
        store.add_mailbox(
            address(alias),
            "room",
            {
                "displayName": name,
                "timeZone": "Pacific Standard Time",
                "workingHours": {
                    "daysOfWeek": WEEKDAYS,
                    "startTime": "07:00:00.0000000",
                    "endTime": "19:00:00.0000000",
                    "timeZone": "Pacific Standard Time",
                },
                "place": {
                    "capacity": capacity,
                    "building": building,
                    "floorNumber": floor,
                    "floorLabel": f"Floor {floor}",
                    "displayDeviceName": device,
                    "audioDeviceName": device and "Teams audio",
                    "videoDeviceName": device and "Teams camera",
                    "isWheelChairAccessible": wheelchair,
                    "bookingType": "standard",
                    "roomList": address(room_list),
                    "nickname": name.replace("Conf Room ", ""),
                    "label": f"{building}, floor {floor}",
                    "tags": ["bookable"],
                    "phone": None,
                    "address": _address(building),
                    "geoCoordinates": {
                        "latitude": 47.6423,
                        "longitude": -122.1368,
                        "altitude": None,
                        "accuracy": None,
                        "altitudeAccuracy": None,
                    },
                },
            },
        )


def _address(building: str) -> dict[str, str]:
    return {
        "street": "1 Contoso Way" if building.endswith("1") else "2 Contoso Way",
        "city": "Redmond",
        "state": "WA",
        "countryOrRegion": "United States",
        "postalCode": "98052",
    }


def _calendars(store: Store) -> None:
    for row in store.mailboxes():
        if row["kind"] not in ("user", "room"):
            continue
        owner = {"name": row["address"].split("@")[0], "address": row["address"]}
        owner["name"] = json.loads(row["doc"])["displayName"]
        group = store.add_group(row["id"], "My Calendars", "0006f0b7-0000-0000-c000-000000000046")
        store.add_group(row["id"], "Other Calendars")
        store.add_calendar(row["id"], group, {"name": "Calendar", "color": "auto", "owner": owner}, is_default=True)
        if row["kind"] == "user":
            store.add_calendar(row["id"], group, {"name": "Birthdays", "color": "lightGreen", "owner": owner})


def _week_start(today: dt.date) -> dt.date:
    """Monday of the work week a newcomer cares about: this one, or next one at the weekend."""
    monday = today - dt.timedelta(days=today.weekday())
    return monday + dt.timedelta(days=7) if today.weekday() >= 5 else monday


def _events(store: Store, today: dt.date, now: dt.datetime) -> None:
    pacific = "Pacific Standard Time"
    mon = _week_start(today)

    def at(day_offset: int, hh: int, mm: int = 0) -> str:
        return dt.datetime.combine(mon + dt.timedelta(days=day_offset), dt.time(hh, mm)).strftime("%Y-%m-%dT%H:%M:%S")

    def when(day: int, start: tuple[int, int], end: tuple[int, int], zone: str = pacific) -> dict[str, Any]:
        return {
            "start": {"dateTime": at(day, *start), "timeZone": zone},
            "end": {"dateTime": at(day, *end), "timeZone": zone},
        }

    def people(*aliases: str, kind: str = "required") -> list[dict[str, Any]]:
        out = []
        for alias in aliases:
            row = _mailbox(store, alias)
            out.append(
                {
                    "type": "resource" if row["kind"] == "room" else kind,
                    "emailAddress": {"address": row["address"], "name": json.loads(row["doc"])["displayName"]},
                }
            )
        return out

    sync = _add(
        store,
        now,
        "adele",
        {
            "subject": "Weekly team sync",
            **when(-7 * 4 + 1, (10, 0), (10, 30)),
            "body": {"contentType": "text", "content": "Agenda: wins, blockers, next steps."},
            "attendees": people("alex", "dana", "megan"),
            "isOnlineMeeting": True,
            "recurrence": {
                "pattern": {"type": "weekly", "interval": 1, "daysOfWeek": ["tuesday"], "firstDayOfWeek": "sunday"},
                "range": {
                    "type": "noEnd",
                    "startDate": (mon - dt.timedelta(days=27)).isoformat(),
                    "recurrenceTimeZone": pacific,
                },
            },
            "categories": ["Team"],
        },
    )
    # This week's sync moved to 11:00; next week's cancelled.
    _exception(
        store,
        "adele",
        sync,
        dt.datetime.combine(mon + dt.timedelta(days=1), dt.time(10, 0)),
        {
            "start": {"dateTime": at(1, 11, 0), "timeZone": pacific},
            "end": {"dateTime": at(1, 11, 30), "timeZone": pacific},
            "body": {"contentType": "text", "content": "Moved to 11:00 this week (release review at 10)."},
        },
    )
    _cancel(store, "adele", sync, dt.datetime.combine(mon + dt.timedelta(days=8), dt.time(10, 0)))

    _add(
        store,
        now,
        "adele",
        {
            "subject": "1:1 Adele / Alex",
            **when(-7 * 2, (15, 0), (15, 30)),
            "attendees": people("alex"),
            "recurrence": {
                "pattern": {"type": "weekly", "interval": 1, "daysOfWeek": ["monday"]},
                "range": {
                    "type": "endDate",
                    "startDate": (mon - dt.timedelta(days=14)).isoformat(),
                    "endDate": (mon + dt.timedelta(days=7 * 12)).isoformat(),
                },
            },
        },
    )
    _add(
        store,
        now,
        "adele",
        {
            "subject": "Quarterly planning",
            **when(2, (13, 0), (14, 30)),
            "attendees": people("dana", "fanny") + people("baker"),
            "location": {
                "displayName": "Conf Room Baker",
                "locationType": "conferenceRoom",
                "locationEmailAddress": address("baker"),
            },
            "body": {"contentType": "html", "content": "<p>Bring your Q1 numbers. Draft deck in the team site.</p>"},
            "importance": "high",
            "isOnlineMeeting": True,
        },
    )
    _add(
        store,
        now,
        "adele",
        {
            "subject": "Customer call with Fabrikam",
            **when(3, (11, 0), (12, 0)),
            "isOnlineMeeting": True,
            "attendees": [
                *people("pavel"),
                {"type": "required", "emailAddress": {"address": "jordan@fabrikam.com", "name": "Jordan Miller"}},
            ],
            "body": {"contentType": "text", "content": "Renewal discussion. Jordan asked about the Q2 pricing."},
        },
    )
    _add(
        store,
        now,
        "adele",
        {
            "subject": "Doctor appointment",
            **when(3, (8, 0), (9, 0)),
            "sensitivity": "private",
            "showAs": "oof",
            "location": {"displayName": "Overlake Clinic"},
        },
    )
    _add(
        store,
        now,
        "adele",
        {
            "subject": "Lunch with Megan",
            **when(0, (12, 0), (13, 0)),
            "showAs": "busy",
            "location": {"displayName": "Cafe 34"},
            "attendees": people("megan"),
        },
    )
    _add(
        store,
        now,
        "adele",
        {
            "subject": "Brown bag: intro to Graph",
            **when(4, (12, 0), (13, 0)),
            "showAs": "tentative",
            "attendees": people("dana", "priya", kind="optional"),
            "categories": ["Learning"],
        },
    )
    _add(
        store,
        now,
        "adele",
        {
            "subject": "Focus time",
            **when(4, (9, 0), (11, 0)),
            "showAs": "busy",
            "isReminderOn": False,
            "categories": ["Focus"],
        },
    )
    _add(
        store,
        now,
        "adele",
        {
            "subject": "Team offsite",
            "isAllDay": True,
            "showAs": "oof",
            "start": {"dateTime": at(11, 0), "timeZone": pacific},
            "end": {"dateTime": at(12, 0), "timeZone": pacific},
        },
    )
    _add(
        store,
        now,
        "adele",
        {
            "subject": "Ignite conference",
            "isAllDay": True,
            "showAs": "oof",
            "start": {"dateTime": at(16, 0), "timeZone": pacific},
            "end": {"dateTime": at(19, 0), "timeZone": pacific},
            "location": {"displayName": "Chicago, IL"},
        },
    )
    _add(
        store,
        now,
        "adele",
        {
            "subject": "Thanksgiving",
            "isAllDay": True,
            "showAs": "free",
            "start": {"dateTime": _thanksgiving(mon), "timeZone": pacific},
            "end": {"dateTime": _thanksgiving(mon, 1), "timeZone": pacific},
            "categories": ["Holiday"],
        },
    )
    # Colleagues' own days, so free/busy shows something.
    _add(store, now, "dana", {"subject": "Design review", **when(2, (9, 0), (11, 0), "Eastern Standard Time")})
    _add(
        store,
        now,
        "dana",
        {
            "subject": "Dentist",
            **when(3, (14, 0), (15, 0), "Eastern Standard Time"),
            "sensitivity": "private",
            "showAs": "oof",
        },
    )
    _add(store, now, "fanny", {"subject": "Workshop", **when(1, (10, 0), (16, 0), "Eastern Standard Time")})
    _add(
        store,
        now,
        "fanny",
        {
            "subject": "Tentative: vendor demo",
            **when(3, (13, 0), (14, 0), "Eastern Standard Time"),
            "showAs": "tentative",
        },
    )
    _add(store, now, "megan", {"subject": "Campaign launch", **when(2, (9, 0), (12, 0), "GMT Standard Time")})
    _add(
        store,
        now,
        "alex",
        {
            "subject": "Working from Portland",
            "isAllDay": True,
            "showAs": "workingElsewhere",
            "start": {"dateTime": at(4, 0), "timeZone": pacific},
            "end": {"dateTime": at(5, 0), "timeZone": pacific},
        },
    )


def _thanksgiving(mon: dt.date, plus: int = 0) -> str:
    """US Thanksgiving (4th Thursday of November) of the seeded week's year, as a midnight dateTime."""
    first = dt.date(mon.year, 11, 1)
    day = first + dt.timedelta(days=(3 - first.weekday()) % 7 + 21 + plus)
    return f"{day.isoformat()}T00:00:00"


def _add(store: Store, now: dt.datetime, alias: str, body: dict[str, Any]) -> str:
    row = _mailbox(store, alias)
    organizer = {"name": json.loads(row["doc"])["displayName"], "address": row["address"]}
    doc = ev.new_event_doc(body, organizer, now)
    calendar = _calendar(store, row["id"])
    return ev.store_event(store, row["id"], calendar["id"], doc)


def _master(store: Store, alias: str, master_id: str) -> tuple[Any, dict[str, Any]]:
    row = store.event_row(_mailbox(store, alias)["id"], master_id)
    assert row is not None, master_id
    return row, json.loads(row["doc"])


def _exception(store: Store, alias: str, master_id: str, original: dt.datetime, changes: dict[str, Any]) -> None:
    row, master = _master(store, alias, master_id)
    zone_name = master["recurrence"]["range"]["recurrenceTimeZone"]
    doc = ev.occurrence_doc(master_id, master, original, zone_name, ev.event_times(master).duration)
    doc.pop("_id")
    ev.apply_changes(doc, changes)
    doc["type"] = "exception"
    ev.store_event(
        store,
        row["mailbox_id"],
        row["calendar_id"],
        doc,
        occurrence_id(master_id, original),
        "exception",
        master_id,
        original.isoformat(),
    )


def _cancel(store: Store, alias: str, master_id: str, original: dt.datetime) -> None:
    row, master = _master(store, alias, master_id)
    zone_name = master["recurrence"]["range"]["recurrenceTimeZone"]
    doc = ev.occurrence_doc(master_id, master, original, zone_name, ev.event_times(master).duration)
    doc.pop("_id")
    doc.update({"type": "cancelled", "isCancelled": True})
    ev.store_event(
        store,
        row["mailbox_id"],
        row["calendar_id"],
        doc,
        occurrence_id(master_id, original),
        "cancelled",
        master_id,
        original.isoformat(),
    )


GROUPS = [
    # alias, name, visibility, members, description
    ("launch", "Product Launch", "Public", ["adele", "alex", "dana", "megan"], "Everything about the spring launch"),
    ("leadership", "Leadership Team", "Private", ["pavel", "megan"], "Leadership planning"),
]
SHARES = [("alex", "adele", "read"), ("megan", "adele", "write")]  # owner, with, role (primary calendars)


def _groups_and_sharing(store: Store, today: dt.date, now: dt.datetime) -> None:
    pacific = "Pacific Standard Time"
    mon = _week_start(today)

    def at(day_offset: int, hh: int, mm: int = 0) -> str:
        return dt.datetime.combine(mon + dt.timedelta(days=day_offset), dt.time(hh, mm)).strftime("%Y-%m-%dT%H:%M:%S")

    for alias, name, visibility, members, description in GROUPS:
        add_group(store, address(alias), name, [address(m) for m in members], visibility, description)

    def group_event(alias: str, body: dict[str, Any]) -> None:
        row = _mailbox(store, alias)
        doc = ev.new_event_doc(body, {"name": json.loads(row["doc"])["displayName"], "address": row["address"]}, now)
        ev.store_event(store, row["id"], _calendar(store, row["id"])["id"], doc)

    group_event(
        "launch",
        {
            "subject": "Launch readiness review",
            "start": {"dateTime": at(2, 15), "timeZone": pacific},
            "end": {"dateTime": at(2, 16), "timeZone": pacific},
            "location": {"displayName": "Conf Room Rainier"},
            "body": {"contentType": "text", "content": "Go/no-go checklist for the launch."},
        },
    )
    group_event(
        "launch",
        {
            "subject": "Launch stand-up",
            "start": {"dateTime": at(0, 9, 30), "timeZone": pacific},
            "end": {"dateTime": at(0, 9, 45), "timeZone": pacific},
            "recurrence": {
                "pattern": {"type": "weekly", "interval": 1, "daysOfWeek": ["monday"]},
                "range": {
                    "type": "numbered",
                    "startDate": mon.isoformat(),
                    "numberOfOccurrences": 8,
                    "recurrenceTimeZone": pacific,
                },
            },
        },
    )
    group_event(
        "leadership",
        {
            "subject": "Leadership offsite planning",
            "start": {"dateTime": at(3, 13), "timeZone": pacific},
            "end": {"dateTime": at(3, 14), "timeZone": pacific},
        },
    )
    for owner, grantee, role in SHARES:
        row = _mailbox(store, owner)
        seed_share(store, row["address"], _calendar(store, row["id"])["id"], address(grantee), role)
