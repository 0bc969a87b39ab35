"""Fixtures shared by the HTTP tests of the sandbox's later parts: a fresh seeded store and a client on it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from outlook_calendar_mcp.clock import Clock
from outlook_calendar_mcp.sandbox import create_app
from outlook_calendar_mcp.sandbox.store import Store
from tests.sandbox.conftest import Client, new_store, NOW


@pytest.fixture
def clock() -> Clock:
    """The sandbox's clock: travelling from NOW; ``clock.set(instant)`` moves it."""
    return Clock(NOW)


@pytest.fixture
def store() -> Iterator[Store]:
    s = new_store()
    yield s
    s.close()


@pytest.fixture
def client(store: Store, clock: Clock) -> Iterator[Client]:
    with Client(create_app(store, clock=clock)) as c:
        yield c
