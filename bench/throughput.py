"""Streamable HTTP throughput: calendar_view calls per second at 20 concurrent clients, today vs a baseline.

Servers run in turn on one loopback sandbox (``outlook-calendar-mcp sandbox serve``): this
checkout's, and the baseline commit's (default ``aebb951``, the code before the performance work),
checked out by this script as a git worktree in ``bench/.baseline-<commit>/`` and installed, with the
dependencies *it* declares, into ``bench/.baseline-<commit>-venv/`` (both git-ignored, made once): the
baseline runs as its users ran it, not with libraries this checkout added (uvloop, httptools, aiohttp).
Each is ``serve --transport http`` (one process); ``--clients`` sessions each call ``calendar_view``
back to back for ``--seconds``. Rounds alternate the servers.

The clients speak raw JSON-RPC over one kept-alive aiohttp connection each (initialize, then one POST
per call), on uvloop where it is installed: the load generator should cost as little as it can next to
the servers (with httpx it spent more CPU per call than the server it measured).

Printed: the best round's calls/s and the server's own CPU milliseconds per call (from /proc; steadier than
calls/s when other processes load the machine, and the sandbox backend shares its cores), and the CPU the
sandbox and the 20 clients (this process) spent per call: on 2 cores, all three share one budget.

This checkout is measured as one process (the default: sessions, answers as SSE streams) and as
``serve --workers N`` (N stateless processes on one port, answers as JSON bodies; ``--workers 2,3``).

    python bench/throughput.py [--clients 20] [--seconds 8] [--rounds 2] [--baseline aebb951] [--workers 2,3]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import aiohttp

sys.path.insert(0, str(Path(__file__).resolve().parent))
from harness import child, free_port, installed, sandbox_process, serve_argv

ROOT = Path(__file__).resolve().parent.parent
NOW = "2027-03-10T09:00:00-08:00"
ARGS = {"start": "2027-03-08T00:00", "end": "2027-03-15T00:00", "time_zone": "America/Los_Angeles"}
HEADERS = {"Accept": "application/json, text/event-stream", "Content-Type": "application/json"}
VERSION = "2025-06-18"


def baseline_python(commit: str) -> str:
    """The interpreter of an install of ``commit`` (a worktree in bench/.baseline-<commit>) with its own dependencies."""
    where = ROOT / "bench" / f".baseline-{commit}"
    if not where.exists():
        subprocess.run(["git", "-C", str(ROOT), "worktree", "add", "--detach", str(where), commit], check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    python = installed(where, ROOT / "bench" / f".baseline-{commit}-venv")
    code = "import outlook_calendar_mcp, sys; sys.stdout.write(outlook_calendar_mcp.__file__)"
    loaded = subprocess.run([python, "-c", code], capture_output=True, text=True, check=True,
                            env={k: v for k, v in os.environ.items() if k != "PYTHONPATH"}).stdout
    if not loaded.startswith(str(ROOT / "bench" / f".baseline-{commit}-venv")):
        raise SystemExit(f"the baseline's venv does not load its own package: {loaded}")
    return python


def message(content_type: str, body: bytes) -> dict:
    """The JSON-RPC answer of a POST: a JSON body, or the last ``data:`` event of an SSE stream."""
    if content_type.startswith("text/event-stream"):
        data = [line[5:].strip() for line in body.decode().splitlines() if line.startswith("data:")]
        return json.loads(data[-1])
    return json.loads(body)


async def post(http: aiohttp.ClientSession, url: str, payload: dict, headers: dict[str, str]) -> tuple[dict, str]:
    async with http.post(url, data=json.dumps(payload), headers=headers) as r:
        body = await r.read()
        sid = r.headers.get("mcp-session-id", "")
        return (message(r.headers.get("content-type", ""), body) if body else {}), sid


async def session(url: str, deadline: float, counts: list[int], errors: list[str]) -> None:
    connector = aiohttp.TCPConnector(limit=1)  # one kept-alive connection per client
    async with aiohttp.ClientSession(headers=HEADERS, connector=connector,
                                     timeout=aiohttp.ClientTimeout(total=60)) as http:
        init = {"jsonrpc": "2.0", "id": 0, "method": "initialize", "params": {
            "protocolVersion": VERSION, "capabilities": {}, "clientInfo": {"name": "bench-throughput", "version": "0"}}}
        _, sid = await post(http, url, init, {})
        headers = {"mcp-protocol-version": VERSION}
        if sid:
            headers["mcp-session-id"] = sid
        await post(http, url, {"jsonrpc": "2.0", "method": "notifications/initialized"}, headers)
        n = 0
        while time.perf_counter() < deadline:
            n += 1
            call = {"jsonrpc": "2.0", "id": n, "method": "tools/call",
                    "params": {"name": "calendar_view", "arguments": ARGS}}
            answer, _ = await post(http, url, call, headers)
            if "error" in answer or answer.get("result", {}).get("isError"):
                errors.append(json.dumps(answer)[:200])
                return
            counts.append(1)


def cpu_seconds(pid: int) -> float:
    """user + system CPU seconds a process and its children (``--workers``) have used so far (Linux /proc)."""
    total = 0.0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if entry.name == str(pid) or fields[1] == str(pid):  # fields[1]: the parent's pid
            total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return total


def run(coroutine):
    """The load generator's event loop: uvloop where installed (the same for every server measured)."""
    try:
        import uvloop
    except ImportError:
        return asyncio.run(coroutine)
    return uvloop.run(coroutine)


