"""Who a calendar is shared with (``{mb}/calendar[s/{id}]/calendarPermissions``), and changing that.

A permission is named by its handle or id, or by the person's address ('My Organization' by that name).
Graph's 403 on someone else's calendar is said as what to do (:func:`~.targets.explain_access`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from .. import views
from .errors import InputError
from .services import Services
from .targets import ADDRESS, Target, calendar_path, explain_access, target

__all__ = [
    "Permissions",
    "change_role",
    "check_address",
    "find_permission",
    "list_permissions",
    "permissions_of",
    "share",
    "unshare",
]


@dataclass(frozen=True)
class Permissions:
    """One calendar's permissions: whose calendar, the collection's path, and how to name it to a person."""

    target: Target
    path: str
    label: str


async def permissions_of(
    svc: Services, mailbox: str | None, group_id: str | None, calendar_id: str | None
) -> Permissions:
    t = await target(svc, mailbox, group_id)
    cal = calendar_path(svc, t, calendar_id)
    calendar = f"calendar {await svc.handles.minted('calendar', svc.calendar_id(calendar_id))}" if calendar_id else ""
    label = f"{t.owner or 'your'}{'' if t.owner is None else chr(39) + 's'} " + (calendar or "main calendar")
    return Permissions(t, f"{cal}/calendarPermissions", label)


async def list_permissions(svc: Services, perms: Permissions) -> list[dict[str, Any]]:
    with explain_access(perms.target, writing=False):
        return (await svc.graph.get_all(perms.path)).items


async def find_permission(svc: Services, perms: Permissions, value: str) -> dict[str, Any]:
    """The permission ``value`` names (a handle or id, an address, or 'My Organization')."""
    value = (value or "").strip()
    with explain_access(perms.target, writing=True):
        listed = (await svc.graph.get_all(perms.path)).items
    if "@" in value or value.lower() == "my organization":
        for p in listed:
            email = p.get("emailAddress") or {}
            if (email.get("address") or "").lower() == value.lower() or (
                not email.get("address") and value.lower() == (email.get("name") or "").lower()
            ):
                return p
        raise InputError(
            f"permission: the calendar is not shared with '{value}'; list_calendar_permissions "
            "shows who it is shared with (share_calendar adds someone)."
        )
    graph_id = svc.handles.resolve("permission", value, argument="permission")
    for p in listed:
        if p["id"] == graph_id:
            return p
    raise InputError(
        f"permission: '{value}' is not a permission of this calendar; list_calendar_permissions shows the current ones."
    )


async def share(svc: Services, perms: Permissions, address: str, role: str) -> dict[str, Any]:
    """Share the calendar with ``address`` (not already shared with them) in ``role``; the new permission."""
    with explain_access(perms.target, writing=True):
        listed = (await svc.graph.get_all(perms.path)).items
    for p in listed:
        if ((p.get("emailAddress") or {}).get("address") or "").lower() == address.lower():
            raise InputError(
                f"share_with: the calendar is already shared with {address} (role "
                f"'{p.get('role')}'); change the role with update_calendar_permission instead."
            )
    with explain_access(perms.target, writing=True):
        doc: dict[str, Any] = await svc.graph.post(
            perms.path, json={"emailAddress": {"address": address}, "role": role}
        )
    return doc


def check_address(value: str) -> str:
    """An address to share with, or the error that says what one looks like."""
    address = (value or "").strip()
    if not ADDRESS.match(address):
        raise InputError(
            f"share_with: '{value}' is not an email address; give e.g. 'dana@contoso.com' "
            "(find_people finds a colleague's address)."
        )
    return address


async def change_role(svc: Services, perms: Permissions, value: str, role: str) -> dict[str, Any]:
    """Give the permission ``value`` names another role (one its allowedRoles lists); the updated one."""
    current = await find_permission(svc, perms, value)
    allowed = current.get("allowedRoles") or []
    if allowed and role not in allowed:
        await svc.handles.mint(views.shown("permission", [current]))
        raise InputError(
            f"role: '{role}' is not allowed for {views.permission_view(current, svc.handles).who} "
            f"on this calendar; allowed: {', '.join(allowed)}."
        )
    with explain_access(perms.target, writing=True):
        doc: dict[str, Any] = await svc.graph.patch(
            f"{perms.path}/{quote(current['id'], safe='')}", json={"role": role}
        )
    return doc


async def unshare(svc: Services, perms: Permissions, value: str) -> dict[str, Any]:
    """Remove the permission ``value`` names ('My Organization' cannot be); the removed one."""
    current = await find_permission(svc, perms, value)
    if current.get("isRemovable") is False:
        raise InputError(
            "permission: 'My Organization' can't be removed; use update_calendar_permission with "
            "role='none' to stop sharing free/busy with everyone."
        )
    with explain_access(perms.target, writing=True):
        await svc.graph.delete(f"{perms.path}/{quote(current['id'], safe='')}")
    return current
