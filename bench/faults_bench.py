"""The fault workload's figures: mixed writes through the MCP client at 0% and at 30% injected faults.

    .venv/bin/python bench/faults_bench.py [--operations 500] [--seed 12]

Each run: the server (in process) on an in-process sandbox behind seeded faults (sandbox/faults.py), the same
workload as tests/reliability/test_faults.py (create, update, delete, accept / tentatively accept / decline,
create calendar, add an attachment), checked after every call against the sandbox's store. Printed per
rate: operations, faults injected by kind (and how many applied a change whose reply was lost), duplicates,
lost writes, unannounced phantoms, failures that said the change may have been applied, avoidable failures
(nothing applied, the caller must retry), answers that recovered a lost reply, retries (the client's
waits), and wall time — with the 30% run's time as a ratio of the 0% run's, measured in the same process.
Retry-After waits are recorded, not slept, so wall time is the work itself.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

import anyio

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests/ holds the workload

from tests.instants import BEFORE_MARCH_2027, clock_at
from tests.reliability.workload import timed_workload

RATES = {
    "0%": {},
    "30%": {"429": 0.08, "503": 0.06, "504": 0.05, "drop": 0.07, "reset": 0.04},
}


async def main(operations: int, seed: int) -> None:
    walls: dict[str, float] = {}
    print(f"{operations} mixed writes per run, seed {seed}")
    for label, rates in RATES.items():
        with tempfile.TemporaryDirectory() as tmp:
            tally, h, wall = await timed_workload(Path(tmp), rates, operations, seed, clock_at(BEFORE_MARCH_2027))
        walls[label] = wall
        kinds = ", ".join(f"{k}={v}" for k, v in sorted(h.faults.counts.items())) or "none"
        rows = [
            ("operations", tally.operations),
            ("by tool", ", ".join(f"{k}={v}" for k, v in sorted(tally.by_tool.items()))),
            ("faults injected", f"{sum(h.faults.counts.values())} ({kinds})"),
            ("applied, reply lost", h.faults.applied_lost),
            ("duplicates", tally.duplicates),
            ("lost writes", tally.lost),
            ("unannounced phantoms", tally.phantoms),
            ("announced 'may have been applied'", tally.announced),
            ("avoidable failures (nothing applied)", tally.honest_failures),
            ("succeeded", tally.ok),
            ("  of which recovered a lost reply", tally.recovered),
            ("crashes", tally.crashes),
            ("retries (client waits)", len(h.sleeps)),
            ("Retry-After waited (s, not slept)", f"{sum(h.sleeps):.1f}"),
            ("wall time (s)", f"{wall:.2f}"),
        ]
        print(f"\n== fault rate {label} ==")
        for name, value in rows:
            print(f"  {name:<38} {value}")
    print(f"\nwall time 30% / 0%: {walls['30%'] / walls['0%']:.2f}x")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--operations", type=int, default=500)
    parser.add_argument("--seed", type=int, default=12)
    args = parser.parse_args()
    anyio.run(main, args.operations, args.seed)
