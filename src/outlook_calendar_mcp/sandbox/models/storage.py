"""The SQL of the sandbox beyond the core tables' basics (:mod:`.store`), one mixin per concern.

:class:`.store.Store` inherits these; nothing outside the storage modules writes SQL. Each mixin
works on ``self.db`` (the store's connection, inside the request's transaction).
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Sequence
from typing import Any

from .rows import (
    AttachmentRow,
    CalendarRow,
    ContactRow,
    DeltaStateRow,
    EventRow,
    MailboxRow,
    PermissionRow,
    UploadSessionRow,
    every,
    one,
)

_OVERLAP = "start_utc < ? AND (end_utc > ? OR (end_utc = start_utc AND start_utc >= ?))"
_ATTACHMENT_LIST = "id, kind, name, content_type, size, is_inline, last_modified, doc"


class EventQueries:
    """Events by calendar, window, series, iCalUId; mailboxes and calendars by id."""

    db: sqlite3.Connection

    def window_rows(self, calendar_ids: Sequence[str], start_key: str, end_key: str) -> list[EventRow]:
        """Singles and exceptions of the calendars that overlap [start, end) (utc keys). Rows as SQLite gives them
        (read by name, like the dicts of :func:`every`): a month of a large mailbox is thousands."""
        marks = ",".join("?" * len(calendar_ids))
        return self.db.execute(
            f"SELECT * FROM events WHERE calendar_id IN ({marks}) AND kind IN ('singleInstance', 'exception')"
            f" AND {_OVERLAP}",
            (*calendar_ids, end_key, start_key, start_key),
        ).fetchall()

    def window_masters(self, calendar_ids: Sequence[str], start_key: str, end_key: str) -> list[EventRow]:
        """Series masters of the calendars whose occurrences can reach [start, end) (rows as SQLite gives them)."""
        marks = ",".join("?" * len(calendar_ids))
        return self.db.execute(
            f"SELECT * FROM events WHERE calendar_id IN ({marks}) AND kind = 'seriesMaster'"
            " AND start_utc < ? AND (end_utc IS NULL OR end_utc >= ?)",
            (*calendar_ids, end_key, start_key),
        ).fetchall()

    def masters_in(
        self, calendar_ids: Sequence[str], master_ids: Sequence[str], start_key: str, end_key: str
    ) -> list[EventRow]:
        """Those of ``master_ids`` that are series masters of the calendars able to reach [start, end)."""
        cals, masters = ",".join("?" * len(calendar_ids)), ",".join("?" * len(master_ids))
        return self.db.execute(
            f"SELECT * FROM events WHERE id IN ({masters}) AND calendar_id IN ({cals}) AND kind = 'seriesMaster'"
            " AND start_utc < ? AND (end_utc IS NULL OR end_utc >= ?)",
            (*master_ids, *calendar_ids, end_key, start_key),
        ).fetchall()

    def exceptions_in(
        self, calendar_ids: Sequence[str], master_ids: Sequence[str], start_key: str, end_key: str
    ) -> list[EventRow]:
        """The exceptions of series ``master_ids`` in the calendars that overlap [start, end)."""
        cals, masters = ",".join("?" * len(calendar_ids)), ",".join("?" * len(master_ids))
        return self.db.execute(
            f"SELECT * FROM events WHERE series_master_id IN ({masters}) AND calendar_id IN ({cals})"
            f" AND kind = 'exception' AND {_OVERLAP}",
            (*master_ids, *calendar_ids, end_key, start_key, start_key),
        ).fetchall()

    def series_exceptions_in(self, master_id: str, start_key: str, end_key: str) -> list[EventRow]:
        return every(
            self.db.execute(
                f"SELECT * FROM events WHERE series_master_id = ? AND kind = 'exception' AND {_OVERLAP}",
                (master_id, end_key, start_key, start_key),
            ).fetchall()
        )

    def events_with_id(self, event_id: str) -> list[EventRow]:
        return every(self.db.execute("SELECT * FROM events WHERE id = ?", (event_id,)).fetchall())

    def series_child_ids(self, master_ids: Sequence[str]) -> set[str]:
        marks = ",".join("?" * len(master_ids))
        return {
            r[0]
            for r in self.db.execute(f"SELECT id FROM events WHERE series_master_id IN ({marks})", tuple(master_ids))
        }

    def events_by_uid(self, mailbox_id: str, uid: str, kinds: Sequence[str]) -> list[EventRow]:
        marks = ",".join("?" * len(kinds))
        return every(
            self.db.execute(
                f"SELECT * FROM events WHERE mailbox_id = ? AND ical_uid = ? AND kind IN ({marks}) ORDER BY rowid",
                (mailbox_id, uid, *kinds),
            ).fetchall()
        )

    def top_level_events(self, calendar_id: str, *, ordered: bool = False) -> list[EventRow]:
        """Singles and series masters of a calendar (ordered: by start, then id)."""
        order = " ORDER BY start_utc, id" if ordered else ""
        return every(
            self.db.execute(
                f"SELECT * FROM events WHERE calendar_id = ? AND kind IN ('singleInstance', 'seriesMaster'){order}",
                (calendar_id,),
            ).fetchall()
        )

    def all_top_level_events(self) -> list[EventRow]:
        """Singles and series masters of every mailbox, in insertion order (the seed's delivery)."""
        return every(
            self.db.execute(
                "SELECT * FROM events WHERE kind IN ('singleInstance', 'seriesMaster') ORDER BY rowid"
            ).fetchall()
        )

    def mailbox_top_level_docs(self, mailbox_id: str) -> list[str]:
        """The documents (JSON) of a mailbox's singles and series masters."""
        return [
            r[0]
            for r in self.db.execute(
                "SELECT doc FROM events WHERE mailbox_id = ? AND kind IN ('singleInstance', 'seriesMaster')",
                (mailbox_id,),
            )
        ]

    def mailbox_meetings(self, mailbox_id: str) -> list[tuple[str, str | None]]:
        """(document JSON, end in UTC) of a mailbox's singles and series masters (for a series: its last end,
        or None when it never ends): who the mailbox meets, and how lately."""
        return [
            (r[0], r[1])
            for r in self.db.execute(
                "SELECT doc, end_utc FROM events WHERE mailbox_id = ? AND kind IN ('singleInstance', 'seriesMaster')",
                (mailbox_id,),
            )
        ]

    def calendar_events(self, calendar_id: str) -> list[EventRow]:
        return every(self.db.execute("SELECT * FROM events WHERE calendar_id = ?", (calendar_id,)).fetchall())

    def event_seqs_of(self, event_ids: Sequence[str]) -> dict[str, int]:
        """id -> seq of the events among ``event_ids`` that exist."""
        marks = ",".join("?" * len(event_ids))
        return {
            r[0]: r[1] for r in self.db.execute(f"SELECT id, seq FROM events WHERE id IN ({marks})", tuple(event_ids))
        }

    def mailbox_by_id(self, mailbox_id: str) -> MailboxRow | None:
        return one(self.db.execute("SELECT * FROM mailboxes WHERE id = ?", (mailbox_id,)).fetchone())

    def group_mailbox(self, mailbox_id: str) -> MailboxRow | None:
        return one(self.db.execute("SELECT * FROM mailboxes WHERE id = ? AND kind = 'group'", (mailbox_id,)).fetchone())

    def calendar_by_id(self, calendar_id: str) -> CalendarRow | None:
        return one(self.db.execute("SELECT * FROM calendars WHERE id = ?", (calendar_id,)).fetchone())

    def update_calendar(self, calendar_id: str, doc: dict[str, Any], change_key: str) -> None:
        self.db.execute(
            "UPDATE calendars SET doc = ?, change_key = ? WHERE id = ?", (json.dumps(doc), change_key, calendar_id)
        )

    def delete_calendar(self, calendar_id: str) -> None:
        self.db.execute("DELETE FROM calendars WHERE id = ?", (calendar_id,))

    def rename_group(self, group_id: str, name: str, change_key: str) -> None:
        self.db.execute(
            "UPDATE calendar_groups SET name = ?, change_key = ? WHERE id = ?", (name, change_key, group_id)
        )

    def delete_group(self, group_id: str) -> None:
        self.db.execute("DELETE FROM calendar_groups WHERE id = ?", (group_id,))


class PermissionStore:
    """calendar_permissions: who a calendar is shared with, and how."""

    db: sqlite3.Connection

    def permission_roles(self, calendar_id: str) -> list[PermissionRow]:
        return every(
            self.db.execute("SELECT * FROM calendar_permissions WHERE calendar_id = ?", (calendar_id,)).fetchall()
        )

    def permission_of(self, calendar_id: str, grantee: str) -> PermissionRow | None:
        return one(
            self.db.execute(
                "SELECT * FROM calendar_permissions WHERE calendar_id = ? AND grantee = ?", (calendar_id, grantee)
            ).fetchone()
        )

    def permissions_except(self, calendar_id: str, grantee: str) -> list[PermissionRow]:
        return every(
            self.db.execute(
                "SELECT * FROM calendar_permissions WHERE calendar_id = ? AND grantee != ? ORDER BY rowid",
                (calendar_id, grantee),
            ).fetchall()
        )

    def add_permission(
        self,
        permission_id: str,
        calendar_id: str,
        grantee: str,
        role: str,
        doc: dict[str, Any],
        *,
        replace: bool = False,
    ) -> None:
        verb = "INSERT OR REPLACE" if replace else "INSERT"
        self.db.execute(
            f"{verb} INTO calendar_permissions VALUES (?, ?, ?, ?, ?)",
            (permission_id, calendar_id, grantee, role, json.dumps(doc)),
        )

    def set_permission_role(self, permission_id: str, role: str) -> None:
        self.db.execute("UPDATE calendar_permissions SET role = ? WHERE id = ?", (role, permission_id))

    def delete_permission(self, permission_id: str) -> None:
        self.db.execute("DELETE FROM calendar_permissions WHERE id = ?", (permission_id,))

    def drop_permissions(self, calendar_id: str) -> None:
        self.db.execute("DELETE FROM calendar_permissions WHERE calendar_id = ?", (calendar_id,))


class AttachmentStore:
    """attachments and upload_sessions."""

    db: sqlite3.Connection

    def count_attachments(self, mailbox_id: str, event_id: str) -> int:
        return self.db.execute(
            "SELECT COUNT(*) FROM attachments WHERE mailbox_id = ? AND event_id = ?", (mailbox_id, event_id)
        ).fetchone()[0]

    def attachments_of(self, mailbox_id: str, event_id: str, *, content: bool = False) -> list[AttachmentRow]:
        columns = "*" if content else _ATTACHMENT_LIST
        return every(
            self.db.execute(
                f"SELECT {columns} FROM attachments WHERE mailbox_id = ? AND event_id = ? ORDER BY rowid",
                (mailbox_id, event_id),
            ).fetchall()
        )

    def attachment(
        self, attachment_id: str, mailbox_id: str, event_id: str, *, content: bool = False
    ) -> AttachmentRow | None:
        columns = "*" if content else _ATTACHMENT_LIST
        return one(
            self.db.execute(
                f"SELECT {columns} FROM attachments WHERE id = ? AND mailbox_id = ? AND event_id = ?",
                (attachment_id, mailbox_id, event_id),
            ).fetchone()
        )

    def add_attachment(
        self,
        attachment_id: str,
        mailbox_id: str,
        event_id: str,
        kind: str,
        name: str,
        content_type: str | None,
        size: int,
        is_inline: bool,
        last_modified: str,
        content: bytes | None,
        doc: str,
    ) -> None:
        self.db.execute(
            "INSERT INTO attachments (id, mailbox_id, event_id, kind, name, content_type, size, is_inline,"
            " last_modified, content, doc) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                attachment_id,
                mailbox_id,
                event_id,
                kind,
                name,
                content_type,
                size,
                int(is_inline),
                last_modified,
                content,
                doc,
            ),
        )

    def delete_attachment(self, attachment_id: str) -> None:
        self.db.execute("DELETE FROM attachments WHERE id = ?", (attachment_id,))

    def drop_orphan_attachments(self, mailbox_id: str) -> None:
        """Attachments and upload sessions of the mailbox's events that are gone (or cancelled)."""
        live = "SELECT id FROM events WHERE mailbox_id = ? AND kind != 'cancelled'"
        for table in ("attachments", "upload_sessions"):
            self.db.execute(
                f"DELETE FROM {table} WHERE mailbox_id = ? AND event_id NOT IN ({live})", (mailbox_id, mailbox_id)
            )

    def drop_expired_sessions(self, mailbox_id: str, now_stamp: str) -> None:
        self.db.execute("DELETE FROM upload_sessions WHERE mailbox_id = ? AND expires < ?", (mailbox_id, now_stamp))

    def add_upload_session(
        self,
        session_id: str,
        mailbox_id: str,
        event_id: str,
        name: str,
        content_type: str | None,
        size: int,
        is_inline: bool,
        expires: str,
    ) -> None:
        self.db.execute(
            "INSERT INTO upload_sessions (id, mailbox_id, event_id, name, content_type, size, is_inline,"
            " received, next_offset, expires) VALUES (?, ?, ?, ?, ?, ?, ?, zeroblob(?), 0, ?)",
            (session_id, mailbox_id, event_id, name, content_type, size, int(is_inline), size, expires),
        )

    def upload_session(self, session_id: str) -> UploadSessionRow | None:
        return one(self.db.execute("SELECT rowid, * FROM upload_sessions WHERE id = ?", (session_id,)).fetchone())

    def upload_session_known(self, session: str) -> bool:
        """Whether a session with this id exists (whatever its token)."""
        return (
            self.db.execute(
                "SELECT 1 FROM upload_sessions WHERE substr(id, 1, ?) = ?", (len(session) + 1, f"{session}:")
            ).fetchone()
            is not None
        )

    def write_upload(self, rowid: int, offset: int, data: bytes) -> None:
        with self.db.blobopen("upload_sessions", "received", rowid) as blob:
            blob.seek(offset)
            blob.write(data)

    def set_upload_offset(self, session_id: str, next_offset: int) -> None:
        self.db.execute("UPDATE upload_sessions SET next_offset = ? WHERE id = ?", (next_offset, session_id))

    def upload_content(self, session_id: str) -> bytes:
        return self.db.execute("SELECT received FROM upload_sessions WHERE id = ?", (session_id,)).fetchone()[0]

    def delete_upload_session(self, session_id: str) -> None:
        self.db.execute("DELETE FROM upload_sessions WHERE id = ?", (session_id,))


