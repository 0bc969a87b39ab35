"""Expanded calendar windows, kept per (what was asked, data version), and the pages read from them.

A calendarView is the window's instances — singles, expanded occurrences,
exceptions — filtered and ordered. Building that list costs as much as the
window holds; a page of 10 is a slice of it. :class:`Snapshots` keeps the
built list:

* **Per data version.** The key is the request's shape (mailbox, calendars,
  window, ``$filter``, ``$orderby``, series master) and :meth:`Store.data_version`
  (the events table's version: any change to an event row, by any connection),
  so a first page asked again before anything changed reuses the list, and any
  write to an event makes the next first page build a new one.
* **Rendered once.** Beside its list, a snapshot keeps what was derived from it
  (:meth:`Snapshots.memo`): each instance's encoded JSON per way of showing it
  (zone, body type, ``$select``) and per listing (a calendarView page, a delta
  round's item), so reading a window again, page by page, renders and encodes
  nothing twice. The bytes count against :data:`MAX_BYTES`.
* **Out of the garbage collector's way.** What a snapshot keeps for long is
  made of objects the collector does not track (tuples of atoms, dicts of
  bytes): a large window costs a full collection nothing, and a full
  collection runs every few thousand allocations of whatever shares the
  process (a client decoding pages in the sandbox's heap, its own rendering).
* **Brought forward, not rebuilt, after a write.** A window asked at a new version
  is made from the newest one of its shape and the rows written since
  (``update``, see lookup.py): a write to one event re-expands that event, not the
  window, and the new snapshot shares the old one's unchanged entries.
* **Paging reads the snapshot the first page was cut from.** The nextLink
  names it (``snapshot=<id>``), so a write between two pages neither skips nor
  repeats an instance: the listing is the calendar as it was at the first page,
  as a Graph page sequence is. A snapshot that was dropped (the cache holds the
  :data:`KEEP` most recently used, at most :data:`MAX_ITEMS` entries and
  :data:`MAX_BYTES` of rendered JSON in all, so memory stays bounded however many
  windows and versions are asked for) is built again at the current version.
"""

from __future__ import annotations

import secrets
from collections import OrderedDict
from collections.abc import Callable, Hashable, Iterator, Sequence
from typing import Any

KEEP = 64  # snapshots kept, most recently used first; a paging client needs only its own
MAX_ITEMS = 100_000  # entries over all snapshots (a month of a 50,000-event mailbox is ~23,000)
# Rendered JSON over all snapshots: that month, as calendarView pages (~42 MB) and as a delta round's items
# (~30 MB) at once, and the window before a write (which the window after it takes its JSON from). At 64 MB a
# month of a 50,000-event mailbox could not keep both: each first delta round rendered all of it again.
MAX_BYTES = 128 << 20
Updated = tuple[Sequence[Any], Any, dict[Hashable, Any]]  # what an update makes: items, what changed, memos
DERIVED = ("derived from",)  # memo key: (the prior snapshot's id, what changed) of a snapshot brought forward


class _Snapshot:
    __slots__ = ("items", "key", "memo", "rendered", "size")

    def __init__(self, key: tuple[Hashable, Hashable], items: tuple[Any, ...]) -> None:
        self.key, self.items = key, items
        self.memo: dict[Hashable, Any] = {}
        self.size = 0  # bytes of rendered JSON in memo
        self.rendered: dict[Hashable, int] = {}  # bytes of rendered JSON by memo key (they sum to size)


