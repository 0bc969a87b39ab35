"""Child processes the benchmarks start: the sandbox over loopback HTTP, and MCP servers on it.

Every child gets its own data and cache dirs under a temporary directory and is always stopped.
"""

from __future__ import annotations

import contextlib
import os
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def env_in(tmp: Path, pythonpath: str | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("OUTLOOK_MCP_")}
    env.update(OUTLOOK_MCP_DATA_DIR=str(tmp / "data"), OUTLOOK_MCP_CACHE_DIR=str(tmp / "cache"))
    env["OUTLOOK_MCP_RATE_LIMIT"] = "1000000000"  # counted on every call (its cost is measured), never reached
    if pythonpath:
        env["PYTHONPATH"] = pythonpath
    return env


def wait_listening(proc: subprocess.Popen, port: int, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while True:
        if proc.poll() is not None:
            raise RuntimeError(f"child exited with {proc.returncode}")
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=0.2):
            return
        if time.monotonic() > deadline:
            raise RuntimeError(f"nothing listening on port {port} after {timeout}s")
        time.sleep(0.05)


def stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)


def installed(source: Path, where: Path, log=print, *, key: str | None = None, refresh: bool = False) -> str:
    """The interpreter of a venv at ``where`` holding a regular (non-editable) install of ``source`` with the
    dependencies that source declares, as a user of it had them; made once, remade when ``key`` (default:
    where ``source`` is) changes. ``refresh``: otherwise reinstall the package alone (a working tree that moved
    on since)."""
    python = where / "bin" / "python"
    stamp = where / ".installed-from"
    want = key or str(source.resolve())
    if not python.exists() or not stamp.exists() or stamp.read_text() != want:
        log(f"installing {source} with its own dependencies into {where} (once) ...")
        quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL}
        subprocess.run([sys.executable, "-m", "venv", "--clear", str(where)], check=True, **quiet)
        subprocess.run([str(python), "-m", "pip", "install", "-q", str(source)], check=True, **quiet)
        stamp.write_text(want)
    elif refresh:
        subprocess.run([str(python), "-m", "pip", "install", "-q", "--no-deps", "--force-reinstall", str(source)],
                       check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return str(python)


@contextlib.contextmanager
def child(argv: list[str], tmp: Path, port: int, pythonpath: str | None = None) -> Iterator[subprocess.Popen]:
    proc = subprocess.Popen(argv, env=env_in(tmp, pythonpath), stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    try:
        wait_listening(proc, port)
        yield proc
    finally:
        stop(proc)


@contextlib.contextmanager
def sandbox(tmp: Path, *, python: str = sys.executable, now: str | None = None,
            db: Path | None = None) -> Iterator[str]:
    """``outlook-calendar-mcp sandbox serve`` on a free loopback port (on ``db``, else a new seeded file);
    yields its ``.../v1.0`` URL."""
    with sandbox_process(tmp, python=python, now=now, db=db) as (url, _):
        yield url


@contextlib.contextmanager
def sandbox_process(tmp: Path, *, python: str = sys.executable, now: str | None = None,
                    db: Path | None = None) -> Iterator[tuple[str, subprocess.Popen]]:
    """:func:`sandbox`, yielding its process too (to read its CPU)."""
    port = free_port()
    argv = [python, "-m", "outlook_calendar_mcp", "sandbox", "serve", "--port", str(port),
            "--db", str(db or tmp / f"sandbox-{port}.db")]
    if now:
        argv += ["--now", now]
    with child(argv, tmp, port) as proc:
        yield f"http://127.0.0.1:{port}/v1.0", proc


def serve_argv(python: str, transport: str, sandbox_url: str, port: int | None = None) -> list[str]:
    argv = [python, "-m", "outlook_calendar_mcp", "serve", "--transport", transport, "--backend", "sandbox",
            "--sandbox-url", sandbox_url]
    return [*argv, "--port", str(port)] if port is not None else argv


@contextlib.contextmanager
def http_server(tmp: Path, sandbox_url: str, *, python: str = sys.executable, pythonpath: str | None = None,
                stateless: bool = False) -> Iterator[str]:
    """``serve --transport http`` on the sandbox at ``sandbox_url``; yields the ``/mcp`` URL."""
    port = free_port()
    argv = serve_argv(python, "http", sandbox_url, port) + (["--stateless"] if stateless else [])
    with child(argv, tmp, port, pythonpath):
        yield f"http://127.0.0.1:{port}/mcp"


# Child code (pasted into a ``python -c`` script after its imports of asyncio and time): ``await busy_loop(work)``
# runs ``work()`` (it makes the awaitable), while a heartbeat asks the event loop for 1 ms sleeps, and returns the seconds it took
# and the longest time the loop was held past a beat (ms). bench/rate_bench.py and bench/state_bench.py use it.
LOOP_PROBE = r"""
async def busy_loop(work):
    gaps, done = [], asyncio.Event()

    async def heartbeat():
        last = time.perf_counter()
        while not done.is_set():
            await asyncio.sleep(0.001)
            now = time.perf_counter()
            gaps.append(now - last)
            last = now

    beat = asyncio.create_task(heartbeat())
    await asyncio.sleep(0.01)
    began = time.perf_counter()
    await work()
    took = time.perf_counter() - began
    done.set()
    await beat
    return took, (max(gaps) - 0.001) * 1e3
"""


def print_medians(figures: dict[tuple[str, str], list[dict[str, float]]], baseline: str, ours: str) -> None:
    """Per kind (a store...), each side's median of every figure over its rounds, and ours / the baseline's; a kind
    either side lacks is left out. ``figures``: (kind, side label) -> one dict of figures per round."""
    for kind in dict.fromkeys(k for k, _ in figures):
        if (kind, baseline) not in figures or (kind, ours) not in figures:
            continue
        keys = list(figures[(kind, baseline)][0])
        medians = {
            label: {k: statistics.median(x[k] for x in figures[(kind, label)]) for k in keys} for label in (baseline, ours)
        }
        print(f"{kind}:")
        for label, values in medians.items():
            print(f"  {label:24} " + "  ".join(f"{k} {v:,.2f}" for k, v in values.items()))
        old, new = medians[baseline], medians[ours]
        print("  this checkout / baseline: " + "  ".join(f"{k} {new[k] / old[k]:.2f}x" for k in keys if old[k]))
