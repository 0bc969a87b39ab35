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
      calendarView/delta, calendar[s/{cid}]/calendarView/delta   (sandbox.delta)
      calendar[s/{cid}]/calendarPermissions[/{id}]                (sandbox.sharing)
    users                         GET ($filter, $search)
    groups | groups/{id}          GET; /calendar, /events, /calendarView as for a mailbox (sandbox.groups)

Segments are matched case-insensitively, as Graph does. A known path with a
method it does not take is a 405; an unknown segment a 400 naming it.

Access: the signed-in user's own mailbox (and everything for an app-only
token) is open; anyone else's calendars are reached as their sharing allows
(:mod:`.sharing`): each route below says what it needs (reading events:
limitedRead, changing them: write, the calendar's settings: its owner), and
events read through a limited role come back redacted.
"""

from __future__ import annotations

import json
from typing import Any, Callable

from starlette.responses import Response

from . import api_calendars, api_directory, api_events
from .app import Ctx
from .errors import GraphHTTPError
from .store import parse_occurrence_id


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
        if row is None or row["kind"] == "group":  # groups live under /groups
            raise GraphHTTPError(404, "ErrorInvalidUser", f"The requested user '{segs[1]}' is invalid.")
        ctx.mailbox, ctx.path_prefix, rest = row, f"users/{segs[1]}", segs[2:]
    else:
        extra = EXTRA_ROOTS.get(head)
        if extra is None:
            raise unknown_segment(segs[0])
        return extra(ctx, segs[1:])
    return mailbox_routes(ctx, rest)


# Issue-specific roots (places, groups, ...) register here.
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
    return calendar_root_routes(ctx, rest, MAILBOX_EXTRAS)


def calendar_root_routes(ctx: Ctx, rest: list[str], extras: dict[str, Any] | None) -> Response:
    """events, calendarView, calendar, calendars, calendarGroups (and ``extras``) of ``ctx.mailbox``."""
    head, tail = rest[0].lower(), rest[1:]
    if head == "events":
        return event_routes(ctx, None, tail)
    if head == "calendarview":
        return view_routes(ctx, api_calendars.default_calendar(ctx), tail)
    if head == "calendar":
        return calendar_routes(ctx, api_calendars.default_calendar(ctx), tail)
    if extras is not None and head == "calendars":
        if not tail:
            return methods(ctx, {"GET": lambda: api_calendars.list_calendars(ctx, None),
                                 "POST": lambda: api_calendars.create_calendar(ctx, None)})
        return calendar_routes(ctx, api_calendars.find_calendar(ctx, tail[0]), tail[1:])
    if extras is not None and head == "calendargroups":
        return group_routes(ctx, tail)
    extra = (extras or {}).get(head)
    if extra is not None:
        if not api_calendars.is_owner(ctx):  # another mailbox's reminders, ...: as reading its primary calendar
            api_calendars.require_calendar(ctx, api_calendars.default_calendar(ctx), READ_EVENTS)
        return extra(ctx, tail)
    raise unknown_segment(rest[0])


# Mailbox-level actions added by later parts (findMeetingTimes, ...): lower-case name -> handler(ctx, rest).
MAILBOX_EXTRAS: dict[str, Callable[[Ctx, list[str]], Response]] = {}
# Access levels (sandbox.sharing): reading events needs limitedRead, changing them write.
FREE_BUSY, READ_EVENTS, WRITE_EVENTS, PRIVATE_EVENTS, OWNER = 1, 2, 4, 6, 100


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


def _checked(ctx: Ctx, calendar: Any, level: int, handler: Callable[[], Response]) -> Response:
    api_calendars.require_calendar(ctx, calendar, level)
    return handler()


def _read_events(ctx: Ctx, calendar: Any, handler: Callable[[], Response]) -> Response:
    """Events of ``calendar`` as the caller may see them (redacted below delegateWithPrivateEventAccess)."""
    from . import sharing  # noqa: PLC0415

    got = api_calendars.require_calendar(ctx, calendar, READ_EVENTS)
    return sharing.redact_response(handler(), got)


def calendar_routes(ctx: Ctx, calendar: Any, rest: list[str]) -> Response:
    if not rest:
        return methods(ctx, {"GET": lambda: _checked(ctx, calendar, READ_EVENTS,
                                                     lambda: api_calendars.get_calendar(ctx, calendar)),
                             "PATCH": lambda: _checked(ctx, calendar, OWNER,
                                                       lambda: api_calendars.patch_calendar(ctx, calendar)),
                             "DELETE": lambda: _checked(ctx, calendar, OWNER,
                                                        lambda: api_calendars.delete_calendar(ctx, calendar))})
    head, tail = rest[0].lower(), rest[1:]
    if head == "events":
        return event_routes(ctx, calendar, tail)
    if head == "calendarview":
        return view_routes(ctx, calendar, tail)
    extra = CALENDAR_EXTRAS.get(head)
    if extra is not None:
        level = CALENDAR_EXTRA_LEVELS.get(head) or (READ_EVENTS if ctx.method == "GET" else WRITE_EVENTS)
        api_calendars.require_calendar(ctx, calendar, level)
        return extra(ctx, calendar, tail)
    raise unknown_segment(rest[0])


# Calendar sub-resources added by later parts (calendarPermissions, getSchedule, ...).
CALENDAR_EXTRAS: dict[str, Callable[[Ctx, Any, list[str]], Response]] = {}
# The access a calendar sub-resource needs from someone else than the owner (default: read events to GET,
# write events otherwise); the handler may ask for more.
CALENDAR_EXTRA_LEVELS: dict[str, int] = {"getschedule": READ_EVENTS, "calendarpermissions": FREE_BUSY}
# calendarView variants (delta, sync): hook(ctx, calendar, rest) -> Response, or None when not theirs.
CALENDAR_VIEW_HOOKS: list[Callable[[Ctx, Any, list[str]], Response | None]] = []


def view_routes(ctx: Ctx, calendar: Any, rest: list[str]) -> Response:
    for hook in CALENDAR_VIEW_HOOKS:
        response = hook(ctx, calendar, rest)
        if response is not None:
            return response
    if rest:
        raise unknown_segment(rest[0])
    return methods(ctx, {"GET": lambda: _read_events(ctx, calendar, lambda: api_events.calendar_view(ctx, calendar))})


def event_calendar(ctx: Ctx, event_id: str) -> tuple[Any | None, Any | None]:
    """(calendar row, stored row of the event or its series master) of an event of ``ctx.mailbox``, if any."""
    row = ctx.store.event_row(ctx.mailbox["id"], event_id)
    if row is None:
        parsed = parse_occurrence_id(event_id)
        row = ctx.store.event_row(ctx.mailbox["id"], parsed[0]) if parsed else None
    if row is None:
        return None, None
    return ctx.store.calendar(ctx.mailbox["id"], row["calendar_id"]), row


def event_routes(ctx: Ctx, calendar: Any | None, rest: list[str]) -> Response:
    if not rest:
        target = calendar or api_calendars.default_calendar(ctx)
        return methods(ctx, {"GET": lambda: _read_events(ctx, target, lambda: api_events.list_events(ctx, target)),
                             "POST": lambda: _checked(ctx, target, WRITE_EVENTS,
                                                      lambda: api_events.create_event(ctx, target))})
    event_id, tail = rest[0], rest[1:]
    got = None
    if not api_calendars.is_owner(ctx):
        home, row = event_calendar(ctx, event_id)
        home = calendar or home or api_calendars.default_calendar(ctx)
        got = api_calendars.require_calendar(ctx, home, READ_EVENTS if ctx.method == "GET" else WRITE_EVENTS)
        _check_private(ctx, got, row, bool(tail))
    if not tail:
        return _redacted(got, methods(ctx, {"GET": lambda: api_events.get_event(ctx, event_id, calendar),
                                            "PATCH": lambda: api_events.patch_event(ctx, event_id, calendar),
                                            "DELETE": lambda: api_events.delete_event(ctx, event_id, calendar)}))
    action = tail[0]
    if action.lower() == "instances" and len(tail) == 1:
        return _redacted(got, methods(ctx, {"GET": lambda: api_events.list_instances(ctx, event_id, calendar)}))
    handler = {name.lower(): h for name, h in EVENT_ACTIONS.items()}.get(action.lower())
    if handler is None:
        raise unknown_segment(action)
    return handler(ctx, event_id, calendar, tail[1:])


def _check_private(ctx: Ctx, got: Any, row: Any | None, action: bool) -> None:
    """Below delegateWithPrivateEventAccess, a private event can't be changed, nor its details read."""
    from . import sharing  # noqa: PLC0415

    if got.full or row is None:
        return
    private = sharing.is_private(json.loads(row["doc"]))
    if (private and (ctx.method != "GET" or action)) or (action and got.level <= READ_EVENTS):
        level = PRIVATE_EVENTS if private else READ_EVENTS + 1
        raise GraphHTTPError(403, "ErrorAccessDenied", (
            f"{sharing.DENIED} {ctx.principal.mailbox['address']} has the role '{got.role}' on "
            f"{ctx.mailbox['address']}'s calendar; "
            + ("this event is private: only the owner and delegates with delegateWithPrivateEventAccess can "
               "change it or see its details." if private else
               f"its details need {sharing.NEEDS.get(level, 'read')} or more.")))


def _redacted(got: Any, response: Response) -> Response:
    if got is None:
        return response
    from . import sharing  # noqa: PLC0415

    return sharing.redact_response(response, got)


# The parts that register themselves here.
from . import delta, groups, series, sharing  # noqa: E402, F401
