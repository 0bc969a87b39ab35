"""Calendar sharing and delegation: ``calendarPermissions`` and the access they grant.

Who may do what with a calendar (:func:`access`):

* the mailbox's owner, and the app (app-only token), may do everything;
* a Microsoft 365 group's calendar (mailbox kind ``group``): members read and
  write it; anyone else in the organization reads a public group's calendar,
  and nobody else reaches a private group's one;
* anyone else gets the role the calendar's permissions give them: their own
  ``calendarPermission``, else the "My Organization" one (``freeBusyRead`` on
  a user's primary calendar, ``none`` on the others), as Exchange does.

What each role allows (Graph's calendarRoleType):

=================================  ==========================================================
none                               nothing: 403
freeBusyRead                       free/busy through getSchedule only; events and the
                                   calendar itself: 403
limitedRead                        events with times, subject and location only
read                               every detail of non-private events; private events show
                                   their times only
write                              read, plus create/update/delete non-private events
delegateWithoutPrivateEventAccess  as write
delegateWithPrivateEventAccess     everything, private events included
=================================  ==========================================================

Writes (POST, PATCH, DELETE, event actions) need ``write`` or a delegate role;
changing a private event needs ``delegateWithPrivateEventAccess``. Refusals are
403 ``ErrorAccessDenied`` with Graph's "Access is denied" message, followed by
who has which role and what would be needed.

``calendarPermissions`` (``{calendar}/calendarPermissions[/{id}]``) follows
Graph: only the owner (or the app) lists, creates, updates and deletes them;
anyone else with access to the calendar gets an empty collection, and 403 on
changes. A permission's id is stable per grantee (``RGVmYXVsdA==`` is "My
Organization"); only ``role`` can be updated, within ``allowedRoles``; "My
Organization" cannot be removed. Internal people may get any role (delegate
roles on the primary calendar only); people outside the organization
freeBusyRead, limitedRead or read; rooms and groups none.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from typing import Any

from ..errors import GraphHTTPError, bad_request, not_found
from .rows import CalendarRow, MailboxRow, PermissionRow
from .session import Session

ROLES = (
    "none",
    "freeBusyRead",
    "limitedRead",
    "read",
    "write",
    "delegateWithoutPrivateEventAccess",
    "delegateWithPrivateEventAccess",
)
LEVEL = {role: i for i, role in enumerate(ROLES)}
OWNER = 100
FREE_BUSY, LIMITED, READ, WRITE, PRIVATE = (
    LEVEL[r] for r in ("freeBusyRead", "limitedRead", "read", "write", "delegateWithPrivateEventAccess")
)
MY_ORGANIZATION = "My Organization"
MY_ORGANIZATION_ID = base64.b64encode(b"Default").decode()  # 'RGVmYXVsdA==', as Graph shows it
USER_ROLES = ["freeBusyRead", "limitedRead", "read", "write"]
DELEGATE_ROLES = ["delegateWithoutPrivateEventAccess", "delegateWithPrivateEventAccess"]
EXTERNAL_ROLES = ["freeBusyRead", "limitedRead", "read"]
ORGANIZATION_ROLES = ["none", "freeBusyRead", "limitedRead", "read", "write"]
PERMISSION_PROPERTIES = {"id", "emailAddress", "isInsideOrganization", "isRemovable", "role", "allowedRoles"}
DENIED = "Access is denied. Check credentials and try again."
NEEDS = {
    FREE_BUSY: "freeBusyRead",
    LIMITED: "limitedRead",
    READ: "read",
    WRITE: "write",
    PRIVATE: "delegateWithPrivateEventAccess",
    OWNER: "to be its owner",
}
DOING = {
    FREE_BUSY: "seeing its free/busy",
    LIMITED: "reading its events",
    READ: "reading its events",
    WRITE: "changing its events",
    PRIVATE: "changing private events",
    OWNER: "this",
}


@dataclass(frozen=True)
class Access:
    """What the caller may do with one calendar."""

    role: str  # 'owner', 'member', or a calendarRoleType
    level: int

    @property
    def owner(self) -> bool:
        return self.level >= OWNER

    @property
    def full(self) -> bool:
        """Sees every event in full (private ones included)."""
        return self.level >= PRIVATE


FULL = Access("owner", OWNER)


def _doc(row: CalendarRow | PermissionRow) -> dict[str, Any]:
    return json.loads(row["doc"])


def calendar_mailbox(ctx: Session, calendar: CalendarRow) -> Any:
    if ctx.mailbox is not None and ctx.mailbox["id"] == calendar["mailbox_id"]:
        return ctx.mailbox
    return ctx.store.mailbox_by_id(calendar["mailbox_id"])


def access(ctx: Session, calendar: CalendarRow) -> Access:
    """The caller's access to ``calendar`` (a calendars row)."""
    if ctx.principal.app_only or ctx.principal.mailbox["id"] == calendar["mailbox_id"]:
        return FULL
    me = ctx.principal.mailbox["address"].lower()
    mailbox = calendar_mailbox(ctx, calendar)
    if mailbox["kind"] == "group":
        doc = _doc(mailbox)
        if me in {m.lower() for m in doc.get("members", [])}:
            return Access("member", LEVEL["delegateWithoutPrivateEventAccess"])
        if (doc.get("visibility") or "Public") == "Public":
            return Access("read", READ)
        return Access("none", 0)
    rows = ctx.store.permission_roles(calendar["id"])
    by_grantee = {r["grantee"].lower(): r["role"] for r in rows}
    role = by_grantee.get(me) or by_grantee.get(MY_ORGANIZATION.lower()) or default_organization_role(calendar)
    return Access(role, LEVEL.get(role, 0))


