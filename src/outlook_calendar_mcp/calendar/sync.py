"""What changed in a calendar window since the last look, on Graph's calendarView delta.

The first round for a window (a mailbox or group, a calendar, a start and an end) lists everything in
it; every later round returns only what was added, changed or removed since the previous one. The delta
link Graph hands back at the end of each round is kept in :class:`SyncState` (``data_dir/sync.db``, one
row per window, with what each item was called so a removal can be named), so a caller never handles
tokens. Without a window, a round continues the last window synced for that calendar.

Paging is the client's (:meth:`~outlook_calendar_mcp.graph.GraphClient.pages`), to the
``@odata.deltaLink``. As the reference describes ("the first response always ends with a deltaLink"), a
first response may end with a deltaLink while more of the window is still to come: after a first page
that held events the round follows that deltaLink once more, which costs one request where Graph
finished in one page and completes the round where it did not. An expired delta token (410) starts the
window over, and the result says so.
"""

from __future__ import annotations

import contextlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from ..graph import GraphClient, GraphError, Page, Prefer
from ..views import local_time
from . import times
from .services import Services
from .sync_state import SyncState
from .targets import Target, explain_access

__all__ = ["DEFAULT_DAYS", "Changes", "differences", "remembered", "sync_calendar", "sync_state"]

DEFAULT_DAYS = 7
DEFAULT_PAGE = 100
MAX_PAGES = 10_000
EXPIRED = {"syncstatenotfound", "resyncrequired", "syncstateinvalid"}
# What an abbreviated occurrence in a delta page takes from its series master.
FROM_MASTER = (
    "subject",
    "isAllDay",
    "location",
    "showAs",
    "sensitivity",
    "categories",
    "isCancelled",
    "organizer",
    "isOrganizer",
)

Progress = Callable[[int, int], Awaitable[None]]  # (pages so far, changes so far)


def remembered(doc: dict[str, Any], zone: ZoneInfo) -> dict[str, Any]:
    """What the state keeps of an event to say later what changed: subject (s), start (t), end (e), place
    (l), attendees' responses (r), cancelled (c). Only what the document carries (an abbreviated
    occurrence has its times alone)."""
    all_day = bool(doc.get("isAllDay"))
    seen: dict[str, Any] = {"t": local_time(doc.get("start"), zone, all_day)}
    if "subject" in doc:
        seen["s"] = doc.get("subject")
    if "end" in doc:
        seen["e"] = local_time(doc.get("end"), zone, all_day)
    if "location" in doc:
        seen["l"] = (doc.get("location") or {}).get("displayName") or ""
    if "attendees" in doc:
        seen["r"] = {
            (a.get("emailAddress") or {}).get("address", "").lower(): (a.get("status") or {}).get("response") or "none"
            for a in doc.get("attendees") or []
        }
    if "isCancelled" in doc:
        seen["c"] = bool(doc.get("isCancelled"))
    return seen


def differences(before: dict[str, Any], after: dict[str, Any]) -> list[str]:
    """What changed between two :func:`remembered` states, said briefly ("time: 10:00 -> 11:00", ...)."""
    out: list[str] = []
    if before.get("c") is False and after.get("c"):
        out.append("cancelled")
    if "t" in before and (before["t"], before.get("e")) != (after.get("t"), after.get("e", before.get("e"))):
        out.append(f"time: {before['t']} -> {after.get('t')}" + (f" to {after['e']}" if after.get("e") else ""))
    if "s" in before and "s" in after and before["s"] != after["s"]:
        out.append(f"subject: {before['s']!r} -> {after['s']!r}")
    if "l" in before and "l" in after and before["l"] != after["l"]:
        out.append(f"place: {before['l'] or '(none)'} -> {after['l'] or '(none)'}")
    if "r" in before and "r" in after:
        for who, response in after["r"].items():
            if who not in before["r"]:
                out.append(f"{who} invited")
            elif before["r"][who] != response:
                out.append(f"{who} {response}")
        out += [f"{who} removed" for who in before["r"] if who not in after["r"]]
    return out


def sync_state(svc: Services) -> SyncState:
    """The server's sync state, opened on first use."""
    if svc.sync_state is None:
        svc.sync_state = SyncState(svc.settings.data_dir / "sync.db", svc.clock)
    return svc.sync_state


@dataclass
class Changes:
    """One round: the window (UTC), and the Graph documents added, updated and removed since the last."""

    window: tuple[str, str]
    added: list[dict[str, Any]] = field(default_factory=list)
    updated: list[dict[str, Any]] = field(default_factory=list)
    removed: list[dict[str, Any]] = field(default_factory=list)  # {"id", "subject", "start"} as last seen
    changed: dict[str, list[str]] = field(default_factory=dict)  # updated event id -> what changed, said briefly
    first: bool = True  # the whole window is listed (as added)
    resynced: bool = False  # ... because the saved state had expired
    since: str | None = None  # when the previous round of this window was made (UTC)
    pages: int = 0


