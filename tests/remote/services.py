"""Real parts the remote tests start: redis-server and HAProxy (Debian packages; `.ci/run` installs them).

Locally a missing part skips its tests with a message naming the package; in CI (``CI`` set) it fails.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.servers import free_port, stop


def need(program: str, package: str) -> str:
    found = shutil.which(program) or next(
        (p for p in (f"/usr/sbin/{program}", f"/usr/bin/{program}") if os.path.exists(p)), None
    )
    if found:
        return found
    message = f"{program} is not installed: `apt-get install {package}` (.ci/run installs it)"
    if os.environ.get("CI"):
        pytest.fail(message)
    pytest.skip(message)


def wait_port(port: int, proc: subprocess.Popen, what: str, log: Path | None = None, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while True:
        if proc.poll() is not None:
            raise AssertionError(f"{what} exited with {proc.returncode}: {log.read_text() if log else ''}")
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=0.2):
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} not listening on {port} after {timeout}s")
        time.sleep(0.05)


@contextlib.contextmanager
def redis_server(tmp_path: Path) -> Iterator[str]:
    """A throwaway redis-server on a free loopback port (no persistence); yields its redis:// URL."""
    program = need("redis-server", "redis-server")
    port = free_port()
    log = tmp_path / f"redis-{port}.log"
    with log.open("wb") as out:
        proc = subprocess.Popen([program, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly",
                                 "no", "--dir", str(tmp_path)], stdout=out, stderr=subprocess.STDOUT)
    try:
        wait_port(port, proc, "redis-server", log)
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        stop(proc)


@contextlib.contextmanager
def haproxy(tmp_path: Path, backends: list[int]) -> Iterator[int]:
    """HAProxy on a free port, round-robin over ``backends`` (loopback ports), health-checked; yields its port."""
    program = need("haproxy", "haproxy")
    port = free_port()
    servers = "\n".join(f"    server w{i} 127.0.0.1:{p} check inter 500ms fall 1 rise 1" for i, p in enumerate(backends))
    config = tmp_path / f"haproxy-{port}.cfg"
    config.write_text(f"""global
    maxconn 512
defaults
    mode http
    timeout connect 2s
    timeout client 60s
    timeout server 60s
    retries 2
    option redispatch
frontend mcp
    bind 127.0.0.1:{port}
    default_backend workers
backend workers
    balance roundrobin
    retry-on conn-failure empty-response response-timeout
{servers}
""")
    log = tmp_path / f"haproxy-{port}.log"
    with log.open("wb") as out:
        proc = subprocess.Popen([program, "-db", "-f", str(config)], stdout=out, stderr=subprocess.STDOUT)
    try:
        wait_port(port, proc, "haproxy", log)
        yield port
    finally:
        stop(proc)
