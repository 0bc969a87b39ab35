"""THE route table: every path the sandbox answers, with its methods, handlers and the access it needs.

Paths are under ``/v1.0`` (or ``/beta``). ``{mb}`` is a mailbox: ``me`` or ``users/{id|upn}``; a
group's calendar (``groups/{id}``) takes the ``{cal-root}`` paths only. ``{cal}`` is a calendar:
``calendar`` (the primary one), ``calendars/{id}`` or ``calendarGroups/{gid}/calendars/{id}``.
Segments match case-insensitively, as in Graph; OData keys (``events('AAMk=')``) are unfolded first.

::

    users                                      GET                      directory.list_users
    {mb}                                       GET                      directory.get_user
    {mb}/mailboxSettings                       GET PATCH                directory.*_mailbox_settings
    {mb}/people                                GET                      directory.list_people (models/people)
    {mb}/contacts                              GET POST                 contacts.list_contacts, create_contact
    {mb}/sendMail                              POST                     mail.send (the outbox; own mailbox only)
    {mb}/findMeetingTimes                      POST                     availability.find_meeting_times  [MAILBOX_ACTIONS]
    {mb}/reminderView(startDateTime=,endDateTime=)  GET                 reminders.reminder_view        [MAILBOX_FUNCTIONS]
    {mb}/calendars                             GET POST                 calendars.list_calendars, create_calendar
    {mb}/calendarGroups                        GET POST                 calendars.list_groups, create_group
    {mb}/calendarGroups/{gid}                  GET PATCH DELETE         calendars.get_group, patch_group, delete_group
    {mb}/calendarGroups/{gid}/calendars        GET POST                 calendars.list_calendars, create_calendar
  {cal-root} = {mb} | groups/{id}:
    {cal-root}/events                          GET POST                 events.list_events, create_event
    {cal-root}/events/{id}                     GET PATCH DELETE         events.get_event, patch_event, delete_event
    {cal-root}/events/{id}/instances           GET                      events.list_instances
    {cal-root}/events/{id}/{action}            see EVENT_ACTIONS: accept, tentativelyAccept, decline, forward,
                                               cancel (POST), snoozeReminder, dismissReminder (POST), calendar (GET)
    {cal-root}/events/{id}/attachments         GET POST                 attachments.list_attachments, create
    {cal-root}/events/{id}/attachments/createUploadSession   POST       uploads.create_session
    {cal-root}/events/{id}/attachments/{aid}   GET DELETE               attachments.get_attachment, delete
    {cal-root}/events/{id}/attachments/{aid}/$value          GET        attachments.raw_value
    {cal-root}/calendarView                    GET                      events.calendar_view (delta.sync when it
                                                                        carries a delta token or Prefer)
    {cal-root}/calendarView/delta              GET                      delta.sync
    {cal-root}/{cal}                           GET PATCH DELETE         calendars.get_calendar, patch_calendar, ...
    {cal-root}/{cal}/events..., /calendarView...                        as above, in that calendar
    {cal-root}/{cal}/getSchedule               POST                     availability.get_schedule  [CALENDAR_ACTIONS]
    {cal-root}/{cal}/calendarPermissions       GET POST                 sharing.list_permissions, create_permission
    {cal-root}/{cal}/calendarPermissions/{id}  GET PATCH DELETE         sharing.get/patch/delete_permission
    $batch                                     POST                     batch.batch_endpoint: each request runs
                                               through the whole app (see OUTSIDE_GRAPH)
    groups                                     GET                      groups.list_groups
    groups/{id}                                GET                      groups.get_group
    places[/microsoft.graph.room|roomList]     GET                      places.get_places (and the paths below it)
    /api/v2.0/Users('..')/Events('..')/AttachmentSessions('..')   PUT GET DELETE   uploads.upload_endpoint
                                               (an uploadUrl: outside Graph's tree, see OUTSIDE_GRAPH)

A known path with a method it does not take is a 405; an unknown segment a 400 naming it.

Access: the signed-in user's own mailbox (and everything for an app-only token) is open; anyone else's
calendars are reached as their sharing allows (:mod:`.sharing`). Each entry says what it needs from
someone else than the owner (:data:`FREE_BUSY` .. :data:`OWNER`): reading events needs limitedRead,
changing them write, the calendar's settings its owner; events read through a limited role come back
redacted, and a private event is only the owner's and full delegates'.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from functools import partial
from typing import Any

from starlette.responses import Response
from starlette.routing import Route

from .ctx import Ctx, methods
from .errors import GraphHTTPError, unknown_segment
from .models import sharing as access
from .models.attachments import Owner
from .models.rows import CalendarRow, EventRow
from .models.store import parse_occurrence_id
from .responses import (
    attachments,
    availability,
    batch,
    calendars,
    contacts,
    delta,
    directory,
    events,
    groups,
    mail,
    meetings,
    places,
    reminders,
    series,
    sharing,
    uploads,
)

# Access levels (sharing): what someone else than the owner needs.
FREE_BUSY, READ_EVENTS, WRITE_EVENTS, PRIVATE_EVENTS, OWNER = 1, 2, 4, 6, 100

EventHandler = Callable[[Ctx, str, Any], Response]

# {mb}/<action> (nothing after it). Someone else's mailbox: as reading its primary calendar allows.
MAILBOX_ACTIONS: dict[str, dict[str, Callable[[Ctx], Response]]] = {
    "findmeetingtimes": {"POST": availability.find_meeting_times},
}
# {mb}/<function>(<parameters>): the handler gets the parameter text ("" without parentheses).
MAILBOX_FUNCTIONS: dict[str, dict[str, Callable[[Ctx, str], Response]]] = {
    "reminderview": {"GET": reminders.reminder_view},
}
# {cal}/<action> (nothing after it): methods, and the access someone else needs.
CALENDAR_ACTIONS: dict[str, tuple[dict[str, Callable[[Ctx, Any], Response]], int]] = {
    "getschedule": ({"POST": availability.get_schedule}, READ_EVENTS),
}
# {cal-root}/events/{id}/<action> (nothing after it): handler(ctx, event id, calendar or None).
EVENT_ACTIONS: dict[str, dict[str, EventHandler]] = {
    "accept": {"POST": meetings.responder("accept")},
    "tentativelyaccept": {"POST": meetings.responder("tentativelyAccept")},
    "decline": {"POST": meetings.responder("decline")},
    "forward": {"POST": meetings.forward},
    "cancel": {"POST": events.cancel_event},
    "snoozereminder": {"POST": reminders.snooze},
    "dismissreminder": {"POST": reminders.dismiss},
    "calendar": {"GET": series.event_calendar},
}
# Outside Graph's tree, matched before it: an upload session's pre-authenticated uploadUrl.
OUTSIDE_GRAPH = [
    Route("/api/v2.0/{path:path}", uploads.upload_endpoint, methods=["PUT", "GET", "DELETE", "POST", "PATCH"]),
    Route("/{version:str}/$batch", batch.batch_endpoint, methods=["POST"]),  # JSON batching: each request re-enters
]


def dispatch(ctx: Ctx) -> Response:
    segs = ctx.segments
    if not segs:
        raise GraphHTTPError(400, "BadRequest", "Specify a resource, e.g. /v1.0/me/events.")
    head = segs[0].lower()
    if head == "me":
        if ctx.principal.app_only:
            raise GraphHTTPError(400, "BadRequest", "/me request is only valid with delegated authentication flow.")
        ctx.mailbox, ctx.path_prefix, rest = ctx.principal.mailbox, "me", segs[1:]
    elif head == "users":
        if len(segs) == 1:
            return methods(ctx, {"GET": lambda: directory.list_users(ctx)})
        row = ctx.store.mailbox(segs[1])
        if row is None or row["kind"] == "group":  # groups live under /groups
            raise GraphHTTPError(404, "ErrorInvalidUser", f"The requested user '{segs[1]}' is invalid.")
        ctx.mailbox, ctx.path_prefix, rest = row, f"users/{segs[1]}", segs[2:]
    elif head == "groups":
        return group_routes(ctx, segs[1:])
    elif head == "places":
        return methods(ctx, {"GET": lambda: places.get_places(ctx, segs[1:])})
    else:
        raise unknown_segment(segs[0])
    return mailbox_routes(ctx, rest)


def group_routes(ctx: Ctx, rest: list[str]) -> Response:
    """groups, groups/{id}, and a group's calendar (delegated members only)."""
    if ctx.principal.app_only:
        raise GraphHTTPError(403, "ErrorAccessDenied", groups.APP_ONLY)
    if not rest:
        return methods(ctx, {"GET": lambda: groups.list_groups(ctx)})
    row = ctx.store.group_mailbox(rest[0])
    if row is None:
        raise groups.group_not_found(rest[0])
    ctx.mailbox, ctx.path_prefix = row, f"groups/{rest[0]}"
    tail = rest[1:]
    if not tail:
        return methods(ctx, {"GET": lambda: groups.get_group(ctx, row)})
    if tail[0].lower() not in ("calendar", "calendarview", "events"):
        raise unknown_segment(tail[0])
    return calendar_root_routes(ctx, tail, mailbox=False)


