"""Minting handles in the SQLite state store: what a view of many events seen for the first time pays.

One by one (``Handles.handle``, the synchronous path), each new handle is one claim (a committed transaction) in
``state.db``; minted at once (``Handles.mint``, what a tool does before rendering a result) they are one
transaction. This prints the time for ``--count`` new handles each way and for the same handles asked again (the
in-process cache).

    python bench/handles_bench.py [--count 200]
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time

from outlook_calendar_mcp.ids import Handles


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=200)
    count = parser.parse_args(argv).count
    ids = [f"AAMkAGI2{i:0120d}" for i in range(count)]
    with tempfile.TemporaryDirectory(prefix="bench-handles-") as tmp:
        handles = Handles(f"{tmp}/state.db")
        try:
            start = time.perf_counter()
            for graph_id in ids:
                handles.handle("event", graph_id)
            new = time.perf_counter() - start
            start = time.perf_counter()
            for graph_id in ids:
                handles.handle("event", graph_id)
            again = time.perf_counter() - start
        finally:
            handles.close()
    print(f"{count} new handles in a SQLite state store: {new * 1000:.1f} ms ({new / count * 1000:.2f} ms each); "
          f"asked again: {again * 1000:.2f} ms")
    other = [f"AAMkAGI3{i:0120d}" for i in range(count)]
    with tempfile.TemporaryDirectory(prefix="bench-handles-") as tmp:
        handles = Handles(f"{tmp}/state.db")
        try:
            start = time.perf_counter()
            asyncio.run(handles.mint([("event", graph_id) for graph_id in other]))
            shown = [handles.handle("event", graph_id) for graph_id in other]
            at_once = time.perf_counter() - start
        finally:
            handles.close()
    assert len(set(shown)) == count
    print(f"{count} new handles minted at once (one transaction): {at_once * 1000:.1f} ms "
          f"({new / at_once:.1f}x faster than one by one)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
