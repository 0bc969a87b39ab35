"""Calendar and calendar-group endpoints."""

from __future__ import annotations

import json
from typing import Any

from starlette.responses import Response

from ..ctx import Ctx
from ..errors import GraphHTTPError, bad_request, not_found
from ..models import odata, sharing
from ..models.bodies import CALENDAR, CALENDAR_GROUP, check
from ..models.rows import CalendarGroupRow, CalendarRow
from ..models.store import etag, new_change_key
from .common import check_if_match, parse_query, respond_docs

CALENDAR_PROPERTIES = {
    "id",
    "name",
    "color",
    "hexColor",
    "isDefaultCalendar",
    "changeKey",
    "canShare",
    "canViewPrivateItems",
    "canEdit",
    "allowedOnlineMeetingProviders",
    "defaultOnlineMeetingProvider",
    "isTallyingResponses",
    "isRemovable",
    "owner",
}
GROUP_PROPERTIES = {"id", "name", "classId", "changeKey"}
LIST_OPTIONS = {"$select", "$filter", "$orderby", "$top", "$skip", "$count"}
HEX = {
    "auto": "",
    "lightBlue": "#a6d1f5",
    "lightGreen": "#87d28e",
    "lightOrange": "#fcab73",
    "lightGray": "#c0c0c0",
    "lightYellow": "#f4d07a",
    "lightTeal": "#62d4d3",
    "lightPink": "#f99fb4",
    "lightBrown": "#d9b38c",
    "lightRed": "#f88e8e",
    "maxColor": "",
}
DISTINGUISHED = "Distinguished folders cannot be deleted."


def _owner(ctx: Ctx) -> dict[str, str]:
    return {"name": json.loads(ctx.mailbox["doc"])["displayName"], "address": ctx.mailbox["address"]}


def require_owner_or_app(ctx: Ctx) -> None:
    """Mailbox-level operations (calendar folders and groups, findMeetingTimes) are the owner's (or the app's)."""
    if ctx.principal.app_only or ctx.principal.mailbox["id"] == ctx.mailbox["id"]:
        return
    raise GraphHTTPError(
        403,
        "ErrorAccessDenied",
        f"Access is denied. Check credentials and try again. Only {ctx.mailbox['address']} (or an "
        "app) can do this in that mailbox; calendars it shares are reached as "
        f"/users/{ctx.mailbox['address']}/calendar or .../calendars/{{id}}.",
    )


def is_owner(ctx: Ctx) -> bool:
    return ctx.principal.app_only or ctx.principal.mailbox["id"] == ctx.mailbox["id"]


def require_calendar(ctx: Ctx, calendar: CalendarRow, level: int) -> Any:
    """The caller's access to ``calendar`` (see :mod:`.sharing`), or 403."""
    return sharing.require(ctx, calendar, level)


# -- calendars ---------------------------------------------------------------------


def _calendar(ctx: Ctx, calendar_id: str) -> CalendarRow:
    """A calendar of the mailbox that this request just wrote (so it is there)."""
    row = ctx.store.calendar(ctx.mailbox["id"], calendar_id)
    assert row is not None, calendar_id
    return row


def _group(ctx: Ctx, group_id: str) -> CalendarGroupRow:
    row = ctx.store.group(ctx.mailbox["id"], group_id)
    assert row is not None, group_id
    return row


def render_calendar(ctx: Ctx, row: CalendarRow) -> dict[str, Any]:
    doc = json.loads(row["doc"])
    got = sharing.access(ctx, row)
    owner_self = got.owner
    can_edit = doc.get("canEdit", True) and got.level >= sharing.WRITE
    return {
        "@odata.etag": etag(row["change_key"]),
        "id": row["id"],
        "name": doc["name"],
        "color": doc.get("color", "auto"),
        "hexColor": doc.get("hexColor", HEX.get(doc.get("color", "auto"), "")),
        "isDefaultCalendar": bool(row["is_default"]),
        "changeKey": row["change_key"],
        "canShare": owner_self and ctx.mailbox["kind"] != "group",
        "canViewPrivateItems": got.full,
        "canEdit": can_edit,
        "allowedOnlineMeetingProviders": ["teamsForBusiness"],
        "defaultOnlineMeetingProvider": doc.get("defaultOnlineMeetingProvider", "teamsForBusiness"),
        "isTallyingResponses": bool(row["is_default"]),
        "isRemovable": not row["is_default"],
        "owner": doc.get("owner") or _owner(ctx),
    }


