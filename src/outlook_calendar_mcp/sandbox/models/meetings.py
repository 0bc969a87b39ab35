"""Meetings between mailboxes: invitations, updates, responses, forward, cancel, room booking.

This module holds the copies, room booking and delivery; what an organizer's write sets off is
:mod:`.meeting_writes` (run by :mod:`..effects`); the actions (accept, decline, forward) are
:mod:`..responses.meetings`, and ``cancel`` is :func:`..responses.events.cancel_event`.

The sandbox behaves like Exchange inside one organization:

* **Delivery.** When an organizer saves an event with attendees, every attendee
  whose address is a mailbox of the organization (person or room) gets a copy
  in their default calendar: same ``iCalUId``, ``isOrganizer`` false,
  ``responseStatus`` none, the organizer's ``responseRequested``, and
  ``showAs`` tentative until they accept (accepted: the organizer's showAs;
  declined: free; declined copies stay on the calendar). Addresses outside the
  organization are kept on the organizer's event only. A draft
  (``isDraft``) is delivered when it stops being one. Series are delivered
  with their exceptions and cancelled occurrences.
* **Updates.** An organizer's change of time, place, subject, body... reaches
  every copy (a time change resets everyone's response to none); attendees
  added get invitations, attendees removed get their copy cancelled. A changed
  occurrence reaches the copies as an exception. Organizer-private changes
  (categories, reminders) are not sent.
* **Delete / cancel.** The organizer's delete (or ``cancel``, organizer only,
  with a comment) cancels the copies: ``isCancelled`` true, subject prefixed
  "Canceled: ", showAs free. Deleting one occurrence cancels that occurrence in
  the copies. An attendee deleting their copy tells no one.
* **Responses.** ``accept``, ``tentativelyAccept``, ``decline`` (``comment``,
  ``sendResponse`` default true, ``proposedNewTime`` for the last two) answer
  202 with no body, set the attendee's copy, and - when sent - the attendee's
  ``status`` {response, time} and ``proposedNewTime`` on the organizer's event.
  Responding to a series applies to its exceptions too; a response to one
  occurrence is recorded on that occurrence of the attendee's copy (and on the
  organizer's side only where the organizer already has an exception for it).
* **Rooms** (mailboxes of kind room) invited as attendees book themselves, as
  Exchange's resource booking attendant does: free for the meeting (every
  occurrence in the next 180 days for a series) -> accepted, the booking goes
  on the room's calendar; busy -> declined, nothing stays on the room's
  calendar. A time change is re-booked; a cancellation frees the room.
* **forward** (``toRecipients``, ``comment``): each recipient in the
  organization gets a copy, and becomes an attendee of the organizer's event;
  when an attendee forwards, the organizer gets a forward notification.

Everything Exchange would have mailed is written to the store's outbox
(:meth:`Store.record_message`), one row per recipient: ``kind`` is one of
``invitation``, ``update``, ``cancellation`` (organizer -> attendees,
``event_id`` the organizer's event), ``response`` (attendee or room ->
organizer, ``event_id`` the responder's event, subject "Accepted: ...",
"Tentative: ...", "Declined: ..." or "New Time Proposed: ..."), ``forward``
(forwarder -> recipient) and ``forwardNotification`` (forwarder -> organizer).
``comment`` carries the caller's comment.
"""

from __future__ import annotations

import copy
import datetime as dt
from dataclasses import dataclass
from typing import Any

from . import events as ev
from . import lookup
from .availability import SEVERITY, Span, in_organization, timeline
from .rows import EventRow, MailboxRow
from .session import Principal, Session
from .store import graph_timestamp, new_change_key, new_item_id, occurrence_id

