"""What a start does before it imports the server (startup.py).

A start reads bytecode even where PYTHONDONTWRITEBYTECODE is set and the installation has none (uvx): each case
runs a fresh interpreter on a small package made for the test (its own sources, no bytecode beside them);
``keep_bytecode`` is called with that package as the probe, as ``cli.main`` calls it with the MCP SDK's
``__init__.py``, then the package is imported. The server's imports run without the cyclic collector, which is
on again afterwards with what they made frozen.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

SCRIPT = """
import json, sys
from outlook_calendar_mcp.startup import keep_bytecode
kept = keep_bytecode(probe=sys.argv[1], cache_dir=sys.argv[2])
sys.path.insert(0, sys.argv[3])
import probe_pkg
print(json.dumps({"kept": str(kept) if kept else None, "prefix": sys.pycache_prefix,
                  "writes": not sys.dont_write_bytecode, "answer": probe_pkg.ANSWER}))
"""


def _package(tmp_path: Path) -> Path:
    source = tmp_path / "src" / "probe_pkg" / "__init__.py"
    source.parent.mkdir(parents=True)
    source.write_text("ANSWER = 42\n")
    return source


def _start(source: Path, cache: Path, *, dont_write: bool) -> dict:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    if dont_write:
        env["PYTHONDONTWRITEBYTECODE"] = "1"
    out = subprocess.run(
        [sys.executable, "-c", SCRIPT, str(source), str(cache), str(source.parent.parent)],
        capture_output=True, text=True, check=True, env=env, timeout=60,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def _pycs(root: Path) -> list[Path]:
    return sorted(root.rglob("*.pyc")) if root.exists() else []


def test_without_bytecode_and_without_writing_it_the_cache_keeps_it(tmp_path: Path) -> None:
    source, cache = _package(tmp_path), tmp_path / "cache"
    first = _start(source, cache, dont_write=True)
    assert first["kept"] == str(cache / "bytecode") == first["prefix"]
    assert first["writes"] and first["answer"] == 42
    kept = [p for p in _pycs(cache / "bytecode") if "probe_pkg" in p.parts]
    assert len(kept) == 1, _pycs(cache)
    assert _pycs(source.parent) == []  # nothing written beside the sources: the user asked for that
    # The next start reads it: the bytecode is not written again.
    written = kept[0].stat().st_mtime_ns
    assert _start(source, cache, dont_write=True)["answer"] == 42
    assert kept[0].stat().st_mtime_ns == written


def test_bytecode_written_at_install_is_read_as_it_is(tmp_path: Path) -> None:
    source, cache = _package(tmp_path), tmp_path / "cache"
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(source.parent)], check=True)  # as pip does
    seen = _start(source, cache, dont_write=True)
    assert seen["kept"] is None and seen["prefix"] is None and not seen["writes"]
    assert not cache.exists()


def test_where_python_may_write_bytecode_nothing_changes(tmp_path: Path) -> None:
    source, cache = _package(tmp_path), tmp_path / "cache"
    seen = _start(source, cache, dont_write=False)
    assert seen["kept"] is None and seen["prefix"] is None and seen["writes"]
    assert len(_pycs(source.parent)) == 1  # Python's own: beside the source
    assert not cache.exists()


GC_SCRIPT = """
import gc, json
from outlook_calendar_mcp.startup import imports_without_gc
frozen_before = gc.get_freeze_count()
with imports_without_gc():
    inside = gc.isenabled()
    import mcp.server.mcpserver  # the SDK, as `serve` imports it
after = {"inside": inside, "enabled_after": gc.isenabled(), "frozen": gc.get_freeze_count() - frozen_before}
garbage = []
garbage.append(garbage)  # a cycle made after the imports is still collected
del garbage
after["collected"] = gc.collect()
print(json.dumps(after))
"""


def test_the_servers_imports_run_without_the_collector_which_is_on_again_after() -> None:
    out = subprocess.run([sys.executable, "-c", GC_SCRIPT], capture_output=True, text=True, check=True, timeout=120)
    seen = json.loads(out.stdout.strip().splitlines()[-1])
    assert seen["inside"] is False and seen["enabled_after"] is True
    assert seen["frozen"] > 100_000  # the SDK's objects, out of every later collection's way
    assert seen["collected"] >= 1
