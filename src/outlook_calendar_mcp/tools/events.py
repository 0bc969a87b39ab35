"""Event tools: calendar_view, list_events, get_event, create/update/delete_event, list_event_instances."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated, Any, Literal
from urllib.parse import quote

from mcp.server.mcpserver import MCPServer
from pydantic import Field

from .. import timezones as tz
from .. import views
from ..views import Compact, Event
from .common import (READ_ONLY, CalendarId, DetailArg, EventRef, InputError, Mailbox, MaxResults, Services, Time,
                     TimeZoneArg, tool, writes)
from .event_input import AttendeeInput, RecurrenceInput, attendees_body, locations_body, recurrence_body, times_body

ShowAs = Literal["free", "tentative", "busy", "oof", "workingElsewhere"]
Sensitivity = Literal["normal", "personal", "private", "confidential"]
Importance = Literal["low", "normal", "high"]
StrictBool = Annotated[bool, Field(strict=True)]  # "yes" must not pass for true
Attendees = Annotated[list[AttendeeInput] | None, Field(description="People and rooms to invite")]
Reminder = Annotated[int | None, Field(ge=-1, le=40320, strict=True,
                                       description="Minutes before start; -1 turns the reminder off")]


class EventList(Compact):
    time_zone: str
    events: list[Event]
    more: bool | None = None


class EventResult(Compact):
    time_zone: str
    event: Event
    notified: list[str] | None = None


class Deleted(Compact):
    deleted: str
    subject: str | None = None
    notified: list[str] | None = None


def _window(start: str, end: str, zone) -> tuple[str, str]:
    begin = tz.parse_user_time(start, zone, label="start")
    finish = tz.parse_user_time(end, zone, label="end")
    if finish <= begin:
        raise InputError(f"end: {end} is not after start {start}; give a window whose end is later than its start.")
    return tz.to_utc(begin, zone).strftime("%Y-%m-%dT%H:%M:%SZ"), tz.to_utc(finish, zone).strftime("%Y-%m-%dT%H:%M:%SZ")


def _others(doc: dict[str, Any], me: str | None = None) -> list[str]:
    """Addresses an organizer's change reaches (everyone invited)."""
    return [a["emailAddress"]["address"] for a in doc.get("attendees") or [] if a.get("emailAddress", {}).get("address")]


