"""Calendar tools: list_calendars, get_calendar, create_calendar, update_calendar, delete_calendar,
and calendar groups: list_calendar_groups, get_calendar_group, create_calendar_group, update_calendar_group,
delete_calendar_group (``group_id`` here is a calendar group: a grp_ handle).
"""

from __future__ import annotations

from typing import Annotated, Literal
from urllib.parse import quote

from pydantic import Field

from .. import views
from ..calendar import InputError, Services
from ..views import Calendar, CalendarGroup, Compact
from .common import READ_ONLY, DetailArg, Mailbox, Toolbox, tool, writes
from .policy import Policy

Color = Literal["auto", "lightBlue", "lightGreen", "lightOrange", "lightGray", "lightYellow", "lightTeal",
                "lightPink", "lightBrown", "lightRed"]
CalendarRef = Annotated[str, Field(description="cal_ handle or id")]
GroupRef = Annotated[str | None, Field(description="grp_ handle or id")]
GroupHandle = Annotated[str, Field(description="grp_ handle or id")]
GroupName = Annotated[str, Field(min_length=1, max_length=255, description="The calendar group's name")]


class CalendarList(Compact):
    calendars: list[Calendar]
    more: bool | None = None


class CalendarResult(Compact):
    calendar: Calendar


class CalendarDeleted(Compact):
    deleted: str
    name: str | None = None


class GroupList(Compact):
    groups: list[CalendarGroup]
    more: bool | None = None


class GroupResult(Compact):
    group: CalendarGroup
    calendars: list[Calendar] | None = None