CANCEL_COMMENT = "meetings.cancel_comment"  # ctx.extra key: the comment of a cancel, for the delete's effect
ROOM_HORIZON = dt.timedelta(days=180)
TIME_FIELDS = ("start", "end", "isAllDay", "recurrence")
CONTENT_FIELDS = (
    *TIME_FIELDS,
    "subject",
    "body",
    "location",
    "locations",
    "isOnlineMeeting",
    "onlineMeeting",
    "onlineMeetingProvider",
    "sensitivity",
    "importance",
    "showAs",
    "hideAttendees",
    "allowNewTimeProposals",
    "responseRequested",
)
PERSONAL = ("categories", "isReminderOn", "reminderMinutesBeforeStart", "transactionId", "createdDateTime")
RESPONSES = {"accept": "accepted", "tentativelyAccept": "tentativelyAccepted", "decline": "declined"}
SUBJECT_PREFIX = {"accepted": "Accepted: ", "tentativelyAccepted": "Tentative: ", "declined": "Declined: "}
CANCELED = "Canceled: "
NONE = {"response": "none", "time": ev.NEVER}  # the organizer's view of an attendee who has not answered
# An invitee's own copy before they answer (Graph: responseStatus on the attendee's event is notResponded).
NOT_RESPONDED = {"response": "notResponded", "time": ev.NEVER}
ORGANIZER_CANNOT = {
    "accept": ("ErrorCalendarIsOrganizerForAccept", "accept"),
    "tentativelyAccept": ("ErrorCalendarIsOrganizerForTentative", "tentatively accept"),
    "decline": ("ErrorCalendarIsOrganizerForDecline", "decline"),
}
NOT_ORGANIZER = "Your request can't be completed. You need to be an organizer to cancel a meeting."


# -- small helpers --------------------------------------------------------------------------------------


def attendees_of(doc: dict[str, Any] | None) -> list[dict[str, Any]]:
    return list((doc or {}).get("attendees") or [])


def address_key(attendee: dict[str, Any]) -> str:
    return attendee["emailAddress"]["address"].lower()


def load(env: Session, row: EventRow) -> dict[str, Any]:
    return lookup.load_doc(env, row)


def mail(
    env: Session,
    sender: str,
    recipient: str,
    kind: str,
    event_id: str | None,
    uid: str | None,
    subject: str | None,
    comment: str | None = None,
) -> None:
    env.store.record_message(sender, recipient, kind, event_id, uid, subject, comment, env.now)


def save(env: Session, row: EventRow, doc: dict[str, Any]) -> None:
    """Store ``doc`` again in ``row``'s place (same id, calendar, kind, series)."""
    ev.store_event(
        env.store,
        row["mailbox_id"],
        row["calendar_id"],
        doc,
        row["id"],
        row["kind"],
        row["series_master_id"],
        row["original_start"],
    )


def shown_response(intended: str, response: str) -> str:
    """An attendee's showAs for the organizer's intended showAs and their response."""
    if response == "declined" or intended == "free":
        return "free"
    if response == "accepted":
        return intended
    return "tentative"


def _events_by_uid(env: Session, mailbox_id: str, uid: str, kinds: tuple[str, ...], organizer: bool) -> Any | None:
    for row in env.store.events_by_uid(mailbox_id, uid, kinds):
        if bool(load(env, row).get("isOrganizer")) == organizer:
            return row
    return None


def copy_row(
    env: Session, mailbox_id: str, uid: str, kinds: tuple[str, ...] = ("singleInstance", "seriesMaster")
) -> Any:
    return _events_by_uid(env, mailbox_id, uid, kinds, organizer=False)


def _occurrence(master_row: EventRow, master: dict[str, Any], original: dt.datetime) -> dict[str, Any] | None:
    """The occurrence of a series at its original local start (stored form), or None if there is none."""
    times = ev.event_times(master)
    zone_name = master["recurrence"]["range"].get("recurrenceTimeZone") or "UTC"
    zone = ev.zone_of(zone_name, "recurrence")
    if not ev.rec.occurrence_at(master["recurrence"], ev.series_start(master, times, zone), zone, original):
        return None
    doc = ev.occurrence_doc(master_row["id"], master, original, zone_name, times.duration)
    doc.pop("_id", None)
    return doc


def as_child(doc: dict[str, Any], master_id: str, original: dt.datetime, kind: str) -> dict[str, Any]:
    doc.pop("_id", None)
    doc.update({"type": kind, "seriesMasterId": master_id, "recurrence": None})
    return doc


def _mark_cancelled(doc: dict[str, Any], now: dt.datetime) -> None:
    doc["isCancelled"] = True
    doc["showAs"] = "free"
    subject = doc.get("subject") or ""
    if not subject.startswith(CANCELED):
        doc["subject"] = CANCELED + subject
    ev.touch(doc, now)


