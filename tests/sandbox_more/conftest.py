"""Fixtures shared by the HTTP tests of the sandbox's later parts: a fresh seeded store and a client on it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from outlook_calendar_mcp.sandbox.app import create_app
from outlook_calendar_mcp.sandbox.store import Store
from tests.sandbox.conftest import Client, new_store


@pytest.fixture
def store() -> Iterator[Store]:
    s = new_store()
    yield s
    s.close()


@pytest.fixture
def client(store: Store) -> Iterator[Client]:
    with Client(create_app(store)) as c:
        yield c
