"""Calendar sharing tools, and reaching other people's and groups' calendars.

Tools: list_calendar_permissions, share_calendar, update_calendar_permission,
remove_calendar_permission (``{mb}/calendar[s/{id}]/calendarPermissions``).

The operations are :mod:`..calendar.sharing`; whose calendar (``mailbox``, ``group_id``) and what a 403
means there, :mod:`..calendar.targets`, shared with the event and sync tools.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from .. import views
from ..calendar import Services
from ..calendar.sharing import change_role, check_address, list_permissions, permissions_of, share, unshare
from ..views import Compact, Permission
from .common import READ_ONLY, CalendarId, DetailArg, GroupId, Mailbox, Toolbox, tool, writes
from .policy import Policy

Role = Literal[
    "freeBusyRead",
    "limitedRead",
    "read",
    "write",
    "delegateWithoutPrivateEventAccess",
    "delegateWithPrivateEventAccess",
]
RoleOrNone = Literal[
    "none",
    "freeBusyRead",
    "limitedRead",
    "read",
    "write",
    "delegateWithoutPrivateEventAccess",
    "delegateWithPrivateEventAccess",
]
CalendarArg = CalendarId
PermissionRef = Annotated[str, Field(description="perm_ handle, id, or the person's address")]


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

    @tool(box, READ_ONLY, enabled=enabled, name="list_calendar_permissions")
    async def list_calendar_permissions(
        calendar_id: CalendarArg = None,
        mailbox: Mailbox = None,
        group_id: GroupId = None,
        detail: DetailArg = "compact",
    ) -> PermissionList:
        """Use to see who a calendar is shared with. Returns each person (or 'My Organization') and their role."""
        perms = await permissions_of(svc, mailbox, group_id, calendar_id)
        listed = await list_permissions(svc, perms)
        note = None
        if not listed and perms.target.owner is not None:
            note = "Only the calendar's owner sees its permissions; a sharee or delegate sees none."
        await svc.handles.mint(views.shown("permission", listed))  # the new handles: one store round trip
        return PermissionList(
            calendar=perms.label, note=note, permissions=[views.permission_view(p, svc.handles, detail) for p in listed]
        )

    @tool(box, writes(destructive=False, idempotent=False, reaches_others=True), enabled=enabled, name="share_calendar")
    async def share_calendar(
        share_with: Annotated[str, Field(description="Their address, e.g. dana@contoso.com")],
        role: Role = "read",
        calendar_id: CalendarArg = None,
        mailbox: Mailbox = None,
    ) -> PermissionResult:
        """Use to share a calendar with someone (or make them a delegate). Returns the new permission."""
        address = check_address(share_with)
        perms = await permissions_of(svc, mailbox, None, calendar_id)
        doc = await share(svc, perms, address, role)
        await svc.handles.mint(views.shown("permission", [doc]))
        return PermissionResult(
            calendar=perms.label,
            permission=views.permission_view(doc, svc.handles, "full"),
            note=f"{address} reaches it in the calendar tools with mailbox set to your address."
            if perms.target.base == "me"
            else None,
        )

    @tool(
        box,
        writes(destructive=False, idempotent=True, reaches_others=True),
        enabled=enabled,
        name="update_calendar_permission",
    )
    async def update_calendar_permission(
        permission: PermissionRef,
        role: RoleOrNone,  # none: only for the 'My Organization' permission
        calendar_id: CalendarArg = None,
        mailbox: Mailbox = None,
    ) -> PermissionResult:
        """Use to change what someone (or the whole organization) may see or do in a calendar. Returns the updated permission."""
        perms = await permissions_of(svc, mailbox, None, calendar_id)
        doc = await change_role(svc, perms, permission, role)
        await svc.handles.mint(views.shown("permission", [doc]))
        return PermissionResult(calendar=perms.label, permission=views.permission_view(doc, svc.handles, "full"))

    @tool(
        box,
        writes(destructive=True, idempotent=True, reaches_others=True),
        enabled=enabled,
        name="remove_calendar_permission",
    )
    async def remove_calendar_permission(
        permission: PermissionRef, calendar_id: CalendarArg = None, mailbox: Mailbox = None
    ) -> PermissionRemoved:
        """Use to stop sharing a calendar with someone. Returns who lost access."""
        perms = await permissions_of(svc, mailbox, None, calendar_id)
        removed = await unshare(svc, perms, permission)
        await svc.handles.mint(views.shown("permission", [removed]))
        view = views.permission_view(removed, svc.handles)
        return PermissionRemoved(calendar=perms.label, removed=view.handle, who=view.who)
