"""sync_events: "what changed in this calendar since I last looked", over :mod:`..calendar.sync`.

The first call for a window lists everything in it; every later call returns only what was added,
changed or removed since the previous call (the delta links stay in local state, never with the model).
Called without a window, the tool continues with the last window synced for that calendar. An MCP
progress notification goes out per page.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from mcp.server.mcpserver import Context
from mcp_types import ToolAnnotations
from pydantic import Field

from .. import timezones as tz
from .. import views
from ..calendar import Services
from ..calendar.sync import sync_calendar
from ..calendar.targets import calendar_path, target
from ..views import Compact, Event
from .common import CalendarId, DetailArg, GroupId, Mailbox, MaxResults, TimeZoneArg, Toolbox, tool
from .policy import Policy

SYNC = ToolAnnotations(read_only_hint=True, destructive_hint=False, idempotent_hint=False, open_world_hint=False)


class Removed(Compact):
    handle: str
    subject: str | None = None
    start: str | None = None


class UpdatedEvent(Event):
    changed: list[str] | None = Field(None, description="What changed since the last sync")


class SyncResult(Compact):
    time_zone: str
    now: str | None = None  # the local time now, when the window was counted from it
    window_start: str
    window_end: str
    first_sync: bool | None = Field(None, description="True: the whole window is listed (as added)")
    since: str | None = Field(None, description="When the previous sync of this window was made (UTC)")
    added: list[Event]
    updated: list[UpdatedEvent]
    removed: list[Removed] = Field(description="Gone from the window: deleted, cancelled or moved out of it")
    pages: int
    omitted: int | None = Field(None, description="Changes not listed here because of max_results")
    note: str | None = None


def _local(utc_text: str, zone: Any) -> str:
    moment = dt.datetime.strptime(utc_text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=dt.UTC)
    return tz.format_local(moment, zone)


def register(box: Toolbox, svc: Services, enabled: Policy | None = None) -> None:
    """Add this module's tools to ``box``."""

    @tool(box, SYNC, enabled=enabled, name="sync_events")
    async def sync_events(
        start: Annotated[str | None, Field(description="Default: the last synced window's, else today")] = None,
        end: Annotated[str | None, Field(description="Default: the last window's, else start + 7 days")] = None,
        mailbox: Mailbox = None,
        calendar_id: CalendarId = None,
        group_id: GroupId = None,
        time_zone: TimeZoneArg = None,
        restart: Annotated[bool, Field(strict=True, description="List the whole window again")] = False,
        page_size: Annotated[int | None, Field(ge=1, le=1000, strict=True)] = None,  # Prefer odata.maxpagesize
        max_results: MaxResults = 200,
        detail: DetailArg = "compact",
        ctx: Context | None = None,
    ) -> SyncResult:
        """Use to learn what changed in a calendar since the last call. Returns events added, changed and removed (the first call lists the window)."""
        t = await target(svc, mailbox, group_id)
        cal = calendar_path(svc, t, calendar_id)

        async def progress(pages: int, changes: int) -> None:
            if ctx is not None:
                await ctx.report_progress(pages, None, f"page {pages}: {changes} changes so far")

        # the zone is read together with the round's first page when the window does not depend on it
        found = await sync_calendar(
            svc, t, cal, time_zone, start, end, restart=restart, page_size=page_size, progress=progress
        )
        zone_name, zone = found.zone_name, found.zone
        await svc.handles.mint(views.shown("event", [*found.removed, *found.updated, *found.added]))
        removed = [
            Removed(handle=svc.handles.handle("event", r["id"]), subject=r["subject"], start=r["start"])
            for r in found.removed
        ]
        updated = [
            UpdatedEvent(
                **views.event_view(doc, zone, svc.handles, detail).model_dump(exclude_none=True),
                changed=found.changed.get(doc["id"]) or None,
            )
            for doc in found.updated
        ]
        added = [views.event_view(doc, zone, svc.handles, detail) for doc in found.added]
        total = len(added) + len(updated) + len(removed)
        omitted = max(0, total - max_results)
        if omitted:
            keep = max_results
            removed = removed[:keep]
            keep -= len(removed)
            updated = updated[: max(keep, 0)]
            keep -= len(updated)
            added = added[: max(keep, 0)]
        note: str | None
        if found.first and not found.resynced:
            note = (
                "First sync of this window: everything in it is listed as added. Call sync_events again (same "
                "window, or none) to get only what changed since now."
            )
        elif found.resynced:
            note = "The saved sync state had expired: the whole window is listed again (as added)."
        else:
            note = None if total else "Nothing changed since the last sync."
        window = found.window
        return SyncResult(
            time_zone=tz.iana_name(zone_name),
            now=svc.now_text(zone) if start is None and end is None and found.first else None,
            window_start=_local(window[0], zone),
            window_end=_local(window[1], zone),
            first_sync=True if found.first else None,
            since=found.since,
            added=added,
            updated=updated,
            removed=removed,
            pages=found.pages,
            omitted=omitted or None,
            note=note,
        )
