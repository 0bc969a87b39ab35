"""Calendar sharing tools, and reaching other people's and groups' calendars.

Tools: list_calendar_permissions, share_calendar, update_calendar_permission,
remove_calendar_permission (``{mb}/calendar[s/{id}]/calendarPermissions``).

Shared with the event tools: :func:`target` turns ``mailbox`` / ``group_id``
into the Graph path of whose calendar a tool works on (``me``,
``users/{address}``, ``groups/{id}``: a Microsoft 365 group by id or email
address), and :func:`explain_access` turns Graph's 403 on someone else's
calendar into what to do about it (ask them to share it, or to give write
access).
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Annotated, Any, Literal
from urllib.parse import quote

from mcp.server.mcpserver import MCPServer
from pydantic import Field

from .. import views
from ..graph import Forbidden
from ..views import Compact, Permission
from .common import READ_ONLY, CalendarId, DetailArg, InputError, Mailbox, Services, tool, writes

GUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
ADDRESS = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
Role = Literal["freeBusyRead", "limitedRead", "read", "write", "delegateWithoutPrivateEventAccess",
               "delegateWithPrivateEventAccess"]
RoleOrNone = Literal["none", "freeBusyRead", "limitedRead", "read", "write", "delegateWithoutPrivateEventAccess",
                     "delegateWithPrivateEventAccess"]
GroupId = Annotated[str | None, Field(description="M365 group id or address")]  # use that group's calendar
CalendarArg = CalendarId
PermissionRef = Annotated[str, Field(
    description="perm_ handle, id, or the person's address")]


@dataclass(frozen=True)
class Target:
    """Whose calendar a tool works on."""

    base: str                 # me | users/{address} | groups/{id}
    owner: str | None         # who to name in messages; None: the signed-in user's own
    zone_mailbox: str | None  # whose mailbox settings give the default time zone
    group: bool = False


async def target(svc: Services, mailbox: str | None, group_id: str | None) -> Target:
    if group_id is not None:
        if (mailbox or "").strip():
            raise InputError("group_id: give either mailbox (a person's calendar) or group_id (a group's calendar), "
                             "not both.")
        gid = await group_id_of(svc, group_id)
        return Target(f"groups/{quote(gid, safe='')}", f"the group {group_id.strip()}", None, group=True)
    base = svc.mb(mailbox)
    return Target(base, None if base == "me" else (mailbox or "").strip() or None, mailbox)


async def group_id_of(svc: Services, value: str) -> str:
    """A Microsoft 365 group's id from its id or email address."""
    value = (value or "").strip()
    if value.startswith("grp_"):
        raise InputError(f"group_id: '{value}' is a calendar group handle (from list_calendar_groups); this argument "
                         "takes a Microsoft 365 group's id or email address, e.g. 'launch@contoso.com'.")
    if GUID.match(value):
        return value
    if not ADDRESS.match(value):
        raise InputError(f"group_id: '{value}' is neither a group id (a GUID) nor a group's email address such as "
                         "'launch@contoso.com'.")
    cache = svc.__dict__.setdefault("_group_ids", {})
    key = value.lower()
    if key not in cache:
        found = await svc.graph.get("groups", params={"$filter": f"mail eq '{value.replace(chr(39), chr(39) * 2)}'",
                                                      "$select": "id,displayName,mail"})
        items = (found or {}).get("value") or []
        if not items:
            raise InputError(f"group_id: no Microsoft 365 group has the address '{value}'; check the address, or "
                             "give the group's id.")
        cache[key] = items[0]["id"]
    return cache[key]


