"""Which tools exist, and which must be confirmed before they reach other people.

- ``read_only``: no tool that changes anything is registered at all.
- ``tools``: presets and/or tool names (``--tools core,find_meeting_times``).
- ``confirm_sends``: a tool whose effect reaches other people (annotated
  ``openWorldHint``) asks the person first (:mod:`.confirm`): through MCP
  elicitation where the client offers it, else with a preview and a
  confirmation token. A token is an HMAC (per-process key) of the tool name,
  the exact arguments, the session, the user and the time it was issued:
  it confirms exactly what was previewed, in that session, for that user,
  for :data:`TOKEN_TTL_S` seconds, once (``claims``).

:meth:`Policy.bind` gives it what the error boundary needs from the server: the
services (clock, user key, settings), the audit trail, the claim store and the
per-person rate limit (:mod:`.rate`, counted in that same store).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from mcp_types import ToolAnnotations

if TYPE_CHECKING:
    from ..audit import AuditLog
    from ..calendar import Services
    from ..state import StateStore
    from .rate import RateLimit

TOKEN_TTL_S = 600.0  # a confirmation token expires ten minutes after its preview
CALL_TIMEOUT_S = 300.0  # no tool call outlives this (retries, uploads and all)

PRESETS: dict[str, frozenset[str]] = {
    "core": frozenset(
        {
            "calendar_view",
            "get_event",
            "create_event",
            "update_event",
            "delete_event",
            "find_people",
            "get_mailbox_settings",
            "find_meeting_times",
            "get_schedule",
            "accept_event",
            "tentatively_accept_event",
            "decline_event",
            "list_calendars",
        }
    ),
    "scheduling": frozenset(
        {
            "calendar_view",
            "get_event",
            "find_people",
            "get_mailbox_settings",
            "find_meeting_times",
            "get_schedule",
            "list_rooms",
            "list_room_lists",
            "create_event",
            "update_event",
        }
    ),
    "responses": frozenset(
        {"accept_event", "tentatively_accept_event", "decline_event", "forward_event", "cancel_event"}
    ),
}


class PolicyError(ValueError):
    """A --tools selection that names no tool."""


Recipients = Callable[[str, dict[str, Any]], Awaitable[list[str]]]


@dataclass
class Policy:
    read_only: bool = False
    include: frozenset[str] | None = None  # None: every tool
    confirm_sends: bool = False
    recipients: Recipients | None = None  # who a send would reach (set by the server)
    key: bytes = field(default_factory=lambda: secrets.token_bytes(32))
    registered: list[str] = field(default_factory=list)
    seen: set[str] = field(default_factory=set)
    services: Services | None = None  # set by bind(): clock, user key, settings
    audit: AuditLog | None = None  # the audit trail of writes (set by bind)
    claims: StateStore | None = None  # single use of confirmation tokens (set by bind; Redis in a shared deployment)
    rate: RateLimit | None = None  # calls per minute per person (set by bind from settings.rate_limit)
    call_timeout_s: float = CALL_TIMEOUT_S
    # A stateless HTTP server (every request its own connection, maybe on another worker): no session to
    # bind a confirmation token to, so it is bound to the person and the arguments only.
    sessionless: bool = False

    def bind(self, svc: Services, *, claims: StateStore | None = None, audit: AuditLog | None = None) -> None:
        """Give the error boundary the server's services, audit trail, claim store (defaults: files under
        the data directory) and rate limit (counted in the claim store: shared by workers on Redis)."""
        from ..audit import AuditLog  # noqa: PLC0415 - tools/ imports policy; keep the graph of imports flat
        from .rate import RateLimit  # noqa: PLC0415 - same

        self.services = svc
        self.audit = audit or self.audit or AuditLog(svc.settings.data_dir / "audit", svc.clock)
        self.claims = claims or self.claims or svc.handles.store  # the one state store (SQLite, or Redis shared)
        self.rate = RateLimit(svc.settings.rate_limit, self.claims, svc.clock)

    def __call__(self, name: str, annotations: ToolAnnotations) -> bool:
        self.seen.add(name)
        if self.read_only and not annotations.read_only_hint:
            return False
        if self.include is not None and name not in self.include:
            return False
        self.registered.append(name)
        return True

    def needs_confirmation(self, annotations: ToolAnnotations) -> bool:
        return self.confirm_sends and bool(annotations.open_world_hint)

    def token(self, name: str, arguments: dict[str, Any], *, session: str, user: str, issued: int) -> str:
        """``<issued, hex>.<mac>``: the MAC covers the tool, the exact arguments, the session, the user and
        the issue time (so none of them can be swapped), and the time is readable to check expiry."""
        canonical = json.dumps(
            {"tool": name, "arguments": arguments, "session": session, "user": user, "issued": issued},
            sort_keys=True,
            separators=(",", ":"),
            default=lambda v: v.model_dump(mode="json") if hasattr(v, "model_dump") else str(v),
        )
        mac = hmac.new(self.key, canonical.encode(), hashlib.sha256).hexdigest()[:24]
        return f"{issued:x}.{mac}"

    def check_selection(self) -> None:
        """After registration: every tool named in the selection must exist."""
        unknown = sorted((self.include or frozenset()) - self.seen)
        if unknown:
            raise PolicyError(
                f"--tools: unknown tool(s) {', '.join(unknown)}. Presets: all, "
                f"{', '.join(sorted(PRESETS))}; tools: {', '.join(sorted(self.seen))}."
            )


def parse_tools(selection: str | None) -> frozenset[str] | None:
    """'core,find_meeting_times' -> the names (presets expanded); None or 'all' -> None (everything)."""
    if not selection or selection.strip().lower() == "all":
        return None
    names: set[str] = set()
    for item in (part.strip() for part in selection.split(",")):
        if not item:
            continue
        names |= PRESETS.get(item, frozenset({item}))
    return frozenset(names)