def register(server: MCPServer, svc: Services, enabled=None) -> None:
    g = svc.graph

    def ev_path(mailbox: str | None, event: str) -> str:
        return f"{svc.mb(mailbox)}/events/{quote(svc.event_id(event), safe='')}"

    @tool(server, READ_ONLY, enabled=enabled)
    async def calendar_view(
        start: Annotated[str | None, Field(description="ISO 8601; default: today 00:00 in the mailbox's zone")] = None,
        end: Annotated[str | None, Field(description="ISO 8601; default: 7 days after start")] = None,
        mailbox: Mailbox = None, calendar_id: CalendarId = None,
        time_zone: TimeZoneArg = None, max_results: MaxResults = 200, detail: DetailArg = "compact",
    ) -> EventList:
        """Use to see what is on a calendar between two times (occurrences of series included). Returns events in local time, sorted by start."""
        zone_name, zone = await svc.zone(mailbox, time_zone)
        if start is None:
            start = tz.now(zone).date().isoformat()
        if end is None:
            end = (tz.parse_user_time(start, zone, label="start") + dt.timedelta(days=7)).isoformat()
        window_start, window_end = _window(start, end, zone)
        base = svc.events_path(mailbox, calendar_id)
        path = f"{base}/calendarView" if calendar_id else f"{base}/calendar/calendarView"
        page = await g.get_all(path, params={"startDateTime": window_start, "endDateTime": window_end,
                                             "$orderby": "start/dateTime"},
                               prefer=svc.prefer(zone_name), max_items=max_results)
        return EventList(time_zone=tz.iana_name(zone_name), more=page.more or None,
                         events=[views.event_view(d, zone, svc.handles, detail) for d in page.items])

    @tool(server, READ_ONLY, enabled=enabled)
    async def list_events(
        mailbox: Mailbox = None, calendar_id: CalendarId = None,
        subject_contains: Annotated[str | None, Field(description="Only events whose subject contains this")] = None,
        filter: Annotated[str | None, Field(description="OData $filter, e.g. start/dateTime ge '2026-11-01T00:00:00'")] = None,
        time_zone: TimeZoneArg = None, max_results: MaxResults = 50, detail: DetailArg = "compact",
    ) -> EventList:
        """Use to find single events and recurring series (masters, not occurrences), e.g. by subject. Returns events newest first."""
        zone_name, zone = await svc.zone(mailbox, time_zone)
        clauses = []
        if subject_contains:
            clauses.append(f"contains(subject,'{subject_contains.replace(chr(39), chr(39) * 2)}')")
        if filter:
            clauses.append(f"({filter})")
        params = {"$orderby": "start/dateTime desc"}
        if clauses:
            params["$filter"] = " and ".join(clauses)
        base = svc.events_path(mailbox, calendar_id)
        page = await g.get_all(f"{base}/events", params=params,
                               prefer=svc.prefer(zone_name), max_items=max_results)
        return EventList(time_zone=tz.iana_name(zone_name), more=page.more or None,
                         events=[views.event_view(d, zone, svc.handles, detail) for d in page.items])

    @tool(server, READ_ONLY, enabled=enabled)
    async def get_event(event: EventRef, mailbox: Mailbox = None, time_zone: TimeZoneArg = None,
                        detail: DetailArg = "full") -> EventResult:
        """Use to read one event in full: body, attendees and their responses, recurrence. Returns the event."""
        zone_name, zone = await svc.zone(mailbox, time_zone)
        doc = await g.get(ev_path(mailbox, event), prefer=svc.prefer(zone_name))
        return EventResult(time_zone=tz.iana_name(zone_name), event=views.event_view(doc, zone, svc.handles, detail))

    @tool(server, READ_ONLY, enabled=enabled)
    async def list_event_instances(event: EventRef, start: Time, end: Time, mailbox: Mailbox = None,
                                   time_zone: TimeZoneArg = None, max_results: MaxResults = 200) -> EventList:
        """Use to list the occurrences of one recurring series in a window. Returns occurrences and exceptions."""
        zone_name, zone = await svc.zone(mailbox, time_zone)
        window_start, window_end = _window(start, end, zone)
        page = await g.get_all(f"{ev_path(mailbox, event)}/instances",
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

    @tool(server, writes(destructive=False, idempotent=False, reaches_others=True), enabled=enabled)
    async def create_event(
        subject: Annotated[str, Field(min_length=1, description="Title")],
        start: Time,
        end: Annotated[str | None, Field(description="ISO 8601; for all-day, the day after the last day")] = None,
        all_day: StrictBool = False, time_zone: TimeZoneArg = None,
        description: Annotated[str | None, Field(description="Body text")] = None,
        location: str | None = None,
        locations: Annotated[list[str] | None, Field(description="Several locations")] = None,
        attendees: Attendees = None, recurrence: RecurrenceInput | None = None,
        online_meeting: Annotated[bool | None, Field(strict=True, description="Add a Teams meeting link")] = None,
        reminder_minutes: Reminder = None, show_as: ShowAs | None = None, sensitivity: Sensitivity | None = None,
        importance: Importance | None = None, categories: list[str] | None = None,
        mailbox: Mailbox = None, calendar_id: CalendarId = None,
    ) -> EventResult:
        """Use to add an event or send a meeting invitation (attendees are notified). Returns the created event."""
        zone_name, zone = await svc.zone(mailbox, time_zone)
        body: dict[str, Any] = times_body(start, end, all_day, zone_name, zone)
        fields(body, subject=subject, description=description, location=location, locations=locations,
               attendees=attendees, online_meeting=online_meeting, reminder_minutes=reminder_minutes,
               show_as=show_as, sensitivity=sensitivity, importance=importance, categories=categories)
        if recurrence is not None:
            first = tz.parse_graph_datetime(body["start"]["dateTime"]).date()
            body["recurrence"] = recurrence_body(recurrence, first, zone_name)
        body["transactionId"] = str(uuid.uuid4())  # a retried POST must not create the event twice
        base = svc.events_path(mailbox, calendar_id)
        doc = await g.post(f"{base}/events" if calendar_id else f"{base}/calendar/events", json=body,
                           prefer=svc.prefer(zone_name), retry_post=True)
        return EventResult(time_zone=tz.iana_name(zone_name), event=views.event_view(doc, zone, svc.handles),
                           notified=_others(doc) or None)

    @tool(server, writes(destructive=False, idempotent=True, reaches_others=True), enabled=enabled)
    async def update_event(
        event: EventRef, subject: str | None = None, start: Time | None = None, end: Time | None = None,
        all_day: StrictBool | None = None, time_zone: TimeZoneArg = None, description: str | None = None,
        location: str | None = None, locations: list[str] | None = None, attendees: Attendees = None,
        recurrence: RecurrenceInput | None = None, online_meeting: StrictBool | None = None,
        reminder_minutes: Reminder = None, show_as: ShowAs | None = None, sensitivity: Sensitivity | None = None,
        importance: Importance | None = None, categories: list[str] | None = None,
        etag: Annotated[str | None, Field(description="Fail if the event changed since this etag (from get_event)")] = None,
        mailbox: Mailbox = None,
    ) -> EventResult:
        """Use to change an event or one occurrence (only the fields given; attendees are told). Returns the updated event."""
        zone_name, zone = await svc.zone(mailbox, time_zone)
        path = ev_path(mailbox, event)
        body: dict[str, Any] = {}
        if start is not None or end is not None or all_day is not None:
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
                first = tz.parse_user_time(new_start, zone, label="start").date()
                new_end = max(last, first + dt.timedelta(days=1)).isoformat()
            else:
                new_end = cur_end.isoformat()
            body.update(times_body(new_start, new_end, bool(is_all_day), zone_name, zone, duration_default=keep))
        fields(body, subject=subject, description=description, location=location, locations=locations,
               attendees=attendees, online_meeting=online_meeting, reminder_minutes=reminder_minutes,
               show_as=show_as, sensitivity=sensitivity, importance=importance, categories=categories)
        if recurrence is not None:
            first = tz.parse_graph_datetime(body["start"]["dateTime"]).date() if "start" in body else None
            if first is None:
                current = await g.get(path, params={"$select": "start"}, prefer=svc.prefer(zone_name))
                first = tz.parse_graph_datetime(current["start"]["dateTime"]).date()
            body["recurrence"] = recurrence_body(recurrence, first, zone_name)
        if not body:
            raise InputError("Nothing to change: give at least one field to update (subject, start, end, ...).")
        doc = await g.patch(path, json=body, if_match=etag, prefer=svc.prefer(zone_name))
        notified = _others(doc) if doc.get("isOrganizer") else None
        return EventResult(time_zone=tz.iana_name(zone_name), event=views.event_view(doc, zone, svc.handles),
                           notified=notified or None)

    @tool(server, writes(destructive=True, idempotent=True, reaches_others=True), enabled=enabled)
    async def delete_event(event: EventRef, mailbox: Mailbox = None,
                           etag: Annotated[str | None, Field(description="Fail if the event changed since this etag")] = None,
                           ) -> Deleted:
        """Use to delete an event, a whole series (its master) or one occurrence; as organizer, attendees get a cancellation. Returns what was deleted."""
        path = ev_path(mailbox, event)
        doc = await g.get(path, params={"$select": "subject,attendees,isOrganizer"})
        await g.delete(path, if_match=etag)
        notified = _others(doc) if doc.get("isOrganizer") else None
        return Deleted(deleted=svc.handles.handle("event", svc.event_id(event)), subject=doc.get("subject"),
                       notified=notified or None)
