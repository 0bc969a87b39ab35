"""Modules imported at first use, so a start that never needs them does not pay for them.

``msal = lazy_module("msal")`` binds a module object whose code runs the first time an attribute is
read (the standard library's :class:`importlib.util.LazyLoader`). Serving the tool list needs neither
the sign-in library nor certificates: they load when a Graph token is first asked for.
"""

from __future__ import annotations

import importlib.util
import sys
from types import ModuleType


def lazy_module(name: str) -> ModuleType:
    """``name``, imported when an attribute of it is first read (at once if it is already imported)."""
    if name in sys.modules:
        return sys.modules[name]
    parent = name.rpartition(".")[0]
    if parent:
        lazy_module(parent)
    spec = importlib.util.find_spec(name)
    if spec is None or spec.loader is None:
        raise ModuleNotFoundError(f"No module named {name!r}", name=name)
    loader = importlib.util.LazyLoader(spec.loader)
    spec.loader = loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    loader.exec_module(module)
    return module
