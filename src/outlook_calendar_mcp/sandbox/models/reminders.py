"""Reminders: ``reminderView``, ``snoozeReminder`` and ``dismissReminder``, computed from the events.

This module keeps the reminder state (and clears it after writes, from :mod:`..effects`); the
handlers are :mod:`..responses.reminders`.

::

    GET  {mailbox}/reminderView(startDateTime='…',endDateTime='…')   Collection(microsoft.graph.reminder)
    POST {event}/snoozeReminder  {"newReminderTime": {dateTime, timeZone}}   200, no body
    POST {event}/dismissReminder                                              200, no body

``reminderView`` lists a reminder for every instance (single event, occurrence or exception of a series) of
every calendar of the mailbox that overlaps the window (as calendarView does), has ``isReminderOn``, is not
cancelled or declined, and whose reminder was not dismissed: ``eventId`` (an occurrence's own id),
``eventSubject``, ``eventLocation``, ``eventStartTime``/``eventEndTime`` and ``reminderFireTime`` in the zone of
``Prefer: outlook.timezone`` (default UTC), ``eventWebLink``, ``changeKey``; sorted by fire time. The fire time
is ``start - reminderMinutesBeforeStart``, or the time a snooze set. The parameters are read as Graph's function
parameters: quoted or not, any case, or as aliases (``startDateTime=@s`` with ``?@s='…'``); times without an
offset are UTC.

Someone else's reminders are reached as reading their primary calendar allows (urls checks that): the
view covers the calendars the caller may read, each event as they may see it (sharing.redact).

``snoozeReminder`` and ``dismissReminder`` act on an event's reminder; on a series master they act on the
series' current reminder (its first instance that has not ended and still has one). Snoozing an event
without an active reminder is a 400; dismissing one is a no-op (a series with no pending reminder: 400).

Where the state lives (a choice): dismissing the reminder of a single event turns its ``isReminderOn`` off, as
Exchange does (PidLidReminderSet). Everything else — a snoozed reminder, a dismissed or snoozed occurrence of
a series — is not a property of any Graph event, so it is kept in the mailbox's document under
``reminderState``: ``{event or occurrence id: {"dismissed": true} | {"fireTime": "2027-03-10T16:45:00Z"}}``, a
small per-mailbox table like Exchange's Reminders folder. It survives every rewrite of an event document
(attendees' responses, meeting updates), never shows in an event, and makes no occurrence an exception. A change
of an event's timing or reminder settings (start, end, isAllDay, recurrence, reminderMinutesBeforeStart,
isReminderOn) clears its entries (for a master: those of all its occurrences), as Exchange recomputes the
reminder then; entries of events that are gone are pruned whenever the table is written.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from typing import Any

from . import events as ev
from .session import Session
from .store import parse_occurrence_id

STATE = "reminderState"
HORIZON = dt.timedelta(days=732)  # how far a series master's "current reminder" is looked for
TIMING = ("start", "end", "isAllDay", "recurrence", "reminderMinutesBeforeStart", "isReminderOn")
FUNCTION_PARAM = re.compile(r"\s*([A-Za-z]\w*)\s*=\s*(?:'((?:[^']|'')*)'|([^,']*))\s*(?:,|$)")


# -- the state table ----------------------------------------------------------------------------------------


def load_state(ctx: Session) -> dict[str, dict[str, Any]]:
    row = ctx.store.mailbox(ctx.mailbox["id"])
    assert row is not None
    return dict(json.loads(row["doc"]).get(STATE) or {})


def save_state(ctx: Session, state: dict[str, dict[str, Any]]) -> None:
    row = ctx.store.mailbox(ctx.mailbox["id"])
    assert row is not None
    doc = json.loads(row["doc"])
    doc[STATE] = {key: entry for key, entry in state.items() if _alive(ctx, key)}
    ctx.store.update_mailbox_doc(ctx.mailbox["id"], doc)


def _alive(ctx: Session, key: str) -> bool:
    row = ctx.store.event_row(ctx.mailbox["id"], key)
    if row is not None:
        return row["kind"] != "cancelled"
    parsed = parse_occurrence_id(key)
    master = ctx.store.event_row(ctx.mailbox["id"], parsed[0]) if parsed else None
    return master is not None and master["kind"] == "seriesMaster"


def has_reminder(doc: dict[str, Any]) -> bool:
    return (
        bool(doc.get("isReminderOn"))
        and not doc.get("isCancelled")
        and ((doc.get("responseStatus") or {}).get("response") != "declined")
    )


# -- reminderView -------------------------------------------------------------------------------------------


def fire_time(doc: dict[str, Any], entry: dict[str, Any]) -> dt.datetime:
    if entry.get("fireTime"):
        return dt.datetime.fromisoformat(entry["fireTime"].replace("Z", "+00:00"))
    minutes = doc.get("reminderMinutesBeforeStart") or 0
    return ev.event_times(doc).start_utc - dt.timedelta(minutes=minutes)


# -- snooze and dismiss ---------------------------------------------------------------------------------------


# -- keeping the table true -------------------------------------------------------------------------------------


def on_write(
    ctx: Session, kind: str, before: dict[str, Any] | None, after: dict[str, Any] | None, event_id: str
) -> None:
    """After a write (:mod:`.effects`): a new time or reminder setting clears the event's entries (a master's: its occurrences')."""
    if kind == "create" or before is None:
        return
    state = load_state(ctx)
    if not state:
        return
    if kind == "update" and all(before.get(k) == (after or {}).get(k) for k in TIMING):
        return
    stale = {event_id} | {key for key in state if (parse_occurrence_id(key) or ("",))[0] == event_id}
    if stale & set(state) or kind == "delete":
        save_state(ctx, {k: v for k, v in state.items() if k not in stale})
