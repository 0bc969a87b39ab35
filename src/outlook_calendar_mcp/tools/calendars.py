"""Calendar tools: list_calendars, get_calendar, create_calendar, update_calendar, delete_calendar."""

from __future__ import annotations

from typing import Annotated, Literal
from urllib.parse import quote

from mcp.server.mcpserver import MCPServer
from pydantic import Field

from .. import views
from ..views import Calendar, Compact
from .common import READ_ONLY, DetailArg, InputError, Mailbox, Services, tool, writes

Color = Literal["auto", "lightBlue", "lightGreen", "lightOrange", "lightGray", "lightYellow", "lightTeal",
                "lightPink", "lightBrown", "lightRed"]
CalendarRef = Annotated[str, Field(description="Calendar handle (cal_...) or Graph id")]
GroupRef = Annotated[str | None, Field(description="Calendar group handle (grp_...) or id")]


class CalendarList(Compact):
    calendars: list[Calendar]
    more: bool | None = None


class CalendarResult(Compact):
    calendar: Calendar


class CalendarDeleted(Compact):
    deleted: str
    name: str | None = None


def register(server: MCPServer, svc: Services, enabled=None) -> None:
    g = svc.graph

    def cal_path(mailbox: str | None, calendar_id: str) -> str:
        return f"{svc.mb(mailbox)}/calendars/{quote(svc.calendar_id(calendar_id), safe='')}"

    @tool(server, READ_ONLY, enabled=enabled)
    async def list_calendars(mailbox: Mailbox = None, group_id: GroupRef = None,
                             detail: DetailArg = "compact") -> CalendarList:
        """Use to see which calendars a mailbox (or one calendar group) has. Returns their handles and names."""
        base = svc.mb(mailbox)
        path = f"{base}/calendarGroups/{quote(svc.group_id(group_id), safe='')}/calendars" if group_id else f"{base}/calendars"
        page = await g.get_all(path)
        return CalendarList(calendars=[views.calendar_view_of(c, svc.handles, detail) for c in page.items],
                            more=page.more or None)

    @tool(server, READ_ONLY, enabled=enabled)
    async def get_calendar(calendar_id: CalendarRef, mailbox: Mailbox = None) -> CalendarResult:
        """Use to read one calendar's name, color, owner and whether you can edit it. Returns the calendar."""
        doc = await g.get(cal_path(mailbox, calendar_id))
        return CalendarResult(calendar=views.calendar_view_of(doc, svc.handles, "full"))

    @tool(server, writes(destructive=False, idempotent=False), enabled=enabled)
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

    @tool(server, writes(destructive=False, idempotent=True), enabled=enabled)
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

    @tool(server, writes(destructive=True, idempotent=True), enabled=enabled)
    async def delete_calendar(calendar_id: CalendarRef, mailbox: Mailbox = None) -> CalendarDeleted:
        """Use to delete a calendar and every event in it (not the default calendar). Returns what was deleted."""
        path = cal_path(mailbox, calendar_id)
        doc = await g.get(path, params={"$select": "name"})
        await g.delete(path)
        return CalendarDeleted(deleted=svc.handles.handle("calendar", svc.calendar_id(calendar_id)),
                               name=doc.get("name"))