def own_cpu() -> float:
    """This process's CPU seconds: the 20 clients (the load generator)."""
    times = os.times()
    return times.user + times.system


async def measure(url: str, pid: int, clients: int, seconds: float, backend: int) -> tuple[float, float, float, float]:
    """(calls per second, server CPU ms per call, the sandbox's CPU ms per call, the clients' CPU ms per call)."""
    counts: list[int] = []
    errors: list[str] = []
    warm = time.perf_counter() + 1.0
    await asyncio.gather(*(session(url, warm, [], errors) for _ in range(clients)))
    cpu, sandbox_cpu, client_cpu, began = cpu_seconds(pid), cpu_seconds(backend), own_cpu(), time.perf_counter()
    await asyncio.gather(*(session(url, began + seconds, counts, errors) for _ in range(clients)))
    elapsed, cpu = time.perf_counter() - began, cpu_seconds(pid) - cpu
    sandbox_cpu, client_cpu = cpu_seconds(backend) - sandbox_cpu, own_cpu() - client_cpu
    if errors:
        raise RuntimeError(f"calls failed: {errors[0]}")
    n = max(1, len(counts))
    return len(counts) / elapsed, cpu * 1000 / n, sandbox_cpu * 1000 / n, client_cpu * 1000 / n


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=8.0)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--baseline", default="aebb951", help="commit to compare with (checked out as a worktree)")
    parser.add_argument("--workers", default="2,3", help="this checkout's `serve --workers N` rows (0: none)")
    args = parser.parse_args(argv)
    old_python = baseline_python(args.baseline)
    workers = [int(n) for n in args.workers.split(",") if int(n) > 1]
    servers = [(f"baseline {args.baseline}", old_python, []), ("this checkout", sys.executable, [])]
    servers += [(f"this checkout, {n} workers", sys.executable, ["--workers", str(n)]) for n in workers]
    figures: dict[str, list[tuple[float, float, float, float]]] = {label: [] for label, _, _ in servers}
    with tempfile.TemporaryDirectory(prefix="bench-throughput-") as name:
        tmp = Path(name)
        with sandbox_process(tmp, now=NOW) as (backend, backend_proc):
            for _ in range(args.rounds):
                for label, python, extra in servers:
                    port = free_port()
                    with child(serve_argv(python, "http", backend, port) + extra, tmp, port) as proc:
                        url = f"http://127.0.0.1:{port}/mcp"
                        figure = measure(url, proc.pid, args.clients, args.seconds, backend_proc.pid)
                        figures[label].append(run(figure))
    best = {label: max(v[0] for v in values) for label, values in figures.items()}
    cpu = {label: min(v[1] for v in values) for label, values in figures.items()}
    others = {label: (min(v[2] for v in values), min(v[3] for v in values)) for label, values in figures.items()}
    print(f"streamable HTTP, {args.clients} concurrent clients calling calendar_view for {args.seconds:.0f} s, "
          f"loopback sandbox backend ({os.cpu_count()} CPUs, load {os.getloadavg()[0]:.2f}); best round of "
          f"{args.rounds}, server CPU summed over its processes")
    for label, values in figures.items():
        print(f"  {label:24} {best[label]:7.1f} calls/s, server CPU {cpu[label]:5.2f} ms per call "
              f"(rounds: {', '.join(f'{v[0]:.1f}' for v in values)}); sandbox {others[label][0]:.2f} ms, "
              f"clients {others[label][1]:.2f} ms")
    base = f"baseline {args.baseline}"
    for label, _, _ in servers[1:]:
        print(f"  {label}: {best[label] / best[base]:.2f}x the baseline's calls/s (target >= 2.5x); "
              f"server CPU per call {cpu[base] / cpu[label]:.2f}x less")
    print("  (the machine's other load moves calls/s, barely CPU per call; the sandbox backend and the clients share "
          "the cores; workers are stateless, as behind a load balancer)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
