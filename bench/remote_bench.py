"""Remote mode under load: 20 concurrent MCP clients through HAProxy, in front of 1 and then 3 workers.

The real parts, started here (Debian's redis-server and haproxy, as `.ci/run` installs them): `sandbox serve`
(Graph and the identity platform over HTTPS), Redis, N `serve --transport http --auth oauth` processes
sharing it, HAProxy round-robin in front. Each client signs in by itself first (the MCP SDK's OAuth flow:
discovery, registration, PKCE, token; not timed), as one of the demo organization's people (it has 8, so
20 clients are 8 people, 2-3 clients each); then, timed, each client makes ``--calls`` tool calls in a row
(after 4 untimed calls: every worker has met its person; ``get_event`` on a handle and ``calendar_view`` over a day, alternating): every call crosses the load
balancer, a worker (JWT validation, a handle from Redis, the Graph token from the worker's memo or the
encrypted cache in Redis) and the sandbox.

Prints, for 1 and 3 workers: calls/s, p50 and p95 latency in ms, the CPU seconds the sandbox, the workers and
the clients used while timed, and the ratio of throughputs (3 / 1). The machine's cores bound the ratio: with
2 cores shared by the sandbox, the clients and the workers, more workers cannot add throughput.

``--baseline COMMIT`` also runs the workers of that commit (installed with its own dependencies, as
bench/throughput.py does), alternating with this checkout's at each worker count, and prints the ratios;
``--state-latency MS`` puts Redis behind a proxy holding every packet that long each way (a network between
the workers and their Redis; bench/rate_bench.py's proxy).

    python bench/remote_bench.py [--users 20] [--calls 30] [--baseline 973df3f] [--state-latency 0.5] [--rounds 3]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import pytest
from tests.instants import suite_instant
from tests.remote.oauth_client import Person
from tests.remote.services import cluster, redis_server, remote_sandbox

PEOPLE = ["adele", "alex", "dana", "fanny", "megan", "pavel", "kenji", "priya"]


def day(offset: int) -> str:
    return (suite_instant().date() + dt.timedelta(days=offset)).isoformat()


async def one_user(person: Person, calls: int, latencies: list[float], ready: asyncio.Event,
                   started: asyncio.Event) -> None:  # fmt: skip
    try:
        async with person.client() as client:
            view = await client.call_tool("calendar_view", {"start": day(0), "end": day(7)})
            assert not view.is_error, view.content
            events = view.structured_content["events"]
            handle = events[0]["handle"] if events else None
            for _ in range(3):  # round robin: every worker has met this person (its Graph token memo) before timing
                await client.call_tool("calendar_view", {"start": day(1), "end": day(2)})
            ready.set()
            await started.wait()
            for i in range(calls):
                t0 = time.perf_counter()
                if handle and i % 2:
                    result = await client.call_tool("get_event", {"event": handle})
                else:
                    result = await client.call_tool("calendar_view", {"start": day(1), "end": day(2)})
                latencies.append(time.perf_counter() - t0)
                assert not result.is_error, result.content
    finally:
        ready.set()  # a user who failed to start must not leave the others waiting: run_load then raises


def cpu_s(pid: int) -> float:
    """User + system CPU seconds a process has used (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def run_load(url: str, trust, users: int, calls: int, started_hook=None) -> tuple[float, list[float]]:
    latencies: list[float] = []
    readies = [asyncio.Event() for _ in range(users)]
    started = asyncio.Event()
    people = [Person(f"{PEOPLE[i % len(PEOPLE)]}@contoso.com", url, trust) for i in range(users)]
    tasks = [asyncio.create_task(one_user(p, calls, latencies, r, started)) for p, r in zip(people, readies, strict=True)]
    for r in readies:
        await r.wait()
    if started_hook:
        started_hook()
    t0 = time.perf_counter()
    started.set()
    await asyncio.gather(*tasks)
    return time.perf_counter() - t0, latencies


def figures(label: str, elapsed: float, latencies: list[float]) -> float:
    rate = len(latencies) / elapsed
    cuts = statistics.quantiles(latencies, n=100)
    print(f"{label}: {len(latencies)} calls in {elapsed:.2f} s = {rate:.1f} calls/s; "
          f"p50 {cuts[49] * 1000:.0f} ms, p95 {cuts[94] * 1000:.0f} ms")  # fmt: skip
    return rate


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=20)
    parser.add_argument("--calls", type=int, default=30, help="timed tool calls per user")
    parser.add_argument("--baseline", help="also run this commit's workers (installed in its own venv)")
    parser.add_argument("--state-latency", type=float, default=0.0, help="ms a proxy holds Redis's packets each way")
    parser.add_argument("--rounds", type=int, default=1, help="alternating rounds (figures: medians)")
    args = parser.parse_args()
    sides = [("this checkout", sys.executable)]
    if args.baseline:
        from throughput import baseline_python  # only with --baseline

        sides.insert(0, (f"baseline {args.baseline}", baseline_python(args.baseline)))
    rates: dict[tuple[str, int], list[float]] = {}
    with tempfile.TemporaryDirectory() as tmp, contextlib.ExitStack() as stack:
        root = Path(tmp)
        try:
            url = stack.enter_context(redis_server(root))
        except pytest.skip.Exception as e:
            raise SystemExit(str(e)) from None
        if args.state_latency:
            from rate_bench import delayed  # only with --state-latency

            url = stack.enter_context(delayed(url, args.state_latency))
        sandbox = stack.enter_context(remote_sandbox(root))
        runs = [(r, n, label, python) for r in range(args.rounds) for n in (1, 3)
                for label, python in (sides if (n + r) % 2 else sides[::-1])]  # fmt: skip
        for r, n, label, python in runs:
            where = root / f"w{n}-{label.split()[0]}-{r}"
            where.mkdir()
            with cluster(where, sandbox, url, n, python=python, OUTLOOK_MCP_RATE_LIMIT=str(10**9)) as lb:  # not hit
                parts = {"sandbox": [sandbox.child.proc.pid], "workers": [w.proc.pid for w in lb.workers]}
                before: dict[str, float] = {}

                def mark(parts=parts, before=before) -> None:
                    before.update({k: sum(map(cpu_s, pids)) for k, pids in parts.items()})
                    before["clients"] = time.process_time()

                elapsed, latencies = asyncio.run(run_load(lb.url, sandbox.ssl(), args.users, args.calls, mark))
                used = {k: sum(map(cpu_s, pids)) - before[k] for k, pids in parts.items()}
                used["clients"] = time.process_time() - before["clients"]
                rates.setdefault((label, n), []).append(figures(f"{label}: {n} worker{'s' if n > 1 else ''} behind HAProxy, "
                                            f"{args.users} users", elapsed, latencies))  # fmt: skip
                print("   CPU s in the timed phase: " + ", ".join(f"{k} {v:.2f}" for k, v in used.items())
                      + f" (wall {elapsed:.2f} s, {os.cpu_count()} cores)")  # fmt: skip
    median = {key: statistics.median(values) for key, values in rates.items()}
    for label, _ in sides:
        print(f"{label}: median calls/s 1 worker {median[(label, 1)]:.1f}, 3 workers {median[(label, 3)]:.1f} "
              f"(rounds: {' '.join(f'{x:.0f}' for x in rates[(label, 1)])}; {' '.join(f'{x:.0f}' for x in rates[(label, 3)])}); "
              f"3 / 1: {median[(label, 3)] / median[(label, 1)]:.2f}x")
    if args.baseline:
        base = sides[0][0]
        print("this checkout / baseline, median calls/s: " + ", ".join(
            f"{n} worker{'s' if n > 1 else ''} {median[('this checkout', n)] / median[(base, n)]:.2f}x" for n in (1, 3)))


if __name__ == "__main__":
    main()