def mailbox_routes(ctx: Ctx, rest: list[str]) -> Response:
    if not rest:
        return methods(ctx, {"GET": lambda: directory.get_user(ctx)})
    head, tail = rest[0].lower(), rest[1:]
    if head == "mailboxsettings" and not tail:
        return methods(
            ctx,
            {
                "GET": lambda: directory.get_mailbox_settings(ctx),
                "PATCH": lambda: directory.patch_mailbox_settings(ctx),
            },
        )
    if head == "people" and not tail:
        return methods(ctx, {"GET": lambda: directory.list_people(ctx)})
    if head == "contacts" and not tail:
        return methods(ctx, {"GET": lambda: contacts.list_contacts(ctx), "POST": lambda: contacts.create_contact(ctx)})
    if head == "sendmail" and not tail:
        return methods(ctx, {"POST": lambda: mail.send(ctx)})
    return calendar_root_routes(ctx, rest, mailbox=True)


def calendar_root_routes(ctx: Ctx, rest: list[str], *, mailbox: bool) -> Response:
    """events, calendarView, calendar of ``ctx.mailbox``; for a user's mailbox also calendars, calendarGroups
    and the mailbox actions and functions."""
    head, tail = rest[0].lower(), rest[1:]
    if head == "events":
        return event_routes(ctx, None, tail)
    if head == "calendarview":
        return view_routes(ctx, calendars.default_calendar(ctx), tail)
    if head == "calendar":
        return calendar_routes(ctx, calendars.default_calendar(ctx), tail)
    if not mailbox:
        raise unknown_segment(rest[0])
    if head == "calendars":
        if not tail:
            return methods(
                ctx,
                {
                    "GET": lambda: calendars.list_calendars(ctx, None),
                    "POST": lambda: calendars.create_calendar(ctx, None),
                },
            )
        return calendar_routes(ctx, calendars.find_calendar(ctx, tail[0]), tail[1:])
    if head == "calendargroups":
        return calendar_group_routes(ctx, tail)
    if head in MAILBOX_ACTIONS or head in MAILBOX_FUNCTIONS:
        if not calendars.is_owner(ctx):  # another mailbox's reminders, ...: as reading its primary calendar
            calendars.require_calendar(ctx, calendars.default_calendar(ctx), READ_EVENTS)
        if head in MAILBOX_ACTIONS:
            if tail:
                raise unknown_segment(tail[0])
            action = MAILBOX_ACTIONS[head]
            return methods(ctx, {m: partial(h, ctx) for m, h in action.items()})
        if len(tail) > 1:
            raise unknown_segment(tail[1])
        function, parameters = MAILBOX_FUNCTIONS[head], tail[0] if tail else ""
        return methods(ctx, {m: partial(h, ctx, parameters) for m, h in function.items()})
    raise unknown_segment(rest[0])


