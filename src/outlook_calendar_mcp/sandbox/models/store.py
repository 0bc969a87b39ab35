"""SQLite storage for the sandbox: mailboxes, calendars, calendar groups, events.

One connection per store, autocommit off by hand: :meth:`Store.transaction`
wraps every request, so a request that fails leaves nothing half-written.

Events are kept as Graph-shaped JSON documents (the event as the organizer or
attendee's mailbox holds it, start and end in the zone they were given in) with
indexed columns beside them for the queries the service makes:

* ``kind``: ``singleInstance``, ``seriesMaster``, ``exception`` (a changed
  occurrence, id = the occurrence's id) or ``cancelled`` (a deleted occurrence).
* ``start_utc`` / ``end_utc``: the event's instants; for a series master the
  first occurrence's start and the last occurrence's end (NULL when noEnd), so
  a calendarView only expands series that can reach its window.
* ``seq``: a store-wide change counter, for delta queries; deletions leave a
  row in ``tombstones`` with their ``seq``.

``delta_states`` (schema 3) holds the sync state behind calendarView delta
tokens: what a client was sent, per item and version (see :mod:`.delta`).
``contacts`` (schema 4): each mailbox's personal contacts (Graph contact documents).
Schema 5: triggers count every change to ``events`` (the counter ``events``), whoever
makes it (a request, a test's own SQL, another process on the same file): the version
that expanded windows are kept by (:meth:`Store.data_version`); ``delta_versions``: the
version whose window a delta token's state is, when it is exactly that (see responses/delta.py).

The schema is versioned (``PRAGMA user_version``); :data:`MIGRATIONS` upgrades
older files in place.
"""

from __future__ import annotations

import base64
import contextlib
import datetime as dt
import functools
import hashlib
import json
import os
import secrets
import sqlite3
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from .rows import CalendarGroupRow, CalendarRow, EventRow, MailboxRow, every, one
from .snapshots import Recent, Snapshots
from .storage import AttachmentStore, ContactStore, DeltaStore, EventQueries, PermissionStore

SCHEMA_VERSION = 6