def _drop_children(env: Session, master_id: str) -> None:
    for child in env.store.series_children(master_id):
        env.store.delete_event_row(child)


@dataclass
class Meeting:
    """The organizer's side of a meeting: their mailbox, the stored row, and a document we may change."""

    mailbox: MailboxRow
    row: EventRow
    doc: dict[str, Any]
    event_id: str
    dirty: bool = False

    @property
    def address(self) -> str:
        return self.mailbox["address"]

    @property
    def uid(self) -> str:
        return self.doc["iCalUId"]

    def set_status(self, address: str, response: str, stamp: str, proposal: Any = ..., add: bool = False) -> None:
        for a in self.doc.setdefault("attendees", []):
            if address_key(a) == address.lower():
                break
        else:
            if not add:
                return
            a = {"type": "required", "status": dict(NONE), "emailAddress": {"name": address, "address": address}}
            self.doc["attendees"].append(a)
        a["status"] = {"response": response, "time": stamp}
        if proposal is not ...:
            if proposal:
                a["proposedNewTime"] = proposal
            else:
                a.pop("proposedNewTime", None)
        self.dirty = True

    def save(self, env: Session, touch: bool = False) -> None:
        if self.dirty:
            if touch:
                ev.touch(self.doc, env.now)
            save(env, self.row, self.doc)
            self.dirty = False


def organizer_meeting(env: Session, doc: dict[str, Any]) -> Meeting | None:
    """The organizer's event for an attendee's copy (series master or single), if the organizer is one of ours."""
    address = ((doc.get("organizer") or {}).get("emailAddress") or {}).get("address")
    mailbox = in_organization(env, address) if address else None
    if mailbox is None:
        return None
    row = _events_by_uid(env, mailbox["id"], doc["iCalUId"], ("singleInstance", "seriesMaster"), organizer=True)
    if row is None:
        return None
    return Meeting(mailbox, row, copy.deepcopy(load(env, row)), row["id"])


# -- copies -------------------------------------------------------------------------------------------------


def make_copy(
    org_doc: dict[str, Any], recipient: str, now: dt.datetime, prev: dict[str, Any] | None = None, reset: bool = False
) -> dict[str, Any]:
    """An attendee's copy of the organizer's event (stored form); ``prev`` keeps their own settings and response."""
    doc = copy.deepcopy(org_doc)
    doc.pop("_id", None)
    intended = org_doc.get("_organizerShowAs") or org_doc.get("showAs") or "busy"
    stamp = graph_timestamp(now)
    doc.update(
        {
            "isOrganizer": False,
            "responseStatus": dict(NOT_RESPONDED),
            "categories": [],
            "transactionId": None,
            "isReminderOn": True,
            "reminderMinutesBeforeStart": 15,
            "createdDateTime": stamp,
            "lastModifiedDateTime": stamp,
            "changeKey": new_change_key(),
            "_organizerShowAs": intended,
        }
    )
    if prev is not None:
        for key in PERSONAL:
            if key in prev:
                doc[key] = copy.deepcopy(prev[key])
        if not reset and prev.get("responseStatus"):
            doc["responseStatus"] = dict(prev["responseStatus"])
    doc["showAs"] = shown_response(intended, doc["responseStatus"]["response"])
    attendees = doc.get("attendees") or []
    if org_doc.get("hideAttendees"):
        attendees = [a for a in attendees if address_key(a) == recipient.lower()]
    for a in attendees:  # the organizer's tally and the proposals are the organizer's business
        if a.get("type") != "resource":  # a room's answer is the booking itself: every copy shows it
            a["status"] = dict(NONE)
        a.pop("proposedNewTime", None)
    doc["attendees"] = attendees
    return doc


