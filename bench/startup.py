"""Start-up over stdio, cold: seconds from spawn to the initialize response and to the tools/list response,
ours against the Node peer, alternating, started the way a user starts each.

Ours is started as a user starts it: the ``outlook-calendar-mcp`` console script of a regular (not editable)
install of this working tree, with its runtime dependencies only, in ``bench/.user/`` (a venv this script
makes and refreshes; git-ignored). pip compiles bytecode at install, as for any user; with ``uvx`` Python
writes it on the first start, which the one untimed start below stands for. ``--dev`` starts the console
script of the interpreter running this script instead (an editable install: dev dependencies such as rich
come along, and the sources' bytecode is whatever is on disk).

Cold: every start gets a fresh, empty HOME (so empty data, cache and token-cache directories, no
``OUTLOOK_MCP_*`` settings), and the server is started bare (``outlook-calendar-mcp``: stdio, the built-in
sandbox because nobody is signed in). It speaks raw JSON-RPC on stdin/stdout, so no client library is timed:
initialize is written right after spawn, tools/list as soon as the initialize response arrives; the answers are
read through a buffer, as every client reads them (not a system call per byte, which timed the reader).

The peer: the leading Graph MCP server (npm @softeria/ms-365-mcp-server 0.155.0, ``--preset calendar``: its 42
calendar tools), installed into ``bench/.peer/`` (git-ignored) with npm, started cold (a fresh, empty HOME);
skipped with a message when npm or node is absent. Target (issue 13): ours at most 0.9x the peer's.

Each round starts both servers (in alternating order) and two baselines with our interpreter: ``python -c
pass`` (interpreter start) and ``python -c "import mcp"`` (the MCP SDK's import, which any server built on it
pays). Printed: median and best of each, the ratio of the medians, of the bests, and the median of the
rounds' own ratios (each round's two starts ran side by side, under the same load); then the floor: the SDK's
import alone over the peer's whole start (no server on the SDK starts faster), and our time beyond it.

``--instructions`` then counts the instructions of one cold start of ours under valgrind (callgrind), of
``python -c "import mcp"`` and of the stages of a start: a figure the machine's load does not move.

``--profile N`` then starts ours N more times under ``-X importtime`` with time stamps, and prints where the
time goes in milliseconds: interpreter, imports by package, building the server, the first answers.

    python bench/startup.py [--runs 20] [--profile 5] [--instructions] [--dev] [--no-peer] [--json]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from harness import installed

TARGET_PEER_RATIO = 0.9
PEER = "@softeria/ms-365-mcp-server@0.155.0"
ROOT = Path(__file__).resolve().parent.parent
PEER_DIR = ROOT / "bench" / ".peer"
USER_DIR = ROOT / "bench" / ".user"
PROTOCOL_VERSION = "2025-06-18"

INITIALIZE = {
    "jsonrpc": "2.0",
    "id": 1,
    "method": "initialize",
    "params": {
        "protocolVersion": PROTOCOL_VERSION,
        "capabilities": {},
        "clientInfo": {"name": "bench-startup", "version": "0"},
    },
}
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


# -- the two servers, installed and started as users do -------------------------------------------------


def user_install(log=print) -> Path:
    """``bench/.user/bin/outlook-calendar-mcp``: this working tree installed as a user installs it (a wheel,
    runtime dependencies only, bytecode compiled by pip). Dependencies are installed again only when
    pyproject.toml changes; the package itself on every run, so the figures are the tree's as it is."""
    installed(ROOT, USER_DIR, log, key=hashlib.sha256((ROOT / "pyproject.toml").read_bytes()).hexdigest(), refresh=True)
    return USER_DIR / "bin" / "outlook-calendar-mcp"


