"""The rows the store returns, typed: one TypedDict per table (``doc`` columns are JSON text).

:class:`.store.Store` turns each ``sqlite3.Row`` it reads into a plain dict of these shapes
(:func:`one`, :func:`every`), so the models and handlers index known columns only.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from typing import Any, TypedDict


class MailboxRow(TypedDict):
    id: str
    address: str
    kind: str  # user | room | roomList | group
    doc: str  # displayName, timeZone, workingHours, place, members...


class CalendarGroupRow(TypedDict):
    id: str
    mailbox_id: str
    name: str
    class_id: str
    change_key: str
    position: int


class CalendarRow(TypedDict):
    id: str
    mailbox_id: str
    group_id: str | None
    is_default: int
    change_key: str
    position: int
    doc: str  # name, color, hexColor, owner...


class EventRow(TypedDict):
    id: str
    mailbox_id: str
    calendar_id: str
    kind: str  # singleInstance | seriesMaster | exception | cancelled
    series_master_id: str | None
    original_start: str | None
    ical_uid: str
    start_utc: str | None
    end_utc: str | None
    seq: int
    doc: str


class AttachmentRow(TypedDict, total=False):
    id: str
    mailbox_id: str
    event_id: str
    kind: str  # file | item | reference
    name: str
    content_type: str | None
    size: int
    is_inline: int
    last_modified: str
    content: bytes | None  # only when asked for (content=True)
    doc: str


class UploadSessionRow(TypedDict):
    rowid: int
    id: str
    mailbox_id: str
    event_id: str
    name: str
    content_type: str | None
    size: int
    is_inline: int
    received: bytes
    next_offset: int
    expires: str


class PermissionRow(TypedDict):
    id: str
    calendar_id: str
    grantee: str
    role: str
    doc: str


class DeltaStateRow(TypedDict):
    id: str
    kind: str  # delta | round
    mailbox_id: str
    calendar_id: str
    window_start: str
    window_end: str  # (the document, JSON, is read apart: Store.delta_state_doc)
    at_version: int | None  # delta: the events version whose window ``known`` is exactly (delta_versions)


class ContactRow(TypedDict):
    id: str
    mailbox_id: str
    doc: str  # the Graph contact document


def one(row: sqlite3.Row | None) -> Any:
    """A row as a plain dict (None stays None); the caller's annotation names its shape."""
    return dict(row) if row is not None else None


def every(rows: Iterable[sqlite3.Row]) -> Any:
    return [dict(r) for r in rows]