def calendar_group_routes(ctx: Ctx, rest: list[str]) -> Response:
    if not rest:
        return methods(ctx, {"GET": lambda: calendars.list_groups(ctx), "POST": lambda: calendars.create_group(ctx)})
    group = calendars.find_group(ctx, rest[0])
    tail = rest[1:]
    if not tail:
        return methods(
            ctx,
            {
                "GET": lambda: calendars.get_group(ctx, group),
                "PATCH": lambda: calendars.patch_group(ctx, group),
                "DELETE": lambda: calendars.delete_group(ctx, group),
            },
        )
    if tail[0].lower() != "calendars":
        raise unknown_segment(tail[0])
    if len(tail) == 1:
        return methods(
            ctx,
            {
                "GET": lambda: calendars.list_calendars(ctx, group),
                "POST": lambda: calendars.create_calendar(ctx, group),
            },
        )
    calendar = calendars.find_calendar(ctx, tail[1], group=group)
    return calendar_routes(ctx, calendar, tail[2:])


def _checked(ctx: Ctx, calendar: CalendarRow, level: int, handler: Callable[[], Response]) -> Response:
    calendars.require_calendar(ctx, calendar, level)
    return handler()


def _read_events(ctx: Ctx, calendar: CalendarRow, handler: Callable[[], Response]) -> Response:
    """Events of ``calendar`` as the caller may see them (redacted below delegateWithPrivateEventAccess)."""
    got = calendars.require_calendar(ctx, calendar, READ_EVENTS)
    return sharing.redact_response(handler(), got)