MIGRATIONS: dict[int, str] = {
    1: """
    CREATE TABLE mailboxes (
        id TEXT PRIMARY KEY,             -- a GUID, as Graph user ids are
        address TEXT NOT NULL UNIQUE COLLATE NOCASE,
        kind TEXT NOT NULL,              -- user | room | group
        doc TEXT NOT NULL                -- user/place JSON: displayName, jobTitle, timeZone, workingHours, place...
    );
    CREATE TABLE calendar_groups (
        id TEXT PRIMARY KEY, mailbox_id TEXT NOT NULL REFERENCES mailboxes(id),
        name TEXT NOT NULL, class_id TEXT NOT NULL, change_key TEXT NOT NULL, position INTEGER NOT NULL
    );
    CREATE TABLE calendars (
        id TEXT PRIMARY KEY, mailbox_id TEXT NOT NULL REFERENCES mailboxes(id),
        group_id TEXT REFERENCES calendar_groups(id),
        is_default INTEGER NOT NULL DEFAULT 0, change_key TEXT NOT NULL, position INTEGER NOT NULL,
        doc TEXT NOT NULL                -- name, color, hexColor, canEdit...
    );
    CREATE TABLE events (
        id TEXT PRIMARY KEY,
        mailbox_id TEXT NOT NULL REFERENCES mailboxes(id),
        calendar_id TEXT NOT NULL REFERENCES calendars(id),
        kind TEXT NOT NULL,
        series_master_id TEXT,
        original_start TEXT,             -- exceptions/cancelled: local wall time of the original occurrence
        ical_uid TEXT NOT NULL,
        start_utc TEXT, end_utc TEXT,
        seq INTEGER NOT NULL,
        doc TEXT NOT NULL
    );
    CREATE INDEX events_window ON events (calendar_id, kind, start_utc, end_utc);
    CREATE INDEX events_master ON events (series_master_id);
    CREATE INDEX events_mailbox ON events (mailbox_id, kind);
    CREATE INDEX events_uid ON events (ical_uid);
    CREATE TABLE tombstones (
        id TEXT NOT NULL, mailbox_id TEXT NOT NULL, calendar_id TEXT NOT NULL,
        start_utc TEXT, end_utc TEXT, seq INTEGER NOT NULL
    );
    CREATE INDEX tombstones_cal ON tombstones (calendar_id, seq);
    CREATE TABLE outbox (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        sender TEXT NOT NULL, recipient TEXT NOT NULL, kind TEXT NOT NULL,
        event_id TEXT, ical_uid TEXT, subject TEXT, comment TEXT, created TEXT NOT NULL
    );
    CREATE TABLE counters (name TEXT PRIMARY KEY, value INTEGER NOT NULL);
    INSERT INTO counters VALUES ('seq', 0);
    """,
    2: """
    CREATE TABLE attachments (
        id TEXT PRIMARY KEY,
        mailbox_id TEXT NOT NULL REFERENCES mailboxes(id),
        event_id TEXT NOT NULL,          -- the event (or occurrence/exception) the attachment belongs to
        kind TEXT NOT NULL,              -- file | item | reference
        name TEXT NOT NULL, content_type TEXT, size INTEGER NOT NULL DEFAULT 0,
        is_inline INTEGER NOT NULL DEFAULT 0, last_modified TEXT NOT NULL,
        content BLOB,                    -- file bytes (file attachments)
        doc TEXT NOT NULL                -- the rest of the Graph attachment (item, reference fields)
    );
    CREATE INDEX attachments_event ON attachments (event_id);
    CREATE TABLE upload_sessions (
        id TEXT PRIMARY KEY,
        mailbox_id TEXT NOT NULL REFERENCES mailboxes(id),
        event_id TEXT NOT NULL,
        name TEXT NOT NULL, content_type TEXT, size INTEGER NOT NULL, is_inline INTEGER NOT NULL DEFAULT 0,
        received BLOB NOT NULL DEFAULT x'',
        next_offset INTEGER NOT NULL DEFAULT 0,
        expires TEXT NOT NULL
    );
    CREATE TABLE calendar_permissions (
        id TEXT PRIMARY KEY,
        calendar_id TEXT NOT NULL REFERENCES calendars(id),
        grantee TEXT NOT NULL COLLATE NOCASE,   -- an address, or 'My Organization' / 'Anyone' (Graph's special grantees)
        role TEXT NOT NULL,
        doc TEXT NOT NULL                       -- isRemovable, isInsideOrganization, allowedRoles, emailAddress name
    );
    CREATE INDEX permissions_calendar ON calendar_permissions (calendar_id);
    """,
    3: """
    CREATE TABLE delta_states (
        id TEXT PRIMARY KEY,             -- a $deltatoken, or a round of changes that $skiptokens page through
        kind TEXT NOT NULL,              -- delta | round
        mailbox_id TEXT NOT NULL, calendar_id TEXT NOT NULL,
        window_start TEXT NOT NULL, window_end TEXT NOT NULL,
        doc TEXT NOT NULL,               -- delta: {"known": {id: version}}, round: {"base", "changes"}
        created TEXT NOT NULL
    );
    CREATE INDEX delta_states_created ON delta_states (created);
    """,
    4: """
    CREATE TABLE contacts (
        id TEXT PRIMARY KEY,
        mailbox_id TEXT NOT NULL REFERENCES mailboxes(id),
        doc TEXT NOT NULL                -- the Graph contact: names, emailAddresses, companyName, phones...
    );
    CREATE INDEX contacts_mailbox ON contacts (mailbox_id);
    """,
    5: """
    INSERT INTO counters VALUES ('events', 0);  -- moves on any change to events: Store.data_version
    CREATE TRIGGER events_inserted AFTER INSERT ON events
        BEGIN UPDATE counters SET value = value + 1 WHERE name = 'events'; END;
    CREATE TRIGGER events_updated AFTER UPDATE ON events
        BEGIN UPDATE counters SET value = value + 1 WHERE name = 'events'; END;
    CREATE TRIGGER events_deleted AFTER DELETE ON events
        BEGIN UPDATE counters SET value = value + 1 WHERE name = 'events'; END;
    -- delta tokens whose known items are exactly the window at an events version, apart from delta_states (whose
    -- megabyte documents SQLite would read through to reach a column after them), renewed when handed on again
    CREATE TABLE delta_versions (id TEXT PRIMARY KEY, at_version INTEGER NOT NULL, renewed TEXT NOT NULL);
    """,
    6: """
    -- what changed since a seq: a window kept at one version is brought to the next from these (lookup.py)
    CREATE INDEX events_seq ON events (seq);
    CREATE INDEX tombstones_seq ON tombstones (seq);
    -- a delta token whose state is written as its changes from the state of another (responses/delta.py): that
    -- one is kept while this one is
    CREATE TABLE delta_parents (id TEXT PRIMARY KEY, parent TEXT NOT NULL);
    CREATE INDEX delta_parents_parent ON delta_parents (parent);
    """,
}


