"""sync_events: "what changed in this calendar since I last looked", on Graph's calendarView delta.

The first call for a window (a mailbox or group, a calendar, a start and an
end) lists everything in it; every later call returns only what was added,
changed or removed since the previous call. The delta link Graph hands back
at the end of each round is kept in local state (``data_dir/sync.db``, one row
per window, with what each item was called so a removal can be named), so a
model never handles tokens. Called without a window, the tool continues with
the last window synced for that calendar.

Paging follows ``@odata.nextLink`` ($skiptoken) to the ``@odata.deltaLink``
($deltatoken), with an MCP progress notification per page. As the reference
describes ("the first response always ends with a deltaLink"), a first
response may end with a deltaLink while more of the window is still to come:
after a first page that held events the tool follows that deltaLink once
more, which costs one request where Graph finished in one page and is what
completes the round where it did not. An expired delta token (410) starts the
window over, and the result says so.
"""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
import threading
from pathlib import Path
from typing import Annotated, Any

from mcp.server.mcpserver import Context
from mcp_types import ToolAnnotations
from pydantic import Field

from .. import timezones as tz
from .. import views
from ..calendar import Services, times
from ..calendar.targets import calendar_path, explain_access, target, zone_for
from ..calendar.times import default_window
from ..clock import Clock
from ..graph import GraphError
from ..views import Compact, Event
from .common import CalendarId, DetailArg, GroupId, Mailbox, MaxResults, TimeZoneArg, Toolbox, tool
from .policy import Policy

SYNC = ToolAnnotations(read_only_hint=True, destructive_hint=False, idempotent_hint=False, open_world_hint=False)
DEFAULT_DAYS = 7
DEFAULT_PAGE = 100
MAX_PAGES = 10_000
EXPIRED = {"syncstatenotfound", "resyncrequired", "syncstateinvalid"}


class SyncState:
    """Delta links and what was seen, per window, in a small SQLite file beside the handles."""

    def __init__(self, path: str | Path, clock: Clock):
        if str(path) != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None)
        self._db.execute("CREATE TABLE IF NOT EXISTS sync_state (key TEXT PRIMARY KEY, scope TEXT NOT NULL,"
                         " window_start TEXT NOT NULL, window_end TEXT NOT NULL, delta_link TEXT NOT NULL,"
                         " known TEXT NOT NULL, updated TEXT NOT NULL)")
        self._lock = threading.Lock()
        self._clock = clock

    def get(self, key: str) -> tuple[str, dict[str, Any], str] | None:
        row = self._db.execute("SELECT delta_link, known, updated FROM sync_state WHERE key = ?", (key,)).fetchone()
        return (row[0], json.loads(row[1]), row[2]) if row else None

    def last_window(self, scope: str) -> tuple[str, str] | None:
        row = self._db.execute("SELECT window_start, window_end FROM sync_state WHERE scope = ? ORDER BY updated DESC,"
                               " rowid DESC LIMIT 1", (scope,)).fetchone()
        return (row[0], row[1]) if row else None

    def put(self, key: str, scope: str, window: tuple[str, str], link: str, known: dict[str, Any]) -> None:
        stamp = self._clock.now().isoformat(timespec="microseconds")
        with self._lock:
            self._db.execute("INSERT OR REPLACE INTO sync_state VALUES (?, ?, ?, ?, ?, ?, ?)",
                             (key, scope, window[0], window[1], link, json.dumps(known), stamp))

    def drop(self, key: str) -> None:
        with self._lock:
            self._db.execute("DELETE FROM sync_state WHERE key = ?", (key,))


class Removed(Compact):
    handle: str
    subject: str | None = None
    start: str | None = None


class SyncResult(Compact):
    time_zone: str
    window_start: str
    window_end: str
    first_sync: bool | None = Field(None, description="True: the whole window is listed (as added)")
    since: str | None = Field(None, description="When the previous sync of this window was made (UTC)")
    added: list[Event]
    updated: list[Event]
    removed: list[Removed] = Field(description="Gone from the window: deleted, cancelled or moved out of it")
    pages: int
    omitted: int | None = Field(None, description="Changes not listed here because of max_results")
    note: str | None = None


def _state(svc: Services) -> SyncState:
    if svc.sync_state is None:
        svc.sync_state = SyncState(svc.settings.data_dir / "sync.db", svc.clock)
    return svc.sync_state


def _local(utc_text: str, zone: Any) -> str:
    moment = dt.datetime.strptime(utc_text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=dt.UTC)
    return tz.format_local(moment, zone)


