"""The sandbox's resource tree: which path segment leads where.

::

    me | users/{id|upn}
      (GET)                       the user
      mailboxSettings             GET PATCH
      people                      GET ($search)
      events                      GET POST            events/{id}  GET PATCH DELETE, /instances, /{action}
      calendarView                GET (default calendar)
      calendar                    GET PATCH, /events, /events/{id}..., /calendarView
      calendars                   GET POST            calendars/{cid}  (as calendar)
      calendarGroups              GET POST            calendarGroups/{gid}  GET PATCH DELETE, /calendars[/{cid}...]
    users                         GET ($filter, $search)

Segments are matched case-insensitively, as Graph does. A known path with a
method it does not take is a 405; an unknown segment a 400 naming it.
"""

from __future__ import annotations

from typing import Any, Callable

from starlette.responses import Response

from . import api_calendars, api_directory, api_events
from .app import Ctx
from .errors import GraphHTTPError


def unknown_segment(segment: str) -> GraphHTTPError:
    return GraphHTTPError(400, "BadRequest", f"Resource not found for the segment '{segment}'.")


def methods(ctx: Ctx, table: dict[str, Callable[[], Response]]) -> Response:
    handler = table.get(ctx.method)
    if handler is None:
        allowed = ", ".join(sorted(table))
        raise GraphHTTPError(405, "ErrorInvalidRequest",
                             f"The HTTP method '{ctx.method}' is not allowed for this resource. Allowed: {allowed}.")
    return handler()


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
            return methods(ctx, {"GET": lambda: api_directory.list_users(ctx)})
        row = ctx.store.mailbox(segs[1])
        if row is None:
            raise GraphHTTPError(404, "ErrorInvalidUser", f"The requested user '{segs[1]}' is invalid.")
        ctx.mailbox, ctx.path_prefix, rest = row, f"users/{segs[1]}", segs[2:]
    else:
        extra = EXTRA_ROOTS.get(head)
        if extra is None:
            raise unknown_segment(segs[0])
        return extra(ctx, segs[1:])
    return mailbox_routes(ctx, rest)


# Issue-specific roots (places, ...) register here.
EXTRA_ROOTS: dict[str, Callable[[Ctx, list[str]], Response]] = {}
# Event actions (accept, decline, attachments...) register here: name -> handler(ctx, event_id, calendar, rest).
EVENT_ACTIONS: dict[str, Callable[[Ctx, str, Any, list[str]], Response]] = {}


def mailbox_routes(ctx: Ctx, rest: list[str]) -> Response:
    if not rest:
        return methods(ctx, {"GET": lambda: api_directory.get_user(ctx)})
    head, tail = rest[0].lower(), rest[1:]
    if head == "mailboxsettings" and not tail:
        return methods(ctx, {"GET": lambda: api_directory.get_mailbox_settings(ctx),
                             "PATCH": lambda: api_directory.patch_mailbox_settings(ctx)})
    if head == "people" and not tail:
        return methods(ctx, {"GET": lambda: api_directory.list_people(ctx)})
    if head == "events":
        return event_routes(ctx, None, tail)
    if head == "calendarview" and not tail:
        return methods(ctx, {"GET": lambda: api_events.calendar_view(ctx, api_calendars.default_calendar(ctx))})
    if head == "calendar":
        return calendar_routes(ctx, api_calendars.default_calendar(ctx), tail)
    if head == "calendars":
        if not tail:
            return methods(ctx, {"GET": lambda: api_calendars.list_calendars(ctx, None),
                                 "POST": lambda: api_calendars.create_calendar(ctx, None)})
        return calendar_routes(ctx, api_calendars.find_calendar(ctx, tail[0]), tail[1:])
    if head == "calendargroups":
        return group_routes(ctx, tail)
    extra = MAILBOX_EXTRAS.get(head)
    if extra is not None:
        return extra(ctx, tail)
    raise unknown_segment(rest[0])


# Mailbox-level actions added by later parts (findMeetingTimes, ...): lower-case name -> handler(ctx, rest).
MAILBOX_EXTRAS: dict[str, Callable[[Ctx, list[str]], Response]] = {}


def group_routes(ctx: Ctx, rest: list[str]) -> Response:
    if not rest:
        return methods(ctx, {"GET": lambda: api_calendars.list_groups(ctx),
                             "POST": lambda: api_calendars.create_group(ctx)})
    group = api_calendars.find_group(ctx, rest[0])
    tail = rest[1:]
    if not tail:
        return methods(ctx, {"GET": lambda: api_calendars.get_group(ctx, group),
                             "PATCH": lambda: api_calendars.patch_group(ctx, group),
                             "DELETE": lambda: api_calendars.delete_group(ctx, group)})
    if tail[0].lower() != "calendars":
        raise unknown_segment(tail[0])
    if len(tail) == 1:
        return methods(ctx, {"GET": lambda: api_calendars.list_calendars(ctx, group),
                             "POST": lambda: api_calendars.create_calendar(ctx, group)})
    calendar = api_calendars.find_calendar(ctx, tail[1], group=group)
    return calendar_routes(ctx, calendar, tail[2:])


def calendar_routes(ctx: Ctx, calendar: Any, rest: list[str]) -> Response:
    if not rest:
        return methods(ctx, {"GET": lambda: api_calendars.get_calendar(ctx, calendar),
                             "PATCH": lambda: api_calendars.patch_calendar(ctx, calendar),
                             "DELETE": lambda: api_calendars.delete_calendar(ctx, calendar)})
    head, tail = rest[0].lower(), rest[1:]
    if head == "events":
        return event_routes(ctx, calendar, tail)
    if head == "calendarview" and not tail:
        return methods(ctx, {"GET": lambda: api_events.calendar_view(ctx, calendar)})
    extra = CALENDAR_EXTRAS.get(head)
    if extra is not None:
        return extra(ctx, calendar, tail)
    raise unknown_segment(rest[0])


# Calendar sub-resources added by later parts (calendarPermissions, getSchedule, ...).
CALENDAR_EXTRAS: dict[str, Callable[[Ctx, Any, list[str]], Response]] = {}


def event_routes(ctx: Ctx, calendar: Any | None, rest: list[str]) -> Response:
    api_calendars.require_owner_or_app(ctx)
    if not rest:
        target = calendar or api_calendars.default_calendar(ctx)
        return methods(ctx, {"GET": lambda: api_events.list_events(ctx, target),
                             "POST": lambda: api_events.create_event(ctx, target)})
    event_id, tail = rest[0], rest[1:]
    if not tail:
        return methods(ctx, {"GET": lambda: api_events.get_event(ctx, event_id, calendar),
                             "PATCH": lambda: api_events.patch_event(ctx, event_id, calendar),
                             "DELETE": lambda: api_events.delete_event(ctx, event_id, calendar)})
    action = tail[0]
    if action.lower() == "instances" and len(tail) == 1:
        return methods(ctx, {"GET": lambda: api_events.list_instances(ctx, event_id, calendar)})
    handler = {name.lower(): h for name, h in EVENT_ACTIONS.items()}.get(action.lower())
    if handler is None:
        raise unknown_segment(action)
    return handler(ctx, event_id, calendar, tail[1:])
