"""The people relevant to a mailbox, ranked as Graph's ``/me/people`` ranks them.

Graph's people API "retrieves the people most relevant to a user. Relevance is determined by the
user's communication and collaboration patterns and business relationships. People can be local
contacts or from an organization's directory, and people from recent communications." The sandbox
has no mail, so its communication is its calendar: everyone who shares a meeting with the mailbox
(attendees of its own meetings, organizers of the meetings it was invited to, outside guests
included) ranks first, by how often, weighted to the recent and the coming weeks; then the
mailbox's personal contacts (a relationship the user saved, without communication here); then the
rest of the directory (people, then rooms). Outside guests are ``ImplicitContact`` people, named as
the meetings name them, their company taken from their address; a contact is a ``PersonalContact``
(unless they are in the directory: then the directory's person, as Graph merges them).
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from typing import Any

from .rows import MailboxRow
from .store import Store

__all__ = ["RECENT", "Relevant", "relevant_people"]

RECENT = dt.timedelta(days=30)  # meetings ended this recently, or still to come, weigh more
RECENT_WEIGHT, OLDER_WEIGHT, DIRECTORY = 3.0, 1.0, 1.0
CONTACT = 2.0  # a personal contact: above the directory; anyone met starts from here (met people rank first)


@dataclass
class Relevant:
    """One person (or room) and how relevant they are to the mailbox."""

    address: str
    name: str
    score: float = DIRECTORY
    row: MailboxRow | None = None  # in the directory: the mailbox; None: a contact or an outside guest
    meetings: int = 0
    contact: dict[str, Any] | None = None  # a personal contact of the mailbox: its document
    contact_id: str | None = None


def _parse(value: str | None) -> dt.datetime | None:
    if not value:
        return None
    return dt.datetime.fromisoformat(value[:19]).replace(tzinfo=dt.UTC)


def relevant_people(store: Store, mailbox: MailboxRow, now: dt.datetime) -> list[Relevant]:
    """Everyone relevant to ``mailbox`` (not itself), most relevant first."""
    me = mailbox["address"].lower()
    found: dict[str, Relevant] = {}
    for row in store.mailboxes():
        if row["kind"] in ("user", "room") and row["address"].lower() != me:
            found[row["address"].lower()] = Relevant(
                row["address"], json.loads(row["doc"]).get("displayName") or row["address"], row=row
            )
    for contact in store.contacts_of(mailbox["id"]):
        doc = json.loads(contact["doc"])
        emails = [e["address"] for e in doc.get("emailAddresses") or [] if e.get("address")]
        if not emails or emails[0].lower() == me:
            continue
        person = found.get(emails[0].lower())
        if person is None:
            person = found[emails[0].lower()] = Relevant(emails[0], doc.get("displayName") or emails[0])
        if person.row is None:
            person.contact, person.contact_id = doc, contact["id"]
        person.score = max(person.score, CONTACT)
    for text, end_utc in store.mailbox_meetings(mailbox["id"]):
        doc = json.loads(text)
        if doc.get("isCancelled"):
            continue
        end = _parse(end_utc)
        weight = RECENT_WEIGHT if end is None or end >= now - RECENT else OLDER_WEIGHT
        people = [a.get("emailAddress") or {} for a in doc.get("attendees") or []]
        people.append((doc.get("organizer") or {}).get("emailAddress") or {})
        for email in people:
            address = (email.get("address") or "").strip()
            if not address or address.lower() == me:
                continue
            person = found.get(address.lower())
            if person is None:
                person = found[address.lower()] = Relevant(address, email.get("name") or address, score=0.0)
            if not person.meetings:
                person.score = max(person.score, CONTACT)
            person.score += weight
            person.meetings += 1
    return sorted(
        found.values(),
        key=lambda p: (-p.score, p.row is not None and p.row["kind"] == "room", p.name.lower()),
    )