class _Round:
    """The pages of one delta round, and the latest state of each item in them."""

    def __init__(self, graph: GraphClient, prefer: Prefer, progress: Progress | None) -> None:
        self.graph, self.prefer, self.progress = graph, prefer, progress
        self.items: dict[str, dict[str, Any]] = {}
        self.pages = 0

    async def read(self, link: str, params: dict[str, str] | None) -> Page:
        """Pages from ``link`` to the one with the deltaLink, which is returned."""
        async with contextlib.aclosing(self.graph.pages(link, params=params, prefer=self.prefer)) as listing:
            async for page in listing:
                self.pages += 1
                for item in page.items:
                    self.items.pop(item["id"], None)
                    self.items[item["id"]] = item
                if self.progress is not None:
                    await self.progress(self.pages, len(self.items))
                if page.next_link is None:
                    if page.delta_link is None:
                        raise GraphError(
                            "The calendar view delta ended without an @odata.deltaLink.", code="noDeltaLink"
                        )
                    return page
                if self.pages >= MAX_PAGES:
                    raise GraphError(
                        f"The calendar view delta did not end after {MAX_PAGES} pages.", code="tooManyPages"
                    )
        raise GraphError("The calendar view delta ended without a page.", code="noDeltaLink")


async def sync_calendar(
    svc: Services,
    t: Target,
    cal: str,
    zone_name: str,
    zone: ZoneInfo,
    start: str | None,
    end: str | None,
    *,
    restart: bool = False,
    page_size: int | None = None,
    progress: Progress | None = None,
) -> Changes:
    """A delta round over the calendar at ``cal`` (:func:`~.targets.calendar_path` of ``t``) in
    ``start``..``end`` (default: the last window synced there, else the coming week)."""
    g = svc.graph
    identity = f"{g.base_url}|{getattr(g.token_provider, 'description', '')}"
    scope = f"{identity}|{cal}"
    state = sync_state(svc)
    if start is None and end is None and (last := state.last_window(scope)) is not None:
        window = last
    else:
        start, end = times.default_window(svc.clock, zone, start, end, days=DEFAULT_DAYS)
        window = times.window(start, end, zone)
    key = f"{scope}|{window[0]}|{window[1]}"
    saved = None if restart else state.get(key)
    prefer = svc.prefer(zone_name, max_page_size=page_size or DEFAULT_PAGE, track_changes=True)
    resynced = False
    while True:
        initial = saved is None
        round_ = _Round(g, prefer, progress)
        try:
            with explain_access(t, writing=False):
                if saved is None:
                    page = await round_.read(
                        f"{cal}/calendarView/delta", {"startDateTime": window[0], "endDateTime": window[1]}
                    )
                    if round_.pages == 1 and page.items:  # the reference: a first response always ends with a deltaLink
                        page = await round_.read(page.delta_link or "", None)
                else:
                    page = await round_.read(saved[0], None)
        except GraphError as e:
            if saved is not None and (e.status == 410 or (e.code or "").lower() in EXPIRED):
                state.drop(key)
                saved, resynced = None, True
                continue
            raise
        break
    known: dict[str, Any] = {} if saved is None else saved[1]
    items = round_.items
    changes = Changes(
        window=window,
        first=initial,
        resynced=resynced,
        pages=round_.pages,
        since=None if saved is None else saved[2][:19] + "Z",
    )
    masters = {i: d for i, d in items.items() if d.get("type") == "seriesMaster" and "@removed" not in d}
    new_known = dict(known)
    for event_id, doc in items.items():
        if "@removed" in doc:
            seen = new_known.pop(event_id, None) or {}
            changes.removed.append({"id": event_id, "subject": seen.get("s"), "start": seen.get("t")})
            continue
        if doc.get("type") == "occurrence" and "subject" not in doc:  # abbreviated: the rest is the master's
            master = masters.get(doc.get("seriesMasterId") or "") or {}
            doc = {**{k: master[k] for k in FROM_MASTER if k in master}, **doc}
            if "subject" not in doc:
                doc["subject"] = (known.get(doc.get("seriesMasterId") or "") or {}).get("s")
        (changes.updated if event_id in known else changes.added).append(doc)
        seen = remembered(doc, zone)
        if event_id in known:
            what = differences(known[event_id], seen)
            if what:
                changes.changed[event_id] = what
        new_known[event_id] = {**(known.get(event_id) or {}), **seen}
    state.put(key, scope, window, page.delta_link or "", new_known)
    return changes
