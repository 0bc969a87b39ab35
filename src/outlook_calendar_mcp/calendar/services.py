"""What every calendar operation shares: the Graph client, handles, the clock, and per-server caches.

One :class:`Services` per server (``create_server`` builds it; ``server.services_of`` gives it back).
It knows how to name a mailbox in a Graph path (:meth:`Services.mb`), which time zone a mailbox lives in
(:meth:`Services.zone`, cached), and turns handles back into Graph ids.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote
from zoneinfo import ZoneInfo

from .. import timezones as tz
from ..clock import Clock
from ..config import Settings
from ..graph import GraphClient, Prefer
from ..ids import Handles
from ..state import user_key
from .errors import InputError
from .sync_state import SyncState

__all__ = ["Services"]

GUID = re.compile(r"[0-9a-fA-F]{8}-([0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}")


@dataclass
class Services:
    """The one Graph client and the state operations share."""

    settings: Settings
    graph: GraphClient
    handles: Handles
    clock: Clock = field(default_factory=Clock)  # the one "now" every operation reads
    app_only: bool = False
    _zones: dict[str, tuple[str, ZoneInfo]] = field(default_factory=dict)
    # mailboxSettings per mailbox path, read once per session: zone and working hours do not change mid-talk.
    _settings: dict[str, dict[str, Any]] = field(default_factory=dict)
    # Microsoft 365 group addresses already looked up (lower-cased address -> id), see targets.group_id_of.
    group_ids: dict[str, str] = field(default_factory=dict)
    # Mailboxes whose settings answered 403 (a sharee cannot read them), see targets.zone_for.
    zone_denied: set[str] = field(default_factory=set)
    # Delta links of sync_events (data_dir/sync.db), opened on first use: see sync.sync_state.
    sync_state: SyncState | None = None
    # Series rules read lately ((user, master id) -> (read at, rule)), see series.series_rules: kept
    # SERIES_RULE_TTL_S and forgotten whenever this server sends Graph a write.
    series_rule_cache: dict[tuple[str, str], tuple[float, str | None]] = field(default_factory=dict)

    # Bumped by every write (sent, and its tool done): a rule read while one was under way is not kept.
    writes_seen: int = 0

    def __post_init__(self) -> None:
        self.graph.on_request.append(self._forget_on_write)

    def _forget_on_write(self, method: str, url: str, headers: dict[str, str], body: bytes | None) -> None:
        if method.upper() in ("GET", "HEAD"):
            return
        if url.split("?", 1)[0].endswith("/$batch") and body:  # a batch is a write only when a request in it is
            try:
                inner = {str(r.get("method", "")).upper() for r in json.loads(body).get("requests") or []}
            except (ValueError, AttributeError):
                inner = {"?"}
            if inner <= {"GET", "HEAD"}:
                return
        self.forget_series_rules()

    def forget_series_rules(self) -> None:
        """A write was sent or finished: rules read before it may be stale."""
        self.writes_seen += 1
        self.series_rule_cache.clear()

    def user_key(self) -> str:
        """Who the server acts for, as a stable key (confirmation tokens, the audit trail): the app-only
        mailbox, the sandbox user, else 'me' (one signed-in user per local server). Remote mode (issue 11)
        makes it the caller's tenant and object id (``state.user_key()`` during a remote request)."""
        remote = user_key()
        if remote != "local":
            return remote
        if self.app_only and self.settings.mailbox:
            return self.settings.mailbox.lower()
        provider = self.graph.token_provider
        if getattr(provider, "description", "").startswith("sandbox"):
            return (getattr(provider, "user", None) or self.settings.sandbox_user or "sandbox-default-user").lower()
        return "me"

    def mb(self, mailbox: str | None) -> str:
        """The Graph path of a mailbox: ``me``, or ``users/{id|upn}``."""
        mailbox = (mailbox or "").strip() or None
        if mailbox is None and self.app_only:
            mailbox = self.settings.mailbox
            if not mailbox:
                raise InputError(
                    "mailbox: app-only sign-in has no 'me'; pass mailbox (an address) or set OUTLOOK_MCP_MAILBOX."
                )
        if mailbox is None or mailbox.lower() == "me":
            return "me"
        guid = GUID.fullmatch(mailbox)
        if "/" in mailbox or " " in mailbox or ("@" not in mailbox and not guid):
            raise InputError(
                f"mailbox: '{mailbox}' is not an address or user id; give e.g. 'dana@contoso.com' "
                "(find_people turns a name into an address)."
            )
        return f"users/{quote(mailbox, safe='@')}"

    def zone_cached(self, mailbox: str | None, time_zone: str | None = None) -> tuple[str, ZoneInfo] | None:
        """What :meth:`zone` gives when it needs no Graph read (``time_zone`` given, or the mailbox's zone
        read earlier in this session), else None."""
        if time_zone:
            try:
                zone = tz.resolve(time_zone)
            except tz.TimeZoneError as e:
                raise InputError(f"time_zone: {e}") from None
            return tz.windows_name(time_zone) if tz.is_known(time_zone) else time_zone, zone
        return self._zones.get(f"{user_key()} {self.mb(mailbox)}")

    async def zone(self, mailbox: str | None, time_zone: str | None = None) -> tuple[str, ZoneInfo]:
        """(name for Graph, zone) to show and read times in: ``time_zone`` if given, else the mailbox's own."""
        known = self.zone_cached(mailbox, time_zone)
        if known is not None:
            return known
        path = self.mb(mailbox)
        key = f"{user_key()} {path}"  # per person: in remote mode 'me' is someone else for each caller
        if key not in self._zones:
            settings = await self.mailbox_settings(mailbox)
            name = settings.get("timeZone") or "UTC"
            try:
                self._zones[key] = (name, tz.resolve(name))
            except tz.TimeZoneError:
                self._zones[key] = ("UTC", ZoneInfo("UTC"))
        return self._zones[key]

    async def mailbox_settings(self, mailbox: str | None) -> dict[str, Any]:
        """The mailbox's settings (time zone, working hours, formats), read from Graph once per session."""
        path = self.mb(mailbox)
        key = f"{user_key()} {path}"  # per person, as the zones
        if key not in self._settings:
            self._settings[key] = await self.graph.get(f"{path}/mailboxSettings") or {}
        return self._settings[key]

    def now_text(self, zone: ZoneInfo) -> str:
        """The current local time in ``zone`` (ISO 8601 with offset, to the minute): what results that
        depend on "now" carry, so a model never asks for it again."""
        return tz.format_local(self.clock.now(zone).replace(second=0, microsecond=0), zone)

    def prefer(self, zone_name: str, **kw: Any) -> Prefer:
        """The Prefer headers of a read shown to a person: times in ``zone_name``, bodies as text."""
        return Prefer(time_zone=zone_name, body_text=True, **kw)

    def event_id(self, value: str, argument: str = "event") -> str:
        return self.handles.resolve("event", value, argument=argument)

    def calendar_id(self, value: str, argument: str = "calendar_id") -> str:
        return self.handles.resolve("calendar", value, argument=argument)

    def group_id(self, value: str, argument: str = "group_id") -> str:
        return self.handles.resolve("group", value, argument=argument)
