"""Event tools: calendar_view, list_events, get_event, create/update/delete_event, list_event_instances.

Whose calendar: yours by default, another person's with ``mailbox`` (as their sharing allows: a 403 says
whom to ask), a Microsoft 365 group's with ``group_id``. Recurring events: get_event can list a series'
changed and cancelled occurrences (``include_exceptions``, Graph beta), and update_event / delete_event take
a ``scope``: ``occurrence``, ``this_and_following`` (the series ends the day before that occurrence and, for
an update, a new series starts there with the change: the result names both) or ``series``.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo

import anyio
from pydantic import Field

from .. import timezones as tz
from .. import views
from ..calendar import InputError, Services
from ..calendar.bodies import AttendeeInput
from ..calendar.calendars import across_calendars, calendar_name, calendars_in
from ..calendar.conflicts import overlaps_any_zone, within
from ..calendar.edits import create_event as create_event_in
from ..calendar.edits import update_event as update_event_in
from ..calendar.events import event_path, invitees
from ..calendar.series import (
    Split,
    delete_in_scope,
    end_series,
    exceptions_of,
    series_rules,
    series_to_end,
)
from ..calendar.targets import calendar_path, explain_access, target, zone_for, zone_known
from ..calendar.times import any_zone_view, default_window, parse_time, window
from ..calendar.together import Pending, capture, zone_and
from ..graph import Page
from ..views import Compact, Event, SeriesConflicts, SeriesExceptions, SeriesSplit
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
Repeat = Annotated[str, Field(description="RRULE, e.g. FREQ=WEEKLY;BYDAY=MO,WE;COUNT=10")]
StrictBool = Annotated[bool, Field(strict=True)]  # "yes" must not pass for true
Attendees = Annotated[list[AttendeeInput] | None, Field(description="People and rooms to invite")]
Reminder = Annotated[
    int | None, Field(ge=-1, le=40320, strict=True, description="Minutes before start; -1 turns the reminder off")
]
Scope = Literal["occurrence", "this_and_following", "series"]
# this_and_following ends the series the day before and (for a change) starts a new one there
# update_event's arguments that change something (series_ends_on is given alone)
UPDATE_FIELDS = [
    "subject",
    "start",
    "end",
    "all_day",
    "description",
    "location",
    "locations",
    "attendees",
    "recurrence",
    "online_meeting",
    "reminder_minutes",
    "show_as",
    "sensitivity",
    "importance",
    "categories",
    "scope",
]
ScopeArg = Annotated[Scope | None, Field(description="Series only; this_and_following splits it")]


class EventList(Compact):
    time_zone: str
    now: str | None = None  # the local time now, when the window was counted from it
    calendar: str | None = None  # the calendar's name, when not the default one
    events: list[Event]
    more: bool | None = None


class EventResult(Compact):
    time_zone: str
    event: Event
    calendar: str | None = None  # the calendar it is on, when not the default one
    notified: list[str] | None = None
    exceptions: SeriesExceptions | None = Field(None, description="A series' changed and cancelled occurrences")
    series_split: SeriesSplit | None = None
    conflicts: list[Event] | None = None  # busy events the new time overlaps (created anyway: a warning)
    series_conflicts: SeriesConflicts | None = None  # a series: its occurrences' collisions in the coming year
    note: str | None = None


class Deleted(Compact):
    deleted: str
    subject: str | None = None
    notified: list[str] | None = None
    series_ends_on: str | None = Field(None, description="this_and_following: the series' new last day")
    note: str | None = None


def register(box: Toolbox, svc: Services, enabled: Policy | None = None) -> None:
    """Add this module's tools to ``box``."""
    g = svc.graph

    @tool(box, READ_ONLY, enabled=enabled, name="calendar_view")
    async def calendar_view(
        start: Annotated[str | None, Field(description="ISO 8601; default today 00:00")] = None,
        end: Annotated[str | None, Field(description="Default start + 7 days")] = None,
        mailbox: Mailbox = None,
        calendar_id: CalendarId = None,
        group_id: GroupId = None,
        time_zone: TimeZoneArg = None,
        max_results: MaxResults = 200,
        detail: DetailArg = "compact",
    ) -> EventList:
        """Use to see what is on a calendar between two times (occurrences of series included). Returns events in local time, sorted by start."""
        t = await target(svc, mailbox, group_id)
        # Not knowing the zone yet (a session's first call), read a window holding this one in every zone,
        # together with the zone: then keep what the exact window holds (calendar/conflicts.within).
        wide = None if zone_known(svc, t, time_zone) else any_zone_view(svc.clock, start, end, 7)
        path = calendar_path(svc, t, calendar_id)
        order = {"$orderby": "start/dateTime"}

        async def early() -> tuple[list[dict[str, Any]], bool] | None:
            if wide is None:
                return None
            with explain_access(t, writing=False):
                return await overlaps_any_zone(svc, path, wide, max_items=max_results, params=order)

        (zone_name, zone), read = await zone_and(svc, t, time_zone, early)
        now = svc.now_text(zone) if start is None else None
        start, end = default_window(svc.clock, zone, start, end, days=7)
        window_start, window_end = window(start, end, zone)
        wide_read = read.result()
        found = None
        if wide_read is not None:
            begin, finish = (parse_time(w, zone) for w in (window_start, window_end))
            found = within(wide_read, begin, finish, zone_name, zone)
        items: list[dict[str, Any]]
        if found is not None:
            items, more = found[:max_results], len(found) > max_results
        else:
            with explain_access(t, writing=False):
                page = await g.get_all(
                    f"{path}/calendarView",
                    params={"startDateTime": window_start, "endDateTime": window_end, **order},
                    prefer=svc.prefer(zone_name),
                    max_items=max_results,
                )
            items, more = page.items, page.more
        await svc.handles.mint(views.shown("event", items))  # the result's new handles: one store round trip
        return EventList(
            time_zone=tz.iana_name(zone_name),
            now=now,
            calendar=await calendar_name(svc, t, calendar_id),
            more=more or None,
            events=views.with_rules(
                [views.event_view(d, zone, svc.handles, detail) for d in items],
                await series_rules(svc, t, items),
            ),
        )

    @tool(box, READ_ONLY, enabled=enabled, name="list_events")
    async def list_events(
        mailbox: Mailbox = None,
        calendar_id: CalendarId = None,
        group_id: GroupId = None,
        subject_contains: Annotated[str | None, Field(description="Only events whose subject contains this")] = None,
        filter: Annotated[str | None, Field(description="OData $filter, e.g. start/dateTime ge '2026-11-01'")] = None,
        time_zone: TimeZoneArg = None,
        max_results: MaxResults = 50,
        detail: DetailArg = "compact",
    ) -> EventList:
        """Use to find single events and series masters (not occurrences) by subject, in all your calendars by default. Returns events newest first, naming any non-main calendar."""
        t = await target(svc, mailbox, group_id)
        one_calendar = bool(calendar_id or t.group or t.owner is not None)

        async def calendars() -> list[dict[str, Any]] | None:  # read together with the zone
            return None if one_calendar else await calendars_in(svc, t)

        (zone_name, zone), listed = await zone_and(svc, t, time_zone, calendars)
        clauses = []
        if subject_contains:
            clauses.append(f"contains(subject,'{subject_contains.replace(chr(39), chr(39) * 2)}')")
        if filter:
            clauses.append(f"({filter})")
        params = {"$orderby": "start/dateTime desc"}
        if clauses:
            params["$filter"] = " and ".join(clauses)
        if one_calendar:  # one calendar (another's: their main one)
            with explain_access(t, writing=False):
                page = await g.get_all(
                    f"{calendar_path(svc, t, calendar_id) if calendar_id else t.base}/events",
                    params=params,
                    prefer=svc.prefer(zone_name),
                    max_items=max_results,
                )
            await svc.handles.mint(views.shown("event", page.items))
            return EventList(
                time_zone=tz.iana_name(zone_name),
                calendar=await calendar_name(svc, t, calendar_id),
                more=page.more or None,
                events=[views.event_view(d, zone, svc.handles, detail) for d in page.items],
            )
        found, more = await across_calendars(svc, t, params, svc.prefer(zone_name), max_results, listed.result())
        await svc.handles.mint(views.shown("event", (doc for doc, _ in found)))
        events = []
        for doc, name in found:
            view = views.event_view(doc, zone, svc.handles, detail)
            view.calendar = name
            events.append(view)
        return EventList(time_zone=tz.iana_name(zone_name), more=more or None, events=events)

    @tool(box, READ_ONLY, enabled=enabled, name="get_event")
    async def get_event(
        event: EventRef,
        mailbox: Mailbox = None,
        group_id: GroupId = None,
        time_zone: TimeZoneArg = None,
        detail: DetailArg = "full",
        include_exceptions: Annotated[
            bool,
            Field(
                strict=True,
                description="A series': also list its changed and cancelled occurrences",
            ),
        ] = False,
    ) -> EventResult:
        """Use to read one event in full: body, attendees' responses, recurrence, a series' exceptions. Returns the event."""
        t = await target(svc, mailbox, group_id)
        zone_name, zone = await zone_for(svc, t, time_zone)
        with explain_access(t, writing=False):
            doc = await g.get(event_path(t, svc.event_id(event)), prefer=svc.prefer(zone_name))
        exceptions = None
        if include_exceptions:
            master_id = doc["id"] if doc.get("type") == "seriesMaster" else doc.get("seriesMasterId")
            if not master_id:
                raise InputError(
                    f"include_exceptions: {event} is a single event, not part of a recurring series; "
                    "leave include_exceptions out."
                )
            # Graph beta, times in UTC: the view shows them in the local zone.
            master = await exceptions_of(svc, t, master_id)
            await svc.handles.mint(views.shown("event", [doc, *(master.get("exceptionOccurrences") or [])]))
            exceptions = views.series_exceptions(master, zone, svc.handles)
        await svc.handles.mint(views.shown("event", [doc]))
        return EventResult(
            time_zone=tz.iana_name(zone_name),
            event=views.event_view(doc, zone, svc.handles, detail),
            exceptions=exceptions,
        )

    @tool(box, READ_ONLY, enabled=enabled, name="list_event_instances")
    async def list_event_instances(
        event: EventRef,
        start: Time,
        end: Time,
        mailbox: Mailbox = None,
        group_id: GroupId = None,
        time_zone: TimeZoneArg = None,
        max_results: MaxResults = 200,
    ) -> EventList:
        """Use to list the occurrences of one recurring series in a window. Returns occurrences and exceptions."""
        t = await target(svc, mailbox, group_id)
        master_id = svc.event_id(event)

        async def listing() -> tuple[str, ZoneInfo, Page]:
            zone_name, zone = await zone_for(svc, t, time_zone)
            window_start, window_end = window(start, end, zone)
            with explain_access(t, writing=False):
                page = await g.get_all(
                    f"{event_path(t, master_id)}/instances",
                    params={"startDateTime": window_start, "endDateTime": window_end},
                    prefer=svc.prefer(zone_name),
                    max_items=max_results,
                )
            return zone_name, zone, page

        # The series' rule (what the occurrences show) is read while they are: series_rules below finds it.
        rule: Pending[dict[str, str]] = Pending()
        listed: Pending[tuple[str, ZoneInfo, Page]] = Pending()
        async with anyio.create_task_group() as tg:
            tg.start_soon(capture, rule, series_rules(svc, t, [{"seriesMasterId": master_id}]))
            await capture(listed, listing())
        zone_name, zone, page = listed.result()
        await svc.handles.mint(views.shown("event", page.items))
        return EventList(
            time_zone=tz.iana_name(zone_name),
            more=page.more or None,
            events=views.with_rules(
                [views.event_view(d, zone, svc.handles) for d in page.items], await series_rules(svc, t, page.items)
            ),
        )

    @tool(box, writes(destructive=False, idempotent=False, reaches_others=True), enabled=enabled, name="create_event")
    async def create_event(
        subject: Annotated[str, Field(min_length=1, description="Title")],
        start: Time,
        end: Annotated[str | None, Field(description="ISO 8601; for all-day, the day after the last day")] = None,
        all_day: StrictBool = False,
        time_zone: TimeZoneArg = None,
        description: Annotated[str | None, Field(description="Body text")] = None,
        location: str | None = None,
        locations: Annotated[list[str] | None, Field(description="Several locations")] = None,
        attendees: Attendees = None,
        recurrence: Repeat | None = None,
        online_meeting: Annotated[bool | None, Field(strict=True, description="Add a Teams meeting link")] = None,
        reminder_minutes: Reminder = None,
        show_as: ShowAs | None = None,
        sensitivity: Sensitivity | None = None,
        importance: Importance | None = None,
        categories: list[str] | None = None,
        mailbox: Mailbox = None,
        calendar_id: CalendarId = None,
        group_id: GroupId = None,
        allow_duplicate: Annotated[bool, Field(strict=True)] = False,  # same subject and time as an existing one
    ) -> EventResult:
        """Use to add an event or send a meeting invitation (attendees are notified). Returns the created event and any conflicts."""
        t = await target(svc, mailbox, group_id)
        created = await create_event_in(
            svc,
            t,
            calendar_id,
            time_zone,
            subject=subject,
            start=start,
            end=end,
            all_day=all_day,
            recurrence=recurrence,
            allow_duplicate=allow_duplicate,
            fields=dict(
                description=description,
                location=location,
                locations=locations,
                attendees=attendees,
                online_meeting=online_meeting,
                reminder_minutes=reminder_minutes,
                show_as=show_as,
                sensitivity=sensitivity,
                importance=importance,
                categories=categories,
            ),
        )
        zone_name, zone = created.zone_name, created.zone
        await svc.handles.mint(views.shown("event", [created.doc, *created.conflicts]))
        busy = [views.event_view(e, zone, svc.handles) for e in created.conflicts]
        return EventResult(
            time_zone=tz.iana_name(zone_name),
            event=views.event_view(created.doc, zone, svc.handles),
            calendar=await calendar_name(svc, t, calendar_id),
            notified=invitees(created.doc) or None,
            conflicts=busy or None,
            series_conflicts=views.series_conflicts(created.series),
        )

    def split_result(split: Split, zone_name: str, zone: ZoneInfo) -> EventResult:
        event = views.event_view(split.doc, zone, svc.handles)
        if split.whole_series:
            return EventResult(
                time_zone=tz.iana_name(zone_name),
                event=event,
                notified=(invitees(split.doc) if split.doc.get("isOrganizer") else None) or None,
                note="That is the series' first occurrence: the whole series was changed.",
            )
        old_handle = svc.handles.handle("event", split.ended_series or "")
        new_handle = event.handle
        series_split = SeriesSplit(
            ended_series=old_handle,
            ends_on=split.ends_on or "",
            new_series=new_handle,
            starts_on=split.starts_on or "",
            changed_occurrences_dropped=split.changed_occurrences_dropped,
        )
        note = (
            f"Series {old_handle} now ends on {series_split.ends_on}; the new series {new_handle} starts on "
            f"{series_split.starts_on} with your changes."
        )
        return EventResult(
            time_zone=tz.iana_name(zone_name),
            event=event,
            notified=invitees(split.doc) or None,
            series_split=series_split,
            note=note,
        )

    @tool(box, writes(destructive=False, idempotent=True, reaches_others=True), enabled=enabled, name="update_event")
    async def update_event(
        event: EventRef,
        subject: str | None = None,
        start: Time | None = None,
        end: Time | None = None,
        all_day: StrictBool | None = None,
        time_zone: TimeZoneArg = None,
        description: str | None = None,
        location: str | None = None,
        locations: list[str] | None = None,
        attendees: Attendees = None,
        recurrence: Repeat | None = None,
        online_meeting: StrictBool | None = None,
        reminder_minutes: Reminder = None,
        show_as: ShowAs | None = None,
        sensitivity: Sensitivity | None = None,
        importance: Importance | None = None,
        categories: list[str] | None = None,
        etag: Annotated[
            str | None, Field(description="Fail if the event changed since this etag (from get_event)")
        ] = None,
        scope: ScopeArg = None,
        series_ends_on: Annotated[str | None, Field(description="End the series on this day (YYYY-MM-DD)")] = None,
        mailbox: Mailbox = None,
        group_id: GroupId = None,
    ) -> EventResult:
        """Use to change an event, an occurrence or a series (only the fields given; attendees are told). Returns the updated event."""
        t = await target(svc, mailbox, group_id)
        if series_ends_on is not None:
            zone_known(svc, t, time_zone)  # a bad time_zone is said first
            given = [k for k, v in locals().items() if k in UPDATE_FIELDS and v is not None]
            if given:
                raise InputError(f"series_ends_on: give it alone; change {', '.join(given)} in another call.")
            # The series read together with the zone; written once both are in.
            event_id = svc.event_id(event)
            (zone_name, zone), found = await zone_and(
                svc, t, time_zone, lambda: series_to_end(svc, t, event_id, event, series_ends_on)
            )
            ended = await end_series(svc, t, *found.result())
            await svc.handles.mint(views.shown("event", [ended]))
            return EventResult(
                time_zone=tz.iana_name(zone_name),
                event=views.event_view(ended, zone, svc.handles),
                notified=(invitees(ended) if ended.get("isOrganizer") else None) or None,
            )
        updated = await update_event_in(
            svc,
            t,
            svc.event_id(event),
            event,
            time_zone,
            start=start,
            end=end,
            all_day=all_day,
            recurrence=recurrence,
            etag=etag,
            scope=scope,
            fields=dict(
                subject=subject,
                description=description,
                location=location,
                locations=locations,
                attendees=attendees,
                online_meeting=online_meeting,
                reminder_minutes=reminder_minutes,
                show_as=show_as,
                sensitivity=sensitivity,
                importance=importance,
                categories=categories,
            ),
        )
        zone_name, zone = updated.zone_name, updated.zone
        await svc.handles.mint(views.shown("event", [updated.doc, *(updated.conflicts or [])]))
        if updated.split is not None:
            await svc.handles.mint(views.shown("event", [updated.split.doc, {"id": updated.split.ended_series or ""}]))
            split = split_result(updated.split, zone_name, zone)
            split.series_conflicts = views.series_conflicts(updated.series_clash)
            return split
        doc = updated.doc
        notified = invitees(doc) if doc.get("isOrganizer") else None
        busy = (
            None
            if updated.conflicts is None
            else ([views.event_view(e, zone, svc.handles) for e in updated.conflicts] or None)
        )
        return EventResult(
            time_zone=tz.iana_name(zone_name),
            event=views.event_view(doc, zone, svc.handles),
            notified=notified or None,
            conflicts=busy,
            series_conflicts=views.series_conflicts(updated.series_clash),
        )

    @tool(box, writes(destructive=True, idempotent=True, reaches_others=True), enabled=enabled, name="delete_event")
    async def delete_event(
        event: EventRef,
        mailbox: Mailbox = None,
        etag: Annotated[str | None, Field(description="Fail if the event changed since this etag")] = None,
        scope: ScopeArg = None,
        group_id: GroupId = None,
    ) -> Deleted:
        """Use to delete an event, an occurrence or a series (attendees of your meetings are told). Returns what was deleted."""
        t = await target(svc, mailbox, group_id)
        gone = await delete_in_scope(svc, t, svc.event_id(event), event, scope, etag)
        await svc.handles.mint([("event", gone.deleted), *views.shown("event", [gone.doc])])
        deleted = svc.handles.handle("event", gone.deleted)
        notified = (invitees(gone.doc) if gone.doc.get("isOrganizer") else None) or None
        note = None
        if gone.whole_series and scope == "this_and_following":
            note = "That is the series' first occurrence: the whole series was deleted."
        elif gone.series_ends_on is not None:
            note = (
                f"Deleted this and the following occurrences: the series "
                f"{svc.handles.handle('event', gone.doc['id'])} now ends on {gone.series_ends_on}."
            )
        return Deleted(
            deleted=deleted,
            subject=gone.doc.get("subject"),
            notified=notified,
            series_ends_on=gone.series_ends_on,
            note=note,
        )
