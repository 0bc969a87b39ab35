"""After an organizer's write (called by :mod:`..effects`): what the attendees' copies and the rooms see.

A new meeting is delivered; a changed time or content updates the copies (and resets their
answers when the time moved); a changed occurrence becomes an exception in every copy; a deleted
meeting or occurrence is cancelled for everyone, with the comment of a cancel.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from . import events as ev
from .availability import in_organization
from .meetings import (
    CANCEL_COMMENT,
    CANCELED,
    CONTENT_FIELDS,
    NONE,
    SUBJECT_PREFIX,
    TIME_FIELDS,
    Meeting,
    address_key,
    as_child,
    attendees_of,
    book_room,
    cancel_copy,
    cancel_copy_occurrence,
    copy_row,
    deliver,
    load,
    mail,
    make_copy,
    put_copy,
    room_is_free,
    shown_response,
)
from .rows import EventRow
from .session import Session
from .store import graph_timestamp, occurrence_id, occurrence_start


def on_write(
    ctx: Session, kind: str, before: dict[str, Any] | None, after: dict[str, Any] | None, event_id: str
) -> None:
    doc = after if after is not None else before
    if not doc or not doc.get("isOrganizer") or not (attendees_of(before) or attendees_of(after)):
        return
    if kind == "delete":
        assert before is not None  # a delete has the document it deleted
        _on_delete(ctx, before, event_id)
        return
    row = ctx.store.event_row(ctx.mailbox["id"], event_id)
    assert after is not None  # a create or an update has the document it wrote
    if row is None or after.get("isDraft"):
        return
    if row["kind"] == "exception":
        _on_exception(ctx, row, before or {}, after, event_id)
        return
    m = Meeting(ctx.mailbox, row, after, event_id)
    if kind == "create" or (before or {}).get("isDraft"):
        deliver(ctx, m, attendees_of(after), notify=True)
    else:
        _on_update(ctx, m, before or {})
    m.save(ctx)


def _on_update(ctx: Session, m: Meeting, before: dict[str, Any]) -> None:
    after = m.doc
    old = {address_key(a): a for a in attendees_of(before)}
    new = {address_key(a): a for a in attendees_of(after)}
    added = [a for k, a in new.items() if k not in old]
    removed = [a for k, a in old.items() if k not in new]
    kept = [a for k, a in new.items() if k in old and k != m.address.lower()]
    time_changed = any(before.get(f) != after.get(f) for f in TIME_FIELDS)
    content_changed = any(before.get(f) != after.get(f) for f in CONTENT_FIELDS)
    for a in removed:
        if address_key(a) == m.address.lower():
            continue
        mail(
            ctx,
            m.address,
            a["emailAddress"]["address"],
            "cancellation",
            m.event_id,
            m.uid,
            CANCELED + (after.get("subject") or ""),
        )
        mailbox = in_organization(ctx, a["emailAddress"]["address"])
        if mailbox is not None:
            cancel_copy(ctx, mailbox, m.uid)
    if time_changed:  # a new time needs new answers
        for a in kept:
            if a.get("type") != "resource" and (a.get("status") or NONE)["response"] != "none":
                a["status"] = dict(NONE)
                m.dirty = True
            if a.pop("proposedNewTime", None) is not None:
                m.dirty = True
    if content_changed or added or removed:
        for a in kept:
            if content_changed:
                mail(ctx, m.address, a["emailAddress"]["address"], "update", m.event_id, m.uid, after.get("subject"))
            mailbox = in_organization(ctx, a["emailAddress"]["address"])
            if mailbox is None:
                continue
            if mailbox["kind"] == "room":
                if time_changed:
                    book_room(ctx, m, mailbox, notify=True)
                elif copy_row(ctx, mailbox["id"], m.uid) is not None:  # a room that declined stays declined
                    put_copy(ctx, m, mailbox)
            else:
                put_copy(ctx, m, mailbox, reset=time_changed)
    deliver(ctx, m, added, notify=True)


def _on_exception(ctx: Session, row: EventRow, before: dict[str, Any], after: dict[str, Any], event_id: str) -> None:
    """The organizer changed one occurrence: the copies get the same exception."""
    time_changed = any(before.get(f) != after.get(f) for f in ("start", "end", "isAllDay"))
    if not any(before.get(f) != after.get(f) for f in CONTENT_FIELDS if f != "recurrence"):
        return
    m = Meeting(ctx.mailbox, row, after, event_id)
    original = dt.datetime.fromisoformat(row["original_start"] or "")  # an exception has its original start
    stamp = graph_timestamp(ctx.now)
    for a in attendees_of(after):
        address = a["emailAddress"]["address"]
        if address.lower() == m.address.lower():
            continue
        if time_changed and a.get("type") != "resource" and (a.get("status") or NONE)["response"] != "none":
            a["status"] = dict(NONE)
            m.dirty = True
        mail(ctx, m.address, address, "update", event_id, m.uid, after.get("subject"))
        mailbox = in_organization(ctx, address)
        master = copy_row(ctx, mailbox["id"], m.uid, ("seriesMaster",)) if mailbox is not None else None
        if mailbox is None or master is None:
            continue
        child_id = occurrence_id(master["id"], original)
        existing = ctx.store.event_row(mailbox["id"], child_id)
        rebook = mailbox["kind"] == "room" and time_changed
        if existing is not None and existing["kind"] == "cancelled" and not rebook:
            continue
        prev = load(ctx, existing) if existing is not None and existing["kind"] == "exception" else load(ctx, master)
        doc = as_child(
            make_copy(after, address, ctx.now, prev, reset=time_changed), master["id"], original, "exception"
        )
        kind = "exception"
        if mailbox["kind"] == "room":
            times = ev.event_times(after)
            free = room_is_free(ctx, mailbox, [(times.start_utc, times.end_utc)], m.uid) if time_changed else True
            response = "accepted" if free else "declined"
            if time_changed:
                m.set_status(address, response, stamp)
                mail(
                    ctx,
                    address,
                    m.address,
                    "response",
                    child_id if free else None,
                    m.uid,
                    SUBJECT_PREFIX[response] + (after.get("subject") or ""),
                )
            if free:
                doc["responseStatus"] = {"response": "accepted", "time": stamp}
                doc["showAs"] = shown_response(doc["_organizerShowAs"], "accepted")
            else:
                kind = doc["type"] = "cancelled"
                doc["isCancelled"] = True
        ev.store_event(
            ctx.store, mailbox["id"], master["calendar_id"], doc, child_id, kind, master["id"], row["original_start"]
        )
    m.save(ctx)


def _on_delete(ctx: Session, before: dict[str, Any], event_id: str) -> None:
    comment = ctx.extra.get(CANCEL_COMMENT)
    uid = before["iCalUId"]
    organizer = ctx.mailbox["address"]
    occurrence = before.get("type") not in ("singleInstance", "seriesMaster")
    original = occurrence_start(event_id) if occurrence else None
    for a in attendees_of(before):
        address = a["emailAddress"]["address"]
        if address.lower() == organizer.lower():
            continue
        mail(ctx, organizer, address, "cancellation", event_id, uid, CANCELED + (before.get("subject") or ""), comment)
        mailbox = in_organization(ctx, address)
        if mailbox is None:
            continue
        if original is not None:  # one occurrence
            cancel_copy_occurrence(ctx, mailbox, uid, original)
        else:
            cancel_copy(ctx, mailbox, uid)
