"""Servers the tests start as child processes: one copy of each helper.

:func:`spawned` starts ``python -m outlook_calendar_mcp serve --transport sse|http`` on a free
loopback port with its own sandbox file, waits until it accepts connections and always stops it;
:func:`stdio_command` is the command line a client starts for stdio. :func:`server_env` gives a
child its own data and cache dirs, no inherited ``OUTLOOK_MCP_*`` setting except the suite's
instant (``OUTLOOK_MCP_NOW``, tests/instants.py), so a child's "now" is the test's. Every child is
a process of this test session, so its Graph requests are recorded for the contract check
(tests/conftest.py).
"""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from tests.instants import suite_instant


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def server_env(tmp_path: Path) -> dict[str, str]:
    """A child server's environment: its own data and cache dirs, the suite's instant, no other OUTLOOK_MCP_*."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("OUTLOOK_MCP_")}
    data = tmp_path / "data"
    data.mkdir(parents=True, exist_ok=True)
    env.update(OUTLOOK_MCP_DATA_DIR=str(data), OUTLOOK_MCP_CACHE_DIR=str(tmp_path / "cache"),
               OUTLOOK_MCP_NOW=suite_instant().isoformat(), PYTHONUNBUFFERED="1")
    return env


def stdio_env(tmp_path: Path) -> dict[str, str]:
    """What a stdio server needs from the client that starts it: clients pass a child only a few variables
    of their own (HOME, PATH, ...), so the data dirs, the instant and the contract recorder's settings go
    explicitly."""
    keep = ("OUTLOOK_MCP_", "PYTHON", "GRAPH_CONTRACT_", "PYTEST_CURRENT_TEST", "PATH", "HOME", "LD_PRELOAD",
            "FAKETIME")
    return {k: v for k, v in server_env(tmp_path).items() if k.startswith(keep)}


def serve_args(transport: str, db: Path, port: int | None = None, *extra: str) -> list[str]:
    """``-m outlook_calendar_mcp serve`` on the sandbox in ``db`` (the arguments after the interpreter)."""
    args = ["-m", "outlook_calendar_mcp", "serve", "--transport", transport, "--backend", "sandbox",
            "--sandbox-db", str(db)]
    if port is not None:
        args += ["--port", str(port)]
    return [*args, *extra]


def stdio_command(tmp_path: Path, name: str = "stdio") -> list[str]:
    """``python -m outlook_calendar_mcp serve`` (stdio) on its own sandbox file."""
    return [sys.executable, *serve_args("stdio", tmp_path / f"sandbox-{name}.db")]


def stop(proc: subprocess.Popen, timeout: float = 10) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=timeout)


@dataclass
class Spawned:
    url: str
    db: Path
    proc: subprocess.Popen
    stderr: Path


@contextlib.contextmanager
def spawned(tmp_path: Path, transport: str, *extra: str, timeout: float = 30.0) -> Iterator[Spawned]:
    """``serve --transport sse|http`` on a free loopback port, ready to connect; stopped afterwards."""
    port = free_port()
    db = tmp_path / f"sandbox-{transport}-{port}.db"
    errlog = tmp_path / f"server-{transport}-{port}.stderr"
    with errlog.open("wb") as err:
        proc = subprocess.Popen([sys.executable, *serve_args(transport, db, port, *extra)], env=server_env(tmp_path),
                                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=err)
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
        path = "/sse" if transport == "sse" else "/mcp"
        yield Spawned(url=f"http://127.0.0.1:{port}{path}", db=db, proc=proc, stderr=errlog)
    finally:
        stop(proc)