def register(box: Toolbox, svc: Services, enabled: Policy | None = None) -> None:
    """Add this module's tools to ``box``."""
    g = svc.graph

    def cal_path(mailbox: str | None, calendar_id: str) -> str:
        return f"{svc.mb(mailbox)}/calendars/{quote(svc.calendar_id(calendar_id), safe='')}"

    @tool(box, READ_ONLY, enabled=enabled, name="list_calendars")
    async def list_calendars(mailbox: Mailbox = None, group_id: GroupRef = None,
                             detail: DetailArg = "compact") -> CalendarList:
        """Use to see which calendars a mailbox (or one calendar group) has. Returns their handles and names."""
        base = svc.mb(mailbox)
        path = f"{base}/calendarGroups/{quote(svc.group_id(group_id), safe='')}/calendars" if group_id else f"{base}/calendars"
        page = await g.get_all(path)
        return CalendarList(calendars=[views.calendar_view_of(c, svc.handles, detail) for c in page.items],
                            more=page.more or None)

    @tool(box, READ_ONLY, enabled=enabled, name="get_calendar")
    async def get_calendar(calendar_id: CalendarRef, mailbox: Mailbox = None) -> CalendarResult:
        """Use to read one calendar's name, color, owner and whether you can edit it. Returns the calendar."""
        doc = await g.get(cal_path(mailbox, calendar_id))
        return CalendarResult(calendar=views.calendar_view_of(doc, svc.handles, "full"))

    @tool(box, writes(destructive=False, idempotent=False), enabled=enabled, name="create_calendar")
    async def create_calendar(name: Annotated[str, Field(min_length=1, max_length=255)], color: Color | None = None,
                              group_id: GroupRef = None, mailbox: Mailbox = None) -> CalendarResult:
        """Use to create a new calendar, optionally inside a calendar group. Returns the new calendar."""
        if not name.strip():
            raise InputError("name: give a non-empty calendar name.")
        base = svc.mb(mailbox)
        path = f"{base}/calendarGroups/{quote(svc.group_id(group_id), safe='')}/calendars" if group_id else f"{base}/calendars"
        body = {"name": name.strip()}
        if color:
            body["color"] = color
        doc = await g.post(path, json=body)
        return CalendarResult(calendar=views.calendar_view_of(doc, svc.handles, "full"))

    @tool(box, writes(destructive=False, idempotent=True), enabled=enabled, name="update_calendar")
    async def update_calendar(calendar_id: CalendarRef, name: str | None = None, color: Color | None = None,
                              mailbox: Mailbox = None) -> CalendarResult:
        """Use to rename or recolor a calendar. Returns the updated calendar."""
        body = {k: v for k, v in (("name", name), ("color", color)) if v is not None}
        if not body:
            raise InputError("Nothing to change: give name or color.")
        if "name" in body and not body["name"].strip():
            raise InputError("name: give a non-empty calendar name.")
        doc = await g.patch(cal_path(mailbox, calendar_id), json=body)
        return CalendarResult(calendar=views.calendar_view_of(doc, svc.handles, "full"))

    @tool(box, writes(destructive=True, idempotent=True), enabled=enabled, name="delete_calendar")
    async def delete_calendar(calendar_id: CalendarRef, mailbox: Mailbox = None) -> CalendarDeleted:
        """Use to delete a calendar and every event in it (not the default calendar). Returns what was deleted."""
        path = cal_path(mailbox, calendar_id)
        doc = await g.get(path, params={"$select": "name"})
        await g.delete(path)
        return CalendarDeleted(deleted=svc.handles.handle("calendar", svc.calendar_id(calendar_id)),
                               name=doc.get("name"))

    def group_path(mailbox: str | None, group_id: str) -> str:
        return f"{svc.mb(mailbox)}/calendarGroups/{quote(svc.group_id(group_id), safe='')}"

    def group_name(name: str | None) -> str:
        if name is None or not name.strip():
            raise InputError("name: give a non-empty calendar group name.")
        return name.strip()

    @tool(box, READ_ONLY, enabled=enabled, name="list_calendar_groups")
    async def list_calendar_groups(mailbox: Mailbox = None, detail: DetailArg = "compact") -> GroupList:
        """Use to see how a mailbox's calendars are grouped (My Calendars, Other Calendars, ...). Returns the groups with their handles."""
        page = await g.get_all(f"{svc.mb(mailbox)}/calendarGroups")
        return GroupList(groups=[views.group_view(d, svc.handles, detail) for d in page.items], more=page.more or None)

    @tool(box, READ_ONLY, enabled=enabled, name="get_calendar_group")
    async def get_calendar_group(group_id: GroupHandle, mailbox: Mailbox = None,
                                 detail: DetailArg = "compact") -> GroupResult:
        """Use to read one calendar group and the calendars in it. Returns the group and its calendars."""
        path = group_path(mailbox, group_id)
        doc = await g.get(path)
        calendars = await g.get_all(f"{path}/calendars")
        return GroupResult(group=views.group_view(doc, svc.handles, detail),
                           calendars=[views.calendar_view_of(c, svc.handles, detail) for c in calendars.items])

    @tool(box, writes(destructive=False, idempotent=False), enabled=enabled, name="create_calendar_group")
    async def create_calendar_group(name: GroupName, mailbox: Mailbox = None) -> GroupResult:
        """Use to create a calendar group to organize calendars in (then create_calendar with its group_id). Returns the new group."""
        doc = await g.post(f"{svc.mb(mailbox)}/calendarGroups", json={"name": group_name(name)})
        return GroupResult(group=views.group_view(doc, svc.handles, "full"))

    @tool(box, writes(destructive=False, idempotent=True), enabled=enabled, name="update_calendar_group")
    async def update_calendar_group(group_id: GroupHandle, name: GroupName, mailbox: Mailbox = None) -> GroupResult:
        """Use to rename a calendar group. Returns the updated group."""
        doc = await g.patch(group_path(mailbox, group_id), json={"name": group_name(name)})
        return GroupResult(group=views.group_view(doc, svc.handles, "full"))

    @tool(box, writes(destructive=True, idempotent=True), enabled=enabled, name="delete_calendar_group")
    async def delete_calendar_group(group_id: GroupHandle, mailbox: Mailbox = None) -> CalendarDeleted:
        """Use to delete an empty calendar group (not the default one). Returns what was deleted."""
        path = group_path(mailbox, group_id)
        doc = await g.get(path)
        inside = await g.get_all(f"{path}/calendars", params={"$select": "name"})
        if inside.items:
            names = ", ".join(f"'{c.get('name')}'" for c in inside.items)
            raise InputError(f"group_id: the calendar group '{doc.get('name')}' still holds {names}; delete those "
                             "calendars first (delete_calendar), then the group.")
        await g.delete(path)
        return CalendarDeleted(deleted=svc.handles.handle("group", svc.group_id(group_id)), name=doc.get("name"))