def default_organization_role(calendar: CalendarRow) -> str:
    """What "My Organization" may do until the owner changes it: see free/busy of the primary calendar."""
    return "freeBusyRead" if calendar["is_default"] else "none"


def describe(ctx: Session, calendar: CalendarRow) -> str:
    mailbox = calendar_mailbox(ctx, calendar)
    name = _doc(calendar).get("name") or "Calendar"
    owner = mailbox["address"]
    if mailbox["kind"] == "group":
        return f"the group calendar of {owner}"
    return f"{owner}'s calendar '{name}'"


def require(ctx: Session, calendar: CalendarRow, level: int) -> Access:
    """The caller's access, or a 403 saying what they have and what they would need."""
    got = access(ctx, calendar)
    if got.level >= level:
        return got
    me = ctx.principal.mailbox["address"]
    what = describe(ctx, calendar)
    mailbox = calendar_mailbox(ctx, calendar)
    if mailbox["kind"] == "group":
        hint = (
            f"{me} is not a member of the private group {mailbox['address']}."
            if got.level == 0
            else f"{me} is not a member of {mailbox['address']}: only members change its calendar."
        )
    elif level >= OWNER:
        hint = f"Only the owner ({mailbox['address']}) can do this."
    else:
        hint = (
            f"{me} has the role '{got.role}' on {what}; {DOING[level]} needs {NEEDS[level]} or more. "
            f"The owner can share it: POST .../calendars/{{id}}/calendarPermissions "
            f'{{"emailAddress": {{"address": "{me}"}}, "role": "{NEEDS[level]}"}}.'
        )
    raise GraphHTTPError(403, "ErrorAccessDenied", f"{DENIED} {hint}")


def can_see_any(ctx: Session, mailbox: MailboxRow, level: int = LIMITED) -> list[Any]:
    """The calendars of ``mailbox`` the caller reaches at ``level`` or more."""
    rows = ctx.store.calendars(mailbox["id"])
    return [r for r in rows if access(ctx, r).level >= level]


# -- what a sharee sees of an event --------------------------------------------------------------------

_ALWAYS = {
    "id",
    "@odata.etag",
    "@odata.type",
    "@odata.context",
    "@removed",
    "start",
    "end",
    "isAllDay",
    "showAs",
    "type",
    "seriesMasterId",
    "sensitivity",
    "isCancelled",
    "recurrence",
    "originalStart",
    "originalStartTimeZone",
    "originalEndTimeZone",
    "changeKey",
    "createdDateTime",
    "lastModifiedDateTime",
    "iCalUId",
    "occurrenceId",
}
LIMITED_KEEP = _ALWAYS | {"subject", "location", "locations"}
PRIVATE_KEEP = _ALWAYS


def is_private(doc: dict[str, Any]) -> bool:
    return doc.get("sensitivity") in ("private", "confidential")


def redact(doc: dict[str, Any], got: Access) -> dict[str, Any]:
    """An event (Graph JSON) as ``got`` may see it."""
    if got.full or "@removed" in doc:
        return doc
    if is_private(doc):
        keep = PRIVATE_KEEP
    elif got.level <= LIMITED:
        keep = LIMITED_KEEP
    else:
        return doc
    return {k: v for k, v in doc.items() if k in keep}


# -- calendarPermissions ---------------------------------------------------------------------------------