def peer_command() -> list[str] | None:
    """``node <peer>/dist/index.js --preset calendar``, installing the peer first; None without npm/node."""
    if not shutil.which("npm") or not shutil.which("node"):
        return None
    entry = PEER_DIR / "node_modules" / "@softeria" / "ms-365-mcp-server" / "dist" / "index.js"
    if not entry.exists():
        PEER_DIR.mkdir(exist_ok=True)
        subprocess.run(
            ["npm", "install", "--prefix", str(PEER_DIR), "--no-audit", "--no-fund", PEER],
            check=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
    return ["node", str(entry), "--preset", "calendar"]


def cold_env(home: str) -> dict[str, str]:
    """The environment of a first start ever: an empty HOME, none of our settings, no PYTHONPATH."""
    drop = ("HOME", "XDG_CONFIG_HOME", "XDG_CACHE_HOME", "XDG_DATA_HOME", "XDG_STATE_HOME", "PYTHONPATH")
    env = {k: v for k, v in os.environ.items() if k not in drop and not k.startswith("OUTLOOK_MCP_")}
    env["HOME"] = home
    return env


def cold_start(argv: list[str]) -> tuple[float, float, int, float]:
    """One cold start: (s to the initialize response, s to the tools/list response, tools listed, CPU s)."""
    with tempfile.TemporaryDirectory(prefix="bench-startup-") as home:
        return spawn(argv, cold_env(home), cwd=home)


def spawn(
    argv: list[str], env: dict[str, str], cwd: str, stderr=subprocess.DEVNULL, reap_timeout: float = 10.0
) -> tuple[float, float, int, float]:
    """Spawn ``argv`` in ``cwd`` and speak raw JSON-RPC: (s to initialize response, s to tools/list response,
    tools, CPU s)."""
    start = time.monotonic()
    # Buffered pipes, as every client reads them: an unbuffered readline reads one byte per system call, which
    # cost ~0.8 ms per kB of answer here (the peer's 220 kB tools/list: ~170 ms) and timed the bench, not the server.
    proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=stderr, env=env, cwd=cwd)
    try:
        proc.stdin.write(_line(INITIALIZE))
        proc.stdin.flush()
        _read_response(proc.stdout, 1)
        initialized = time.monotonic() - start
        proc.stdin.write(_line(INITIALIZED) + _line(TOOLS_LIST))
        proc.stdin.flush()
        tools = _read_response(proc.stdout, 2)["result"]["tools"]
        listed = time.monotonic() - start
    finally:
        proc.stdin.close()
        cpu = _reap(proc, reap_timeout)
        proc.stdout.close()
    return initialized, listed, len(tools), cpu


def baseline(python: str, code: str) -> tuple[float, float]:
    """(wall seconds, CPU seconds) of ``python -c code``, without the interpreter's teardown (``os._exit``):
    what a server pays before it can answer."""
    code = f"{code}; import os; os._exit(0)"
    start = time.perf_counter()
    proc = subprocess.Popen(
        [python, "-c", code], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, cwd=tempfile.gettempdir()
    )
    cpu = _reap(proc, timeout=60)
    wall = time.perf_counter() - start
    if proc.returncode:
        raise RuntimeError(f"python -c {code!r} exited with {proc.returncode}")
    return wall, cpu


# -- where the time goes ----------------------------------------------------------------------------------

# Run in our interpreter with -X importtime: stamps (CLOCK_MONOTONIC, comparable with this process's) when the
# script starts (the interpreter is up), when the server's modules are imported (as cli.main imports them), and
# around create_server; then the real `serve` path (cli.main) runs as the console script runs it.
PROFILED = """
import sys, time
up = time.monotonic()
from outlook_calendar_mcp.startup import imports_without_gc, keep_bytecode
keep_bytecode()
with imports_without_gc():  # as cli.main imports the server
    from outlook_calendar_mcp import cli, server
imported = time.monotonic()
build = server.create_server
def timed(*args, **kwargs):
    start = time.monotonic()
    built = build(*args, **kwargs)
    print("STAMPS", up, imported, start, time.monotonic(), file=sys.stderr, flush=True)
    return built
server.create_server = timed
sys.argv = ["outlook-calendar-mcp"]
sys.exit(cli.main())
"""


