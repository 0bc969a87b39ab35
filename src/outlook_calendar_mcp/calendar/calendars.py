"""A mailbox's calendars and calendar groups: list, read, create, rename or recolor, delete.

``group_id`` here is a calendar group (a grp_ handle), not a Microsoft 365 group.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import anyio

from ..graph import Page, Prefer
from .errors import InputError
from .services import Services
from .targets import Target, calendar_path, explain_access

__all__ = [
    "across_calendars",
    "calendar_name",
    "calendar_of",
    "calendars_of",
    "create_calendar",
    "create_group",
    "delete_calendar",
    "delete_group",
    "get_group",
    "group_of",
    "list_groups",
    "rename_group",
    "update_calendar",
]


def calendars_of(svc: Services, mailbox: str | None, group_id: str | None) -> str:
    """The path of a mailbox's calendars, or of one calendar group's."""
    base = svc.mb(mailbox)
    if group_id:
        return f"{base}/calendarGroups/{quote(svc.group_id(group_id), safe='')}/calendars"
    return f"{base}/calendars"


async def calendar_name(svc: Services, t: Target, calendar_id: str | None) -> str | None:
    """The name of calendar ``calendar_id`` of ``t``, when it is not the default calendar (else None)."""
    if not calendar_id:
        return None
    with explain_access(t, writing=False):
        doc = await svc.graph.get(calendar_path(svc, t, calendar_id), params={"$select": "name,isDefaultCalendar"})
    return None if doc.get("isDefaultCalendar") else doc.get("name") or None


async def calendars_in(svc: Services, t: Target) -> list[dict[str, Any]]:
    """Every calendar of ``t`` (id, name, isDefaultCalendar): what :func:`across_calendars` lists."""
    with explain_access(t, writing=False):
        return (await svc.graph.get_all(f"{t.base}/calendars", params={"$select": "id,name,isDefaultCalendar"})).items


async def across_calendars(
    svc: Services,
    t: Target,
    params: dict[str, Any],
    prefer: Prefer,
    max_items: int,
    calendars: list[dict[str, Any]] | None = None,
) -> tuple[list[tuple[dict[str, Any], str | None]], bool]:
    """The events (singles and series masters) of every calendar of ``t`` (``calendars``: read already by
    :func:`calendars_in`), newest first, each with its calendar's name when that is not the default one; and
    whether more were left out. One listing per calendar, together."""
    if calendars is None:
        calendars = await calendars_in(svc, t)
    pages: dict[str, Page] = {}
    failed: list[BaseException] = []

    async def one(calendar_id: str) -> None:
        path = f"{t.base}/calendars/{quote(calendar_id, safe='')}/events"
        try:
            with explain_access(t, writing=False):
                pages[calendar_id] = await svc.graph.get_all(path, params=params, prefer=prefer, max_items=max_items)
        except Exception as e:  # raised below, as itself: a task group would wrap it in an ExceptionGroup
            failed.append(e)

    async with anyio.create_task_group() as tg:
        for c in calendars:
            tg.start_soon(one, c["id"])
    if failed:
        raise failed[0]
    found = [
        (doc, None if c.get("isDefaultCalendar") else c.get("name") or None)
        for c in calendars
        for doc in pages[c["id"]].items
    ]
    found.sort(key=lambda pair: (pair[0].get("start") or {}).get("dateTime") or "", reverse=True)
    more = len(found) > max_items or any(p.more for p in pages.values())
    return found[:max_items], more


def calendar_of(svc: Services, mailbox: str | None, calendar_id: str) -> str:
    return f"{svc.mb(mailbox)}/calendars/{quote(svc.calendar_id(calendar_id), safe='')}"


def group_of(svc: Services, mailbox: str | None, group_id: str) -> str:
    return f"{svc.mb(mailbox)}/calendarGroups/{quote(svc.group_id(group_id), safe='')}"


def _group_name(name: str | None) -> str:
    if name is None or not name.strip():
        raise InputError("name: give a non-empty calendar group name.")
    return name.strip()


async def create_calendar(
    svc: Services, name: str, color: str | None, group_id: str | None, mailbox: str | None
) -> dict[str, Any]:
    if not name.strip():
        raise InputError("name: give a non-empty calendar name.")
    body = {"name": name.strip()}
    if color:
        body["color"] = color
    doc: dict[str, Any] = await svc.graph.post(calendars_of(svc, mailbox, group_id), json=body)
    return doc


async def update_calendar(
    svc: Services, calendar_id: str, name: str | None, color: str | None, mailbox: str | None
) -> dict[str, Any]:
    body = {k: v for k, v in (("name", name), ("color", color)) if v is not None}
    if not body:
        raise InputError("Nothing to change: give name or color.")
    if "name" in body and not body["name"].strip():
        raise InputError("name: give a non-empty calendar name.")
    doc: dict[str, Any] = await svc.graph.patch(calendar_of(svc, mailbox, calendar_id), json=body)
    return doc


async def delete_calendar(svc: Services, calendar_id: str, mailbox: str | None) -> str | None:
    """Delete a calendar and every event in it; its name."""
    path = calendar_of(svc, mailbox, calendar_id)
    doc = await svc.graph.get(path, params={"$select": "name"})
    await svc.graph.delete(path)
    name: str | None = doc.get("name")
    return name


async def list_groups(svc: Services, mailbox: str | None) -> Page:
    return await svc.graph.get_all(f"{svc.mb(mailbox)}/calendarGroups")


async def get_group(svc: Services, mailbox: str | None, group_id: str) -> tuple[dict[str, Any], Page]:
    """A calendar group and the calendars in it."""
    path = group_of(svc, mailbox, group_id)
    doc = await svc.graph.get(path)
    return doc, await svc.graph.get_all(f"{path}/calendars")


async def create_group(svc: Services, mailbox: str | None, name: str) -> dict[str, Any]:
    doc: dict[str, Any] = await svc.graph.post(f"{svc.mb(mailbox)}/calendarGroups", json={"name": _group_name(name)})
    return doc


async def rename_group(svc: Services, mailbox: str | None, group_id: str, name: str) -> dict[str, Any]:
    doc: dict[str, Any] = await svc.graph.patch(group_of(svc, mailbox, group_id), json={"name": _group_name(name)})
    return doc


async def delete_group(svc: Services, mailbox: str | None, group_id: str) -> str | None:
    """Delete an empty calendar group; its name."""
    path = group_of(svc, mailbox, group_id)
    doc = await svc.graph.get(path)
    inside = await svc.graph.get_all(f"{path}/calendars", params={"$select": "name"})
    if inside.items:
        names = ", ".join(f"'{c.get('name')}'" for c in inside.items)
        raise InputError(
            f"group_id: the calendar group '{doc.get('name')}' still holds {names}; delete those "
            "calendars first (delete_calendar), then the group."
        )
    await svc.graph.delete(path)
    name: str | None = doc.get("name")
    return name