def permission_id(address: str) -> str:
    return base64.urlsafe_b64encode(f"ExchangePublishedUser.{address.lower()}".encode()).decode()


def _organization_row(ctx: Session, calendar: CalendarRow) -> dict[str, Any]:
    row = ctx.store.permission_of(calendar["id"], MY_ORGANIZATION)
    return {
        "id": MY_ORGANIZATION_ID,
        "role": row["role"] if row else default_organization_role(calendar),
        "isRemovable": False,
        "isInsideOrganization": True,
        "allowedRoles": list(ORGANIZATION_ROLES),
        "emailAddress": {"name": MY_ORGANIZATION},
    }


def _render(row: PermissionRow) -> dict[str, Any]:
    doc = _doc(row)
    return {
        "id": doc["id"],
        "role": row["role"],
        "isRemovable": True,
        "isInsideOrganization": doc["inside"],
        "allowedRoles": list(doc["allowedRoles"]),
        "emailAddress": {"name": doc.get("name") or row["grantee"], "address": row["grantee"]},
    }


def permissions(ctx: Session, calendar: CalendarRow) -> list[dict[str, Any]]:
    rows = ctx.store.permissions_except(calendar["id"], MY_ORGANIZATION)
    return [_render(r) for r in rows] + [_organization_row(ctx, calendar)]


def allowed_roles(ctx: Session, calendar: CalendarRow, grantee: MailboxRow | None) -> list[str]:
    if grantee is None:
        return list(EXTERNAL_ROLES)
    return USER_ROLES + (DELEGATE_ROLES if calendar["is_default"] else [])


def grant(ctx: Session, calendar: CalendarRow, address: str, role: str, name: str | None = None) -> dict[str, Any]:
    """Share ``calendar`` with ``address`` (checked: a person, not the owner, not yet shared)."""
    owner = calendar_mailbox(ctx, calendar)
    if address.lower() == owner["address"].lower():
        raise bad_request(f"{address} owns this calendar: share it with someone else.", "ErrorInvalidParameter")
    grantee = ctx.store.mailbox(address)
    if grantee is not None and grantee["kind"] != "user":
        raise bad_request(
            f"{address} is a {grantee['kind']}, not a person: calendars are shared with people.",
            "ErrorInvalidRecipients",
        )
    domain = owner["address"].rpartition("@")[2].lower()
    if grantee is None and address.rpartition("@")[2].lower() == domain:
        raise GraphHTTPError(404, "ErrorInvalidUser", f"The requested user '{address}' is invalid.")
    allowed = allowed_roles(ctx, calendar, grantee)
    if role not in allowed:
        who = "someone outside the organization" if grantee is None else address
        raise bad_request(
            f"The role '{role}' can't be given to {who} on this calendar; allowed roles: {', '.join(allowed)}.",
            "ErrorInvalidParameter",
        )
    pid = permission_id(address)
    if ctx.store.permission_of(calendar["id"], address) is not None:
        raise GraphHTTPError(
            409,
            "ErrorDuplicateUserIdsSpecified",
            f"The calendar is already shared with {address}: update that permission's role "
            f"(PATCH .../calendarPermissions/{pid}) instead.",
        )
    display = json.loads(grantee["doc"])["displayName"] if grantee is not None else (name or address)
    doc = {"id": pid, "name": display, "inside": grantee is not None, "allowedRoles": allowed}
    ctx.store.add_permission(
        f"{calendar['id']}|{pid}", calendar["id"], grantee["address"] if grantee else address, role, doc
    )
    return find_permission(ctx, calendar, pid)


def drop_calendar(ctx: Session, calendar: CalendarRow) -> None:
    """A deleted calendar takes its permissions with it."""
    ctx.store.drop_permissions(calendar["id"])


def seed_share(store: Any, owner: str, calendar_id: str, address: str, role: str) -> None:
    """Share a calendar while seeding (no request)."""
    grantee = store.mailbox(address)
    calendar = store.calendar_by_id(calendar_id)
    pid = permission_id(address)
    allowed = USER_ROLES + (DELEGATE_ROLES if calendar["is_default"] else [])
    doc = {"id": pid, "name": json.loads(grantee["doc"])["displayName"], "inside": True, "allowedRoles": allowed}
    store.add_permission(f"{calendar_id}|{pid}", calendar_id, grantee["address"], role, doc)


def find_permission(ctx: Session, calendar: CalendarRow, pid: str) -> dict[str, Any]:
    for p in permissions(ctx, calendar):
        if p["id"] == pid:
            return p
    raise not_found()
