"""``sandbox serve --faults ... --latency ... --seed N``: the served sandbox misbehaves like Graph, repeatably.

Two sandboxes served with the same seed answer the same sequence of requests with the same faults: 429 with
Retry-After, 503, and replies cut off after the change was applied (the connection closes mid-answer). A
GraphClient pointed at one still completes its writes, exactly once.
"""

from __future__ import annotations

import contextlib
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from outlook_calendar_mcp.auth import SandboxTokenProvider
from outlook_calendar_mcp.graph import GraphClient
from outlook_calendar_mcp.sandbox.faults import parse_faults, parse_latency
from tests.servers import free_port, server_env, stop

pytestmark = pytest.mark.anyio
FAULTS = "429=0.2,503=0.1,drop=0.15,reset=0.05"


@contextlib.contextmanager
def served(tmp_path: Path, name: str, *flags: str) -> Iterator[str]:
    port = free_port()
    errlog = tmp_path / f"{name}.stderr"
    args = [sys.executable, "-m", "outlook_calendar_mcp", "sandbox", "serve", "--port", str(port),
            "--db", str(tmp_path / f"{name}.db"), *flags]
    with errlog.open("wb") as err:
        proc = subprocess.Popen(args, env=server_env(tmp_path), stdin=subprocess.DEVNULL,
                                stdout=subprocess.DEVNULL, stderr=err)
    try:
        deadline = time.monotonic() + 30
        while True:
            if proc.poll() is not None:
                raise AssertionError(f"sandbox exited with {proc.returncode}: {errlog.read_text()}")
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=0.2):
                break
            assert time.monotonic() < deadline, errlog.read_text()
            time.sleep(0.05)
        yield f"http://127.0.0.1:{port}/v1.0"
    finally:
        stop(proc)


async def statuses(url: str, n: int) -> list[str]:
    out = []
    async with httpx.AsyncClient(base_url=url, headers={"Authorization": "Bearer sandbox"}) as http:
        for i in range(n):
            try:
                r = await http.post("/me/calendars", json={"name": f"Served {i}"})
                out.append(f"{r.status_code}{' retry-after' if 'retry-after' in r.headers else ''}")
            except httpx.TransportError as e:
                out.append(type(e).__name__)
    return out


async def test_served_faults_are_seeded_graph_shaped_and_survivable(tmp_path):
    with served(tmp_path, "a", "--faults", FAULTS, "--latency", "5ms", "--seed", "7") as a, \
            served(tmp_path, "b", "--faults", FAULTS, "--latency", "5ms", "--seed", "7") as b:
        first, second = await statuses(a, 60), await statuses(b, 60)
        assert first == second  # the same seed, the same misbehaviour
        assert "429 retry-after" in first and any(s.startswith("503") for s in first)
        assert "RemoteProtocolError" in first or "ReadError" in first  # replies cut off / connections reset
        assert "201" in first

        graph = GraphClient(base_url=a, token_provider=SandboxTokenProvider(None), sleep=_no_wait)
        async with graph:
            for i in range(15):
                await graph.post("me/calendars", json={"name": f"Through faults {i}"})
            names = [c["name"] for c in (await graph.get_all("me/calendars")).items]
        assert all(names.count(f"Through faults {i}") == 1 for i in range(15))


async def _no_wait(seconds: float) -> None:
    return None


def test_bad_fault_flags_are_refused_with_the_form_expected(tmp_path):
    done = subprocess.run([sys.executable, "-m", "outlook_calendar_mcp", "sandbox", "serve", "--faults", "418=0.5"],
                          env=server_env(tmp_path), capture_output=True, text=True, timeout=60)
    assert done.returncode == 2 and "unknown fault '418'" in done.stderr
    assert parse_faults("429=0.1,drop=0.05") == {"429": 0.1, "drop": 0.05}
    assert parse_latency("150ms") == 0.15 and parse_latency("0.2s") == 0.2
    with pytest.raises(ValueError, match="add up to more than 1"):
        parse_faults("429=0.6,503=0.6")
