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

On a session's first call the mailbox's zone is not known yet. When the window does not depend on it (given
with UTC offsets, or the last window synced there) and the round is a window's first, the round is read in
UTC together with the zone (:func:`~.together.zone_and`), then shown in the zone as Graph would have shown it
(:func:`~.events.in_zone`): one Graph round trip fewer. Should an item's being all-day not be told (an
abbreviated occurrence whose series master is not in the round), the round is read again in the zone: a
first round's token is not kept, so nothing is lost.
"""

from __future__ import annotations

import contextlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from ..clock import Clock
from ..graph import GraphClient, GraphError, Page, Prefer
from ..views import local_time
from . import times
from .errors import InputError
from .events import in_zone
from .services import Services
from .sync_state import SyncState
from .targets import Target, explain_access, zone_for, zone_known
from .together import zone_and

__all__ = [
    "DEFAULT_DAYS",
    "Changes",
    "differences",
    "remembered",
    "sync_calendar",
    "sync_state",
    "window_without_zone",
]

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
# The zones furthest apart (UTC+14, UTC-12): a window that reads the same in both reads the same in every zone.
_FAR_APART = (ZoneInfo("Etc/GMT-14"), ZoneInfo("Etc/GMT+12"))


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
    zone_name: str  # the zone the times are shown in (Graph's name) ...
    zone: ZoneInfo  # ... and the zone itself
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

    async def first(self, cal: str, window: tuple[str, str]) -> Page:
        """A window's first round (no saved link)."""
        page = await self.read(f"{cal}/calendarView/delta", {"startDateTime": window[0], "endDateTime": window[1]})
        if self.pages == 1 and page.items:  # the reference: a first response always ends with a deltaLink
            page = await self.read(page.delta_link or "", None)
        return page

    def shown_in(self, zone_name: str, zone: ZoneInfo) -> bool:
        """The items of a round read in UTC, as Graph shows them in ``zone_name``; False (nothing changed)
        when an item's being all-day cannot be told: an abbreviated occurrence whose master is not here."""
        all_day = {i: d["isAllDay"] for i, d in self.items.items() if "isAllDay" in d}
        shown: dict[str, dict[str, Any]] = {}
        for event_id, doc in self.items.items():
            if "@removed" in doc or not (doc.get("start") or doc.get("end")):
                shown[event_id] = doc
                continue
            flag = doc["isAllDay"] if "isAllDay" in doc else all_day.get(doc.get("seriesMasterId") or "")
            if flag is None:
                return False
            seen = in_zone({**doc, "isAllDay": flag}, zone_name, zone)
            if "isAllDay" not in doc:
                del seen["isAllDay"]
            shown[event_id] = seen
        self.items = shown
        return True


def window_without_zone(clock: Clock, start: str | None, end: str | None) -> tuple[str, str] | None:
    """The UTC window of ``start``..``end`` when no zone changes it (times with UTC offsets), else None."""
    found = set()
    for zone in _FAR_APART:
        try:
            first, last = times.default_window(clock, zone, start, end, days=DEFAULT_DAYS)
            found.add(times.window(first, last, zone))
        except (InputError, ValueError):
            return None  # the exact window, once the zone is known, says what is wrong
    return found.pop() if len(found) == 1 else None


async def sync_calendar(
    svc: Services,
    t: Target,
    cal: str,
    time_zone: str | None,
    start: str | None,
    end: str | None,
    *,
    restart: bool = False,
    page_size: int | None = None,
    progress: Progress | None = None,
) -> Changes:
    """A delta round over the calendar at ``cal`` (:func:`~.targets.calendar_path` of ``t``) in
    ``start``..``end`` (default: the last window synced there, else the coming week), shown in ``time_zone``
    (default: :func:`~.targets.zone_for`'s)."""
    g = svc.graph
    identity = f"{g.base_url}|{getattr(g.token_provider, 'description', '')}"
    scope = f"{identity}|{cal}"
    state = sync_state(svc)
    known_zone = zone_known(svc, t, time_zone)  # a bad time_zone is said before anything is read
    window = await state.last_window(scope) if start is None and end is None else None
    if window is None and known_zone is None:
        window = window_without_zone(svc.clock, start, end)
    early: tuple[_Round, Page] | None = None  # a first round read in UTC while the zone was read
    if known_zone is not None:
        zone_name, zone = known_zone
    elif window is not None and (restart or await state.get(f"{scope}|{window[0]}|{window[1]}") is None):
        utc_round = _Round(g, svc.prefer("UTC", max_page_size=page_size or DEFAULT_PAGE, track_changes=True), progress)
        exact = window

        async def first_round() -> Page:
            with explain_access(t, writing=False):
                return await utc_round.first(cal, exact)

        (zone_name, zone), read = await zone_and(svc, t, time_zone, first_round)
        page = read.result()  # the round's error, if any, after the zone's
        if utc_round.shown_in(zone_name, zone):
            early = (utc_round, page)
    else:
        zone_name, zone = await zone_for(svc, t, time_zone)
    if window is None:
        start, end = times.default_window(svc.clock, zone, start, end, days=DEFAULT_DAYS)
        window = times.window(start, end, zone)
    key = f"{scope}|{window[0]}|{window[1]}"
    saved = None if restart else await state.get(key)
    prefer = svc.prefer(zone_name, max_page_size=page_size or DEFAULT_PAGE, track_changes=True)
    resynced = False
    while True:
        initial = saved is None
        if early is not None and initial:
            round_, page = early
            break
        round_ = _Round(g, prefer, progress)
        try:
            with explain_access(t, writing=False):
                page = await (round_.first(cal, window) if saved is None else round_.read(saved[0], None))
        except GraphError as e:
            if saved is not None and (e.status == 410 or (e.code or "").lower() in EXPIRED):
                await state.drop(key)
                saved, resynced = None, True
                continue
            raise
        break
    known: dict[str, Any] = {} if saved is None else saved[1]
    items = round_.items
    changes = Changes(
        window=window,
        zone_name=zone_name,
        zone=zone,
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
    await state.put(key, scope, window, page.delta_link or "", new_known)
    return changes
