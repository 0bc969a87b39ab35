"""Reliability tests: writes under injected faults, bounded inputs, confirmation, the audit trail, fuzzing."""

from __future__ import annotations

import pytest


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"