def calendar_routes(ctx: Ctx, calendar: CalendarRow, rest: list[str]) -> Response:
    if not rest:
        return methods(
            ctx,
            {
                "GET": lambda: _checked(ctx, calendar, READ_EVENTS, lambda: calendars.get_calendar(ctx, calendar)),
                "PATCH": lambda: _checked(ctx, calendar, OWNER, lambda: calendars.patch_calendar(ctx, calendar)),
                "DELETE": lambda: _checked(ctx, calendar, OWNER, lambda: calendars.delete_calendar(ctx, calendar)),
            },
        )
    head, tail = rest[0].lower(), rest[1:]
    if head == "events":
        return event_routes(ctx, calendar, tail)
    if head == "calendarview":
        return view_routes(ctx, calendar, tail)
    if head == "calendarpermissions":
        calendars.require_calendar(ctx, calendar, FREE_BUSY)
        return permission_routes(ctx, calendar, tail)
    if head in CALENDAR_ACTIONS:
        table, level = CALENDAR_ACTIONS[head]
        calendars.require_calendar(ctx, calendar, level)
        if tail:
            raise unknown_segment(tail[0])
        return methods(ctx, {m: partial(h, ctx, calendar) for m, h in table.items()})
    raise unknown_segment(rest[0])


def permission_routes(ctx: Ctx, calendar: CalendarRow, rest: list[str]) -> Response:
    if not rest:
        return methods(
            ctx,
            {
                "GET": lambda: sharing.list_permissions(ctx, calendar),
                "POST": lambda: sharing.create_permission(ctx, calendar),
            },
        )
    if len(rest) > 1:
        raise unknown_segment(rest[1])
    pid = rest[0]
    return methods(
        ctx,
        {
            "GET": lambda: sharing.get_permission(ctx, calendar, pid),
            "PATCH": lambda: sharing.patch_permission(ctx, calendar, pid),
            "DELETE": lambda: sharing.delete_permission(ctx, calendar, pid),
        },
    )


def view_routes(ctx: Ctx, calendar: CalendarRow, rest: list[str]) -> Response:
    if not rest and delta.wants_sync(ctx):  # calendarView with a delta token or Prefer: a sync request
        return methods(ctx, {"GET": lambda: delta.sync(ctx, calendar, legacy=True)})
    if len(rest) == 1 and rest[0].lower() == "delta":
        return methods(ctx, {"GET": lambda: delta.sync(ctx, calendar, legacy=delta.tracks_changes(ctx))})
    if rest:
        raise unknown_segment(rest[0])
    return methods(ctx, {"GET": lambda: _read_events(ctx, calendar, lambda: events.calendar_view(ctx, calendar))})


