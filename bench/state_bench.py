"""The state store on the request path (handles, mostly), this checkout vs a baseline commit.

Each side runs in its own process: the baseline (default 973df3f, the code before the awaited state store) as
installed with its own dependencies (``throughput.baseline_python``: a git worktree in ``bench/.baseline-<commit>/``
and a venv beside it, both git-ignored, made once), this checkout from ``src``; the two alternate round by round,
and every figure is a median within this run. In each process: the server as ``serve`` builds it
(``build_graph`` + ``create_server``) on a sandbox of its own served on loopback (``sandbox serve``: Graph over a
network, as a server meets it, so a call waiting on Graph lets others run; ``--in-process`` for the in-process
sandbox, where nothing but the state store makes a call wait), its handles in the state store under test, tools
called through ``server.call_tool`` (validation, the error boundary, the tool, the views: what every transport
ends in), the rate limit off (it is one awaited round trip per call on both sides). Stores:

* ``sqlite``: the default, a WAL file: SQL statements per view (``sqlite3`` trace callback);
* ``redis``: a throwaway ``redis-server`` on loopback (skipped with a message when it is not installed);
* ``redis+<latency>ms``: the same Redis through a proxy process that holds every packet ``--latency`` ms each
  way, as a network between workers and their Redis does.

Figures, per side:

* ``trips_per_view`` / ``blocking_trips_per_view``: Redis round trips (every command or pipeline a client
  connection sends, counted on redis-py's own connections; blocking = the synchronous client, which holds the event
  loop) of one ``calendar_view`` of ``--events`` events new to the caller;
* ``view_ms``: that call's wall time;
* ``stall_ms``: the longest the event loop was held while 20 callers list calendars concurrently (the longest gap,
  less 1 ms, between the beats of a task asking to run every 1 ms), each call a person seeing the mailbox's 22
  calendars for the first time (22 new handles a call: what a worker meets as new people and new events come);
* ``calls_per_s``: those calls per second (one process: the per-worker figure; workers sharing Redis each
  add theirs, bench/remote_bench.py).

Usage::

    python bench/state_bench.py [--events 50] [--calls 200] [--rounds 3] [--latency 0.5] [--baseline 973df3f]
                                [--in-process]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from harness import LOOP_PROBE, print_medians, sandbox
from rate_bench import delayed, redis_server
from throughput import baseline_python

ROOT = Path(__file__).resolve().parent.parent

CHILD = (
    r"""
import asyncio, json, statistics, sys, time
import redis.connection, redis.asyncio.connection
from outlook_calendar_mcp.clock import Clock
from outlook_calendar_mcp.config import Settings
from outlook_calendar_mcp.ids import Handles
from outlook_calendar_mcp.sandbox import Sandbox
from outlook_calendar_mcp.server import build_graph, create_server
from outlook_calendar_mcp.state import acting_as
from outlook_calendar_mcp.state.sqlite import SqliteState

kind, where, tmp, events, calls, graph_at = sys.argv[1:4] + [int(a) for a in sys.argv[4:6]] + sys.argv[6:7]
DAY = "2027-03-17"
WINDOW = {"start": f"{DAY}T00:00:00", "end": f"{DAY}T23:59:00", "time_zone": "America/Los_Angeles"}
sent = {"blocking": 0, "awaited": 0}

def counting_sync(real):
    def send(self, *args, **kwargs):
        sent["blocking"] += 1
        return real(self, *args, **kwargs)
    return send

def counting_async(real):
    async def send(self, *args, **kwargs):
        sent["awaited"] += 1
        return await real(self, *args, **kwargs)
    return send

for module, wrap in ((redis.connection, counting_sync), (redis.asyncio.connection, counting_async)):
    module.AbstractConnection.send_packed_command = wrap(module.AbstractConnection.send_packed_command)

"""
    + LOOP_PROBE
    + r"""
