"""Calendar tools: list_calendars, get_calendar, create_calendar, update_calendar, delete_calendar,
and calendar groups: list_calendar_groups, get_calendar_group, create_calendar_group, update_calendar_group,
delete_calendar_group (``group_id`` here is a calendar group: a grp_ handle).
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from .. import views
from ..calendar import Services
from ..calendar import calendars as ops
from ..calendar.calendars import calendar_of, calendars_of
from ..views import Calendar, CalendarGroup, Compact
from .common import READ_ONLY, DetailArg, Mailbox, Toolbox, tool, writes
from .policy import Policy

Color = Literal[
    "auto",
    "lightBlue",
    "lightGreen",
    "lightOrange",
    "lightGray",
    "lightYellow",
    "lightTeal",
    "lightPink",
    "lightBrown",
    "lightRed",
]
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

    @tool(box, READ_ONLY, enabled=enabled, name="list_calendars")
    async def list_calendars(
        mailbox: Mailbox = None, group_id: GroupRef = None, detail: DetailArg = "compact"
    ) -> CalendarList:
        """Use to see which calendars a mailbox (or one calendar group) has. Returns their handles and names."""
        page = await g.get_all(calendars_of(svc, mailbox, group_id))
        await svc.handles.mint(views.shown("calendar", page.items))  # the new handles: one store round trip
        return CalendarList(
            calendars=[views.calendar_view_of(c, svc.handles, detail) for c in page.items], more=page.more or None
        )

    @tool(box, READ_ONLY, enabled=enabled, name="get_calendar")
    async def get_calendar(calendar_id: CalendarRef, mailbox: Mailbox = None) -> CalendarResult:
        """Use to read one calendar's name, color, owner and whether you can edit it. Returns the calendar."""
        doc = await g.get(calendar_of(svc, mailbox, calendar_id))
        await svc.handles.mint(views.shown("calendar", [doc]))
        return CalendarResult(calendar=views.calendar_view_of(doc, svc.handles, "full"))

    @tool(box, writes(destructive=False, idempotent=False), enabled=enabled, name="create_calendar")
    async def create_calendar(
        name: Annotated[str, Field(min_length=1, max_length=255)],
        color: Color | None = None,
        group_id: GroupRef = None,
        mailbox: Mailbox = None,
    ) -> CalendarResult:
        """Use to create a new calendar, optionally inside a calendar group. Returns the new calendar."""
        doc = await ops.create_calendar(svc, name, color, group_id, mailbox)
        await svc.handles.mint(views.shown("calendar", [doc]))
        return CalendarResult(calendar=views.calendar_view_of(doc, svc.handles, "full"))

    @tool(box, writes(destructive=False, idempotent=True), enabled=enabled, name="update_calendar")
    async def update_calendar(
        calendar_id: CalendarRef, name: str | None = None, color: Color | None = None, mailbox: Mailbox = None
    ) -> CalendarResult:
        """Use to rename or recolor a calendar. Returns the updated calendar."""
        doc = await ops.update_calendar(svc, calendar_id, name, color, mailbox)
        await svc.handles.mint(views.shown("calendar", [doc]))
        return CalendarResult(calendar=views.calendar_view_of(doc, svc.handles, "full"))

    @tool(box, writes(destructive=True, idempotent=True), enabled=enabled, name="delete_calendar")
    async def delete_calendar(calendar_id: CalendarRef, mailbox: Mailbox = None) -> CalendarDeleted:
        """Use to delete a calendar and every event in it (not the default calendar). Returns what was deleted."""
        name = await ops.delete_calendar(svc, calendar_id, mailbox)
        return CalendarDeleted(deleted=await svc.handles.minted("calendar", svc.calendar_id(calendar_id)), name=name)

    @tool(box, READ_ONLY, enabled=enabled, name="list_calendar_groups")
    async def list_calendar_groups(mailbox: Mailbox = None, detail: DetailArg = "compact") -> GroupList:
        """Use to see how a mailbox's calendars are grouped. Returns the groups with their handles."""
        page = await ops.list_groups(svc, mailbox)
        await svc.handles.mint(views.shown("group", page.items))
        return GroupList(groups=[views.group_view(d, svc.handles, detail) for d in page.items], more=page.more or None)

    @tool(box, READ_ONLY, enabled=enabled, name="get_calendar_group")
    async def get_calendar_group(
        group_id: GroupHandle, mailbox: Mailbox = None, detail: DetailArg = "compact"
    ) -> GroupResult:
        """Use to read one calendar group and the calendars in it. Returns the group and its calendars."""
        doc, calendars = await ops.get_group(svc, mailbox, group_id)
        await svc.handles.mint([*views.shown("group", [doc]), *views.shown("calendar", calendars.items)])
        return GroupResult(
            group=views.group_view(doc, svc.handles, detail),
            calendars=[views.calendar_view_of(c, svc.handles, detail) for c in calendars.items],
        )

    @tool(box, writes(destructive=False, idempotent=False), enabled=enabled, name="create_calendar_group")
    async def create_calendar_group(name: GroupName, mailbox: Mailbox = None) -> GroupResult:
        """Use to create a calendar group (then create_calendar with its group_id). Returns the new group."""
        doc = await ops.create_group(svc, mailbox, name)
        await svc.handles.mint(views.shown("group", [doc]))
        return GroupResult(group=views.group_view(doc, svc.handles, "full"))

    @tool(box, writes(destructive=False, idempotent=True), enabled=enabled, name="update_calendar_group")
    async def update_calendar_group(group_id: GroupHandle, name: GroupName, mailbox: Mailbox = None) -> GroupResult:
        """Use to rename a calendar group. Returns the updated group."""
        doc = await ops.rename_group(svc, mailbox, group_id, name)
        await svc.handles.mint(views.shown("group", [doc]))
        return GroupResult(group=views.group_view(doc, svc.handles, "full"))

    @tool(box, writes(destructive=True, idempotent=True), enabled=enabled, name="delete_calendar_group")
    async def delete_calendar_group(group_id: GroupHandle, mailbox: Mailbox = None) -> CalendarDeleted:
        """Use to delete an empty calendar group (not the default one). Returns what was deleted."""
        name = await ops.delete_group(svc, mailbox, group_id)
        return CalendarDeleted(deleted=await svc.handles.minted("group", svc.group_id(group_id)), name=name)
