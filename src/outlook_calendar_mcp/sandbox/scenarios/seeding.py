"""Putting a :class:`~.model.Scenario` into a store: mailboxes, calendars, groups, sharing, events, answers.

``seed(store, scenario, clock)`` fills an empty store in one transaction. Days are resolved against the
scenario's anchor on ``clock`` (:func:`anchor_day`); events are stored as Graph documents by the same
model code the sandbox's requests use, meetings are delivered to their attendees (copies, rooms booking
themselves, nothing in the outbox), and then the declared answers are recorded on both sides: the
attendee's copy (responseStatus, showAs) and the organizer's attendee list (status, proposedNewTime).
"""

from __future__ import annotations

import copy
import datetime as dt
import json
from typing import Any

from ... import timezones as tz
from ...clock import Clock
from ..errors import GraphHTTPError
from ..models import events as ev
from ..models import recurrence as rec
from ..models.contacts import add_contact
from ..models.groups import add_group
from ..models.meetings import Meeting, copy_row, deliver_seeded, load, save, shown_response
from ..models.rows import MailboxRow
from ..models.session import Principal, Session
from ..models.sharing import seed_share
from ..models.store import Store, graph_timestamp, occurrence_id
from .loader import Loc, problem_at
from .model import DAY_RE, MONTHS, ORDINALS, WEEKDAYS, Change, Event, Reply, Scenario, WorkingHours

MY_CALENDARS = "0006f0b7-0000-0000-c000-000000000046"  # Exchange's class id of the "My Calendars" group


def anchor_day(scenario: Scenario, clock: Clock) -> dt.date:
    """The chosen day events are relative to, on ``clock``."""
    day = scenario.anchor.day
    if isinstance(day, dt.date):
        return day
    today = clock.today(tz.resolve(scenario.anchor.zone))
    if day == "today":
        return today
    monday = today - dt.timedelta(days=today.weekday())
    return monday + dt.timedelta(days=7) if today.weekday() >= 5 else monday  # at the weekend: the coming week