def register(box: Toolbox, svc: Services, enabled: Policy | None = None) -> None:
    """Add this module's tools to ``box``."""
    g = svc.graph

    @tool(box, SYNC, enabled=enabled, name="sync_events")
    async def sync_events(
        start: Annotated[str | None, Field(description="Default: the last synced window, else today")] = None,
        end: Annotated[str | None, Field(description="Default: the last window's, else start + 7 days")] = None,
        mailbox: Mailbox = None,
        calendar_id: CalendarId = None,
        group_id: GroupId = None, time_zone: TimeZoneArg = None,
        restart: Annotated[bool, Field(strict=True, description="List the whole window again")] = False,
        page_size: Annotated[int | None, Field(ge=1, le=1000, strict=True)] = None,  # Prefer odata.maxpagesize
        max_results: MaxResults = 200, detail: DetailArg = "compact",
        ctx: Context | None = None,
    ) -> SyncResult:
        """Use to learn what changed in a calendar since the last call. Returns events added, changed and removed (the first call lists the window)."""
        t = await target(svc, mailbox, group_id)
        cal = calendar_path(svc, t, calendar_id)
        zone_name, zone = await zone_for(svc, t, time_zone)
        path = f"{cal}/calendarView/delta"
        identity = f"{g.base_url}|{getattr(g.token_provider, 'description', '')}"
        scope = f"{identity}|{cal}"
        state = _state(svc)
        if start is None and end is None and (last := state.last_window(scope)) is not None:
            window = last
        else:
            start, end = default_window(svc.clock, zone, start, end, days=DEFAULT_DAYS)
            window = times.window(start, end, zone)
        key = f"{scope}|{window[0]}|{window[1]}"
        saved = None if restart else state.get(key)
        prefer = ", ".join([f'outlook.timezone="{zone_name}"', 'outlook.body-content-type="text"',
                            f"odata.maxpagesize={page_size or DEFAULT_PAGE}", "odata.track-changes"])
        headers = {"Prefer": prefer}
        resynced = False
        while True:
            initial = saved is None
            link = path if initial else saved[0]
            params = {"startDateTime": window[0], "endDateTime": window[1]} if initial else None
            items: dict[str, dict[str, Any]] = {}
            pages = 0
            try:
                with explain_access(t, writing=False):
                    while True:
                        page = await g.get_page(link, params=params, headers=headers)
                        params = None
                        pages += 1
                        for item in page.items:
                            items.pop(item["id"], None)
                            items[item["id"]] = item
                        if ctx is not None:
                            await ctx.report_progress(pages, None, f"page {pages}: {len(items)} changes so far")
                        if page.next_link:
                            link = page.next_link
                        elif page.delta_link is None:
                            raise GraphError("The calendar view delta ended without an @odata.deltaLink.",
                                             code="noDeltaLink")
                        elif initial and pages == 1 and page.items:
                            link = page.delta_link   # the reference: a first response always ends with a deltaLink
                        else:
                            break
                        if pages >= MAX_PAGES:
                            raise GraphError(f"The calendar view delta did not end after {MAX_PAGES} pages.",
                                             code="tooManyPages")
            except GraphError as e:
                if not initial and (e.status == 410 or (e.code or "").lower() in EXPIRED):
                    state.drop(key)
                    saved, resynced = None, True
                    continue
                raise
            break
        known: dict[str, Any] = {} if initial else saved[1]
        masters = {i: d for i, d in items.items() if d.get("type") == "seriesMaster" and "@removed" not in d}
        added: list[Event] = []
        updated: list[Event] = []
        removed: list[Removed] = []
        new_known = dict(known)
        for event_id, doc in items.items():
            if "@removed" in doc:
                seen = new_known.pop(event_id, None) or {}
                removed.append(Removed(handle=svc.handles.handle("event", event_id), subject=seen.get("s"),
                                       start=seen.get("t")))
                continue
            if doc.get("type") == "occurrence" and "subject" not in doc:   # abbreviated: the rest is the master's
                master = masters.get(doc.get("seriesMasterId") or "") or {}
                doc = {**{k: master[k] for k in ("subject", "isAllDay", "location", "showAs", "sensitivity",
                                                  "categories", "isCancelled", "organizer", "isOrganizer")
                          if k in master}, **doc}
                if "subject" not in doc:
                    doc["subject"] = (known.get(doc.get("seriesMasterId") or "") or {}).get("s")
            view = views.event_view(doc, zone, svc.handles, detail)
            (updated if event_id in known else added).append(view)
            new_known[event_id] = {"s": doc.get("subject"), "t": view.start}
        state.put(key, scope, window, page.delta_link, new_known)
        total = len(added) + len(updated) + len(removed)
        omitted = max(0, total - max_results)
        if omitted:
            keep = max_results
            removed = removed[:keep]
            keep -= len(removed)
            updated = updated[:max(keep, 0)]
            keep -= len(updated)
            added = added[:max(keep, 0)]
        if initial and not resynced:
            note = ("First sync of this window: everything in it is listed as added. Call sync_events again (same "
                    "window, or none) to get only what changed since now.")
        elif resynced:
            note = "The saved sync state had expired: the whole window is listed again (as added)."
        else:
            note = None if total else "Nothing changed since the last sync."
        return SyncResult(time_zone=tz.iana_name(zone_name), window_start=_local(window[0], zone),
                          window_end=_local(window[1], zone), first_sync=True if initial else None,
                          since=None if initial else saved[2][:19] + "Z", added=added, updated=updated, removed=removed,
                          pages=pages, omitted=omitted or None, note=note)