def put_copy(
    env: Session, m: Meeting, mailbox: MailboxRow, reset: bool = False, response: dict[str, str] | None = None
) -> str | None:
    """Create or refresh ``mailbox``'s copy of the meeting (and, for a series, its exceptions); returns its id."""
    existing = copy_row(env, mailbox["id"], m.uid)
    calendar = env.store.default_calendar(mailbox["id"]) if existing is None else None
    if existing is None and calendar is None:
        return None
    prev = load(env, existing) if existing is not None else None
    doc = make_copy(m.doc, mailbox["address"], env.now, prev, reset)
    if response is not None:
        doc["responseStatus"] = response
        doc["showAs"] = shown_response(doc["_organizerShowAs"], response["response"])
    copy_id = existing["id"] if existing is not None else new_item_id()
    if existing is not None:
        calendar_id = existing["calendar_id"]
    else:
        assert calendar is not None  # checked above
        calendar_id = calendar["id"]
    if existing is not None and (reset or existing["kind"] != m.row["kind"]):
        _drop_children(env, copy_id)
    ev.store_event(env.store, mailbox["id"], calendar_id, doc, copy_id)
    if m.row["kind"] == "seriesMaster":
        _sync_children(env, m, mailbox, copy_id, calendar_id, doc)
    return copy_id


def _sync_children(
    env: Session, m: Meeting, mailbox: MailboxRow, copy_id: str, calendar_id: str, copy_master: dict[str, Any]
) -> None:
    """Bring a copy's exceptions and cancelled occurrences in line with the organizer's series."""
    room = mailbox["kind"] == "room"
    # (a series' children always carry the original start of their occurrence)
    org_children = {c["original_start"]: c for c in env.store.series_children(m.row["id"]) if c["original_start"]}
    mine = {c["original_start"]: c for c in env.store.series_children(copy_id) if c["original_start"]}
    for original_text, child in org_children.items():
        original = dt.datetime.fromisoformat(original_text)
        child_id = occurrence_id(copy_id, original)
        prev_row = mine.get(original_text)
        prev = load(env, prev_row) if prev_row is not None else None
        source = load(env, child)
        if child["kind"] == "cancelled":
            if prev is not None and prev.get("isCancelled") and not room:
                continue  # already shown to them as cancelled
            doc = as_child(copy.deepcopy(source), copy_id, original, "cancelled")
            doc["isCancelled"] = True
            ev.store_event(env.store, mailbox["id"], calendar_id, doc, child_id, "cancelled", copy_id, original_text)
            continue
        if prev_row is not None and prev_row["kind"] == "cancelled":
            continue  # a room that declined this occurrence
        doc = as_child(
            make_copy(source, mailbox["address"], env.now, prev or copy_master), copy_id, original, "exception"
        )
        ev.store_event(env.store, mailbox["id"], calendar_id, doc, child_id, "exception", copy_id, original_text)
    for original_text, child in mine.items():
        if original_text in org_children or child["kind"] == "cancelled":
            continue
        # Their own exception (a response to one occurrence): refresh it from the organizer's occurrence.
        original = dt.datetime.fromisoformat(original_text)
        occurrence = _occurrence(m.row, m.doc, original)
        if occurrence is None:
            env.store.delete_event_row(child)
            continue
        doc = as_child(
            make_copy(occurrence, mailbox["address"], env.now, load(env, child)), copy_id, original, "exception"
        )
        ev.store_event(env.store, mailbox["id"], calendar_id, doc, child["id"], "exception", copy_id, original_text)


def cancel_copy(env: Session, mailbox: MailboxRow, uid: str) -> None:
    row = copy_row(env, mailbox["id"], uid)
    if row is None:
        return
    if mailbox["kind"] == "room":  # the booking attendant removes cancelled meetings
        _drop_children(env, row["id"])
        env.store.delete_event_row(row)
        return
    doc = copy.deepcopy(load(env, row))
    _mark_cancelled(doc, env.now)
    save(env, row, doc)
    for child in env.store.series_children(row["id"]):
        if child["kind"] == "exception":
            child_doc = copy.deepcopy(load(env, child))
            _mark_cancelled(child_doc, env.now)
            save(env, child, child_doc)


def cancel_copy_occurrence(env: Session, mailbox: MailboxRow, uid: str, original: dt.datetime) -> None:
    master = copy_row(env, mailbox["id"], uid, ("seriesMaster",))
    if master is None:
        return
    child_id = occurrence_id(master["id"], original)
    existing = env.store.event_row(mailbox["id"], child_id)
    if existing is not None and existing["kind"] == "cancelled":
        return
    base = load(env, existing) if existing is not None else _occurrence(master, load(env, master), original)
    if base is None:
        return
    doc = as_child(copy.deepcopy(base), master["id"], original, "exception")
    kind = "exception"
    if mailbox["kind"] == "room":
        kind = doc["type"] = "cancelled"
        doc["isCancelled"] = True
    else:
        _mark_cancelled(doc, env.now)
    ev.store_event(
        env.store, mailbox["id"], master["calendar_id"], doc, child_id, kind, master["id"], original.isoformat()
    )