async def zone_for(svc: Services, t: Target, time_zone: str | None) -> tuple[str, Any]:
    """The zone to read and show times in: ``time_zone``, else the calendar owner's, else (their mailbox
    settings being theirs alone, as for a sharee or a group) the signed-in user's own."""
    if time_zone or t.zone_mailbox is None:
        return await svc.zone(None if time_zone else t.zone_mailbox, time_zone)
    denied = svc.__dict__.setdefault("_zone_denied", set())
    if t.zone_mailbox.lower() not in denied:
        try:
            return await svc.zone(t.zone_mailbox, None)
        except Forbidden:
            denied.add(t.zone_mailbox.lower())
    return await svc.zone(None, None)


@contextlib.contextmanager
def explain_access(t: Target, *, writing: bool) -> Iterator[None]:
    """Graph's 403 on someone else's (or a group's) calendar, said as what to do about it."""
    try:
        yield
    except Forbidden as e:
        if t.owner is None:
            raise
        if t.group:
            advice = (f"You can't {'change' if writing else 'read'} the calendar of {t.owner}: only its members "
                      "can (and, for a public group, everyone can read it). Ask an owner of the group to add you.")
        elif writing:
            advice = (f"You don't have write access to {t.owner}'s calendar. Ask {t.owner} to give it to you: "
                      "share_calendar (share_with=your address, role='write') or, if they already share it with "
                      "you, update_calendar_permission with role='write'.")
        else:
            advice = (f"You don't have access to {t.owner}'s calendar: they haven't shared it with you (everyone "
                      "in the organization sees only free/busy, through get_schedule). Ask them to share it with "
                      "you with share_calendar (share_with=your address, role='read', or 'write' to let you change "
                      "events).")
        raise Forbidden(f"{advice} Graph said: {e.message}", status=e.status, code=e.code,
                        request_id=e.request_id, date=e.date) from e


class PermissionList(Compact):
    calendar: str = Field(description="Whose calendar, and which")
    permissions: list[Permission]
    note: str | None = None


class PermissionResult(Compact):
    calendar: str
    permission: Permission
    note: str | None = None


class PermissionRemoved(Compact):
    calendar: str
    removed: str
    who: str