async def main():
    if kind == "sqlite":
        store = SqliteState(where)
    else:
        from outlook_calendar_mcp.state.redis import RedisState
        store = RedisState(where)
    settings = Settings(backend="sandbox", sandbox_db=":memory:", data_dir=tmp, cache_dir=tmp, rate_limit=0,
                        confirm_sends=False, sandbox_url=None if graph_at == "in-process" else graph_at)
    clock = Clock()
    graph = build_graph(settings, clock=clock, sandbox=Sandbox(":memory:", clock=clock) if graph_at == "in-process" else None)
    server = create_server(settings, graph, handles=Handles(store))

    async def call(person, name, arguments):
        with acting_as(person):
            result = await server.call_tool(name, arguments)
        assert not result.is_error, result
        return result

    await call("bench:warm", "list_calendars", {})  # connections made, scripts loaded
    for n in range(20):
        await graph.post("me/calendars", json={"name": f"Bench {n}"})
    for n in range(events):
        hour, minute = divmod(n * 10, 60)
        at = lambda m: {"dateTime": f"{DAY}T{6 + hour:02d}:{m:02d}:00", "timeZone": "Pacific Standard Time"}
        await graph.post("me/calendar/events", json={"subject": f"Bench {n}", "start": at(minute), "end": at(minute + 5)})
    statements = []
    if kind == "sqlite":
        store._db.set_trace_callback(statements.append)
    trips, blocking, sql, took = [], [], [], []
    for v in range(5):  # each a person seeing the day's events for the first time
        before, began = dict(sent), time.perf_counter()
        statements.clear()
        await call(f"bench:view-{v}", "calendar_view", WINDOW)
        took.append((time.perf_counter() - began) * 1e3)
        trips.append(sent["blocking"] + sent["awaited"] - before["blocking"] - before["awaited"])
        blocking.append(sent["blocking"] - before["blocking"])
        sql.append(len(statements))
    if kind == "sqlite":
        store._db.set_trace_callback(None)
    out = {"view_ms": statistics.median(took)}
    if kind == "sqlite":
        out["statements_per_view"] = statistics.median(sql)
    else:
        out["trips_per_view"] = statistics.median(trips)
        out["blocking_trips_per_view"] = statistics.median(blocking)

    async def caller(c):
        for k in range(calls // 20):
            await call(f"bench:caller-{c}-{k}", "list_calendars", {})

    took, out["stall_ms"] = await busy_loop(lambda: asyncio.gather(*(caller(c) for c in range(20))))
    out["calls_per_s"] = (calls // 20 * 20) / took
    if hasattr(store, "aclose"):
        await store.aclose()
    store.close()
    await graph.aclose()
    print(json.dumps(out))

asyncio.run(main())
"""
)


def run(python: str, src: str | None, kind: str, where: str, tmp: Path, events: int, calls: int,
        in_process: bool) -> dict[str, float]:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "OUTLOOK_MCP_NOW")}
    if src:
        env["PYTHONPATH"] = src
    tmp.mkdir(parents=True, exist_ok=True)
    with contextlib.ExitStack() as stack:
        graph_at = "in-process" if in_process else stack.enter_context(sandbox(tmp))  # a fresh one: the day's events
        done = subprocess.run([python, "-c", CHILD, kind, where, str(tmp), str(events), str(calls), graph_at],
                              env=env, capture_output=True, text=True)
    if done.returncode:
        raise SystemExit(f"{python} ({kind}) failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=50, help="new events in the viewed day")
    parser.add_argument("--calls", type=int, default=200, help="list_calendars calls of the 20 concurrent callers")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--latency", type=float, default=0.5, help="ms the proxy holds a packet, each way")
    parser.add_argument("--baseline", default="973df3f", help="commit to compare with (installed in its own venv)")
    parser.add_argument("--in-process", action="store_true", help="the sandbox in each server's process")
    args = parser.parse_args(argv)
    sides = [(f"baseline {args.baseline}", baseline_python(args.baseline), None),
             ("this checkout", sys.executable, str(ROOT / "src"))]
    figures: dict[tuple[str, str], list[dict[str, float]]] = {}
    with contextlib.ExitStack() as stack:
        tmp = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="state-bench-")))
        url = stack.enter_context(redis_server(tmp))
        kinds: list[tuple[str, str | None]] = [("sqlite", None)]
        if url:
            kinds += [("redis", url), (f"redis+{args.latency:g}ms", stack.enter_context(delayed(url, args.latency)))]
        for r in range(args.rounds):
            for kind, where in kinds:
                for label, python, src in sides if r % 2 == 0 else sides[::-1]:
                    own = tmp / f"{label.split()[0]}-{kind}-{r}"
                    target = where or str(own / "state.db")
                    figures.setdefault((kind, label), []).append(
                        run(python, src, kind.split("+")[0], target, own, args.events, args.calls, args.in_process))
    print(f"State store on the request path: calendar_view of {args.events} new events; {args.calls} list_calendars "
          f"calls by 20 concurrent callers; the sandbox {'in process' if args.in_process else 'on loopback'}; "
          f"{args.rounds} rounds, sides alternating (medians)")
    print_medians(figures, sides[0][0], sides[1][0])
    return 0


if __name__ == "__main__":
    sys.exit(main())
