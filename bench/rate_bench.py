"""The per-call cost of the rate limit (``RateLimit.take``, on every tool call), this checkout vs a baseline.

Each side runs in its own process: the baseline commit (default 673c528, the fixed-window counter) as installed
with its own dependencies (``throughput.baseline_python``: a git worktree in ``bench/.baseline-<commit>/`` and a
venv beside it, git-ignored), this checkout from its ``src``; the two alternating round by round; the figures are medians and ratios within this run:

* SQLite (the default store, a WAL file): microseconds per ``take`` and SQL statements per ``take``
  (``sqlite3`` trace callback);
* Redis (a throwaway ``redis-server``; skipped with a message when it is not installed), reached on loopback and
  through a proxy (another process) that holds every packet ``--latency`` ms each way, as a network does:
  client CPU microseconds per ``take``, wall microseconds per ``take`` one at a time, ``take`` calls per second
  with 20 callers on one event loop, and the longest the event loop was held meanwhile (the longest gap, less
  1 ms, between the beats of a task that asks to run every 1 ms: a synchronous Redis call holds the event loop,
  and every other request the process serves, for its whole round trip, and a caller's run of them never
  lets the loop go).

CPU (``time.process_time``) is the figure least moved by the other work on a shared machine.

Usage::

    python bench/rate_bench.py [--calls 3000] [--rounds 3] [--latency 0.5] [--baseline 673c528]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

from harness import LOOP_PROBE, print_medians
from throughput import baseline_python

ROOT = Path(__file__).resolve().parent.parent

CHILD = (
    r"""
import asyncio, datetime as dt, inspect, json, sys, time
from outlook_calendar_mcp.clock import Clock
from outlook_calendar_mcp.tools.rate import RateLimit
from outlook_calendar_mcp.state.sqlite import SqliteState

kind, where, calls = sys.argv[1], sys.argv[2], int(sys.argv[3])
clock = Clock()  # the system's: a window or a due time moves on as in a server

async def take(limit):
    got = limit.take("calendar_view")
    if inspect.isawaitable(got):
        await got

"""
    + LOOP_PROBE
    + r"""
async def main():
    out = {}
    if kind == "sqlite":
        store = SqliteState(where, clock=clock)
        limit = RateLimit(10**9, store, clock)  # never refused: every call does the whole step
        await take(limit)  # opens the file
        statements = []
        store._db.set_trace_callback(statements.append)
        began, cpu = time.perf_counter(), time.process_time()
        for _ in range(calls):
            await take(limit)
        out["cpu_us_per_take"] = (time.process_time() - cpu) / calls * 1e6
        out["wall_us_per_take"] = (time.perf_counter() - began) / calls * 1e6
        out["statements_per_take"] = len(statements) / calls
        store.close()
    else:
        from outlook_calendar_mcp.state.redis import RedisState
        store = RedisState(where)
        limit = RateLimit(10**9, store, clock)
        await take(limit)
        began, cpu = time.perf_counter(), time.process_time()
        for _ in range(calls):
            await take(limit)
        out["cpu_us_per_take"] = (time.process_time() - cpu) / calls * 1e6
        out["wall_us_per_take"] = (time.perf_counter() - began) / calls * 1e6
        async def caller(n):
            for _ in range(n):
                await take(limit)

        took, stall = await busy_loop(lambda: asyncio.gather(*(caller(calls // 20) for _ in range(20))))
        out["takes_per_s_20_callers"] = (calls // 20 * 20) / took
        out["longest_loop_stall_ms"] = stall
        if hasattr(store, "aclose"):
            await store.aclose()
        store.close()
    print(json.dumps(out))

asyncio.run(main())
"""
)


@contextlib.contextmanager
def redis_server(tmp: Path) -> Iterator[str | None]:
    program = shutil.which("redis-server") or ("/usr/bin/redis-server" if os.path.exists("/usr/bin/redis-server") else None)
    if program is None:
        print("redis-server is not installed (apt-get install redis-server): the Redis figures are skipped")
        yield None
        return
    port = free_port()
    proc = subprocess.Popen([program, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
                             "--dir", str(tmp)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 20
        while True:
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=0.2):
                break
            if time.monotonic() > deadline:
                raise SystemExit("redis-server did not start")
            time.sleep(0.05)
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        proc.terminate()
        proc.wait(10)


PROXY = r"""
import asyncio, sys
listen, upstream, delay = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3]) / 1000

async def pipe(reader, writer):
    try:
        while data := await reader.read(65536):
            await asyncio.sleep(delay)  # the packet's flight: in order, per direction, per connection
            writer.write(data)
    finally:
        writer.close()

async def serve(reader, writer):
    up_reader, up_writer = await asyncio.open_connection("127.0.0.1", upstream)
    await asyncio.gather(pipe(reader, up_writer), pipe(up_reader, writer), return_exceptions=True)

async def main():
    server = await asyncio.start_server(serve, "127.0.0.1", listen)
    print("ready", flush=True)
    async with server:
        await server.serve_forever()

asyncio.run(main())
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.contextmanager
def delayed(url: str, latency_ms: float) -> Iterator[str]:
    """A URL reaching the Redis at ``url`` through a proxy process adding ``latency_ms`` each way."""
    upstream = int(url.rsplit(":", 1)[1].split("/")[0])
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-c", PROXY, str(port), str(upstream), str(latency_ms)],
                            stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None and proc.stdout.readline().strip() == "ready"
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        proc.terminate()
        proc.wait(10)


def run(python: str, src: str | None, kind: str, where: str, calls: int) -> dict[str, float]:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "OUTLOOK_MCP_NOW")}
    if src:
        env["PYTHONPATH"] = src
    done = subprocess.run([python, "-c", CHILD, kind, where, str(calls)], env=env, capture_output=True,
                          text=True, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--calls", type=int, default=3000, help="take() calls per side and round")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--latency", type=float, default=0.5, help="ms the proxy holds a packet, each way")
    parser.add_argument("--baseline", default="673c528", help="commit to compare with (checked out as a worktree)")
    args = parser.parse_args(argv)
    sides = [(f"baseline {args.baseline}", baseline_python(args.baseline), None),
             ("this checkout", sys.executable, str(ROOT / "src"))]
    figures: dict[tuple[str, str], list[dict[str, float]]] = {}
    with contextlib.ExitStack() as stack:
        tmp = stack.enter_context(tempfile.TemporaryDirectory(prefix="rate-bench-"))
        url = stack.enter_context(redis_server(Path(tmp)))
        kinds: list[tuple[str, str | None]] = [("sqlite", None)]
        if url:
            far = stack.enter_context(delayed(url, args.latency))
            kinds += [("redis", url), (f"redis+{args.latency:g}ms", far)]
        for r in range(args.rounds):
            for kind, where in kinds:
                for label, python, src in sides if r % 2 == 0 else sides[::-1]:
                    target = where or str(Path(tmp) / f"{label.split()[0]}-{r}.db")
                    calls = args.calls if where is None or where == url else max(200, args.calls // 10)
                    figures.setdefault((kind, label), []).append(run(python, src, kind.split("+")[0], target, calls))
    print(f"RateLimit.take per call, {args.calls} calls x {args.rounds} rounds, sides alternating (medians)")
    print_medians(figures, sides[0][0], sides[1][0])
    return 0


if __name__ == "__main__":
    sys.exit(main())
