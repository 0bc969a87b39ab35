"""What a start does before it imports the server: keep bytecode, and import without the cyclic collector.

**Bytecode, also where ``PYTHONDONTWRITEBYTECODE`` is set.** A start imports some 600 modules (the MCP SDK,
pydantic, ...): from bytecode in about half a second here, compiled from their sources about three times as
long, at every start. pip writes an installation's bytecode when it installs it. uv (``uvx
outlook-calendar-mcp``) does not unless told (``UV_COMPILE_BYTECODE=1``): it leaves it to Python to write at the
first import, which ``PYTHONDONTWRITEBYTECODE`` (common in containers) forbids, so every start would compile
everything again. :func:`keep_bytecode` notices exactly that case (no bytecode beside the SDK's sources, and
writing it there turned off) and keeps the bytecode under this server's cache directory instead
(``sys.pycache_prefix``): the first start compiles and writes it there, the next ones read it. In every other
case it changes nothing.

**Imports without the cyclic collector.** Those imports make hundreds of thousands of objects (the SDK's ~500
pydantic models and their schemas) and almost no garbage, yet the collector runs some 200 times during them,
its older generations walking the whole growing heap: 13% of the imports' CPU here. :func:`imports_without_gc`
turns it off for the imports, then freezes what they made (``gc.freeze``: it lives as long as the process, and
later collections no longer walk it) and turns it back on.
"""

from __future__ import annotations

import contextlib
import gc
import importlib.util
import os
import sys
from collections.abc import Iterator
from pathlib import Path

import platformdirs

APP_NAME = "outlook-calendar-mcp"  # config.APP_NAME, without importing pydantic-settings this early

__all__ = ["imports_without_gc", "keep_bytecode"]


def keep_bytecode(probe: str | None = None, cache_dir: str | None = None) -> Path | None:
    """Keep bytecode under ``<cache_dir>/bytecode`` when nothing else would keep it; the directory, or None.

    ``probe``: a source file whose bytecode tells whether the installation has any (default: the MCP SDK's
    ``__init__.py``, imported by every start). ``cache_dir``: default ``OUTLOOK_MCP_CACHE_DIR``, else the
    user cache directory (as :class:`~.config.Settings` has it)."""
    if not sys.dont_write_bytecode or sys.pycache_prefix is not None:
        return None  # Python writes bytecode beside the sources, or already keeps it elsewhere
    if probe is None:
        spec = importlib.util.find_spec("mcp")
        probe = spec.origin if spec is not None else None
    if not probe or not probe.endswith(".py") or os.path.exists(importlib.util.cache_from_source(probe)):
        return None  # bytecode written at install (pip, UV_COMPILE_BYTECODE) is read as it is
    base = (
        cache_dir or os.environ.get("OUTLOOK_MCP_CACHE_DIR") or platformdirs.user_cache_dir(APP_NAME, appauthor=False)
    )
    prefix = Path(base).expanduser() / "bytecode"
    sys.pycache_prefix = str(prefix)
    sys.dont_write_bytecode = False
    return prefix


@contextlib.contextmanager
def imports_without_gc() -> Iterator[None]:
    """Run the block (the server's imports) with the cyclic collector off; then freeze every object made so
    far and turn the collector back on (if it was on)."""
    was_on = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        gc.freeze()
        if was_on:
            gc.enable()
