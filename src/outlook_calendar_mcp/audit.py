"""The audit trail: one JSON line per call of a tool that writes, in the data directory, one file per user.

Calendar writes reach other people and cannot be undone, so each call of a writing tool is recorded:
``time`` (the server's clock), ``user`` (:meth:`~.calendar.Services.user_key`), ``tool``, ``target``
(the identifying arguments only: event, calendar, attachment, permission, reminder, group, mailbox; never a
subject, body, comment or file content), each Graph write it sent (``method``, ``path``, ``status``,
``request_id``, ``outcome``: ok, recovered, failed, unknown) and the call's ``outcome`` (ok, recovered,
preview, declined, refused, rate_limited, failed, unknown) with the error class when it failed. Never a token, never a body.

Files: ``<data dir>/audit/<user>.jsonl`` (the user key made safe for a file name). ``outlook-calendar-mcp audit
[--since 1h] [--user X]`` prints them, oldest first.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import json
import logging
import re
import sys
import threading
from collections.abc import Iterator
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .graph.outcomes import Calls

if TYPE_CHECKING:
    from .clock import Clock
    from .config import Settings

__all__ = ["TARGET_ARGUMENTS", "AuditLog", "parse_since", "print_trail", "read_trail"]

log = logging.getLogger("outlook_calendar_mcp.audit")

# The arguments that say *what* a call acted on; nothing else of a call is written down.
TARGET_ARGUMENTS = (
    "event",
    "calendar_id",
    "group_id",
    "attachment",
    "permission",
    "reminder",
    "mailbox",
    "scope",
)
_MAX_VALUE = 200


def file_name(user: str) -> str:
    """A file name for ``user``: readable where it can be, unique always (a hash suffix)."""
    safe = re.sub(r"[^a-z0-9@._-]", "_", user.lower())[:80].strip(".") or "user"
    return f"{safe}-{hashlib.sha256(user.encode()).hexdigest()[:8]}.jsonl"


class AuditLog:
    """Appends audit entries under ``directory`` (one file per user); never raises into a tool call."""

    def __init__(self, directory: Path, clock: Clock) -> None:
        self.directory = directory
        self.clock = clock
        self._lock = threading.Lock()

    def record(
        self, *, user: str, tool: str, arguments: dict[str, Any], calls: Calls | None, outcome: str, error: str | None
    ) -> None:
        entry: dict[str, Any] = {
            "time": self.clock.now().isoformat(timespec="milliseconds"),
            "user": user,
            "tool": tool,
            "target": {
                k: str(arguments[k])[:_MAX_VALUE] for k in TARGET_ARGUMENTS if arguments.get(k) not in (None, "")
            },
            "outcome": outcome,
            "requests": [asdict(w) for w in (calls.writes if calls else [])],
        }
        if error:
            entry["error"] = error
        line = json.dumps(entry, ensure_ascii=False, separators=(",", ":"))
        try:
            with self._lock:
                self.directory.mkdir(parents=True, exist_ok=True)
                with open(self.directory / file_name(user), "a", encoding="utf-8") as f:
                    f.write(line + "\n")
        except OSError as e:  # the write itself happened: say the trail missed it, do not fail the call
            log.error("audit: could not record %s for %s: %s", tool, user, type(e).__name__)


def parse_since(text: str | None) -> _dt.timedelta | None:
    """``30m``, ``1h``, ``2d``, ``90s`` -> a duration; None for no limit."""
    if not text:
        return None
    m = re.fullmatch(r"\s*(\d+)\s*([smhd])\s*", text)
    if not m:
        raise ValueError(f"--since: '{text[:20]}' is not a duration; give e.g. 30m, 1h or 2d.")
    return _dt.timedelta(**{{"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}[m[2]]: int(m[1])})


def read_trail(directory: Path, *, since: _dt.datetime | None = None, user: str | None = None) -> Iterator[dict]:
    """Entries of every user's file (or ``user``'s), oldest first, from ``since`` on."""
    if not directory.is_dir():
        return
    files = [directory / file_name(user)] if user else sorted(directory.glob("*.jsonl"))
    entries: list[dict] = []
    for path in files:
        if not path.is_file():
            continue
        for line in path.read_text(encoding="utf-8").splitlines():
            try:
                entry = json.loads(line)
            except ValueError:
                continue
            if since is not None:
                try:
                    if _dt.datetime.fromisoformat(entry.get("time", "")) < since:
                        continue
                except ValueError:
                    continue
            entries.append(entry)
    yield from sorted(entries, key=lambda e: e.get("time", ""))


def print_trail(settings: Settings, *, since: str | None, user: str | None) -> int:
    """The ``audit`` command: the trail as JSON lines on stdout."""
    from .clock import Clock  # noqa: PLC0415

    try:
        window = parse_since(since)
    except ValueError as e:
        print(str(e), file=sys.stderr)  # noqa: T201 - the CLI's voice
        return 2
    start = Clock(settings.now).now() - window if window else None
    for entry in read_trail(settings.data_dir / "audit", since=start, user=None if user in (None, "all") else user):
        print(json.dumps(entry, ensure_ascii=False, separators=(",", ":")))  # noqa: T201 - the command's output
    return 0
