"""Reminders: ``reminderView``, ``snoozeReminder`` and ``dismissReminder``, computed from the events.

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

from starlette.responses import Response

from . import lookup, sharing
from .common import window_instant
from . import events as ev
from .ctx import Ctx
from .availability import DTZ, action_body, instant, render_instant
from .errors import GraphHTTPError, bad_request
from .store import parse_occurrence_id

STATE = "reminderState"
HORIZON = dt.timedelta(days=732)      # how far a series master's "current reminder" is looked for
TIMING = ("start", "end", "isAllDay", "recurrence", "reminderMinutesBeforeStart", "isReminderOn")
_PARAM = re.compile(r"\s*([A-Za-z]\w*)\s*=\s*(?:'((?:[^']|'')*)'|([^,']*))\s*(?:,|$)")


# -- the state table ----------------------------------------------------------------------------------------

def load_state(ctx: Ctx) -> dict[str, dict[str, Any]]:
    row = ctx.store.mailbox(ctx.mailbox["id"])
    return dict(json.loads(row["doc"]).get(STATE) or {})


def save_state(ctx: Ctx, state: dict[str, dict[str, Any]]) -> None:
    doc = json.loads(ctx.store.mailbox(ctx.mailbox["id"])["doc"])
    doc[STATE] = {key: entry for key, entry in state.items() if _alive(ctx, key)}
    ctx.store.update_mailbox_doc(ctx.mailbox["id"], doc)


def _alive(ctx: Ctx, key: str) -> bool:
    row = ctx.store.event_row(ctx.mailbox["id"], key)
    if row is not None:
        return row["kind"] != "cancelled"
    parsed = parse_occurrence_id(key)
    master = ctx.store.event_row(ctx.mailbox["id"], parsed[0]) if parsed else None
    return master is not None and master["kind"] == "seriesMaster"


def has_reminder(doc: dict[str, Any]) -> bool:
    return bool(doc.get("isReminderOn")) and not doc.get("isCancelled") and (
        (doc.get("responseStatus") or {}).get("response") != "declined")


# -- reminderView -------------------------------------------------------------------------------------------



def function_params(ctx: Ctx, text: str, names: tuple[str, ...]) -> dict[str, str]:
    """Named function parameters from the path segment (quoted, bare or @alias), by canonical name."""
    canonical = {n.lower(): n for n in names}
    out: dict[str, str] = {}
    pos = 0
    while pos < len(text):
        m = _PARAM.match(text, pos)
        if not m or m.end() == pos:
            raise bad_request(f"The function parameters '({text})' are malformed: write them as "
                              "reminderView(startDateTime='2026-11-23T00:00:00',endDateTime='2026-11-30T00:00:00').",
                              "BadRequest")
        name = canonical.get(m.group(1).lower())
        if name is None:
            raise bad_request(f"The parameter '{m.group(1)}' is not a parameter of the function; it takes "
                              f"{', '.join(names)}.", "BadRequest")
        value = m.group(2).replace("''", "'") if m.group(2) is not None else m.group(3).strip()
        if value.startswith("@"):
            alias = ctx.params.get(value)
            if alias is None:
                raise bad_request(f"The parameter alias '{value}' has no value in the query string.", "BadRequest")
            value = alias.strip("'")
        out[name] = value
        pos = m.end()
    for key in ctx.params:
        if not key.startswith("@"):
            raise GraphHTTPError(400, "ErrorInvalidUrlQuery",
                                 f"The query parameter '{key}' is not supported by this function.")
    return out


def reminder_view(ctx: Ctx, text: str) -> Response:
    params = function_params(ctx, text, ("startDateTime", "endDateTime"))
    for name in ("startDateTime", "endDateTime"):
        if not params.get(name):
            raise bad_request(f"The function parameter {name} is required: reminderView(startDateTime='2026-11-23"
                              "T00:00:00',endDateTime='2026-11-30T00:00:00').", "ErrorInvalidParameter")
    start = window_instant(params["startDateTime"], "startDateTime")  # Graph's reading of it
    end = window_instant(params["endDateTime"], "endDateTime")
    if end <= start:
        raise bad_request("endDateTime must be later than startDateTime.", "ErrorInvalidParameter")
    state = load_state(ctx)
    # Someone else's reminders (urls checked they may read the primary calendar): the calendars they may
    # read, each event as they may see it.
    found = []
    for calendar in sharing.can_see_any(ctx, ctx.mailbox):
        got = sharing.access(ctx, calendar)
        for inst in lookup.window_instances(ctx, [calendar["id"]], start, end):
            doc = inst.materialize()
            entry = state.get(inst.event_id) or {}
            if has_reminder(doc) and not entry.get("dismissed"):
                found.append(_reminder(ctx, inst, doc, fire_time(doc, entry), got))
    found.sort(key=lambda f: f[:3])
    return ctx.respond({"@odata.context": ctx.context_url("Collection(microsoft.graph.reminder)"),
                        "value": [f[3] for f in found]})


def _reminder(ctx: Ctx, inst: Any, doc: dict[str, Any], fire: dt.datetime, got: Any) -> tuple[Any, ...]:
    """(sort keys..., the Graph reminder) of one instance, as the caller may see its event."""
    shown = sharing.redact(ev.render(doc, inst.event_id, ctx.view), got)
    return (fire, inst.start_key, inst.event_id, {
        "eventId": inst.event_id, "changeKey": doc["changeKey"], "eventSubject": shown.get("subject"),
        "eventWebLink": shown.get("webLink"), "eventStartTime": shown["start"], "eventEndTime": shown["end"],
        "eventLocation": shown.get("location"), "reminderFireTime": render_instant(ctx, fire)})


def fire_time(doc: dict[str, Any], entry: dict[str, Any]) -> dt.datetime:
    if entry.get("fireTime"):
        return dt.datetime.fromisoformat(entry["fireTime"].replace("Z", "+00:00"))
    minutes = doc.get("reminderMinutesBeforeStart") or 0
    return ev.event_times(doc).start_utc - dt.timedelta(minutes=minutes)


# -- snooze and dismiss ---------------------------------------------------------------------------------------

def _target(ctx: Ctx, event_id: str, calendar: Any) -> tuple[str, dict[str, Any], Any]:
    """(id whose reminder it is, its stored-form doc, its row or None) for an event id; a master's current one."""
    doc, row, master = lookup.find_event(ctx, event_id, calendar)
    if row is None or row["kind"] != "seriesMaster":
        return event_id, doc, row
    state = load_state(ctx)
    for inst in lookup.window_instances(ctx, [], ctx.now, ctx.now + HORIZON, master_id=row["id"]):
        occurrence = inst.materialize()
        if has_reminder(occurrence) and not (state.get(inst.event_id) or {}).get("dismissed"):
            return inst.event_id, occurrence, ctx.store.event_row(ctx.mailbox["id"], inst.event_id)
    raise bad_request("This series has no pending reminder: none of its coming occurrences has a reminder that is "
                      "on and not dismissed.", "ErrorInvalidRequest")




