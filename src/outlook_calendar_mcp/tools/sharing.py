"""Calendar sharing tools, and reaching other people's and groups' calendars.

Tools: list_calendar_permissions, share_calendar, update_calendar_permission,
remove_calendar_permission (``{mb}/calendar[s/{id}]/calendarPermissions``).

Whose calendar (``mailbox``, ``group_id``) and what a 403 means there live in
:mod:`..calendar.targets`, shared with the event and sync tools.
"""

from __future__ import annotations

from typing import Annotated, Literal
from urllib.parse import quote

from pydantic import Field

from .. import views
from ..calendar import InputError, Services
from ..calendar.targets import ADDRESS, Target, calendar_path, explain_access, target
from ..views import Compact, Permission
from .common import READ_ONLY, CalendarId, DetailArg, GroupId, Mailbox, Toolbox, tool, writes
from .policy import Policy

Role = Literal["freeBusyRead", "limitedRead", "read", "write", "delegateWithoutPrivateEventAccess",
               "delegateWithPrivateEventAccess"]
RoleOrNone = Literal["none", "freeBusyRead", "limitedRead", "read", "write", "delegateWithoutPrivateEventAccess",
                     "delegateWithPrivateEventAccess"]
CalendarArg = CalendarId
PermissionRef = Annotated[str, Field(
    description="perm_ handle, id, or the person's address")]


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


def register(box: Toolbox, svc: Services, enabled: Policy | None = None) -> None:
    """Add this module's tools to ``box``."""
    g = svc.graph

    async def permissions_path(mailbox: str | None, group_id: str | None,
                               calendar_id: str | None) -> tuple[Target, str, str]:
        t = await target(svc, mailbox, group_id)
        cal = calendar_path(svc, t, calendar_id)
        label = f"{t.owner or 'your'}{'' if t.owner is None else chr(39) + 's'} " + (
            f"calendar {svc.handles.handle('calendar', svc.calendar_id(calendar_id))}" if calendar_id
            else "main calendar")
        return t, f"{cal}/calendarPermissions", label

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

    @tool(box, READ_ONLY, enabled=enabled, name="list_calendar_permissions")
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

    @tool(box, writes(destructive=False, idempotent=False, reaches_others=True), enabled=enabled, name="share_calendar")
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

    @tool(box, writes(destructive=False, idempotent=True, reaches_others=True), enabled=enabled, name="update_calendar_permission")
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

    @tool(box, writes(destructive=True, idempotent=True, reaches_others=True), enabled=enabled, name="remove_calendar_permission")
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

