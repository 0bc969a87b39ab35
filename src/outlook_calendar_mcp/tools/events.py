"""Event tools: calendar_view, list_events, get_event, create/update/delete_event, list_event_instances.

Whose calendar: yours by default, another person's with ``mailbox`` (as their sharing allows: a 403 says
whom to ask), a Microsoft 365 group's with ``group_id``. Recurring events: get_event can list a series'
changed and cancelled occurrences (``include_exceptions``, Graph beta), and update_event / delete_event take
a ``scope``: ``occurrence``, ``this_and_following`` (the series ends the day before that occurrence and, for
an update, a new series starts there with the change: the result names both) or ``series``.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated, Any, Literal
from urllib.parse import quote

from pydantic import Field

from .. import timezones as tz
from .. import views
from ..calendar import InputError, Services
from ..calendar.bodies import RRULE_HELP, AttendeeInput, attendees_body, locations_body, recurrence_body, times_body
from ..calendar.targets import Target, calendar_path, explain_access, target, zone_for
from ..calendar.times import default_window, parse_time, window
from ..views import Compact, Event, SeriesExceptions, SeriesSplit
from .common import (
    READ_ONLY,
    CalendarId,
    DetailArg,
    EventRef,
    GroupId,
    Mailbox,
    MaxResults,
    Time,
    TimeZoneArg,
    Toolbox,
    tool,
    writes,
)
from .policy import Policy

ShowAs = Literal["free", "tentative", "busy", "oof", "workingElsewhere"]
Sensitivity = Literal["normal", "personal", "private", "confidential"]
Importance = Literal["low", "normal", "high"]
Repeat = Annotated[str, Field(description=f"RFC 5545 RRULE, {RRULE_HELP}")]
StrictBool = Annotated[bool, Field(strict=True)]  # "yes" must not pass for true
Attendees = Annotated[list[AttendeeInput] | None, Field(description="People and rooms to invite")]
Reminder = Annotated[int | None, Field(ge=-1, le=40320, strict=True,
                                       description="Minutes before start; -1 turns the reminder off")]
Scope = Literal["occurrence", "this_and_following", "series"]
# this_and_following ends the series the day before and (for a change) starts a new one there
ScopeArg = Annotated[Scope | None, Field(description="Series only; this_and_following splits it. Default: as given")]
SERIES_FIELDS = ("subject", "body", "location", "locations", "categories", "showAs", "sensitivity", "importance",
                 "isOnlineMeeting", "isReminderOn", "reminderMinutesBeforeStart", "responseRequested",
                 "allowNewTimeProposals", "hideAttendees")


class EventList(Compact):
    time_zone: str
    events: list[Event]
    more: bool | None = None


class EventResult(Compact):
    time_zone: str
    event: Event
    notified: list[str] | None = None
    exceptions: SeriesExceptions | None = Field(None, description="A series' changed and cancelled occurrences")
    series_split: SeriesSplit | None = None
    conflicts: list[Event] | None = None  # busy events the new time overlaps (created anyway: a warning)
    note: str | None = None


class Deleted(Compact):
    deleted: str
    subject: str | None = None
    notified: list[str] | None = None
    series_ends_on: str | None = Field(None, description="this_and_following: the series' new last day")
    note: str | None = None


def _blocks(event: dict[str, Any]) -> bool:
    """An event that makes its time busy (not free, not cancelled)."""
    return event.get("showAs") not in ("free", None) and not event.get("isCancelled")


def _same_time(event: dict[str, Any], body: dict[str, Any]) -> bool:
    try:
        return all(tz.from_graph(event[k], k).astimezone(dt.UTC)
                   == tz.from_graph(body[k], k).astimezone(dt.UTC) for k in ("start", "end"))
    except (KeyError, ValueError):
        return False


def _others(doc: dict[str, Any], me: str | None = None) -> list[str]:
    """Addresses an organizer's change reaches (everyone invited)."""
    return [a["emailAddress"]["address"] for a in doc.get("attendees") or [] if a.get("emailAddress", {}).get("address")]


def _q(value: str) -> str:
    return quote(value, safe="")