def event_calendar(ctx: Ctx, event_id: str) -> tuple[Any | None, Any | None]:
    """(calendar row, stored row of the event or its series master) of an event of ``ctx.mailbox``, if any."""
    row = ctx.store.event_row(ctx.mailbox["id"], event_id)
    if row is None:
        parsed = parse_occurrence_id(event_id)
        row = ctx.store.event_row(ctx.mailbox["id"], parsed[0]) if parsed else None
    if row is None:
        return None, None
    return ctx.store.calendar(ctx.mailbox["id"], row["calendar_id"]), row


def event_routes(ctx: Ctx, calendar: CalendarRow | None, rest: list[str]) -> Response:
    if not rest:
        target = calendar or calendars.default_calendar(ctx)
        return methods(
            ctx,
            {
                "GET": lambda: _read_events(ctx, target, lambda: events.list_events(ctx, target)),
                "POST": lambda: _checked(ctx, target, WRITE_EVENTS, lambda: events.create_event(ctx, target)),
            },
        )
    event_id, tail = rest[0], rest[1:]
    got = None
    if not calendars.is_owner(ctx):
        home, row = event_calendar(ctx, event_id)
        home = calendar or home or calendars.default_calendar(ctx)
        got = calendars.require_calendar(ctx, home, READ_EVENTS if ctx.method == "GET" else WRITE_EVENTS)
        _check_private(ctx, got, row, bool(tail))
    if not tail:
        return _redacted(
            got,
            methods(
                ctx,
                {
                    "GET": lambda: events.get_event(ctx, event_id, calendar),
                    "PATCH": lambda: events.patch_event(ctx, event_id, calendar),
                    "DELETE": lambda: events.delete_event(ctx, event_id, calendar),
                },
            ),
        )
    action, after = tail[0].lower(), tail[1:]
    if action == "instances" and not after:
        return _redacted(got, methods(ctx, {"GET": lambda: events.list_instances(ctx, event_id, calendar)}))
    if action == "attachments":
        return attachment_routes(ctx, event_id, calendar, after)
    table = EVENT_ACTIONS.get(action)
    if table is None:
        raise unknown_segment(tail[0])
    if after:
        raise unknown_segment(after[0])
    return methods(ctx, {m: partial(h, ctx, event_id, calendar) for m, h in table.items()})


def attachment_routes(ctx: Ctx, event_id: str, calendar: CalendarRow | None, rest: list[str]) -> Response:
    def owner() -> Owner:
        return Owner(ctx, event_id, calendar)

    if not rest:
        return methods(
            ctx,
            {
                "GET": lambda: attachments.list_attachments(ctx, owner()),
                "POST": lambda: attachments.create(ctx, owner()),
            },
        )
    if len(rest) == 1 and rest[0].lower() == "createuploadsession":
        return methods(ctx, {"POST": lambda: uploads.create_session(ctx, owner())})
    if len(rest) == 1:
        return methods(
            ctx,
            {
                "GET": lambda: attachments.get_attachment(ctx, owner(), rest[0]),
                "DELETE": lambda: attachments.delete(ctx, owner(), rest[0]),
            },
        )
    if len(rest) == 2 and rest[1].lower() == "$value":
        return methods(ctx, {"GET": lambda: attachments.raw_value(ctx, owner(), rest[0])})
    raise unknown_segment(rest[-1])


def _check_private(ctx: Ctx, got: Any, row: EventRow | None, action: bool) -> None:
    """Below delegateWithPrivateEventAccess, a private event can't be changed, nor its details read."""
    if got.full or row is None:
        return
    private = access.is_private(json.loads(row["doc"]))
    if (private and (ctx.method != "GET" or action)) or (action and got.level <= READ_EVENTS):
        level = PRIVATE_EVENTS if private else READ_EVENTS + 1
        raise GraphHTTPError(
            403,
            "ErrorAccessDenied",
            (
                f"{access.DENIED} {ctx.principal.mailbox['address']} has the role '{got.role}' on "
                f"{ctx.mailbox['address']}'s calendar; "
                + (
                    "this event is private: only the owner and delegates with delegateWithPrivateEventAccess can "
                    "change it or see its details."
                    if private
                    else f"its details need {access.NEEDS.get(level, 'read')} or more."
                )
            ),
        )


def _redacted(got: Any, response: Response) -> Response:
    if got is None:
        return response
    return sharing.redact_response(response, got)
