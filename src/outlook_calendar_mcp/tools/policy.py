"""Which tools exist, and which must be confirmed before they reach other people.

- ``read_only``: no tool that changes anything is registered at all.
- ``tools``: presets and/or tool names (``--tools core,find_meeting_times``).
- ``confirm_sends``: a tool whose effect reaches other people (annotated
  ``openWorldHint``) first answers with a preview — who would be told what —
  and a confirmation token; it acts only when called again with the same
  arguments and ``confirm=<token>``. Tokens are HMACs of the tool name and the
  arguments under a per-process key, so a token confirms exactly what was
  previewed and nothing else.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from mcp_types import ToolAnnotations

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

    def token(self, name: str, arguments: dict[str, Any]) -> str:
        canonical = json.dumps(
            {"tool": name, "arguments": arguments},
            sort_keys=True,
            separators=(",", ":"),
            default=lambda v: v.model_dump(mode="json") if hasattr(v, "model_dump") else str(v),
        )
        return hmac.new(self.key, canonical.encode(), hashlib.sha256).hexdigest()[:16]

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