class DeltaStore:
    """delta_states: the sync state behind calendarView delta tokens."""

    db: sqlite3.Connection

    def drop_delta_states_before(self, created: str) -> None:
        """States made before ``created`` and not renewed since, unless a state kept is written as changes from
        them (delta_parents): a chain goes from its newest link back, once every link has expired."""
        doomed = (
            "DELETE FROM delta_states WHERE created < ? AND id NOT IN (SELECT id FROM delta_versions"
            " WHERE renewed >= ?) AND id NOT IN (SELECT parent FROM delta_parents)"
        )
        while self.db.execute(doomed, (created, created)).rowcount:
            self.db.execute("DELETE FROM delta_parents WHERE id NOT IN (SELECT id FROM delta_states)")
        self.db.execute("DELETE FROM delta_versions WHERE renewed < ?", (created,))

    def add_delta_state(
        self,
        token: str,
        kind: str,
        mailbox_id: str,
        calendar_id: str,
        window: tuple[str, str],
        doc: dict[str, Any],
        created: str,
        at_version: int | None = None,
        parent: str | None = None,
    ) -> None:
        self.db.execute(
            "INSERT INTO delta_states (id, kind, mailbox_id, calendar_id, window_start, window_end, doc, created)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (
                token,
                kind,
                mailbox_id,
                calendar_id,
                window[0],
                window[1],
                json.dumps(doc, separators=(",", ":")),
                created,
            ),
        )
        if at_version is not None:
            self.db.execute("INSERT INTO delta_versions VALUES (?, ?, ?)", (token, at_version, created))
        if parent is not None:
            self.db.execute("INSERT INTO delta_parents VALUES (?, ?)", (token, parent))

    def renew_delta_state(self, token: str, now: str) -> None:
        """Start the lifetime of state ``token`` (one with a version) again."""
        self.db.execute("UPDATE delta_versions SET renewed = ? WHERE id = ?", (now, token))

    def delta_state(self, token: str, kind: str) -> DeltaStateRow | None:
        """A state's row without its document (megabytes for a large window: :meth:`delta_state_doc` reads it)."""
        return one(
            self.db.execute(
                "SELECT id, kind, mailbox_id, calendar_id, window_start, window_end,"
                " (SELECT at_version FROM delta_versions v WHERE v.id = s.id) AS at_version"
                " FROM delta_states s WHERE id = ? AND kind = ?",
                (token, kind),
            ).fetchone()
        )

    def delta_state_doc(self, token: str) -> str | None:
        row = self.db.execute("SELECT doc FROM delta_states WHERE id = ?", (token,)).fetchone()
        return None if row is None else row[0]


class ContactStore:
    """contacts: a mailbox's personal contacts."""

    db: sqlite3.Connection

    def contacts_of(self, mailbox_id: str) -> list[ContactRow]:
        return every(
            self.db.execute("SELECT * FROM contacts WHERE mailbox_id = ? ORDER BY rowid", (mailbox_id,)).fetchall()
        )

    def add_contact(self, contact_id: str, mailbox_id: str, doc: dict[str, Any]) -> None:
        self.db.execute("INSERT INTO contacts VALUES (?, ?, ?)", (contact_id, mailbox_id, json.dumps(doc)))
