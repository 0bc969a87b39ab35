"""Graph reads in flight together: one wait instead of several, their errors raised where the caller checks.

Every Graph round trip is a wait (150 ms and more from a laptop). An operation that needs the mailbox's
zone and, independently, an event or a listing starts them together (:func:`zone_and`): the wait is the
longest of them, not their sum. What each gave is a :class:`Pending`: its value, or the error it ended with,
raised only when the caller reads it, so errors still come in the order the operation checks things (a bad
time before a failed lookup) and a read whose answer turns out not to be needed never fails the call.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Generic, TypeVar
from zoneinfo import ZoneInfo

import anyio

from .services import Services
from .targets import Target, zone_for, zone_known

T = TypeVar("T")

__all__ = ["Pending", "capture", "zone_and"]


@dataclass
class Pending(Generic[T]):
    """What an operation run alongside another gave: its value, or the error to raise when it is read."""

    value: T | None = None
    error: Exception | None = None
    done: bool = False

    def result(self) -> T:
        if self.error is not None:
            raise self.error
        assert self.done, "read before it was awaited"
        return self.value  # type: ignore[return-value]  # T itself may be an optional type


async def capture(pending: Pending[T], work: Awaitable[T]) -> None:
    try:
        pending.value = await work
        pending.done = True
    except Exception as e:  # handed to whoever reads the result, in the order the caller checks things
        pending.error = e


async def zone_and(
    svc: Services, t: Target, time_zone: str | None, work: Callable[[], Awaitable[T]]
) -> tuple[tuple[str, ZoneInfo], Pending[T]]:
    """:func:`~.targets.zone_for` and ``work()`` (reads that need no zone) in flight together. A zone that
    needs no read (given, or known this session) is had first: a bad ``time_zone`` fails before any read."""
    known = zone_known(svc, t, time_zone)
    done: Pending[T] = Pending()
    if known is not None:
        await capture(done, work())
        return known, done
    zone: Pending[tuple[str, ZoneInfo]] = Pending()
    async with anyio.create_task_group() as tg:
        tg.start_soon(capture, done, work())
        await capture(zone, zone_for(svc, t, time_zone))
    return zone.result(), done
