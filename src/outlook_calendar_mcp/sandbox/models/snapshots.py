"""Expanded calendar windows, kept per (what was asked, data version), and the pages read from them.

A calendarView is the window's instances — singles, expanded occurrences,
exceptions — filtered and ordered. Building that list costs as much as the
window holds; a page of 10 is a slice of it. :class:`Snapshots` keeps the
built list:

* **Per data version.** The key is the request's shape (mailbox, calendars,
  window, ``$filter``, ``$orderby``, series master) and :meth:`Store.data_version`
  (every row this connection changed, and commits by other connections), so a
  first page asked again before anything changed reuses the list, and any
  write makes the next first page build a new one.
* **Paging reads the snapshot the first page was cut from.** The nextLink
  names it (``snapshot=<id>``), so a write between two pages neither skips nor
  repeats an instance: the listing is the calendar as it was at the first page,
  as a Graph page sequence is. A snapshot that was dropped (the cache holds the
  :data:`KEEP` most recently used, and at most :data:`MAX_ITEMS` entries in all,
  so memory stays bounded however many windows and versions are asked for) is
  built again at the current version.
"""

from __future__ import annotations

import secrets
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any

KEEP = 64  # snapshots kept, most recently used first; a paging client needs only its own
MAX_ITEMS = 100_000  # entries over all snapshots (a month of a 50,000-event mailbox is ~23,000)


class Snapshots:
    def __init__(self, keep: int = KEEP, max_items: int = MAX_ITEMS) -> None:
        self.keep, self.max_items = keep, max_items
        self._by_id: OrderedDict[str, tuple[Hashable, Hashable, list[Any]]] = OrderedDict()
        self._by_key: dict[tuple[Hashable, Hashable], str] = {}
        self._items = 0

    def clear(self) -> None:
        self._by_id.clear()
        self._by_key.clear()
        self._items = 0

    def __len__(self) -> int:
        return len(self._by_id)

    @property
    def entries(self) -> int:
        """Entries held over all snapshots."""
        return self._items

    def items(
        self, shape: Hashable, version: Hashable, snapshot_id: str | None, build: Callable[[], list[Any]]
    ) -> tuple[str, list[Any]]:
        """(snapshot id, items) for a request of ``shape``: the snapshot ``snapshot_id`` names when it is one of
        this shape (a later page), else the one built at ``version`` (built now when there is none)."""
        if snapshot_id is not None:
            found = self._by_id.get(snapshot_id)
            if found is not None and found[0] == shape:
                self._by_id.move_to_end(snapshot_id)
                return snapshot_id, found[2]
        known = self._by_key.get((shape, version))
        if known is not None:
            self._by_id.move_to_end(known)
            return known, self._by_id[known][2]
        built = build()
        new_id = secrets.token_urlsafe(9)
        self._by_id[new_id] = (shape, version, built)
        self._by_key[(shape, version)] = new_id
        self._items += len(built)
        while len(self._by_id) > 1 and (len(self._by_id) > self.keep or self._items > self.max_items):
            _, (old_shape, old_version, old) = self._by_id.popitem(last=False)
            self._by_key.pop((old_shape, old_version), None)
            self._items -= len(old)
        return new_id, built


class Recent:
    """The ``keep`` most recently used values by key: parsed states that never change once written (a delta
    round's changes, read again for each of its pages)."""

    def __init__(self, keep: int = KEEP) -> None:
        self.keep = keep
        self._values: OrderedDict[str, Any] = OrderedDict()

    def get(self, key: str) -> Any:
        value = self._values.get(key)
        if value is not None:
            self._values.move_to_end(key)
        return value

    def put(self, key: str, value: Any) -> Any:
        self._values[key] = value
        while len(self._values) > self.keep:
            self._values.popitem(last=False)
        return value

    def clear(self) -> None:
        self._values.clear()