def snooze(ctx: Ctx, event_id: str, calendar: Any) -> Response:
    params = action_body(ctx, "snoozeReminder", {"newReminderTime": DTZ})
    moment, _ = instant(params.get("newReminderTime"), "newReminderTime")
    key, doc, _ = _target(ctx, event_id, calendar)
    state = load_state(ctx)
    if not has_reminder(doc) or (state.get(key) or {}).get("dismissed"):
        raise bad_request("This event has no active reminder to snooze (isReminderOn is false, the reminder was "
                          "dismissed, or the meeting is cancelled or declined). Turn the reminder on first by "
                          "setting isReminderOn and reminderMinutesBeforeStart.", "ErrorInvalidRequest")
    state[key] = {"fireTime": moment.strftime("%Y-%m-%dT%H:%M:%SZ")}
    save_state(ctx, state)
    return ctx.respond(None, 200)




def dismiss(ctx: Ctx, event_id: str, calendar: Any) -> Response:
    action_body(ctx, "dismissReminder", {})
    key, doc, row = _target(ctx, event_id, calendar)
    state = load_state(ctx)
    if doc.get("type") == "singleInstance":
        if doc.get("isReminderOn"):
            changed = dict(doc, isReminderOn=False)
            ev.touch(changed, ctx.now)
            ev.store_event(ctx.store, row["mailbox_id"], row["calendar_id"], changed, row["id"], row["kind"],
                           row["series_master_id"], row["original_start"])
        if state.pop(key, None) is not None:
            save_state(ctx, state)
    elif has_reminder(doc):
        state[key] = {"dismissed": True}
        save_state(ctx, state)
    return ctx.respond(None, 200)


# -- keeping the table true -------------------------------------------------------------------------------------

def on_write(ctx: Ctx, kind: str, before: dict[str, Any] | None, after: dict[str, Any] | None,
             event_id: str) -> None:
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