def profile(python: str, runs: int) -> dict[str, float]:
    """Median milliseconds per phase of ``runs`` cold starts, imports split by top-level package."""
    phases: dict[str, list[float]] = defaultdict(list)
    for _ in range(runs):
        with tempfile.TemporaryDirectory(prefix="bench-startup-") as home:
            err = Path(home) / "stderr"
            with err.open("w") as sink:
                spawned = time.monotonic()
                init_s, list_s, _, _ = spawn(
                    [python, "-X", "importtime", "-c", PROFILED], cold_env(home), cwd=home, stderr=sink
                )
            text = err.read_text()
        stamps = [float(x) for x in next(line for line in text.splitlines() if line.startswith("STAMPS")).split()[1:]]
        up, imported, build_start, build_end = stamps
        by_package: dict[str, float] = defaultdict(float)
        for line in text.splitlines():
            if not line.startswith("import time:") or "self [us]" in line:
                continue
            self_us, _, name = line.split(":", 1)[1].split("|")
            name = name.strip()
            top = name.split(".")[0]
            key = ".".join(name.split(".")[:2]) if top == "outlook_calendar_mcp" else top
            by_package[key] += int(self_us) / 1000
        phases["spawn -> interpreter up (python -c pass)"].append((up - spawned) * 1000)
        phases["imports before serve (cli, server, tools...)"].append((imported - up) * 1000)
        phases["serve: settings, graph client, lazy imports"].append((build_start - imported) * 1000)
        phases["create_server (43 tools, prompts)"].append((build_end - build_start) * 1000)
        phases["-> initialize answered (stdio, session, answer)"].append((spawned + init_s - build_end) * 1000)
        phases["-> tools/list answered (after its request)"].append((list_s - init_s) * 1000)
        for key, ms in by_package.items():
            phases["import: " + key].append(ms)
    return {name: statistics.median(v + [0.0] * (runs - len(v))) for name, v in phases.items()}


def print_profile(figures: dict[str, float], runs: int) -> None:
    print(f"\nwhere the time goes (ours, median of {runs} cold starts under -X importtime, ms):")
    for name, ms in figures.items():
        if not name.startswith("import: "):
            print(f"  {name:50} {ms:7.1f}")
    imports = sorted(((ms, name[8:]) for name, ms in figures.items() if name.startswith("import: ")), reverse=True)
    total = sum(ms for ms, _ in imports)
    print(f"  imports by package (self time, {total:.0f} ms in all, whenever imported):")
    ours = sum(ms for ms, name in imports if name.startswith("outlook_calendar_mcp"))
    print(f"    {'outlook_calendar_mcp (all)':48} {ours:7.1f}")
    for ms, name in imports[:25]:
        print(f"    {name:48} {ms:7.1f}")


# -- instructions: a count that does not depend on the machine's load --------------------------------------

# Stage N of a start, run in our interpreter and ended with os._exit (no teardown): 1 the SDK's imports (cyclic GC
# off, as cli.main imports), 2 + ours, 3 + settings and the Graph client, 4 + create_server.
STAGES = """
import gc, os, sys
stage = int(sys.argv[1])
gc.disable()
import mcp, mcp.server.mcpserver, mcp.server.stdio
if stage >= 2:
    from outlook_calendar_mcp import cli, server
gc.freeze(); gc.enable()
if stage >= 3:
    from outlook_calendar_mcp.clock import Clock
    from outlook_calendar_mcp.config import Settings
    settings = Settings(confirm_sends=False)
    graph = server.build_graph(settings, clock=Clock())
if stage >= 4:
    server.create_server(settings, graph)
os._exit(0)
"""


