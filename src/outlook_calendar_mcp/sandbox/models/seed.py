"""The demo organization the sandbox starts with: the packaged scenario ``sandbox/scenarios/demo.yaml``.

Contoso has eight people in five time zones (each with their own working hours), two room lists with seven
rooms, two Microsoft 365 groups with calendars, and a living week around the default user (Adele Vance,
Pacific time) relative to the clock's today; the file itself describes it. It is seeded through the same
loader as any scenario file (:mod:`..scenarios`), parsed once per process.
"""

from __future__ import annotations

from functools import cache

from ...clock import Clock
from ..scenarios import Scenario, packaged, seed
from .store import Store

DEMO = "demo"


@cache
def demo() -> Scenario:
    """The demo scenario (parsed and checked once)."""
    return packaged(DEMO)


def seed_store(store: Store, clock: Clock) -> None:
    """Fill an empty store with the demo organization (one transaction), for ``clock``'s week."""
    seed(store, demo(), clock)
