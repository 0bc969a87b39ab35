"""The week view in a real browser: Debian's Chromium driven by Playwright for Python.

``served`` starts ``outlook-calendar-mcp sandbox serve`` on a free loopback port with a database of its own
(the suite's instant, tests/servers.py) and stops it afterwards; ``graph`` reads the same sandbox through its
Graph paths (what the page is checked against); ``page`` is a fresh browser page. Chromium is the system's
(``/usr/bin/chromium``, installed by .ci/run with apt-get; never ``playwright install``): without it, or
without the playwright package, the tests skip here and fail in CI (``CI`` set). Screenshots go to
tests/web/screenshots/ (git-ignored).
"""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.servers import free_port, server_env, stop

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
SCREENSHOTS = Path(__file__).parent / "screenshots"


def _missing(why: str) -> None:
    if os.environ.get("CI"):
        pytest.fail(f"{why} (CI must have it: .ci/run installs chromium and the dev extras)")
    pytest.skip(why)


@pytest.fixture
def browser() -> Iterator[Any]:
    """Chromium for one test. Not shared: while Playwright's sync API runs, this thread has a running event loop,
    and the suite's other tests (sandbox clients on their own loop) may run next in the same worker."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _missing("playwright (Python) is not installed: pip install -e '.[dev]'")
    if not Path(CHROMIUM).exists():
        _missing(f"no Chromium at {CHROMIUM}: apt-get install chromium")
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1500, "height": 1000})
    p = context.new_page()
    errors: list[str] = []
    p.on("pageerror", lambda e: errors.append(str(e)))
    yield p
    context.close()
    assert not errors, f"the page's JavaScript failed: {errors}"


@dataclass
class Served:
    url: str
    db: Path
    proc: subprocess.Popen

    def graph(self, token: str = "sandbox-app") -> httpx.Client:
        return httpx.Client(base_url=f"{self.url}v1.0/", headers={"Authorization": f"Bearer {token}"}, timeout=10)


@pytest.fixture
def served(tmp_path: Path) -> Iterator[Served]:
    """``sandbox serve`` on its own database and port, the demo organization seeded for the suite's instant."""
    port = free_port()
    db = tmp_path / "sandbox.db"
    log = tmp_path / "sandbox.stderr"
    with log.open("wb") as err:
        proc = subprocess.Popen([sys.executable, "-m", "outlook_calendar_mcp", "sandbox", "serve", "--db", str(db),
                                 "--port", str(port)], env=server_env(tmp_path), stdin=subprocess.DEVNULL,
                                stdout=subprocess.DEVNULL, stderr=err)
    try:
        deadline = time.monotonic() + 30
        while True:
            if proc.poll() is not None:
                raise AssertionError(f"sandbox serve exited: {log.read_text()}")
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=0.2):
                break
            if time.monotonic() > deadline:
                raise AssertionError(f"sandbox serve not listening: {log.read_text()}")
            time.sleep(0.05)
        yield Served(url=f"http://127.0.0.1:{port}/", db=db, proc=proc)
    finally:
        stop(proc)