# -- rooms ---------------------------------------------------------------------------------------------------


def _instances(env: Session, m: Meeting) -> list[Span]:
    """When the meeting takes place (a series: its instances in the booking horizon), in UTC."""
    if m.row["kind"] != "seriesMaster":
        times = ev.event_times(m.doc)
        return [(times.start_utc, times.end_utc)] if times.end_utc > times.start_utc else []
    first = dt.datetime.fromisoformat(m.row["start_utc"] or "").replace(tzinfo=dt.UTC)  # a master has its start
    start = max(first, env.now.astimezone(dt.UTC))
    end = start + ROOM_HORIZON
    if m.row["end_utc"]:
        end = min(end, dt.datetime.fromisoformat(m.row["end_utc"]).replace(tzinfo=dt.UTC))
    if end <= start:
        return []
    out = []
    for _, _, doc in lookup.window_items(env, [], start, end, master_id=m.row["id"]):
        times = ev.event_times(doc)
        if times.end_utc > times.start_utc and not doc.get("isCancelled"):
            out.append((times.start_utc, times.end_utc))
    return out


def room_is_free(env: Session, room: MailboxRow, instances: list[Span], uid: str) -> bool:
    """Whether the room has nothing else (free or cancelled items aside) during any of ``instances``."""
    if not instances:
        return True
    span = (min(s for s, _ in instances), max(e for _, e in instances))
    busy = timeline(env, room, span[0], span[1], skip_uid=uid)
    return all(SEVERITY[busy.worst(s, e)] <= SEVERITY["workingElsewhere"] for s, e in instances)


def book_room(env: Session, m: Meeting, room: MailboxRow, notify: bool) -> None:
    """The room's booking attendant: accept (and book) when free, decline (and book nothing) when busy."""
    stamp = graph_timestamp(env.now)
    free = room_is_free(env, room, _instances(env, m), m.uid)
    response = "accepted" if free else "declined"
    copy_id = None
    if free:
        copy_id = put_copy(env, m, room, reset=True, response={"response": response, "time": stamp})
    else:
        existing = copy_row(env, room["id"], m.uid)
        if existing is not None:
            _drop_children(env, existing["id"])
            env.store.delete_event_row(existing)
    m.set_status(room["address"], response, stamp)
    if notify:
        mail(
            env,
            room["address"],
            m.address,
            "response",
            copy_id,
            m.uid,
            SUBJECT_PREFIX[response] + (m.doc.get("subject") or ""),
        )


# -- delivery ------------------------------------------------------------------------------------------------


def deliver(env: Session, m: Meeting, attendees: list[dict[str, Any]], notify: bool, kind: str = "invitation") -> None:
    """Send the meeting to ``attendees``: a copy for each mailbox of the organization, a message for everyone."""
    for a in attendees:
        address = a["emailAddress"]["address"]
        if address.lower() == m.address.lower():
            continue
        if notify:
            mail(env, m.address, address, kind, m.event_id, m.uid, m.doc.get("subject"))
        mailbox = in_organization(env, address)
        if mailbox is None:
            continue
        if mailbox["kind"] == "room":
            book_room(env, m, mailbox, notify)
        else:
            put_copy(env, m, mailbox)


def deliver_seeded(store: Any, now: dt.datetime) -> None:
    """Deliver the meetings a freshly seeded store holds (copies and room bookings; nothing goes to the outbox)."""
    env = Session(store=store, principal=Principal(None), now=now)
    rows = store.all_top_level_events()
    for row in rows:
        doc = load(env, row)
        if not doc.get("isOrganizer") or not doc.get("attendees") or doc.get("isDraft"):
            continue
        mailbox = store.mailbox_by_id(row["mailbox_id"])
        m = Meeting(mailbox, row, copy.deepcopy(doc), row["id"])
        deliver(env, m, m.doc["attendees"], notify=False)
        m.save(env)