def default_calendar(ctx: Ctx) -> Any:
    """The mailbox's primary calendar (access is checked by the route, per operation)."""
    row = ctx.store.default_calendar(ctx.mailbox["id"])
    if row is None:
        raise not_found("The mailbox has no calendar folder.")
    return row


def find_calendar(ctx: Ctx, calendar_id: str, group: CalendarGroupRow | None = None) -> Any:
    """A calendar of the mailbox by id; someone with no access to any of its calendars gets 403, not 404."""
    row = ctx.store.calendar(ctx.mailbox["id"], calendar_id)
    if row is None or (group is not None and row["group_id"] != group["id"]):
        if not is_owner(ctx) and not sharing.can_see_any(ctx, ctx.mailbox, sharing.FREE_BUSY):
            require_owner_or_app(ctx)
        raise not_found()
    return row


def list_calendars(ctx: Ctx, group: CalendarGroupRow | None) -> Response:
    if is_owner(ctx) or group is not None:
        require_owner_or_app(ctx)
        rows = ctx.store.calendars(ctx.mailbox["id"], group["id"] if group else None)
    else:  # someone else's mailbox: the calendars shared with the caller, if any
        rows = sharing.can_see_any(ctx, ctx.mailbox, sharing.LIMITED)
        if not rows:
            require_owner_or_app(ctx)
    query = parse_query(ctx, LIST_OPTIONS, CALENDAR_PROPERTIES, "microsoft.graph.calendar")
    return respond_docs(ctx, [render_calendar(ctx, r) for r in rows], query, f"users('{ctx.mailbox['id']}')/calendars")


def get_calendar(ctx: Ctx, row: CalendarRow) -> Response:
    query = parse_query(ctx, {"$select"}, CALENDAR_PROPERTIES, "microsoft.graph.calendar")
    body = odata.project(render_calendar(ctx, row), query.select)
    return ctx.respond({"@odata.context": ctx.context_url(f"users('{ctx.mailbox['id']}')/calendars/$entity"), **body})


def _check_name(ctx: Ctx, name: Any, table: str, exclude: str | None = None) -> None:
    if not isinstance(name, str) or not name.strip():
        raise bad_request("The property 'name' is required and cannot be empty.", "ErrorInvalidParameter")
    if table == "calendars":
        rows = ctx.store.calendars(ctx.mailbox["id"])
        names = [json.loads(r["doc"])["name"] for r in rows if r["id"] != exclude]
    else:
        names = [r["name"] for r in ctx.store.groups(ctx.mailbox["id"]) if r["id"] != exclude]
    if name.strip().lower() in (n.lower() for n in names):
        raise GraphHTTPError(409, "ErrorFolderExists", "A folder with the specified name already exists.")


def create_calendar(ctx: Ctx, group: CalendarGroupRow | None) -> Response:
    require_owner_or_app(ctx)
    body = ctx.json()
    check(body, CALENDAR)
    _check_name(ctx, body.get("name"), "calendars")
    if group is None:
        group = ctx.store.groups(ctx.mailbox["id"])[0]
    doc = {"name": body["name"].strip(), "color": body.get("color") or "auto", "owner": _owner(ctx)}
    if body.get("hexColor"):
        doc["hexColor"] = body["hexColor"]
    calendar_id = ctx.store.add_calendar(ctx.mailbox["id"], group["id"], doc)
    row = _calendar(ctx, calendar_id)
    return ctx.respond(
        {
            "@odata.context": ctx.context_url(f"users('{ctx.mailbox['id']}')/calendars/$entity"),
            **render_calendar(ctx, row),
        },
        201,
        {"Location": f"{ctx.base_url()}/{ctx.path_prefix}/calendars('{calendar_id}')"},
    )