def _collected(stderr: str) -> int:
    found = re.search(r"Collected : (\d+)", stderr)
    if found is None:
        raise RuntimeError("valgrind printed no instruction count:\n" + stderr[-2000:])
    return int(found.group(1))


def instructions(python: str, ours_argv: list[str]) -> dict[str, int]:
    """Instructions executed (valgrind callgrind): our whole cold process (spawn, initialize, tools/list, exit),
    ``python -c "import mcp"`` (without teardown), and the stages of :data:`STAGES`."""
    counts: dict[str, int] = {}
    with tempfile.TemporaryDirectory(prefix="bench-startup-") as home:
        grind = ["valgrind", "--tool=callgrind", f"--callgrind-out-file={home}/callgrind.out"]
        err = Path(home) / "stderr"
        with err.open("w") as sink:
            spawn([*grind, *ours_argv], cold_env(home), cwd=home, stderr=sink, reap_timeout=600)
        counts["ours: cold start to tools/list, and exit"] = _collected(err.read_text())
        runs = {"python -c 'import mcp'": ["-c", "import mcp, os; os._exit(0)"]}
        runs.update({f"stage {n}": ["-c", STAGES, str(n)] for n in (1, 2, 3, 4)})
        for label, args in runs.items():
            done = subprocess.run(
                [*grind, python, *args], env=cold_env(home), cwd=home, capture_output=True, text=True, timeout=600
            )
            counts[label] = _collected(done.stderr)
    return counts


def print_instructions(counts: dict[str, int]) -> None:
    print("\ninstructions (valgrind callgrind, G; the same on any load):")
    for label in ("ours: cold start to tools/list, and exit", "python -c 'import mcp'"):
        print(f"  {label:50} {counts[label] / 1e9:7.3f}")
    names = {
        1: "the SDK's imports (cyclic GC off, as we import)",
        2: "+ our imports",
        3: "+ settings and the Graph client",
        4: "+ create_server",
    }
    before = 0
    for n, name in names.items():
        count = counts[f"stage {n}"]
        print(f"  {name:50} {(count - before) / 1e9:+7.3f}")
        before = count
    rest = counts["ours: cold start to tools/list, and exit"] - before
    print(f"  {'+ initialize, tools/list and the exit':50} {rest / 1e9:+7.3f}")