def register(server: MCPServer, svc: Services, enabled=None) -> None:
    g = svc.graph

    async def permissions_path(mailbox: str | None, group_id: str | None,
                               calendar_id: str | None) -> tuple[Target, str, str]:
        t = await target(svc, mailbox, group_id)
        if calendar_id and t.group:
            raise InputError("calendar_id: a group has one calendar; leave calendar_id out with group_id.")
        cal = f"calendars/{quote(svc.calendar_id(calendar_id), safe='')}" if calendar_id else "calendar"
        label = f"{t.owner or 'your'}{'' if t.owner is None else chr(39) + 's'} " + (
            f"calendar {svc.handles.handle('calendar', svc.calendar_id(calendar_id))}" if calendar_id
            else "main calendar")
        return t, f"{t.base}/{cal}/calendarPermissions", label

    async def find_permission(path: str, t: Target, value: str) -> dict:
        value = (value or "").strip()
        with explain_access(t, writing=True):
            listed = (await g.get_all(path)).items
        if "@" in value or value.lower() == "my organization":
            for p in listed:
                email = p.get("emailAddress") or {}
                if (email.get("address") or "").lower() == value.lower() or (
                        not email.get("address") and value.lower() == (email.get("name") or "").lower()):
                    return p
            raise InputError(f"permission: the calendar is not shared with '{value}'; list_calendar_permissions "
                             "shows who it is shared with (share_calendar adds someone).")
        graph_id = svc.handles.resolve("permission", value, argument="permission")
        for p in listed:
            if p["id"] == graph_id:
                return p
        raise InputError(f"permission: '{value}' is not a permission of this calendar; list_calendar_permissions "
                         "shows the current ones.")

    @tool(server, READ_ONLY, enabled=enabled, name="list_calendar_permissions")
    async def list_calendar_permissions(calendar_id: CalendarArg = None, mailbox: Mailbox = None,
                                        group_id: GroupId = None, detail: DetailArg = "compact") -> PermissionList:
        """Use to see who a calendar is shared with and how much they may see or do. Returns each person (and 'My Organization') with their role."""
        t, path, label = await permissions_path(mailbox, group_id, calendar_id)
        with explain_access(t, writing=False):
            page = await g.get_all(path)
        note = None
        if not page.items and t.owner is not None:
            note = "Only the calendar's owner sees its permissions; a sharee or delegate sees none."
        return PermissionList(calendar=label, note=note,
                              permissions=[views.permission_view(p, svc.handles, detail) for p in page.items])

    @tool(server, writes(destructive=False, idempotent=False, reaches_others=True), enabled=enabled, name="share_calendar")
    async def share_calendar(
        share_with: Annotated[str, Field(description="Address of the person to share with, e.g. dana@contoso.com")],
        role: Role = "read",
        calendar_id: CalendarArg = None, mailbox: Mailbox = None,
    ) -> PermissionResult:
        """Use to share a calendar with someone (or make them a delegate). Returns the new permission."""
        address = (share_with or "").strip()
        if not ADDRESS.match(address):
            raise InputError(f"share_with: '{share_with}' is not an email address; give e.g. 'dana@contoso.com' "
                             "(find_people finds a colleague's address).")
        t, path, label = await permissions_path(mailbox, None, calendar_id)
        with explain_access(t, writing=True):
            listed = (await g.get_all(path)).items
        for p in listed:
            if ((p.get("emailAddress") or {}).get("address") or "").lower() == address.lower():
                raise InputError(f"share_with: the calendar is already shared with {address} (role "
                                 f"'{p.get('role')}'); change the role with update_calendar_permission instead.")
        with explain_access(t, writing=True):
            doc = await g.post(path, json={"emailAddress": {"address": address}, "role": role})
        return PermissionResult(calendar=label, permission=views.permission_view(doc, svc.handles, "full"),
                                note=f"{address} reaches it in the calendar tools with mailbox set to your address."
                                if t.base == "me" else None)

    @tool(server, writes(destructive=False, idempotent=True, reaches_others=True), enabled=enabled, name="update_calendar_permission")
    async def update_calendar_permission(
        permission: PermissionRef,
        role: RoleOrNone,  # none: only for the 'My Organization' permission
        calendar_id: CalendarArg = None, mailbox: Mailbox = None,
    ) -> PermissionResult:
        """Use to change how much someone (or everyone in the organization) may see or do in a calendar. Returns the updated permission."""
        t, path, label = await permissions_path(mailbox, None, calendar_id)
        current = await find_permission(path, t, permission)
        allowed = current.get("allowedRoles") or []
        if allowed and role not in allowed:
            raise InputError(f"role: '{role}' is not allowed for {views.permission_view(current, svc.handles).who} "
                             f"on this calendar; allowed: {', '.join(allowed)}.")
        with explain_access(t, writing=True):
            doc = await g.patch(f"{path}/{quote(current['id'], safe='')}", json={"role": role})
        return PermissionResult(calendar=label, permission=views.permission_view(doc, svc.handles, "full"))

    @tool(server, writes(destructive=True, idempotent=True, reaches_others=True), enabled=enabled, name="remove_calendar_permission")
    async def remove_calendar_permission(permission: PermissionRef, calendar_id: CalendarArg = None,
                                         mailbox: Mailbox = None) -> PermissionRemoved:
        """Use to stop sharing a calendar with someone. Returns who lost access."""
        t, path, label = await permissions_path(mailbox, None, calendar_id)
        current = await find_permission(path, t, permission)
        view = views.permission_view(current, svc.handles)
        if current.get("isRemovable") is False:
            raise InputError("permission: 'My Organization' can't be removed; use update_calendar_permission with "
                             "role='none' to stop sharing free/busy with everyone.")
        with explain_access(t, writing=True):
            await g.delete(f"{path}/{quote(current['id'], safe='')}")
        return PermissionRemoved(calendar=label, removed=view.handle, who=view.who)

