"""Writes tell the truth under faults: ≥500 mixed writes through the MCP client at a 30% fault rate.

The sandbox misbehaves in process (sandbox/faults.py: 429 with Retry-After, 503, 504 that may or may not
have applied the change, replies dropped after the change, resets), seeded so a failure can be replayed.
After every call the sandbox's own store says whether the change is there (tests/reliability/workload.py).
"""

from __future__ import annotations

import pytest

from tests.instants import BEFORE_MARCH_2027, clock_at

from .workload import timed_workload

pytestmark = pytest.mark.anyio

THIRTY_PERCENT = {"429": 0.08, "503": 0.06, "504": 0.05, "drop": 0.07, "reset": 0.04}


@pytest.mark.slow
async def test_500_writes_at_30_percent_faults_no_duplicate_no_lost_no_unannounced_phantom_no_crash(tmp_path):
    tally, h, _ = await timed_workload(tmp_path, THIRTY_PERCENT, 520, seed=12, clock=clock_at(BEFORE_MARCH_2027))
    injected = sum(h.faults.counts.values())
    assert tally.operations >= 500
    assert (tally.duplicates, tally.lost, tally.phantoms, tally.crashes) == (0, 0, 0, 0), tally.problems[:10]
    # The faults really happened, and replies really were lost after the change: the workload proves something.
    assert all(h.faults.counts[k] > 20 for k in THIRTY_PERCENT), h.faults.counts
    assert h.faults.applied_lost > 50 and tally.recovered > 20
    assert injected > 0.2 * tally.operations
    # Retry-After is honoured: each 429 asked for 1 to 3 seconds and the client waited that long (on its sleep).
    assert any(s in (1.0, 2.0, 3.0) for s in h.sleeps)
    assert tally.ok + tally.announced + tally.honest_failures == tally.operations
    assert tally.ok > 0.9 * tally.operations, tally


async def test_the_same_seed_replays_the_same_faults(tmp_path):
    first, h1, _ = await timed_workload(tmp_path / "a", THIRTY_PERCENT, 40, seed=5, clock=clock_at(BEFORE_MARCH_2027))
    second, h2, _ = await timed_workload(tmp_path / "b", THIRTY_PERCENT, 40, seed=5, clock=clock_at(BEFORE_MARCH_2027))
    assert h1.faults.counts == h2.faults.counts and sum(h1.faults.counts.values()) > 0
    assert (first.ok, first.recovered) == (second.ok, second.recovered)
