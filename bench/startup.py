"""Startup time over stdio: seconds from spawn to the initialize response, and to the tools/list response.

Spawns ``python -m outlook_calendar_mcp serve`` (stdio, sandbox backend) and
speaks raw JSON-RPC on its stdin/stdout: the figures do not include any client
library. The initialize request is written right after spawn (it waits in the
pipe until the server reads it); tools/list is sent as soon as the initialize
response arrives.

Two kinds of start, interleaved:

* cold: a fresh temporary data/cache dir each run, so the sandbox is created
  and seeded: a first start ever;
* warm: the second start in a data/cache dir one untimed start has just used
  (sandbox file in place): every later start of the same server by the same
  client.

The same run measures two baselines with the same interpreter, so the figure
can be read as a ratio on whatever machine it runs on: ``python -c pass``
(interpreter start) and ``python -c "import mcp"`` (the SDK's import cost, which
any server built on it pays).

The peer: the leading Graph MCP server (npm @softeria/ms-365-mcp-server
0.155.0, ``--preset calendar``: its 42 calendar tools), installed by this script
into ``bench/.peer/`` (git-ignored) with npm, started cold (a fresh, empty HOME)
in the same loop, alternating with ours; skipped with a message when npm or
node is absent. Target (issue 13): spawn -> tools/list, cold, at most 0.9x the
peer's.

    python bench/startup.py [--runs 10] [--json] [--no-peer]
"""

from __future__ import annotations

import argparse
import json
import math
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

TARGET_INITIALIZE_S = 0.64
TARGET_PEER_RATIO = 0.9
PEER = "@softeria/ms-365-mcp-server@0.155.0"
PEER_DIR = Path(__file__).resolve().parent / ".peer"
PROTOCOL_VERSION = "2025-06-18"

INITIALIZE = {"jsonrpc": "2.0", "id": 1, "method": "initialize",
              "params": {"protocolVersion": PROTOCOL_VERSION, "capabilities": {},
                         "clientInfo": {"name": "bench-startup", "version": "0"}}}
INITIALIZED = {"jsonrpc": "2.0", "method": "notifications/initialized"}
TOOLS_LIST = {"jsonrpc": "2.0", "id": 2, "method": "tools/list"}


def _line(message: dict) -> bytes:
    return (json.dumps(message) + "\n").encode()


def _read_response(stdout, want_id: int) -> dict:
    """The next JSON-RPC message with ``id == want_id`` (notifications in between are skipped)."""
    while True:
        raw = stdout.readline()
        if not raw:
            raise RuntimeError(f"server closed stdout before answering request {want_id}")
        message = json.loads(raw)
        if message.get("id") == want_id:
            if "error" in message:
                raise RuntimeError(f"request {want_id} failed: {message['error']}")
            return message


def _reap(proc: subprocess.Popen, timeout: float = 10.0) -> float:
    """Wait for ``proc`` (killing it after ``timeout``) and return the CPU seconds (user + sys) it used."""
    deadline = time.monotonic() + timeout
    while True:
        pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
        if pid:
            proc.returncode = os.waitstatus_to_exitcode(status)
            return usage.ru_utime + usage.ru_stime
        if time.monotonic() > deadline:
            proc.kill()
            deadline = float("inf")
        time.sleep(0.005)


