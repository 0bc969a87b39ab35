"""The server's state store expires its entries by the server's one clock, not by the system's.

Handles and the single use of confirmation tokens live in it (``Handles``' SQLite store, also the
confirmation claims': tools/policy.py). Before, ``create_server`` opened it without the clock, so an entry's
time to live ran on the system date whatever ``--now`` or a test's clock said.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from outlook_calendar_mcp.clock import Clock
from outlook_calendar_mcp.config import Settings
from outlook_calendar_mcp.server import build_graph, create_server, services_of


def test_entries_expire_when_the_servers_clock_says(tmp_path: Path) -> None:
    clock = Clock(dt.datetime(2031, 6, 15, 9, 0, tzinfo=dt.UTC), frozen=True)  # far from the system's date
    settings = Settings(backend="sandbox", sandbox_db=":memory:", data_dir=tmp_path, cache_dir=tmp_path)
    server = create_server(settings, build_graph(settings, clock=clock))
    store = services_of(server).handles.store
    assert store.claim("confirm:token", ttl_s=60)
    assert not store.claim("confirm:token", ttl_s=60)  # used once: refused within its minute
    clock.set(clock.now() + dt.timedelta(seconds=59))
    assert not store.claim("confirm:token", ttl_s=60)
    clock.set(clock.now() + dt.timedelta(seconds=2))  # 61 s on the server's clock, none on the system's
    assert store.claim("confirm:token", ttl_s=60)
    assert (tmp_path / "handles.db").exists()  # the store the server really uses, not a test's own