def patch_calendar(ctx: Ctx, row: CalendarRow) -> Response:
    body = ctx.json()
    check(body, CALENDAR)
    check_if_match(ctx, row["change_key"], "calendar")
    doc = json.loads(row["doc"])
    if "name" in body:
        _check_name(ctx, body["name"], "calendars", exclude=row["id"])
        doc["name"] = body["name"].strip()
    for key in ("color", "hexColor", "defaultOnlineMeetingProvider"):
        if key in body:
            doc[key] = body[key]
    if "color" in body and "hexColor" not in body:
        doc.pop("hexColor", None)
    ctx.store.update_calendar(row["id"], doc, new_change_key())
    return get_calendar(ctx, _calendar(ctx, row["id"]))


def delete_calendar(ctx: Ctx, row: CalendarRow) -> Response:
    check_if_match(ctx, row["change_key"], "calendar")
    if row["is_default"]:
        raise GraphHTTPError(400, "ErrorDeleteDistinguishedFolder", DISTINGUISHED)
    for event in ctx.store.calendar_events(row["id"]):
        ctx.store.delete_event_row(event)
    sharing.drop_calendar(ctx, row)
    ctx.store.delete_calendar(row["id"])
    return ctx.respond(None, 204)


# -- calendar groups -------------------------------------------------------------------


def render_group(row: CalendarGroupRow) -> dict[str, Any]:
    return {
        "@odata.etag": etag(row["change_key"]),
        "id": row["id"],
        "name": row["name"],
        "classId": row["class_id"],
        "changeKey": row["change_key"],
    }


def find_group(ctx: Ctx, group_id: str) -> Any:
    require_owner_or_app(ctx)
    row = ctx.store.group(ctx.mailbox["id"], group_id)
    if row is None:
        raise not_found()
    return row


def list_groups(ctx: Ctx) -> Response:
    require_owner_or_app(ctx)
    query = parse_query(ctx, LIST_OPTIONS, GROUP_PROPERTIES, "microsoft.graph.calendarGroup")
    return respond_docs(
        ctx,
        [render_group(r) for r in ctx.store.groups(ctx.mailbox["id"])],
        query,
        f"users('{ctx.mailbox['id']}')/calendarGroups",
    )


def get_group(ctx: Ctx, row: CalendarGroupRow) -> Response:
    query = parse_query(ctx, {"$select"}, GROUP_PROPERTIES, "microsoft.graph.calendarGroup")
    body = odata.project(render_group(row), query.select)
    return ctx.respond(
        {"@odata.context": ctx.context_url(f"users('{ctx.mailbox['id']}')/calendarGroups/$entity"), **body}
    )


def create_group(ctx: Ctx) -> Response:
    require_owner_or_app(ctx)
    body = ctx.json()
    check(body, CALENDAR_GROUP)
    _check_name(ctx, body.get("name"), "groups")
    group_id = ctx.store.add_group(ctx.mailbox["id"], body["name"].strip(), body.get("classId"))
    row = _group(ctx, group_id)
    return ctx.respond(
        {
            "@odata.context": ctx.context_url(f"users('{ctx.mailbox['id']}')/calendarGroups/$entity"),
            **render_group(row),
        },
        201,
        {"Location": f"{ctx.base_url()}/{ctx.path_prefix}/calendarGroups('{group_id}')"},
    )


def patch_group(ctx: Ctx, row: CalendarGroupRow) -> Response:
    body = ctx.json()
    check(body, CALENDAR_GROUP)
    check_if_match(ctx, row["change_key"], "calendar group")
    if "classId" in body:
        raise bad_request("classId is set when the calendar group is created and cannot be changed.")
    if "name" in body:
        _check_name(ctx, body["name"], "groups", exclude=row["id"])
        ctx.store.rename_group(row["id"], body["name"].strip(), new_change_key())
    return get_group(ctx, _group(ctx, row["id"]))


def delete_group(ctx: Ctx, row: CalendarGroupRow) -> Response:
    check_if_match(ctx, row["change_key"], "calendar group")
    first = ctx.store.groups(ctx.mailbox["id"])[0]
    if row["id"] == first["id"]:
        raise GraphHTTPError(400, "ErrorDeleteDistinguishedFolder", DISTINGUISHED)
    if ctx.store.calendars(ctx.mailbox["id"], row["id"]):
        raise GraphHTTPError(
            400,
            "ErrorCannotDeleteObject",
            "The calendar group still holds calendars: delete them or move them out first.",
        )
    ctx.store.delete_group(row["id"])
    return ctx.respond(None, 204)
