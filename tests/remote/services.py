"""Real parts the remote tests start: redis-server and HAProxy (Debian packages; `.ci/run` installs them).

Locally a missing part skips its tests with a message naming the package; in CI (``CI`` set) it fails.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import sqlite3
import ssl
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.servers import free_port, server_env, stop


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


def service_env() -> dict[str, str]:
    """The environment of redis-server and HAProxy: without libfaketime (CI runs the suite under it; redis-server
    stalls on a faked clock, and neither service decides anything of ours from the date)."""
    return {k: v for k, v in os.environ.items() if k not in ("LD_PRELOAD", "FAKETIME", "FAKETIME_NO_CACHE")}


@contextlib.contextmanager
def redis_server(tmp_path: Path) -> Iterator[str]:
    """A throwaway redis-server on a free loopback port (no persistence); yields its redis:// URL."""
    program = need("redis-server", "redis-server")
    port = free_port()
    log = tmp_path / f"redis-{port}.log"
    with log.open("wb") as out:
        proc = subprocess.Popen([program, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly",
                                 "no", "--dir", str(tmp_path)], stdout=out, stderr=subprocess.STDOUT, env=service_env())
    try:
        wait_port(port, proc, "redis-server", log)
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        stop(proc)


@contextlib.contextmanager
def haproxy(tmp_path: Path, backends: list[int], port: int | None = None) -> Iterator[int]:
    """HAProxy on ``port`` (default: a free one), round-robin over ``backends`` (loopback ports), health-checked."""
    program = need("haproxy", "haproxy")
    port = port or free_port()
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
        proc = subprocess.Popen([program, "-db", "-f", str(config)], stdout=out, stderr=subprocess.STDOUT,
                                env=service_env())
    try:
        wait_port(port, proc, "haproxy", log)
        yield port
    finally:
        stop(proc)


@dataclass
class Child:
    proc: subprocess.Popen
    port: int
    log: Path

    def output(self) -> str:
        return self.log.read_text(errors="replace")


@contextlib.contextmanager
def child(args: list[str], env: dict[str, str], port: int, log: Path, timeout: float = 40,
          python: str = sys.executable) -> Iterator[Child]:
    """``python -m outlook_calendar_mcp <args>``, ready when ``port`` accepts connections; stopped afterwards
    (``python``: another install's interpreter, bench/remote_bench.py's baseline)."""
    with log.open("wb") as out:
        proc = subprocess.Popen([python, "-m", "outlook_calendar_mcp", *args], env=env,
                                stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT)
    try:
        wait_port(port, proc, " ".join(args[:2]), log, timeout)
        yield Child(proc, port, log)
    finally:
        stop(proc)


@dataclass
class RemoteSandbox:
    """``sandbox serve`` in a child: Graph over HTTP and HTTPS, the identity platform, its CA file."""

    http: str  # http://127.0.0.1:P
    https: str  # https://127.0.0.1:Q
    ca: Path
    db: Path
    env: dict[str, str]  # the data dir and instant every child of the test shares
    child: Child

    @property
    def graph_url(self) -> str:
        return f"{self.https}/v1.0"

    def ssl(self) -> ssl.SSLContext:
        return ssl.create_default_context(cafile=str(self.ca))


@contextlib.contextmanager
def remote_sandbox(tmp_path: Path) -> Iterator[RemoteSandbox]:
    env = server_env(tmp_path)
    port, tls_port = free_port(), free_port()
    db = tmp_path / "sandbox.db"
    with child(["sandbox", "serve", "--port", str(port), "--tls-port", str(tls_port), "--db", str(db)], env, tls_port,
               tmp_path / "sandbox.log") as c:
        ca = Path(env["OUTLOOK_MCP_DATA_DIR"]) / "sandbox-identity" / "ca.pem"
        yield RemoteSandbox(f"http://127.0.0.1:{port}", f"https://127.0.0.1:{tls_port}", ca, db, env, c)


def oauth_env(sandbox: RemoteSandbox, **more: str) -> dict[str, str]:
    """A remote-mode server's environment: the sandbox's HTTPS URL; everything else discovered from it."""
    return {**sandbox.env, "OUTLOOK_MCP_SANDBOX_URL": sandbox.graph_url, **more}


def events_of(db: Path, subject: str, mailbox: str) -> list[dict]:
    """Events with this subject in one mailbox of a sandbox file another process serves (read-only)."""
    from tests.e2e.conftest import rows_of

    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        return rows_of(conn, subject, mailbox)
    finally:
        conn.close()


STATE_KEY = "the deployment's state key: 32+ characters, same on every worker"


@dataclass
class Cluster:
    """N `serve --auth oauth` workers (one process each) behind HAProxy, sharing one Redis."""

    url: str  # the load balancer's /mcp
    workers: list[Child]
    redis_url: str

    def logs(self) -> str:
        return "".join(w.output() for w in self.workers)


@contextlib.contextmanager
def cluster(tmp_path: Path, sandbox: RemoteSandbox, redis_url: str, n: int, python: str = sys.executable,
            **more: str) -> Iterator[Cluster]:
    """``more``: further settings of every worker (``OUTLOOK_MCP_RATE_LIMIT="5"``); ``python``: the workers'."""
    ports = [free_port() for _ in range(n)]
    lb_port = free_port()
    public = f"http://127.0.0.1:{lb_port}/mcp"
    env = oauth_env(sandbox, OUTLOOK_MCP_STATE_URL=redis_url, OUTLOOK_MCP_STATE_KEY=STATE_KEY,
                    OUTLOOK_MCP_PUBLIC_URL=public, **more)
    with contextlib.ExitStack() as stack:
        workers = [stack.enter_context(child(["serve", "--transport", "http", "--auth", "oauth", "--port", str(p)], env,
                                             p, tmp_path / f"worker-{i}.log", python=python))
                   for i, p in enumerate(ports)]
        stack.enter_context(haproxy(tmp_path, ports, lb_port))
        yield Cluster(public, workers, redis_url)