def graph_timestamp(moment: dt.datetime) -> str:
    """createdDateTime / lastModifiedDateTime as Graph writes them: UTC, 7 fractional digits, Z."""
    moment = moment.astimezone(dt.UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond:06d}0Z"


def utc_key(moment: dt.datetime) -> str:
    """Sortable text key for an aware instant (used in the indexed columns)."""
    return moment.astimezone(dt.UTC).replace(tzinfo=None, microsecond=0).isoformat()


def new_item_id(kind: bytes = b"E") -> str:
    """A long, Graph-looking item id ("AAMkA..." base64, url-safe so it sits in a path)."""
    raw = b"\x00\x03\x24\x00" + kind + secrets.token_bytes(90)
    return base64.urlsafe_b64encode(raw).decode()


def new_change_key() -> str:
    return base64.b64encode(secrets.token_bytes(21)).decode()


def etag(change_key: str) -> str:
    return f'W/"{change_key}"'


def new_ical_uid() -> str:
    # Exchange's global object id: a fixed 16-byte class id, then a creation stamp and a random part, in hex.
    return (
        "040000008200E00074C5B7101A82E008"
        + "00000000"
        + secrets.token_hex(8)
        + "0000000000000000"
        + "10000000"
        + secrets.token_hex(16)
    ).upper()


def occurrence_id(master_id: str, original_start: dt.datetime) -> str:
    """A stable id for one occurrence of a series: derived from the master id and the original start."""
    o = original_start
    stamp = b"%04d%02d%02d%02d%02d%02d" % (o.year, o.month, o.day, o.hour, o.minute, o.second)
    return base64.urlsafe_b64encode(b"\x00\x03\x24\x00O" + stamp + _id_bytes(master_id)).decode()


@functools.lru_cache(maxsize=4096)
def _id_bytes(item_id: str) -> bytes:
    return base64.urlsafe_b64decode(item_id)


def parse_occurrence_id(event_id: str) -> tuple[str, dt.datetime] | None:
    """(master id, original local start) for an occurrence id, None for any other id."""
    try:
        raw = base64.urlsafe_b64decode(event_id.encode())
    except (ValueError, TypeError):
        return None
    if not raw.startswith(b"\x00\x03\x24\x00O") or len(raw) < 19:
        return None
    try:
        when = dt.datetime.strptime(raw[5:19].decode(), "%Y%m%d%H%M%S")
    except ValueError:
        return None
    return base64.urlsafe_b64encode(raw[19:]).decode(), when


def occurrence_start(event_id: str) -> dt.datetime:
    """The original local start of an occurrence id (ValueError for any other id)."""
    parsed = parse_occurrence_id(event_id)
    if parsed is None:
        raise ValueError(f"not an occurrence id: {event_id}")
    return parsed[1]


def stable_guid(*parts: str) -> str:
    return str(uuid.UUID(bytes=hashlib.sha256("|".join(parts).encode()).digest()[:16]))