# -- the run ----------------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=20, help="rounds (each starts both servers); at least 10")
    parser.add_argument("--dev", action="store_true", help="start this interpreter's console script instead")
    parser.add_argument("--profile", type=int, default=0, metavar="N", help="then N profiled starts of ours")
    parser.add_argument("--json", action="store_true", help="print the figures as one JSON object too")
    parser.add_argument("--no-peer", action="store_true", help="do not install or start the Node peer")
    parser.add_argument("--instructions", action="store_true", help="then count instructions (valgrind callgrind)")
    args = parser.parse_args(argv)
    runs = max(10, args.runs)

    ours = Path(sys.executable).parent / "outlook-calendar-mcp" if args.dev else user_install()
    python = str(ours.parent / "python")
    ours_argv = [str(ours)]
    peer = None if args.no_peer else peer_command()
    if peer is None:
        print("peer: skipped (" + ("--no-peer" if args.no_peer else "npm or node not found") + ")")
    else:
        cold_start(peer)  # the OS file cache, once; not counted
    cold_start(ours_argv)  # the OS file cache (and, as with uvx, bytecode not yet written), once; not counted

    series: dict[str, list[float]] = defaultdict(list)
    cpu: dict[str, list[float]] = defaultdict(list)
    counts: dict[str, set[int]] = defaultdict(set)
    load_before = os.getloadavg()[0]
    for round_no in range(runs):
        servers = [("ours", ours_argv)] + ([("peer", peer)] if peer else [])
        for name, command in servers if round_no % 2 == 0 else reversed(servers):
            init_s, list_s, n_tools, cpu_s = cold_start(command)
            series[f"{name}: spawn -> initialize response"].append(init_s)
            series[f"{name}: spawn -> tools/list response"].append(list_s)
            cpu[f"{name}: spawn -> tools/list response"].append(cpu_s)
            counts[name].add(n_tools)
        for label, code in (("baseline: python -c pass", "pass"), ("baseline: python -c 'import mcp'", "import mcp")):
            wall, cpu_s = baseline(python, code)
            series[label].append(wall)
            cpu[label].append(cpu_s)

    figures = {
        name: {
            "median_s": statistics.median(v),
            "best_s": min(v),
            "cpu_median_s": statistics.median(cpu[name]) if name in cpu else None,
        }
        for name, v in series.items()
    }
    print(
        f"stdio start, cold: {' '.join(ours_argv)} vs the peer, {runs} rounds alternating (python "
        f"{sys.version.split()[0]}, {os.cpu_count()} CPUs, 1-min load {load_before:.2f} -> {os.getloadavg()[0]:.2f})"
    )
    print(f"{'seconds':42} {'median':>8} {'best':>8} {'cpu med':>8}")
    for name, f in figures.items():
        cpu_text = f"{f['cpu_median_s']:8.3f}" if f["cpu_median_s"] is not None else ""
        print(f"{name:42} {f['median_s']:8.3f} {f['best_s']:8.3f} {cpu_text}")
    print(f"tools listed: ours {sorted(counts['ours'])}" + (f", peer {sorted(counts['peer'])}" if peer else ""))
    print("(cpu med: the child's user+sys seconds over its whole life; the servers exit right after tools/list)")
    result: dict = {"runs": runs, "command": ours_argv, "figures": figures}
    if peer is not None:
        key = "spawn -> tools/list response"
        ours_v, peer_v = series[f"ours: {key}"], series[f"peer: {key}"]
        median_ratio = statistics.median(ours_v) / statistics.median(peer_v)
        best_ratio = min(ours_v) / min(peer_v)
        paired = statistics.median(o / p for o, p in zip(ours_v, peer_v, strict=True))
        cpu_ratio = statistics.median(cpu[f"ours: {key}"]) / statistics.median(cpu[f"peer: {key}"])
        verdict = "meets" if median_ratio <= TARGET_PEER_RATIO and best_ratio <= TARGET_PEER_RATIO else "MISSES"
        print(
            f"cold spawn -> tools/list, ours / peer ({PEER}): median {median_ratio:.2f}x, best {best_ratio:.2f}x, "
            f"median of the rounds' ratios {paired:.2f}x; CPU {cpu_ratio:.2f}x "
            f"({verdict} the target of {TARGET_PEER_RATIO}x on median and best)"
        )
        result["ratios"] = {"median": median_ratio, "best": best_ratio, "paired_median": paired, "cpu": cpu_ratio}
        # The floor: what any server built on the MCP SDK pays before its own first line runs.
        sdk_v = series["baseline: python -c 'import mcp'"]
        floor_median, floor_best = statistics.median(sdk_v) / statistics.median(peer_v), min(sdk_v) / min(peer_v)
        ours_beyond_ms = 1000 * (statistics.median(ours_v) - statistics.median(sdk_v))
        print(
            f"floor: the MCP SDK's import alone / the peer's whole start: median {floor_median:.2f}x, best "
            f"{floor_best:.2f}x; ours spends {ours_beyond_ms:.0f} ms (median) beyond that import"
        )
        result["floor"] = {"median": floor_median, "best": floor_best, "ours_beyond_ms": ours_beyond_ms}
    if args.profile:
        result["profile_ms"] = profile(python, args.profile)
        print_profile(result["profile_ms"], args.profile)
    if args.instructions:
        if shutil.which("valgrind"):
            result["instructions"] = instructions(python, ours_argv)
            print_instructions(result["instructions"])
        else:
            print("instructions: skipped (valgrind not found)")
    if args.json:
        print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
