"""Whose calendar an operation works on: the mailbox path, the zone to read times in, and what a 403 means.

:func:`target` turns ``mailbox`` / ``group_id`` into the Graph path of whose calendar it is (``me``,
``users/{address}``, ``groups/{id}``: a Microsoft 365 group by id or email address); :func:`zone_for`
chooses the time zone to read and show times in; :func:`explain_access` turns Graph's 403 on someone
else's calendar into what to do about it (ask them to share it, or to give write access).
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator
from dataclasses import dataclass
from urllib.parse import quote
from zoneinfo import ZoneInfo

from ..graph import Forbidden
from ..state import user_key
from .errors import InputError
from .services import Services

__all__ = [
    "ADDRESS",
    "GUID",
    "Target",
    "calendar_path",
    "explain_access",
    "group_id_of",
    "target",
    "zone_for",
    "zone_known",
]

GUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
ADDRESS = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


@dataclass(frozen=True)
class Target:
    """Whose calendar an operation works on."""

    base: str  # me | users/{address} | groups/{id}
    owner: str | None  # who to name in messages; None: the signed-in user's own
    zone_mailbox: str | None  # whose mailbox settings give the default time zone
    group: bool = False


async def target(svc: Services, mailbox: str | None, group_id: str | None) -> Target:
    """The calendar of ``mailbox`` (a person, default: the signed-in user) or of the group ``group_id``."""
    if group_id is not None:
        if (mailbox or "").strip():
            raise InputError(
                "group_id: give either mailbox (a person's calendar) or group_id (a group's calendar), not both."
            )
        gid = await group_id_of(svc, group_id)
        return Target(f"groups/{quote(gid, safe='')}", f"the group {group_id.strip()}", None, group=True)
    base = svc.mb(mailbox)
    return Target(base, None if base == "me" else (mailbox or "").strip() or None, mailbox)


def calendar_path(svc: Services, t: Target, calendar_id: str | None) -> str:
    """The Graph path of one calendar of ``t``: ``calendar_id``'s, else the main one (a group has only that)."""
    if calendar_id and t.group:
        raise InputError("calendar_id: a group has one calendar; leave calendar_id out with group_id.")
    return f"{t.base}/calendars/{quote(svc.calendar_id(calendar_id), safe='')}" if calendar_id else f"{t.base}/calendar"


async def group_id_of(svc: Services, value: str) -> str:
    """A Microsoft 365 group's id from its id or email address."""
    value = (value or "").strip()
    if value.startswith("grp_"):
        raise InputError(
            f"group_id: '{value}' is a calendar group handle (from list_calendar_groups); this argument "
            "takes a Microsoft 365 group's id or email address, e.g. 'launch@contoso.com'."
        )
    if GUID.match(value):
        return value
    if not ADDRESS.match(value):
        raise InputError(
            f"group_id: '{value}' is neither a group id (a GUID) nor a group's email address such as "
            "'launch@contoso.com'."
        )
    key = value.lower()
    if key not in svc.group_ids:
        found = await svc.graph.get(
            "groups",
            params={"$filter": f"mail eq '{value.replace(chr(39), chr(39) * 2)}'", "$select": "id,displayName,mail"},
        )
        items = (found or {}).get("value") or []
        if not items:
            raise InputError(
                f"group_id: no Microsoft 365 group has the address '{value}'; check the address, or "
                "give the group's id."
            )
        svc.group_ids[key] = items[0]["id"]
    return svc.group_ids[key]


async def zone_for(svc: Services, t: Target, time_zone: str | None) -> tuple[str, ZoneInfo]:
    """The zone to read and show times in: ``time_zone``, else the calendar owner's, else (their mailbox
    settings being theirs alone, as for a sharee or a group) the signed-in user's own."""
    if time_zone or t.zone_mailbox is None:
        return await svc.zone(None if time_zone else t.zone_mailbox, time_zone)
    denied = f"{user_key()} {t.zone_mailbox.lower()}"  # per person: what one may read, another may not
    if denied not in svc.zone_denied:
        try:
            return await svc.zone(t.zone_mailbox, None)
        except Forbidden:
            svc.zone_denied.add(denied)
    return await svc.zone(None, None)


def zone_known(svc: Services, t: Target, time_zone: str | None) -> tuple[str, ZoneInfo] | None:
    """What :func:`zone_for` gives when it needs no Graph read (given, or known this session), else None."""
    if time_zone or t.zone_mailbox is None:
        return svc.zone_cached(None if time_zone else t.zone_mailbox, time_zone)
    if f"{user_key()} {t.zone_mailbox.lower()}" not in svc.zone_denied:
        return svc.zone_cached(t.zone_mailbox, None)
    return svc.zone_cached(None, None)


@contextlib.contextmanager
def explain_access(t: Target, *, writing: bool) -> Iterator[None]:
    """Graph's 403 on someone else's (or a group's) calendar, said as what to do about it."""
    try:
        yield
    except Forbidden as e:
        if t.owner is None:
            raise
        if t.group:
            advice = (
                f"You can't {'change' if writing else 'read'} the calendar of {t.owner}: only its members "
                "can (and, for a public group, everyone can read it). Ask an owner of the group to add you."
            )
        elif writing:
            advice = (
                f"You don't have write access to {t.owner}'s calendar. Ask {t.owner} to give it to you: "
                "share_calendar (share_with=your address, role='write') or, if they already share it with "
                "you, update_calendar_permission with role='write'."
            )
        else:
            advice = (
                f"You don't have access to {t.owner}'s calendar: they haven't shared it with you (everyone "
                "in the organization sees only free/busy, through get_schedule). Ask them to share it with "
                "you with share_calendar (share_with=your address, role='read', or 'write' to let you change "
                "events)."
            )
        raise Forbidden(
            f"{advice} Graph said: {e.message}", status=e.status, code=e.code, request_id=e.request_id, date=e.date
        ) from e