class Store(EventQueries, PermissionStore, AttachmentStore, DeltaStore, ContactStore):
    """The sandbox's database. Thread-safe: one lock serialises requests."""

    def __init__(self, path: str | os.PathLike[str] = ":memory:"):
        self.path = str(path)
        if self.path != ":memory:":
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        self.db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        self.db.row_factory = sqlite3.Row
        self.db.execute("PRAGMA foreign_keys = ON")
        if self.path != ":memory:":
            self.db.execute("PRAGMA journal_mode = WAL")
        self.lock = threading.RLock()
        self._depth = 0
        # Parsed event documents, keyed on (id, stored text): a hot read path parses each stored version once.
        self.documents: dict[tuple[str, str], dict[str, Any]] = {}
        # What expanding each series needs, on the same keys (lookup.series_of): kept apart from the documents,
        # in a form the garbage collector does not track.
        self.series: dict[tuple[str, str], Any] = {}
        # Expanded calendar windows per (request shape, data version); pages read them (see snapshots.py).
        self.snapshots = Snapshots()
        self.round_states = Recent()  # parsed delta round states by round token (responses/delta.py)
        self.known_states = Recent(8)  # what a delta token's client holds, by token, with its depth (delta.py)
        self._migrate()

    # -- schema -------------------------------------------------------------
    def _migrate(self) -> None:
        version = self.db.execute("PRAGMA user_version").fetchone()[0]
        if version > SCHEMA_VERSION:
            raise RuntimeError(
                f"The sandbox database {self.path} has schema version {version}, newer than this program "
                f"({SCHEMA_VERSION}). Upgrade outlook-calendar-mcp or run `outlook-calendar-mcp sandbox reset`."
            )
        with self.transaction():
            for target in range(version + 1, SCHEMA_VERSION + 1):
                for statement in _split_sql(MIGRATIONS[target]):
                    self.db.execute(statement)
                self.db.execute(f"PRAGMA user_version = {target}")

    @property
    def schema_version(self) -> int:
        return self.db.execute("PRAGMA user_version").fetchone()[0]

    @contextlib.contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """One request = one transaction; nested use joins the outer one."""
        with self.lock:
            if self._depth:
                self._depth += 1
                try:
                    yield self.db
                finally:
                    self._depth -= 1
                return
            self.db.execute("BEGIN IMMEDIATE")
            self._depth = 1
            try:
                yield self.db
            except BaseException:
                self.db.execute("ROLLBACK")
                self.documents.clear()  # parsed documents of rolled-back writes must not survive
                self.series.clear()
                self.snapshots.clear()
                self.round_states.clear()
                self.known_states.clear()
                raise
            else:
                self.db.execute("COMMIT")
            finally:
                self._depth = 0

    def close(self) -> None:
        self.db.close()

    def is_empty(self) -> bool:
        return self.db.execute("SELECT COUNT(*) FROM mailboxes").fetchone()[0] == 0

    def restore_from(self, source: sqlite3.Connection) -> None:
        """Make this store a copy of ``source`` (a database a test saved with ``store.db.backup``)."""
        with self.lock:
            source.backup(self.db)
            self.documents.clear()
            self.series.clear()
            self.snapshots.clear()
            self.round_states.clear()
            self.known_states.clear()

    def wipe(self) -> None:
        with self.transaction():
            for table in (
                "delta_parents",
                "delta_states",
                "outbox",
                "tombstones",
                "attachments",
                "upload_sessions",
                "calendar_permissions",
                "events",
                "calendars",
                "calendar_groups",
                "contacts",
                "mailboxes",
            ):
                self.db.execute(f"DELETE FROM {table}")

    def data_version(self) -> int:
        """The version of the events table: it moves on every change to an event row, by this connection or
        another one on the same file (triggers, schema 5), and on nothing else, so what is written beside the
        events (delta sync states, the outbox, attachments' bytes) does not make windows expand again."""
        return self.db.execute("SELECT value FROM counters WHERE name = 'events'").fetchone()[0]

    def versions(self) -> tuple[int, int]:
        """(:meth:`data_version`, the ``seq`` change counter), read together: a window kept at one pair is brought
        to a later one from the rows :meth:`changed_since` its seq, when every change to the events table since
        was made through :meth:`put_event` / :meth:`delete_event_row` (each moves both counters by one)."""
        row = self.db.execute(
            "SELECT (SELECT value FROM counters WHERE name = 'events'), (SELECT value FROM counters WHERE name = 'seq')"
        ).fetchone()
        return row[0], row[1]

    def changed_since(self, seq: int) -> tuple[list[EventRow], list[tuple[str, str]]]:
        """(event rows written after ``seq``, (id, calendar id) of the rows deleted after it), by seq."""
        written = self.db.execute("SELECT * FROM events WHERE seq > ? ORDER BY seq", (seq,)).fetchall()
        deleted = self.db.execute(
            "SELECT id, calendar_id FROM tombstones WHERE seq > ? ORDER BY seq", (seq,)
        ).fetchall()
        return written, [(r[0], r[1]) for r in deleted]

    def next_seq(self) -> int:
        self.db.execute("UPDATE counters SET value = value + 1 WHERE name = 'seq'")
        return self.db.execute("SELECT value FROM counters WHERE name = 'seq'").fetchone()[0]

    # -- mailboxes ----------------------------------------------------------
    def add_mailbox(self, address: str, kind: str, doc: dict[str, Any], mailbox_id: str | None = None) -> str:
        mailbox_id = mailbox_id or stable_guid("mailbox", address.lower())
        self.db.execute(
            "INSERT INTO mailboxes (id, address, kind, doc) VALUES (?, ?, ?, ?)",
            (mailbox_id, address, kind, json.dumps(doc)),
        )
        return mailbox_id

    def mailbox(self, key: str) -> MailboxRow | None:
        """A mailbox by id or address (case-insensitive)."""
        return one(
            self.db.execute("SELECT * FROM mailboxes WHERE id = ? OR address = ? COLLATE NOCASE", (key, key)).fetchone()
        )

    def mailboxes(self, kind: str | None = None) -> list[MailboxRow]:
        if kind:
            return every(self.db.execute("SELECT * FROM mailboxes WHERE kind = ? ORDER BY rowid", (kind,)).fetchall())
        return every(self.db.execute("SELECT * FROM mailboxes ORDER BY rowid").fetchall())

    def update_mailbox_doc(self, mailbox_id: str, doc: dict[str, Any]) -> None:
        self.db.execute("UPDATE mailboxes SET doc = ? WHERE id = ?", (json.dumps(doc), mailbox_id))

    # -- calendar groups ----------------------------------------------------
    def add_group(self, mailbox_id: str, name: str, class_id: str | None = None) -> str:
        group_id = new_item_id(b"G")
        pos = self.db.execute(
            "SELECT COALESCE(MAX(position), 0) + 1 FROM calendar_groups WHERE mailbox_id = ?", (mailbox_id,)
        ).fetchone()[0]
        self.db.execute(
            "INSERT INTO calendar_groups VALUES (?, ?, ?, ?, ?, ?)",
            (group_id, mailbox_id, name, class_id or str(uuid.uuid4()), new_change_key(), pos),
        )
        return group_id

    def groups(self, mailbox_id: str) -> list[CalendarGroupRow]:
        return every(
            self.db.execute(
                "SELECT * FROM calendar_groups WHERE mailbox_id = ? ORDER BY position", (mailbox_id,)
            ).fetchall()
        )

    def group(self, mailbox_id: str, group_id: str) -> CalendarGroupRow | None:
        return one(
            self.db.execute(
                "SELECT * FROM calendar_groups WHERE mailbox_id = ? AND id = ?", (mailbox_id, group_id)
            ).fetchone()
        )

    # -- calendars ----------------------------------------------------------
    def add_calendar(self, mailbox_id: str, group_id: str, doc: dict[str, Any], is_default: bool = False) -> str:
        calendar_id = new_item_id(b"C")
        pos = self.db.execute(
            "SELECT COALESCE(MAX(position), 0) + 1 FROM calendars WHERE mailbox_id = ?", (mailbox_id,)
        ).fetchone()[0]
        self.db.execute(
            "INSERT INTO calendars VALUES (?, ?, ?, ?, ?, ?, ?)",
            (calendar_id, mailbox_id, group_id, int(is_default), new_change_key(), pos, json.dumps(doc)),
        )
        return calendar_id

    def calendars(self, mailbox_id: str, group_id: str | None = None) -> list[CalendarRow]:
        if group_id:
            return every(
                self.db.execute(
                    "SELECT * FROM calendars WHERE mailbox_id = ? AND group_id = ? ORDER BY position",
                    (mailbox_id, group_id),
                ).fetchall()
            )
        return every(
            self.db.execute("SELECT * FROM calendars WHERE mailbox_id = ? ORDER BY position", (mailbox_id,)).fetchall()
        )

    def calendar(self, mailbox_id: str, calendar_id: str) -> CalendarRow | None:
        return one(
            self.db.execute(
                "SELECT * FROM calendars WHERE mailbox_id = ? AND id = ?", (mailbox_id, calendar_id)
            ).fetchone()
        )

    def default_calendar(self, mailbox_id: str) -> CalendarRow | None:
        return one(
            self.db.execute("SELECT * FROM calendars WHERE mailbox_id = ? AND is_default = 1", (mailbox_id,)).fetchone()
        )

    # -- events -------------------------------------------------------------
    def put_event(self, row: dict[str, Any]) -> None:
        """Insert or replace an event row; bumps its seq."""
        seq = self.next_seq()
        self.db.execute(
            "INSERT OR REPLACE INTO events (id, mailbox_id, calendar_id, kind, series_master_id, original_start,"
            " ical_uid, start_utc, end_utc, seq, doc) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                row["id"],
                row["mailbox_id"],
                row["calendar_id"],
                row["kind"],
                row.get("series_master_id"),
                row.get("original_start"),
                row["ical_uid"],
                row.get("start_utc"),
                row.get("end_utc"),
                seq,
                json.dumps(row["doc"]),
            ),
        )

    def event_row(self, mailbox_id: str, event_id: str) -> EventRow | None:
        return one(
            self.db.execute("SELECT * FROM events WHERE mailbox_id = ? AND id = ?", (mailbox_id, event_id)).fetchone()
        )

    def delete_event_row(self, row: EventRow) -> None:
        seq = self.next_seq()
        self.db.execute("DELETE FROM events WHERE id = ?", (row["id"],))
        self.db.execute(
            "INSERT INTO tombstones VALUES (?, ?, ?, ?, ?, ?)",
            (row["id"], row["mailbox_id"], row["calendar_id"], row["start_utc"], row["end_utc"], seq),
        )

    def series_children(self, master_id: str) -> list[EventRow]:
        return every(self.db.execute("SELECT * FROM events WHERE series_master_id = ?", (master_id,)).fetchall())

    def record_message(
        self,
        sender: str,
        recipient: str,
        kind: str,
        event_id: str | None,
        ical_uid: str | None,
        subject: str | None,
        comment: str | None,
        now: dt.datetime,
    ) -> None:
        """Everything Exchange would have mailed goes here, so tests can see who was told what."""
        self.db.execute(
            "INSERT INTO outbox (sender, recipient, kind, event_id, ical_uid, subject, comment, created)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (sender, recipient, kind, event_id, ical_uid, subject, comment, graph_timestamp(now)),
        )

    def outbox(self) -> list[dict[str, Any]]:
        return [dict(r) for r in self.db.execute("SELECT * FROM outbox ORDER BY seq")]

    def outbox_count(self) -> int:
        return self.db.execute("SELECT COUNT(*) FROM outbox").fetchone()[0]

    def change_seq(self) -> int:
        """The store-wide change counter: it moves on every event write or delete (the week view polls it)."""
        return self.db.execute("SELECT value FROM counters WHERE name = 'seq'").fetchone()[0]


def _split_sql(script: str) -> list[str]:
    """Split a migration into statements: '--' comments dropped, a trigger's body kept whole (SQLite says when a
    statement is complete; no literal here holds '--')."""
    out, pending = [], ""
    for line in script.splitlines():
        pending += line.split("--", 1)[0] + "\n"
        while ";" in pending:
            cut = pending.index(";") + 1
            while not sqlite3.complete_statement(pending[:cut]) and ";" in pending[cut:]:
                cut = pending.index(";", cut) + 1
            if not sqlite3.complete_statement(pending[:cut]):
                break
            statement, pending = pending[:cut].strip().rstrip(";").strip(), pending[cut:]
            if statement:
                out.append(statement)
    if pending.strip():
        out.append(pending.strip())
    return out
