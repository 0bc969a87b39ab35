"""The one clock: what "now" is for the server, the sandbox, its seed and every test.

Nothing else in the package reads the system date. A :class:`Clock` is made
once (by the CLI, a test fixture or a benchmark) and handed to whatever needs
the time: ``create_server(..., clock=)``, ``sandbox.create_app(..., clock=)``.

``Clock()`` follows the system clock. ``Clock(start)`` travels in time: it
reads ``start`` at the moment it is made and then ticks forward at the real
pace (``--now 2027-03-14T01:30`` on the command line). ``Clock(start,
frozen=True)`` never moves, and :meth:`Clock.set` moves a clock to another
instant (tests that walk through a day).

The elapsed time of a travelling clock comes from ``time.monotonic``, so an
OS-level fake of the wall clock (libfaketime) does not move it, and code that
reads the system date instead of this clock shows up as a wrong answer.
"""

from __future__ import annotations

import datetime as dt
import time
from zoneinfo import ZoneInfo

__all__ = ["Clock", "parse_instant"]

UTC = dt.UTC


class Clock:
    """An aware-UTC "now", from the system, or from a chosen instant on."""

    def __init__(self, start: dt.datetime | None = None, *, frozen: bool = False) -> None:
        if start is not None and (start.tzinfo is None or start.utcoffset() is None):
            raise ValueError(f"Clock start must carry a time zone or offset, got {start.isoformat()}.")
        if frozen and start is None:
            raise ValueError("A frozen clock needs a start instant.")
        self._start = start.astimezone(UTC) if start is not None else None
        self._frozen = frozen
        self._mark = time.monotonic()

    @property
    def travelling(self) -> bool:
        """True when this clock is not the system's (``--now``, or a test's instant)."""
        return self._start is not None

    def now(self, zone: ZoneInfo | dt.tzinfo | None = None) -> dt.datetime:
        """The current instant, in ``zone`` (UTC by default)."""
        if self._start is None:
            current = dt.datetime.now(UTC)
        elif self._frozen:
            current = self._start
        else:
            current = self._start + dt.timedelta(seconds=time.monotonic() - self._mark)
        return current.astimezone(zone or UTC)

    def today(self, zone: ZoneInfo | dt.tzinfo) -> dt.date:
        """The current date in ``zone``."""
        return self.now(zone).date()

    def timestamp(self) -> float:
        """Seconds since the epoch, as ``time.time()`` would say on this clock."""
        return self.now().timestamp()

    def set(self, instant: dt.datetime) -> None:
        """Move the clock to ``instant`` (aware); a travelling clock ticks on from there."""
        if instant.tzinfo is None or instant.utcoffset() is None:
            raise ValueError(f"Clock.set needs an aware datetime, got {instant.isoformat()}.")
        self._start = instant.astimezone(UTC)
        self._mark = time.monotonic()

    def __repr__(self) -> str:
        if self._start is None:
            return "Clock(system)"
        return f"Clock({self.now().isoformat()}{', frozen' if self._frozen else ''})"


def parse_instant(text: str, zone: ZoneInfo | None = None) -> dt.datetime:
    """``2027-03-14T01:30`` (read in ``zone``, else UTC), ``...Z`` or ``...+01:00`` -> an aware instant.

    A wall time that does not exist in ``zone`` (a DST gap) or is ambiguous (a fold) is refused with
    the fix, since a clock must name one instant.
    """
    try:
        parsed = dt.datetime.fromisoformat(text.strip())
    except ValueError:
        raise ValueError(
            f"'{text}' is not an ISO 8601 instant; write e.g. 2027-03-14T01:30 or 2027-03-14T01:30:00-08:00."
        ) from None
    if parsed.tzinfo is not None:
        return parsed.astimezone(UTC)
    where = zone or UTC
    first, second = parsed.replace(tzinfo=where, fold=0), parsed.replace(tzinfo=where, fold=1)
    if first.utcoffset() != second.utcoffset():
        there = first.astimezone(UTC).astimezone(where).replace(tzinfo=None)
        kind = "does not exist (the clocks jump over it)" if there != parsed else "happens twice (the clocks go back)"
        raise ValueError(
            f"'{text}' {kind} in {getattr(where, 'key', where)}; give an offset, e.g. {first.isoformat()}."
        )
    return first.astimezone(UTC)