def register(box: Toolbox, svc: Services, enabled: Policy | None = None) -> None:
    """Add this module's tools to ``box``."""
    g = svc.graph

    def ev_path(t: Target, event_id: str) -> str:
        return f"{t.base}/events/{_q(event_id)}"

    @tool(box, READ_ONLY, enabled=enabled, name="calendar_view")
    async def calendar_view(
        start: Annotated[str | None, Field(description="ISO 8601; default: today 00:00 in the mailbox's zone")] = None,
        end: Annotated[str | None, Field(description="ISO 8601; default: 7 days after start")] = None,
        mailbox: Mailbox = None, calendar_id: CalendarId = None, group_id: GroupId = None,
        time_zone: TimeZoneArg = None, max_results: MaxResults = 200, detail: DetailArg = "compact",
    ) -> EventList:
        """Use to see what is on a calendar between two times (occurrences of series included). Returns events in local time, sorted by start."""
        t = await target(svc, mailbox, group_id)
        zone_name, zone = await zone_for(svc, t, time_zone)
        start, end = default_window(svc.clock, zone, start, end, days=7)
        window_start, window_end = window(start, end, zone)
        with explain_access(t, writing=False):
            page = await g.get_all(f"{calendar_path(svc, t, calendar_id)}/calendarView",
                                   params={"startDateTime": window_start, "endDateTime": window_end,
                                           "$orderby": "start/dateTime"},
                                   prefer=svc.prefer(zone_name), max_items=max_results)
        return EventList(time_zone=tz.iana_name(zone_name), more=page.more or None,
                         events=[views.event_view(d, zone, svc.handles, detail) for d in page.items])

    @tool(box, READ_ONLY, enabled=enabled, name="list_events")
    async def list_events(
        mailbox: Mailbox = None, calendar_id: CalendarId = None, group_id: GroupId = None,
        subject_contains: Annotated[str | None, Field(description="Only events whose subject contains this")] = None,
        filter: Annotated[str | None, Field(description="OData $filter, e.g. start/dateTime ge '2026-11-01T00:00:00'")] = None,
        time_zone: TimeZoneArg = None, max_results: MaxResults = 50, detail: DetailArg = "compact",
    ) -> EventList:
        """Use to find single events and series masters (not occurrences), say by subject. Returns events newest first."""
        t = await target(svc, mailbox, group_id)
        zone_name, zone = await zone_for(svc, t, time_zone)
        clauses = []
        if subject_contains:
            clauses.append(f"contains(subject,'{subject_contains.replace(chr(39), chr(39) * 2)}')")
        if filter:
            clauses.append(f"({filter})")
        params = {"$orderby": "start/dateTime desc"}
        if clauses:
            params["$filter"] = " and ".join(clauses)
        base = calendar_path(svc, t, calendar_id) if calendar_id else t.base
        with explain_access(t, writing=False):
            page = await g.get_all(f"{base}/events", params=params, prefer=svc.prefer(zone_name),
                                   max_items=max_results)
        return EventList(time_zone=tz.iana_name(zone_name), more=page.more or None,
                         events=[views.event_view(d, zone, svc.handles, detail) for d in page.items])

    async def exceptions_of(t: Target, master_id: str) -> dict[str, Any]:
        """The series master with exceptionOccurrences and cancelledOccurrences (Graph beta)."""
        with explain_access(t, writing=False):
            return await g.get(ev_path(t, master_id), beta=True, params={
                "$select": "subject,start,end,isAllDay,occurrenceId,cancelledOccurrences,exceptionOccurrences",
                "$expand": "exceptionOccurrences"})

    @tool(box, READ_ONLY, enabled=enabled, name="get_event")
    async def get_event(
        event: EventRef, mailbox: Mailbox = None, group_id: GroupId = None, time_zone: TimeZoneArg = None,
        detail: DetailArg = "full",
        include_exceptions: Annotated[bool, Field(strict=True, description=(
            "For a recurring event: also list the series' changed occurrences (with their original dates) and "
            "cancelled ones"))] = False,
    ) -> EventResult:
        """Use to read one event in full: body, attendees' responses, recurrence, a series' exceptions. Returns the event."""
        t = await target(svc, mailbox, group_id)
        zone_name, zone = await zone_for(svc, t, time_zone)
        with explain_access(t, writing=False):
            doc = await g.get(ev_path(t, svc.event_id(event)), prefer=svc.prefer(zone_name))
        exceptions = None
        if include_exceptions:
            master_id = doc["id"] if doc.get("type") == "seriesMaster" else doc.get("seriesMasterId")
            if not master_id:
                raise InputError(f"include_exceptions: {event} is a single event, not part of a recurring series; "
                                 "leave include_exceptions out.")
            # Graph beta, times in UTC: the view shows them in the local zone.
            exceptions = views.series_exceptions(await exceptions_of(t, master_id), zone, svc.handles)
        return EventResult(time_zone=tz.iana_name(zone_name), event=views.event_view(doc, zone, svc.handles, detail),
                           exceptions=exceptions)

    @tool(box, READ_ONLY, enabled=enabled, name="list_event_instances")
    async def list_event_instances(event: EventRef, start: Time, end: Time, mailbox: Mailbox = None,
                                   group_id: GroupId = None, time_zone: TimeZoneArg = None,
                                   max_results: MaxResults = 200) -> EventList:
        """Use to list the occurrences of one recurring series in a window. Returns occurrences and exceptions."""
        t = await target(svc, mailbox, group_id)
        zone_name, zone = await zone_for(svc, t, time_zone)
        window_start, window_end = window(start, end, zone)
        with explain_access(t, writing=False):
            page = await g.get_all(f"{ev_path(t, svc.event_id(event))}/instances",
                                   params={"startDateTime": window_start, "endDateTime": window_end},
                                   prefer=svc.prefer(zone_name), max_items=max_results)
        return EventList(time_zone=tz.iana_name(zone_name), more=page.more or None,
                         events=[views.event_view(d, zone, svc.handles) for d in page.items])

    def fields(body: dict[str, Any], *, subject=None, description=None, location=None, locations=None,
               attendees=None, online_meeting=None, reminder_minutes=None, show_as=None, sensitivity=None,
               importance=None, categories=None) -> None:
        if subject is not None:
            body["subject"] = subject
        if description is not None:
            body["body"] = {"contentType": "text", "content": description}
        body.update(locations_body(location, locations))
        if attendees is not None:
            body["attendees"] = attendees_body(attendees)
        if online_meeting is not None:
            body["isOnlineMeeting"] = online_meeting
        if reminder_minutes is not None:
            body["isReminderOn"] = reminder_minutes >= 0
            if reminder_minutes >= 0:
                body["reminderMinutesBeforeStart"] = reminder_minutes
        for key, value in (("showAs", show_as), ("sensitivity", sensitivity), ("importance", importance),
                           ("categories", categories)):
            if value is not None:
                body[key] = value

    @tool(box, writes(destructive=False, idempotent=False, reaches_others=True), enabled=enabled, name="create_event")
    async def create_event(
        subject: Annotated[str, Field(min_length=1, description="Title")],
        start: Time,
        end: Annotated[str | None, Field(description="ISO 8601; for all-day, the day after the last day")] = None,
        all_day: StrictBool = False, time_zone: TimeZoneArg = None,
        description: Annotated[str | None, Field(description="Body text")] = None,
        location: str | None = None,
        locations: Annotated[list[str] | None, Field(description="Several locations")] = None,
        attendees: Attendees = None, recurrence: Repeat | None = None,
        online_meeting: Annotated[bool | None, Field(strict=True, description="Add a Teams meeting link")] = None,
        reminder_minutes: Reminder = None, show_as: ShowAs | None = None, sensitivity: Sensitivity | None = None,
        importance: Importance | None = None, categories: list[str] | None = None,
        mailbox: Mailbox = None, calendar_id: CalendarId = None, group_id: GroupId = None,
        allow_duplicate: Annotated[bool, Field(strict=True)] = False,  # same subject and time as an existing one
    ) -> EventResult:
        """Use to add an event or send a meeting invitation (attendees are notified). Returns the created event and any conflicts."""
        t = await target(svc, mailbox, group_id)
        zone_name, zone = await zone_for(svc, t, time_zone)
        body: dict[str, Any] = times_body(start, end, all_day, zone_name, zone)
        base = calendar_path(svc, t, calendar_id) if calendar_id else (t.base if t.group else f"{t.base}/calendar")
        with explain_access(t, writing=True):  # creating needs write access; the check below reads first
            overlapping = await overlaps(base, body, zone_name)
        same = [e for e in overlapping if (e.get("subject") or "").strip().lower() == subject.strip().lower()
                and _same_time(e, body)]
        if same and not allow_duplicate:
            raise InputError(f"subject: '{same[0].get('subject')}' already exists at that time "
                             f"({views.event_view(same[0], zone, svc.handles).handle}); update that event, or pass "
                             "allow_duplicate=true to create a second one.")
        fields(body, subject=subject, description=description, location=location, locations=locations,
               attendees=attendees, online_meeting=online_meeting, reminder_minutes=reminder_minutes,
               show_as=show_as, sensitivity=sensitivity, importance=importance, categories=categories)
        if recurrence is not None:
            first = tz.parse_graph_datetime(body["start"]["dateTime"]).date()
            body["recurrence"] = recurrence_body(recurrence, first, zone_name)
        body["transactionId"] = str(uuid.uuid4())  # a retried POST must not create the event twice
        with explain_access(t, writing=True):
            doc = await g.post(f"{base}/events", json=body, prefer=svc.prefer(zone_name), retry_post=True)
        busy = [views.event_view(e, zone, svc.handles) for e in overlapping if _blocks(e) and body.get("showAs") != "free"]
        return EventResult(time_zone=tz.iana_name(zone_name), event=views.event_view(doc, zone, svc.handles),
                           notified=_others(doc) or None, conflicts=busy or None)

    async def overlaps(base: str, body: dict[str, Any], zone_name: str, exclude: str | None = None) -> list[dict]:
        """Events of the calendar at ``base`` overlapping the body's start-end (all of them, busy or not)."""
        begin, finish = (tz.from_graph(body[k], k).astimezone(dt.UTC) for k in ("start", "end"))
        page = await g.get_all(f"{base}/calendarView", params={
            "startDateTime": begin.strftime("%Y-%m-%dT%H:%M:%SZ"), "endDateTime": finish.strftime("%Y-%m-%dT%H:%M:%SZ")},
            prefer=svc.prefer(zone_name), max_items=50)
        return [e for e in page.items if e.get("id") != exclude and not e.get("isCancelled")]

    async def time_changes(path: str, start: str | None, end: str | None, all_day: bool | None, zone_name: str,
                           zone: Any) -> dict[str, Any]:
        """start/end/isAllDay for a PATCH of the event at ``path``: what is not given is kept."""
        if start is None and end is None and all_day is None:
            return {}
        current = await g.get(path, params={"$select": "start,end,isAllDay"}, prefer=svc.prefer(zone_name))
        is_all_day = current.get("isAllDay") if all_day is None else all_day
        cur_start, cur_end = (tz.from_graph(current[k], k) for k in ("start", "end"))
        new_start = start or (cur_start.date().isoformat() if is_all_day else cur_start.isoformat())
        keep = None if start is None or end is not None else (cur_end - cur_start)
        if end is not None or keep is not None:
            new_end = end
        elif is_all_day:
            # Becoming (or staying) all-day: end on the day after the last day touched, at least a day.
            last = cur_end.date() if cur_end.time() == dt.time(0) else cur_end.date() + dt.timedelta(days=1)
            first = parse_time(new_start, zone, "start").date()
            new_end = max(last, first + dt.timedelta(days=1)).isoformat()
        else:
            new_end = cur_end.isoformat()
        return times_body(new_start, new_end, bool(is_all_day), zone_name, zone, duration_default=keep)

    async def recurrence_change(path: str, body: dict[str, Any], recurrence: Repeat | None,
                                zone_name: str) -> None:
        if recurrence is None:
            return
        first = tz.parse_graph_datetime(body["start"]["dateTime"]).date() if "start" in body else None
        if first is None:
            current = await g.get(path, params={"$select": "start"}, prefer=svc.prefer(zone_name))
            first = tz.parse_graph_datetime(current["start"]["dateTime"]).date()
        body["recurrence"] = recurrence_body(recurrence, first, zone_name)

    async def series_info(t: Target, event_id: str, event: str, scope: str, zone_name: str,
                          etag: str | None) -> dict[str, Any]:
        """type, seriesMasterId, start, end of the event; checks that ``scope`` fits it."""
        with explain_access(t, writing=False):
            info = await g.get(ev_path(t, event_id), prefer=svc.prefer(zone_name),
                               params={"$select": "type,seriesMasterId,start,end,isAllDay,subject,attendees,"
                                                  "isOrganizer"})
        kind = info.get("type") or "singleInstance"
        if scope == "occurrence" and kind not in ("occurrence", "exception"):
            what = "a whole series" if kind == "seriesMaster" else "a single event"
            raise InputError(f"scope: 'occurrence' needs one occurrence of a series, but {event} is {what}; get an "
                             "occurrence's handle from list_event_instances or calendar_view, or leave scope out.")
        if scope in ("series", "this_and_following") and kind == "singleInstance":
            raise InputError(f"scope: {event} is a single event, not part of a recurring series; leave scope out.")
        if etag and kind != "seriesMaster" and scope != "occurrence" and info.get("@odata.etag") != etag:
            raise InputError(f"etag: {event} changed since that etag was read; get_event again and retry with its "
                             "current etag.")
        return info

    def original_date(info: dict[str, Any], master: dict[str, Any], exceptions: dict[str, Any]) -> dt.date:
        """The date an occurrence had in its series (an exception may have been moved since), in the series' zone."""
        for e in exceptions.get("exceptionOccurrences") or []:
            if e.get("id") == info.get("id") and views.occurrence_date(e.get("occurrenceId")):
                return dt.date.fromisoformat(views.occurrence_date(e["occurrenceId"]))
        if info.get("isAllDay"):
            return tz.parse_graph_datetime(info["start"]["dateTime"]).date()
        rec_zone = tz.resolve(series_zone(master))
        return tz.from_graph(info["start"], "start").astimezone(rec_zone).date()

    def series_zone(master: dict[str, Any]) -> str:
        rng = (master.get("recurrence") or {}).get("range") or {}
        return rng.get("recurrenceTimeZone") or (master.get("start") or {}).get("timeZone") or "UTC"

    async def end_series(t: Target, master: dict[str, Any], last_day: dt.date) -> dict[str, Any]:
        rec = master["recurrence"]
        rng = {"type": "endDate", "startDate": rec["range"]["startDate"], "endDate": last_day.isoformat(),
               "recurrenceTimeZone": series_zone(master)}
        with explain_access(t, writing=True):
            return await g.patch(ev_path(t, master["id"]), json={"recurrence": {"pattern": rec["pattern"],
                                                                                 "range": rng}})

    async def update_series(t: Target, info: dict[str, Any], body: dict[str, Any], start: str | None,
                            end: str | None, all_day: bool | None, recurrence: Repeat | None,
                            zone_name: str, zone: Any, event: str) -> dict[str, Any]:
        """PATCH the master of ``info``'s series; times given for an occurrence move every occurrence alike."""
        master_path = ev_path(t, info["seriesMasterId"])
        if start is not None or end is not None or all_day is not None:
            if all_day is not None:
                raise InputError("all_day: to change whether a whole series is all-day, pass the series handle "
                                 f"(from get_event on {event}: its 'series') without scope.")
            occ_start, occ_end = (tz.from_graph(info[k], k) for k in ("start", "end"))
            new_start = parse_time(start, zone, "start") if start else occ_start
            if new_start.date() != occ_start.date():
                raise InputError(f"start: with scope 'series' give a time on the occurrence's own day "
                                 f"({occ_start.date()}); to move the series to other days, change its recurrence "
                                 "(days_of_week).")
            new_end = parse_time(end, zone, "end") if end else new_start + (occ_end - occ_start)
            master = await g.get(master_path, params={"$select": "start,end"}, prefer=svc.prefer(zone_name))
            m_day = tz.from_graph(master["start"], "start").date()
            first = dt.datetime.combine(m_day, new_start.time())
            last = first + (new_end - new_start)
            body.update(times_body(first.isoformat(), last.isoformat(), False, zone_name, zone))
        await recurrence_change(master_path, body, recurrence, zone_name)
        if not body:
            raise InputError("Nothing to change: give at least one field to update (subject, start, end, ...).")
        with explain_access(t, writing=True):
            return await g.patch(master_path, json=body, prefer=svc.prefer(zone_name))

    async def split_series(t: Target, info: dict[str, Any], changes: dict[str, Any], start: str | None,
                           end: str | None, all_day: bool | None, recurrence: Repeat | None,
                           zone_name: str, zone: Any, event: str) -> EventResult:
        """'This and following': end the series the day before the occurrence, start a new one there."""
        master_path = ev_path(t, info["seriesMasterId"])
        with explain_access(t, writing=False):
            master = await g.get(master_path, prefer=svc.prefer(zone_name))
        extra = await exceptions_of(t, master["id"])
        day = original_date(info, master, extra)
        rng = master["recurrence"]["range"]
        first_day = dt.date.fromisoformat(rng["startDate"])
        if day <= first_day:
            doc = await update_series(t, info, changes, start, end, all_day, recurrence, zone_name, zone, event)
            return EventResult(time_zone=tz.iana_name(zone_name), event=views.event_view(doc, zone, svc.handles),
                               notified=(_others(doc) if doc.get("isOrganizer") else None) or None,
                               note="That is the series' first occurrence: the whole series was changed.")
        rec_zone_name = series_zone(master)
        rec_zone = tz.resolve(rec_zone_name)
        m_start, m_end = (tz.from_graph(master[k], k) for k in ("start", "end"))
        all_day_now = bool(master.get("isAllDay")) if all_day is None else all_day
        body: dict[str, Any] = {k: master[k] for k in SERIES_FIELDS if k in master}
        body["attendees"] = [{"emailAddress": a["emailAddress"], "type": a.get("type") or "required"}
                             for a in master.get("attendees") or []]
        body.update(changes)
        if all_day_now:
            days = max((m_end.date() - m_start.date()).days, 1)
            new_first = parse_time(start, zone, "start").date() if start else day
            last = parse_time(end, zone, "end").date() if end else new_first + dt.timedelta(days=days)
            body.update(times_body(new_first.isoformat(), last.isoformat(), True, zone_name, zone))
        else:
            default = tz.to_utc(dt.datetime.combine(day, m_start.astimezone(rec_zone).time()), rec_zone)
            new_start = parse_time(start, zone, "start") if start else default.astimezone(zone)
            new_end = parse_time(end, zone, "end") if end else new_start + (m_end - m_start)
            body.update(times_body(new_start.isoformat(), new_end.isoformat(), False, zone_name, zone))
            new_first = new_start.astimezone(rec_zone).date()
        if recurrence is not None:
            body["recurrence"] = recurrence_body(recurrence, new_first, rec_zone_name)
        else:
            pattern = dict(master["recurrence"]["pattern"])
            if new_first != day:
                if pattern.get("type") != "weekly":
                    raise InputError(f"start: moving this and the following occurrences from {day} to another day "
                                     "needs their new rule too: give recurrence.")
                shift = (new_first.weekday() - day.weekday()) % 7
                order = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]
                pattern["daysOfWeek"] = [order[(order.index(d) + shift) % 7] for d in pattern.get("daysOfWeek") or []]
            new_range: dict[str, Any] = {"type": rng["type"], "startDate": new_first.isoformat(),
                                         "recurrenceTimeZone": rec_zone_name}
            if rng["type"] == "endDate":
                new_range["endDate"] = rng["endDate"]
            elif rng["type"] == "numbered":
                new_range["numberOfOccurrences"] = max(1, rng["numberOfOccurrences"] - await count_before(
                    t, master, extra, day, rec_zone))
            body["recurrence"] = {"pattern": pattern, "range": new_range}
        body["transactionId"] = str(uuid.uuid4())
        if t.group:
            create_path = f"{t.base}/events"
        else:
            with explain_access(t, writing=False):
                calendar = await g.get(f"{master_path}/calendar", params={"$select": "id"})
            create_path = f"{t.base}/calendars/{_q(calendar['id'])}/events"
        with explain_access(t, writing=True):
            new = await g.post(create_path, json=body, prefer=svc.prefer(zone_name), retry_post=True)
        try:
            await end_series(t, master, day - dt.timedelta(days=1))
        except Exception:
            await g.delete(ev_path(t, new["id"]))      # leave the calendar as it was
            raise
        later = [d for d in views.series_exceptions(extra, zone, svc.handles).cancelled_dates if d >= day.isoformat()]
        for cancelled in later:        # occurrences deleted from the old series stay deleted in the new one
            await cancel_on(t, new, dt.date.fromisoformat(cancelled), rec_zone)
        dropped = sum(1 for e in extra.get("exceptionOccurrences") or []
                      if (views.occurrence_date(e.get("occurrenceId")) or "") >= day.isoformat())
        old_handle = svc.handles.handle("event", master["id"])
        new_handle = svc.handles.handle("event", new["id"])
        split = SeriesSplit(ended_series=old_handle, ends_on=(day - dt.timedelta(days=1)).isoformat(),
                            new_series=new_handle, starts_on=new_first.isoformat(),
                            changed_occurrences_dropped=dropped or None)
        note = (f"Series {old_handle} now ends on {split.ends_on}; the new series {new_handle} starts on "
                f"{split.starts_on} with your changes.")
        return EventResult(time_zone=tz.iana_name(zone_name), event=views.event_view(new, zone, svc.handles),
                           notified=_others(new) or None, series_split=split, note=note)

    async def count_before(t: Target, master: dict[str, Any], extra: dict[str, Any], day: dt.date,
                           rec_zone: Any) -> int:
        """Occurrences of a numbered series before ``day`` (cancelled ones count, as the series counts them)."""
        first = dt.date.fromisoformat(master["recurrence"]["range"]["startDate"])
        begin = tz.to_utc(dt.datetime.combine(first, dt.time()), rec_zone)
        until = tz.to_utc(dt.datetime.combine(day, dt.time()), rec_zone)
        page = await g.get_all(f"{ev_path(t, master['id'])}/instances", max_items=1000, params={
            "startDateTime": begin.strftime("%Y-%m-%dT%H:%M:%SZ"), "endDateTime": until.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "$select": "start"})
        cancelled = [d for d in views.series_exceptions(extra, rec_zone, svc.handles).cancelled_dates
                     if d < day.isoformat()]
        return len(page.items) + len(cancelled)

    async def cancel_on(t: Target, series: dict[str, Any], day: dt.date, rec_zone: Any) -> None:
        begin = tz.to_utc(dt.datetime.combine(day, dt.time()), rec_zone)
        page = await g.get_all(f"{ev_path(t, series['id'])}/instances", params={
            "startDateTime": begin.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "endDateTime": (begin + dt.timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ"), "$select": "start"})
        for occurrence in page.items:
            await g.delete(ev_path(t, occurrence["id"]))

    @tool(box, writes(destructive=False, idempotent=True, reaches_others=True), enabled=enabled, name="update_event")
    async def update_event(
        event: EventRef, subject: str | None = None, start: Time | None = None, end: Time | None = None,
        all_day: StrictBool | None = None, time_zone: TimeZoneArg = None, description: str | None = None,
        location: str | None = None, locations: list[str] | None = None, attendees: Attendees = None,
        recurrence: Repeat | None = None, online_meeting: StrictBool | None = None,
        reminder_minutes: Reminder = None, show_as: ShowAs | None = None, sensitivity: Sensitivity | None = None,
        importance: Importance | None = None, categories: list[str] | None = None,
        etag: Annotated[str | None, Field(description="Fail if the event changed since this etag (from get_event)")] = None,
        scope: ScopeArg = None, mailbox: Mailbox = None, group_id: GroupId = None,
    ) -> EventResult:
        """Use to change an event, an occurrence or a series (only the fields given; attendees are told). Returns the updated event."""
        t = await target(svc, mailbox, group_id)
        zone_name, zone = await zone_for(svc, t, time_zone)
        event_id = svc.event_id(event)
        path = ev_path(t, event_id)
        changes: dict[str, Any] = {}
        fields(changes, subject=subject, description=description, location=location, locations=locations,
               attendees=attendees, online_meeting=online_meeting, reminder_minutes=reminder_minutes,
               show_as=show_as, sensitivity=sensitivity, importance=importance, categories=categories)
        if not changes and start is None and end is None and all_day is None and recurrence is None:
            raise InputError("Nothing to change: give at least one field to update (subject, start, end, ...).")
        if scope is not None:
            info = await series_info(t, event_id, event, scope, zone_name, etag)
            kind = info.get("type")
            if recurrence is not None and scope == "occurrence":
                raise InputError("recurrence: one occurrence has no recurrence of its own; use scope "
                                 "'this_and_following' or 'series' to change the rule.")
            if scope == "this_and_following" and kind != "seriesMaster":
                return await split_series(t, info, changes, start, end, all_day, recurrence, zone_name, zone, event)
            if scope in ("series", "this_and_following") and kind != "seriesMaster":
                doc = await update_series(t, info, changes, start, end, all_day, recurrence, zone_name, zone, event)
                notified = _others(doc) if doc.get("isOrganizer") else None
                return EventResult(time_zone=tz.iana_name(zone_name), event=views.event_view(doc, zone, svc.handles),
                                   notified=notified or None)
        body = dict(changes)
        with explain_access(t, writing=True):
            body.update(await time_changes(path, start, end, all_day, zone_name, zone))
            await recurrence_change(path, body, recurrence, zone_name)
            doc = await g.patch(path, json=body, if_match=etag, prefer=svc.prefer(zone_name))
        notified = _others(doc) if doc.get("isOrganizer") else None
        busy = None
        if "start" in body and _blocks(doc) and not doc.get("recurrence"):  # moved: warn about what it now overlaps
            base = f"{t.base}/calendar" if not t.group else t.base
            with explain_access(t, writing=False):
                clashes = await overlaps(base, doc, zone_name, exclude=doc.get("id"))
            busy = [views.event_view(e, zone, svc.handles) for e in clashes if _blocks(e)] or None
        return EventResult(time_zone=tz.iana_name(zone_name), event=views.event_view(doc, zone, svc.handles),
                           notified=notified or None, conflicts=busy)

    @tool(box, writes(destructive=True, idempotent=True, reaches_others=True), enabled=enabled, name="delete_event")
    async def delete_event(event: EventRef, mailbox: Mailbox = None,
                           etag: Annotated[str | None, Field(description="Fail if the event changed since this etag")] = None,
                           scope: ScopeArg = None, group_id: GroupId = None) -> Deleted:
        """Use to delete an event, an occurrence or a series (attendees of your meetings are told). Returns what was deleted."""
        t = await target(svc, mailbox, group_id)
        event_id = svc.event_id(event)
        path = ev_path(t, event_id)
        if scope is None:
            with explain_access(t, writing=False):
                doc = await g.get(path, params={"$select": "subject,attendees,isOrganizer"})
            with explain_access(t, writing=True):
                await g.delete(path, if_match=etag)
            notified = _others(doc) if doc.get("isOrganizer") else None
            return Deleted(deleted=svc.handles.handle("event", event_id), subject=doc.get("subject"),
                           notified=notified or None)
        zone_name, _ = await zone_for(svc, t, None)
        info = await series_info(t, event_id, event, scope, zone_name, etag)
        kind = info.get("type")
        if scope == "occurrence" or kind == "seriesMaster":
            with explain_access(t, writing=True):
                await g.delete(path, if_match=etag if kind == "seriesMaster" or scope == "occurrence" else None)
            notified = _others(info) if info.get("isOrganizer") else None
            return Deleted(deleted=svc.handles.handle("event", event_id), subject=info.get("subject"),
                           notified=notified or None)
        master_path = ev_path(t, info["seriesMasterId"])
        with explain_access(t, writing=False):
            master = await g.get(master_path, prefer=svc.prefer(zone_name),
                                 params={"$select": "subject,start,end,isAllDay,recurrence,attendees,isOrganizer"})
        notified = (_others(master) if master.get("isOrganizer") else None) or None
        day = original_date(info, master, await exceptions_of(t, master["id"])) \
            if scope == "this_and_following" else None
        if scope == "series" or day <= dt.date.fromisoformat(master["recurrence"]["range"]["startDate"]):
            with explain_access(t, writing=True):
                await g.delete(master_path)
            return Deleted(deleted=svc.handles.handle("event", master["id"]), subject=master.get("subject"),
                           notified=notified,
                           note=None if scope == "series" else "That is the series' first occurrence: the whole "
                                                               "series was deleted.")
        last = day - dt.timedelta(days=1)
        await end_series(t, master, last)
        return Deleted(deleted=svc.handles.handle("event", event_id), subject=master.get("subject"),
                       notified=notified, series_ends_on=last.isoformat(),
                       note=f"Deleted this and the following occurrences: the series "
                            f"{svc.handles.handle('event', master['id'])} now ends on {last.isoformat()}.")