def resolve_day(spec: int | str, anchor: dt.date) -> dt.date:
    """A :data:`~.model.Day` as a date, for ``anchor``."""
    if isinstance(spec, int):
        return anchor + dt.timedelta(days=spec)
    m = DAY_RE.match(spec)
    assert m is not None, spec  # the model checked it
    if m["date"]:
        return dt.date.fromisoformat(m["date"])
    if m["wd"]:
        monday = anchor - dt.timedelta(days=anchor.weekday())
        shift = {"next": 7, "last": -7, None: 0}[m["rel"]]
        return monday + dt.timedelta(days=WEEKDAYS.index(m["wd"]) + shift)
    month, weekday, nth = MONTHS.index(m["month"]) + 1, WEEKDAYS.index(m["owd"]), ORDINALS[m["ord"]]
    if nth > 0:
        first = dt.date(anchor.year, month, 1)
        return first + dt.timedelta(days=(weekday - first.weekday()) % 7 + 7 * (nth - 1))
    last = dt.date(anchor.year + month // 12, month % 12 + 1, 1) - dt.timedelta(days=1)
    return last - dt.timedelta(days=(last.weekday() - weekday) % 7)


def seed(store: Store, scenario: Scenario, clock: Clock) -> None:
    """Fill an empty store with ``scenario`` (one transaction: a problem leaves the store empty).

    Raises :class:`~.loader.ScenarioError` for what only shows when seeding (an occurrence a series doesn't
    have, a 5th weekday a month lacks)."""
    world = _World(store, scenario, clock)
    with store.transaction():
        world.mailboxes()
        for i, e in enumerate(scenario.events):
            world.event(i, e)
        for share in scenario.shares:
            owner = world.mailbox(share.owner)
            calendar = store.default_calendar(owner["id"])
            assert calendar is not None
            seed_share(store, owner["address"], calendar["id"], world.address(share.grantee), share.role)
        deliver_seeded(store, world.now)  # invitations reach attendees, rooms book themselves
        for i, e in enumerate(scenario.events):
            world.answers(i, e)


def _hours(h: WorkingHours, zone: str) -> dict[str, Any]:
    return {
        "daysOfWeek": list(h.days),
        "startTime": f"{h.start}:00.0000000",
        "endTime": f"{h.end}:00.0000000",
        "timeZone": zone,
    }


class _World:
    def __init__(self, store: Store, scenario: Scenario, clock: Clock) -> None:
        self.store, self.s = store, scenario
        self.now = clock.now()
        self.anchor = anchor_day(scenario, clock)
        self.ids: list[str | None] = []  # the organizer's event id of each scenario event

    def address(self, alias: str) -> str:
        return f"{alias}@{self.s.domain}"

    def mailbox(self, alias: str) -> MailboxRow:
        row = self.store.mailbox(self.address(alias))
        assert row is not None, alias  # the loader checked every alias
        return row

    def day(self, loc: Loc, spec: int | str) -> dt.date:
        try:
            return resolve_day(spec, self.anchor)
        except ValueError as e:  # e.g. a 5th Friday a month lacks
            raise problem_at(self.s, loc, f"{spec}: {e}") from None

    # -- mailboxes ---------------------------------------------------------------------------------------
    def mailboxes(self) -> None:
        store = self.store
        for p in self.s.people:
            given, _, surname = p.name.partition(" ")
            doc: dict[str, Any] = {
                "displayName": p.name,
                "givenName": given,
                "surname": surname or None,
                "jobTitle": p.title,
                "department": p.department,
                "officeLocation": p.office,
                "businessPhones": [p.phone] if p.phone else [],
                "timeZone": p.zone,
                "preferredLanguage": "en-US",
                "workingHours": _hours(p.working_hours, p.zone),
            }
            mailbox_id = store.add_mailbox(self.address(p.alias), "user", doc)
            self._calendars(mailbox_id, p.name, p.alias, person=True)
            for c in p.contacts:
                given, _, surname = c.name.partition(" ")
                body = {
                    "displayName": c.name,
                    "givenName": given,
                    "surname": surname or None,
                    "emailAddresses": [{"address": c.address, "name": c.name}],
                    "companyName": c.company,
                    "jobTitle": c.title,
                    "mobilePhone": c.phone,
                    "personalNotes": c.notes,
                }
                add_contact(store, mailbox_id, body, self.now)
        lists = {rl.alias: rl for rl in self.s.room_lists}
        for rl in self.s.room_lists:
            store.add_mailbox(
                self.address(rl.alias),
                "roomList",
                {
                    "displayName": rl.name,
                    "timeZone": rl.zone,
                    "place": {"building": rl.building},
                    "address": _postal(rl.address),
                },
            )
        for r in self.s.rooms:
            rl = lists[r.room_list]
            doc = {
                "displayName": r.name,
                "timeZone": rl.zone,
                "workingHours": _hours(r.working_hours, rl.zone),
                "place": {
                    "capacity": r.capacity,
                    "building": rl.building,
                    "floorNumber": r.floor,
                    "floorLabel": f"Floor {r.floor}",
                    "displayDeviceName": r.device,
                    "audioDeviceName": r.device and "Teams audio",
                    "videoDeviceName": r.device and "Teams camera",
                    "isWheelChairAccessible": r.wheelchair,
                    "bookingType": "standard",
                    "roomList": self.address(rl.alias),
                    "nickname": r.name.replace("Conf Room ", ""),
                    "label": f"{rl.building}, floor {r.floor}",
                    "tags": ["bookable"],
                    "phone": None,
                    "address": _postal(rl.address),
                    "geoCoordinates": {
                        "latitude": rl.latitude,
                        "longitude": rl.longitude,
                        "altitude": None,
                        "accuracy": None,
                        "altitudeAccuracy": None,
                    },
                },
            }
            self._calendars(store.add_mailbox(self.address(r.alias), "room", doc), r.name, r.alias, person=False)
        for g in self.s.groups:
            add_group(
                store, self.address(g.alias), g.name, [self.address(m) for m in g.members], g.visibility, g.description
            )

    def _calendars(self, mailbox_id: str, name: str, alias: str, *, person: bool) -> None:
        owner = {"name": name, "address": self.address(alias)}
        group = self.store.add_group(mailbox_id, "My Calendars", MY_CALENDARS)
        self.store.add_group(mailbox_id, "Other Calendars")
        self.store.add_calendar(
            mailbox_id, group, {"name": "Calendar", "color": "auto", "owner": owner}, is_default=True
        )
        if person:
            self.store.add_calendar(mailbox_id, group, {"name": "Birthdays", "color": "lightGreen", "owner": owner})

    # -- events ------------------------------------------------------------------------------------------
    def event(self, i: int, e: Event) -> None:
        owner = self.mailbox(e.calendar)
        owner_doc = json.loads(owner["doc"])
        zone = e.zone or owner_doc.get("timeZone") or "UTC"
        loc: Loc = ("events", i)
        day = self.day((*loc, "day"), e.day)
        body = self._body(e, zone, day)
        try:
            doc = ev.new_event_doc(body, {"name": owner_doc["displayName"], "address": owner["address"]}, self.now)
            calendar = self.store.default_calendar(owner["id"])
            assert calendar is not None
            event_id = ev.store_event(self.store, owner["id"], calendar["id"], doc)
        except GraphHTTPError as err:  # what the sandbox refuses of a request body, it refuses here
            raise problem_at(self.s, loc, err.message) from None
        self.ids.append(event_id)
        for j, c in enumerate(e.exceptions):
            self._exception((*loc, "exceptions", j), event_id, e, c)
        for j, spec in enumerate(e.cancelled):
            self._cancel((*loc, "cancelled", j), event_id, e, spec)

    def _body(self, e: Event, zone: str, day: dt.date) -> dict[str, Any]:
        if e.all_day:
            start, end = dt.datetime.combine(day, dt.time()), dt.datetime.combine(day + dt.timedelta(e.days), dt.time())
        else:
            assert e.start is not None and e.end is not None  # the loader checked it
            start, end = _at(day, e.start), _at(day, e.end)
        body: dict[str, Any] = {
            "subject": e.subject,
            "start": {"dateTime": start.strftime("%Y-%m-%dT%H:%M:%S"), "timeZone": zone},
            "end": {"dateTime": end.strftime("%Y-%m-%dT%H:%M:%S"), "timeZone": zone},
        }
        if e.all_day:
            body["isAllDay"] = True
        for key, value in (("showAs", e.show_as), ("sensitivity", e.sensitivity), ("importance", e.importance)):
            if value is not None:
                body[key] = value
        if e.categories:
            body["categories"] = list(e.categories)
        if e.body is not None:
            body["body"] = {"contentType": e.body_type, "content": e.body}
        if e.online:
            body["isOnlineMeeting"] = True
        if e.reminder is not None:
            body["isReminderOn"] = e.reminder
        attendees = [self._attendee(a) for a in e.attendees]
        attendees += [self._attendee(a, "optional") for a in e.optional]
        if e.room is not None:
            room = self.mailbox(e.room)
            name = json.loads(room["doc"])["displayName"]
            attendees.append({"type": "resource", "emailAddress": {"address": room["address"], "name": name}})
            body["location"] = {
                "displayName": name,
                "locationType": "conferenceRoom",
                "locationEmailAddress": room["address"],
            }
        elif e.location is not None:
            body["location"] = {"displayName": e.location}
        if attendees:
            body["attendees"] = attendees
        if e.recurrence is not None:
            body["recurrence"] = self._recurrence(e, zone, day)
        return body

    def _attendee(self, a: Any, kind: str = "required") -> dict[str, Any]:
        if isinstance(a, str):
            alias, address, name = a, None, None
        else:
            alias, address, name, kind = a.alias, a.address, a.name, a.type
        if alias is not None:
            row = self.mailbox(alias)
            address, name = row["address"], name or json.loads(row["doc"])["displayName"]
            if row["kind"] == "room":
                kind = "resource"
        return {"type": kind, "emailAddress": {"address": address, "name": name or address}}

    def _recurrence(self, e: Event, zone: str, day: dt.date) -> dict[str, Any]:
        r = e.recurrence
        assert r is not None
        pattern: dict[str, Any] = {"type": r.type, "interval": r.interval}
        if r.days:
            pattern["daysOfWeek"] = list(r.days)
        if r.first_day_of_week:
            pattern["firstDayOfWeek"] = r.first_day_of_week
        if r.day_of_month:
            pattern["dayOfMonth"] = r.day_of_month
        if r.month:
            pattern["month"] = r.month
        if r.index:
            pattern["index"] = r.index
        rng: dict[str, Any] = {"type": "noEnd", "startDate": day.isoformat(), "recurrenceTimeZone": zone}
        if r.until is not None:
            rng.update(type="endDate", endDate=resolve_day(r.until, self.anchor).isoformat())
        elif r.count is not None:
            rng.update(type="numbered", numberOfOccurrences=r.count)
        return {"pattern": pattern, "range": rng}

    def _occurrence(self, loc: Loc, master_id: str, e: Event, spec: int | str) -> tuple[Any, dict[str, Any], Any]:
        """(master row, master doc, original local start) of the occurrence on the day ``spec``."""
        owner = self.mailbox(e.calendar)
        row = self.store.event_row(owner["id"], master_id)
        assert row is not None
        master = json.loads(row["doc"])
        zone_name = master["recurrence"]["range"]["recurrenceTimeZone"]
        times = ev.event_times(master)
        original = dt.datetime.combine(self.day(loc, spec), times.start.replace(tzinfo=None).time())
        zone = ev.zone_of(zone_name, "recurrence")
        if not rec.occurrence_at(master["recurrence"], ev.series_start(master, times, zone), zone, original):
            raise problem_at(self.s, loc, f"'{e.subject}' has no occurrence on {original.date()} ({spec})")
        return row, master, original

    def _exception(self, loc: Loc, master_id: str, e: Event, c: Change) -> None:
        row, master, original = self._occurrence((*loc, "occurrence"), master_id, e, c.occurrence)
        zone_name = master["recurrence"]["range"]["recurrenceTimeZone"]
        doc = ev.occurrence_doc(master_id, master, original, zone_name, ev.event_times(master).duration)
        doc.pop("_id")
        changes: dict[str, Any] = {}
        day = self.day((*loc, "day"), c.day) if c.day is not None else original.date()
        if c.start is not None and c.end is not None:
            start, end = _at(day, c.start), _at(day, c.end)
        else:
            start = dt.datetime.combine(day, original.time())
            end = start + ev.event_times(master).duration
        changes["start"] = {"dateTime": start.strftime("%Y-%m-%dT%H:%M:%S"), "timeZone": zone_name}
        changes["end"] = {"dateTime": end.strftime("%Y-%m-%dT%H:%M:%S"), "timeZone": zone_name}
        if c.subject is not None:
            changes["subject"] = c.subject
        if c.body is not None:
            changes["body"] = {"contentType": "text", "content": c.body}
        if c.location is not None:
            changes["location"] = {"displayName": c.location}
        ev.apply_changes(doc, changes)
        doc["type"] = "exception"
        self._store_occurrence(row, master_id, original, doc)

    def _cancel(self, loc: Loc, master_id: str, e: Event, spec: int | str) -> None:
        row, master, original = self._occurrence(loc, master_id, e, spec)
        zone_name = master["recurrence"]["range"]["recurrenceTimeZone"]
        doc = ev.occurrence_doc(master_id, master, original, zone_name, ev.event_times(master).duration)
        doc.pop("_id")
        doc.update({"type": "cancelled", "isCancelled": True})
        self._store_occurrence(row, master_id, original, doc)

    def _store_occurrence(self, row: Any, master_id: str, original: Any, doc: dict[str, Any]) -> None:
        """Store ``doc`` (its ``type``: exception or cancelled) in place of the series' occurrence at ``original``."""
        ev.store_event(
            self.store,
            row["mailbox_id"],
            row["calendar_id"],
            doc,
            occurrence_id(master_id, original),
            doc["type"],
            master_id,
            original.isoformat(),
        )

    # -- answers -----------------------------------------------------------------------------------------
    def answers(self, i: int, e: Event) -> None:
        """The attendees' declared answers, on their copies and on the organizer's event."""
        if not e.responses:
            return
        env = Session(store=self.store, principal=Principal(None), now=self.now)
        owner = self.mailbox(e.calendar)
        event_id = self.ids[i]
        assert event_id is not None
        row = self.store.event_row(owner["id"], event_id)
        assert row is not None
        m = Meeting(owner, row, copy.deepcopy(load(env, row)), event_id)
        stamp = graph_timestamp(self.now)
        for alias, answer in e.responses.items():
            reply = answer if isinstance(answer, Reply) else Reply(response=answer)
            if reply.response == "none":
                continue
            attendee = self.mailbox(alias)
            mine = copy_row(env, attendee["id"], m.uid)
            assert mine is not None  # delivered above
            doc = copy.deepcopy(load(env, mine))
            doc["responseStatus"] = {"response": reply.response, "time": stamp}
            intended = m.doc.get("showAs") or "busy"
            doc["showAs"] = shown_response(intended, reply.response)
            save(env, mine, doc)
            proposal: Any = ...
            if reply.proposed is not None:
                p = reply.proposed
                zone = json.loads(attendee["doc"]).get("timeZone") or "UTC"
                day = self.day(("events", i, "responses", alias, "proposed", "day"), p.day)
                proposal = {
                    key: {"dateTime": tz.format_graph_datetime(_at(day, value)), "timeZone": zone}
                    for key, value in (("start", p.start), ("end", p.end))
                }
            m.set_status(attendee["address"], reply.response, stamp, proposal)
        m.save(env)


def _at(day: dt.date, hhmm: str) -> dt.datetime:
    hour, minute = map(int, hhmm.split(":"))
    return dt.datetime.combine(day, dt.time(hour, minute))


def _postal(a: Any) -> dict[str, Any] | None:
    if a is None:
        return None
    return {
        "street": a.street,
        "city": a.city,
        "state": a.state,
        "countryOrRegion": a.country,
        "postalCode": a.postal_code,
    }