class Snapshots:
    def __init__(self, keep: int = KEEP, max_items: int = MAX_ITEMS, max_bytes: int = MAX_BYTES) -> None:
        self.keep, self.max_items, self.max_bytes = keep, max_items, max_bytes
        self._by_id: OrderedDict[str, _Snapshot] = OrderedDict()
        self._by_key: dict[tuple[Hashable, Hashable], str] = {}
        self._latest: dict[Hashable, str] = {}  # shape -> the snapshot built last for it (what an update starts from)
        self._items = 0
        self._bytes = 0

    def clear(self) -> None:
        self._by_id.clear()
        self._by_key.clear()
        self._latest.clear()
        self._items = self._bytes = 0

    def __len__(self) -> int:
        return len(self._by_id)

    @property
    def entries(self) -> int:
        """Entries held over all snapshots."""
        return self._items

    def items(
        self,
        shape: Hashable,
        version: Hashable,
        snapshot_id: str | None,
        build: Callable[[], Sequence[Any]],
        update: Callable[[str, Hashable, tuple[Any, ...]], Updated | None] | None = None,
    ) -> tuple[str, tuple[Any, ...]]:
        """(snapshot id, items) for a request of ``shape``: the snapshot ``snapshot_id`` names when it is one of
        this shape (a later page), else the one built at ``version`` (built now when there is none). The items are
        kept as a tuple: a tuple of tuples of strings, numbers and datetimes is untracked by the garbage collector
        after its first collection, where a list's every entry would be visited by every full collection.

        ``update``, when given, is asked first to make the items at ``version`` from the newest snapshot of this
        shape (its id, version and items), e.g. from the rows written since: it answers (items, what changed,
        what to keep in the new snapshot's memo: what it took from the prior one's and brought forward). What
        changed is kept in the new snapshot's memo under :data:`DERIVED` as (the prior snapshot's id, what
        changed), so what else was derived from the prior one can be brought forward too. It answers None when it
        cannot, and then ``build`` makes the items from scratch."""
        if snapshot_id is not None:
            found = self._by_id.get(snapshot_id)
            if found is not None and found.key[0] == shape:
                self._by_id.move_to_end(snapshot_id)
                return snapshot_id, found.items
        known = self._by_key.get((shape, version))
        if known is not None:
            self._by_id.move_to_end(known)
            return known, self._by_id[known].items
        made = None
        prior_id = self._latest.get(shape, "")
        prior = self._by_id.get(prior_id)
        if update is not None and prior is not None:
            made = update(prior_id, prior.key[1], prior.items)
        built = tuple(build() if made is None else made[0])
        new_id = secrets.token_urlsafe(9)
        self._by_id[new_id] = _Snapshot((shape, version), built)
        if made is not None:
            self._by_id[new_id].memo.update(made[2])
            self._by_id[new_id].memo[DERIVED] = (prior_id, made[1])
        self._by_key[(shape, version)] = new_id
        self._latest[shape] = new_id
        self._items += len(built)
        self._trim()
        return new_id, built

    def memo(self, snapshot_id: str, key: Hashable, make: Callable[[], Any]) -> Any:
        """What was derived from snapshot ``snapshot_id`` under ``key`` (made now when there is none). A snapshot
        that is gone gets a value that is not kept."""
        found = self._by_id.get(snapshot_id)
        if found is None:
            return make()
        value = found.memo.get(key)
        if value is None:
            value = found.memo[key] = make()
        return value

    def put(self, snapshot_id: str, key: Hashable, value: Any) -> None:
        """Keep ``value`` as what was derived from snapshot ``snapshot_id`` under ``key`` (if it is still kept)."""
        found = self._by_id.get(snapshot_id)
        if found is not None:
            found.memo[key] = value

    def take(self, snapshot_id: str, key: Hashable) -> Any:
        """What was derived from snapshot ``snapshot_id`` under ``key`` (no rendered JSON), no longer kept there
        (None if none): a window brought forward takes what it changes in place."""
        found = self._by_id.get(snapshot_id)
        return None if found is None else found.memo.pop(key, None)

    def move(self, from_id: str, to_id: str, key: Hashable) -> Any:
        """What snapshot ``from_id`` keeps under ``key``, taken from it into snapshot ``to_id``'s memo with the
        bytes of rendered JSON it counts (a window brought forward takes the window before's, to change in place);
        None if none."""
        source, target = self._by_id.get(from_id), self._by_id.get(to_id)
        if source is None:
            return None
        value = source.memo.pop(key, None)
        size = source.rendered.pop(key, 0)
        source.size -= size
        if value is not None and target is not None:
            target.memo[key] = value
            if size:
                target.rendered[key] = target.rendered.get(key, 0) + size
                target.size += size
        else:
            self._bytes -= size
        return value

    def version_of(self, snapshot_id: str) -> Hashable:
        """The version snapshot ``snapshot_id`` was built at (None when it is gone)."""
        found = self._by_id.get(snapshot_id)
        return None if found is None else found.key[1]

    def peek(self, snapshot_id: str, key: Hashable) -> Any:
        """What was derived from snapshot ``snapshot_id`` under ``key``, or None (nothing is made)."""
        found = self._by_id.get(snapshot_id)
        return None if found is None else found.memo.get(key)

    def add_bytes(self, snapshot_id: str, size: int, key: Hashable) -> None:
        """Count ``size`` bytes of rendered JSON kept in snapshot ``snapshot_id``'s memo under ``key``."""
        found = self._by_id.get(snapshot_id)
        if found is not None:
            found.size += size
            self._bytes += size
            found.rendered[key] = found.rendered.get(key, 0) + size
            self._trim()
            # alone over the budget (and still kept): keep its list and what was derived from it
            if snapshot_id in self._by_id and found.size > self.max_bytes:
                for rendered in found.rendered:  # (a delta round's items, where its instances are), not its JSON
                    found.memo.pop(rendered, None)
                found.rendered = {}
                self._bytes -= found.size
                found.size = 0

    def held(self) -> Iterator[Any]:
        """Everything the snapshots keep: each one's items and what was derived from them."""
        for snapshot in self._by_id.values():
            yield snapshot.items
            yield from snapshot.memo.values()

    @property
    def rendered_bytes(self) -> int:
        return self._bytes

    def _trim(self) -> None:
        """Drop the least recently used snapshots past the budgets (the newest always stays)."""
        while len(self._by_id) > 1 and (
            len(self._by_id) > self.keep or self._items > self.max_items or self._bytes > self.max_bytes
        ):
            _, old = self._by_id.popitem(last=False)
            gone = self._by_key.pop(old.key, None)
            if gone is not None and self._latest.get(old.key[0]) == gone:
                del self._latest[old.key[0]]
            self._items -= len(old.items)
            self._bytes -= old.size


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

    def pop(self, key: str) -> Any:
        """The value of ``key``, no longer kept (None if none)."""
        return self._values.pop(key, None)

    def clear(self) -> None:
        self._values.clear()