def start_in(python: str, tmp: str) -> tuple[float, float, int, float]:
    """One start with data and cache in ``tmp``: seconds to the initialize response and to the tools/list
    response, tools listed, CPU seconds used."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("OUTLOOK_MCP_")}
    env.update(OUTLOOK_MCP_DATA_DIR=tmp, OUTLOOK_MCP_CACHE_DIR=tmp)
    argv = [python, "-m", "outlook_calendar_mcp", "serve", "--transport", "stdio", "--backend", "sandbox",
            "--sandbox-db", str(Path(tmp) / "sandbox.db")]
    return spawn(argv, env)


def peer_command() -> list[str] | None:
    """``node <peer>/dist/index.js --preset calendar``, installing the peer first; None without npm/node."""
    if not shutil.which("npm") or not shutil.which("node"):
        return None
    entry = PEER_DIR / "node_modules" / "@softeria" / "ms-365-mcp-server" / "dist" / "index.js"
    if not entry.exists():
        PEER_DIR.mkdir(exist_ok=True)
        subprocess.run(["npm", "install", "--prefix", str(PEER_DIR), "--no-audit", "--no-fund", PEER], check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return ["node", str(entry), "--preset", "calendar"]


def peer_run(command: list[str]) -> tuple[float, float, int, float]:
    """A cold start of the peer: a fresh, empty HOME (no token cache, no config)."""
    with tempfile.TemporaryDirectory(prefix="bench-startup-peer-") as home:
        env = {k: v for k, v in os.environ.items() if k not in ("HOME", "XDG_CONFIG_HOME", "XDG_CACHE_HOME")}
        env["HOME"] = home
        return spawn(command, env)


def spawn(argv: list[str], env: dict[str, str]) -> tuple[float, float, int, float]:
    """Spawn ``argv`` and speak raw JSON-RPC: (s to initialize response, s to tools/list response, tools, CPU s)."""
    start = time.perf_counter()
    proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                            env=env, bufsize=0)
    try:
        proc.stdin.write(_line(INITIALIZE))
        _read_response(proc.stdout, 1)
        initialized = time.perf_counter() - start
        proc.stdin.write(_line(INITIALIZED) + _line(TOOLS_LIST))
        tools = _read_response(proc.stdout, 2)["result"]["tools"]
        listed = time.perf_counter() - start
    finally:
        proc.stdin.close()
        cpu = _reap(proc)
        proc.stdout.close()
    return initialized, listed, len(tools), cpu


def one_run(python: str) -> tuple[float, float, int, float]:
    """A cold start: a fresh data/cache dir (the sandbox created and seeded)."""
    with tempfile.TemporaryDirectory(prefix="bench-startup-") as tmp:
        return start_in(python, tmp)


def warm_run(python: str) -> tuple[float, float, int, float]:
    """A warm start: the second start in one data/cache dir (the first, untimed, leaves sandbox and cache)."""
    with tempfile.TemporaryDirectory(prefix="bench-startup-") as tmp:
        start_in(python, tmp)
        return start_in(python, tmp)


def baseline(python: str, code: str) -> tuple[float, float]:
    """(wall seconds, CPU seconds) of ``python -c code``."""
    start = time.perf_counter()
    proc = subprocess.Popen([python, "-c", code], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL)
    cpu = _reap(proc, timeout=60)
    wall = time.perf_counter() - start
    if proc.returncode:
        raise RuntimeError(f"python -c {code!r} exited with {proc.returncode}")
    return wall, cpu


def quantile(values: list[float], q: float) -> float:
    """Nearest-rank quantile (p90 of 10 runs = the 9th fastest)."""
    ordered = sorted(values)
    rank = max(1, math.ceil(q * len(ordered)))
    return ordered[rank - 1]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=10, help="spawns per measurement (at least 10)")
    parser.add_argument("--python", default=sys.executable, help="interpreter with outlook-calendar-mcp installed")
    parser.add_argument("--json", action="store_true", help="print the figures as one JSON object too")
    parser.add_argument("--no-peer", action="store_true", help="do not install or start the Node peer")
    args = parser.parse_args(argv)
    runs = max(10, args.runs)

    peer = None if args.no_peer else peer_command()
    if peer is None:
        print("peer: skipped (" + ("--no-peer" if args.no_peer else "npm or node not found") + ")")
    else:
        peer_run(peer)  # warm the OS file cache once; not counted
    peer_init, peer_list, peer_cpu = [], [], []
    one_run(args.python)  # warm the OS file cache once; not counted
    initialize, tools_list, server_cpu, counts = [], [], [], set()
    warm_initialize, warm_tools_list, warm_cpu = [], [], []
    bare, bare_cpu, import_mcp, import_cpu = [], [], [], []
    load_before = os.getloadavg()[0]
    for _ in range(runs):  # interleaved, so background load spreads over all series alike
        if peer is not None:
            init_s, list_s, _, cpu = peer_run(peer)
            peer_init.append(init_s)
            peer_list.append(list_s)
            peer_cpu.append(cpu)
        init_s, list_s, n_tools, cpu = one_run(args.python)
        initialize.append(init_s)
        tools_list.append(list_s)
        server_cpu.append(cpu)
        counts.add(n_tools)
        init_s, list_s, n_tools, cpu = warm_run(args.python)
        warm_initialize.append(init_s)
        warm_tools_list.append(list_s)
        warm_cpu.append(cpu)
        counts.add(n_tools)
        for code, walls, cpus in (("pass", bare, bare_cpu), ("import mcp", import_mcp, import_cpu)):
            wall, cpu = baseline(args.python, code)
            walls.append(wall)
            cpus.append(cpu)

    # CPU seconds (user + sys of the child, whole life) barely move with other processes' load; wall time does.
    rows = [
        ("spawn -> initialize response", initialize, server_cpu),
        ("spawn -> tools/list response", tools_list, server_cpu),
        ("warm: spawn -> initialize response", warm_initialize, warm_cpu),
        ("warm: spawn -> tools/list response", warm_tools_list, warm_cpu),
        ("baseline: python -c pass", bare, bare_cpu),
        ("baseline: python -c 'import mcp'", import_mcp, import_cpu),
    ]
    if peer is not None:
        rows += [("peer: spawn -> initialize response", peer_init, peer_cpu),
                 ("peer: spawn -> tools/list response", peer_list, peer_cpu)]
    figures = {name: {"median_s": statistics.median(v), "p90_s": quantile(v, 0.9), "min_s": min(v),
                      "cpu_median_s": statistics.median(c)} for name, v, c in rows}
    print(f"outlook-calendar-mcp startup over stdio, {runs} runs each (python {sys.version.split()[0]}, "
          f"{os.cpu_count()} CPUs, 1-min load {load_before:.2f} -> {os.getloadavg()[0]:.2f})")
    print(f"{'wall seconds':40} {'median':>8} {'p90':>8} {'min':>8} {'cpu med':>8}")
    for name, _, _ in rows:
        f = figures[name]
        print(f"{name:40} {f['median_s']:8.3f} {f['p90_s']:8.3f} {f['min_s']:8.3f} {f['cpu_median_s']:8.3f}")
    print("(the first two rows are cold starts: fresh data/cache dir; warm: the second start in the same dirs, "
          "sandbox file in place)")
    print("(cpu med: the child's user+sys seconds over its whole life; for the server that is spawn to exit, "
          "after tools/list)")
    med_init = figures["spawn -> initialize response"]["median_s"]
    med_mcp = figures["baseline: python -c 'import mcp'"]["median_s"]
    cpu_server = figures["spawn -> initialize response"]["cpu_median_s"]
    cpu_mcp = figures["baseline: python -c 'import mcp'"]["cpu_median_s"]
    print(f"tools listed: {sorted(counts)}")
    print(f"wall: initialize / import mcp = {med_init / med_mcp:.2f}x; "
          f"interpreter alone = {figures['baseline: python -c pass']['median_s']:.3f} s")
    print(f"cpu: server spawn->exit {cpu_server:.3f} s = import mcp {cpu_mcp:.3f} s + the server's own "
          f"{cpu_server - cpu_mcp:.3f} s")
    for label, median in (("cold", med_init), ("warm", figures["warm: spawn -> initialize response"]["median_s"])):
        verdict = "faster than" if median < TARGET_INITIALIZE_S else "NOT faster than"
        print(f"target ({label}): initialize median {median:.3f} s is {verdict} {TARGET_INITIALIZE_S} s "
              "(@softeria/ms-365-mcp-server 0.155.0)")
    if peer is not None:
        ours = figures["spawn -> tools/list response"]["median_s"]
        theirs = figures["peer: spawn -> tools/list response"]["median_s"]
        verdict = "meets" if ours / theirs <= TARGET_PEER_RATIO else "MISSES"
        print(f"cold spawn -> tools/list: ours {ours:.3f} s / peer ({PEER}) {theirs:.3f} s = {ours / theirs:.2f}x "
              f"({verdict} the target of {TARGET_PEER_RATIO}x)")
        fastest = figures["spawn -> tools/list response"]["min_s"] / figures["peer: spawn -> tools/list response"]["min_s"]
        ours_cpu, peer_cpu = (figures[k]["cpu_median_s"] for k in ("spawn -> tools/list response",
                                                                   "peer: spawn -> tools/list response"))
        print(f"  fastest runs: {fastest:.2f}x; CPU (steadier under load): ours {ours_cpu:.3f} s / peer {peer_cpu:.3f} s "
              f"= {ours_cpu / peer_cpu:.2f}x, of which `import mcp` alone is {cpu_mcp / peer_cpu:.2f}x the peer's")
    if args.json:
        print(json.dumps({"runs": runs, "target_initialize_s": TARGET_INITIALIZE_S, "figures": figures}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
