"""HTTP handlers of reminders: reminderView, snoozeReminder, dismissReminder."""

from __future__ import annotations

import datetime as dt
from typing import Any

from starlette.responses import Response

from ..ctx import Ctx
from ..errors import GraphHTTPError, bad_request
from ..models import events as ev
from ..models import lookup, sharing
from ..models.bodies import DATETIME_TZ
from ..models.reminders import FUNCTION_PARAM, HORIZON, fire_time, has_reminder, load_state, save_state
from ..models.rows import CalendarRow
from .actions import action_body, instant, render_instant
from .common import window_instant


def function_params(ctx: Ctx, text: str, names: tuple[str, ...]) -> dict[str, str]:
    """Named function parameters from the path segment (quoted, bare or @alias), by canonical name."""
    canonical = {n.lower(): n for n in names}
    out: dict[str, str] = {}
    pos = 0
    while pos < len(text):
        m = FUNCTION_PARAM.match(text, pos)
        if not m or m.end() == pos:
            raise bad_request(
                f"The function parameters '({text})' are malformed: write them as "
                "reminderView(startDateTime='2026-11-23T00:00:00',endDateTime='2026-11-30T00:00:00').",
                "BadRequest",
            )
        name = canonical.get(m.group(1).lower())
        if name is None:
            raise bad_request(
                f"The parameter '{m.group(1)}' is not a parameter of the function; it takes {', '.join(names)}.",
                "BadRequest",
            )
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
            raise GraphHTTPError(
                400, "ErrorInvalidUrlQuery", f"The query parameter '{key}' is not supported by this function."
            )
    return out


def reminder_view(ctx: Ctx, text: str) -> Response:
    params = function_params(ctx, text, ("startDateTime", "endDateTime"))
    for name in ("startDateTime", "endDateTime"):
        if not params.get(name):
            raise bad_request(
                f"The function parameter {name} is required: reminderView(startDateTime='2026-11-23"
                "T00:00:00',endDateTime='2026-11-30T00:00:00').",
                "ErrorInvalidParameter",
            )
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
            doc = lookup.instance_doc(ctx, inst)
            entry = state.get(inst[ev.EVENT_ID]) or {}
            if has_reminder(doc) and not entry.get("dismissed"):
                found.append(_reminder(ctx, inst, doc, fire_time(doc, entry), got))
    found.sort(key=lambda f: f[:3])
    return ctx.respond(
        {"@odata.context": ctx.context_url("Collection(microsoft.graph.reminder)"), "value": [f[3] for f in found]}
    )


def _reminder(ctx: Ctx, inst: Any, doc: dict[str, Any], fire: dt.datetime, got: Any) -> tuple[Any, ...]:
    """(sort keys..., the Graph reminder) of one instance, as the caller may see its event."""
    shown = sharing.redact(ev.render(doc, inst[ev.EVENT_ID], ctx.view), got)
    return (
        fire,
        inst[ev.START_KEY],
        inst[ev.EVENT_ID],
        {
            "eventId": inst[ev.EVENT_ID],
            "changeKey": doc["changeKey"],
            "eventSubject": shown.get("subject"),
            "eventWebLink": shown.get("webLink"),
            "eventStartTime": shown["start"],
            "eventEndTime": shown["end"],
            "eventLocation": shown.get("location"),
            "reminderFireTime": render_instant(ctx, fire),
        },
    )


def _target(ctx: Ctx, event_id: str, calendar: CalendarRow | None) -> tuple[str, dict[str, Any], Any]:
    """(id whose reminder it is, its stored-form doc, its row or None) for an event id; a master's current one."""
    doc, row, _master = lookup.find_event(ctx, event_id, calendar)
    if row is None or row["kind"] != "seriesMaster":
        return event_id, doc, row
    state = load_state(ctx)
    for inst in lookup.window_instances(ctx, [], ctx.now, ctx.now + HORIZON, master_id=row["id"]):
        occurrence = lookup.instance_doc(ctx, inst)
        if has_reminder(occurrence) and not (state.get(inst[ev.EVENT_ID]) or {}).get("dismissed"):
            return inst[ev.EVENT_ID], occurrence, ctx.store.event_row(ctx.mailbox["id"], inst[ev.EVENT_ID])
    raise bad_request(
        "This series has no pending reminder: none of its coming occurrences has a reminder that is "
        "on and not dismissed.",
        "ErrorInvalidRequest",
    )


def snooze(ctx: Ctx, event_id: str, calendar: CalendarRow | None) -> Response:
    params = action_body(ctx, "snoozeReminder", {"newReminderTime": DATETIME_TZ})
    moment, _ = instant(params.get("newReminderTime"), "newReminderTime")
    key, doc, _ = _target(ctx, event_id, calendar)
    state = load_state(ctx)
    if not has_reminder(doc) or (state.get(key) or {}).get("dismissed"):
        raise bad_request(
            "This event has no active reminder to snooze (isReminderOn is false, the reminder was "
            "dismissed, or the meeting is cancelled or declined). Turn the reminder on first by "
            "setting isReminderOn and reminderMinutesBeforeStart.",
            "ErrorInvalidRequest",
        )
    state[key] = {"fireTime": moment.strftime("%Y-%m-%dT%H:%M:%SZ")}
    save_state(ctx, state)
    return ctx.respond(None, 200)


def dismiss(ctx: Ctx, event_id: str, calendar: CalendarRow | None) -> Response:
    action_body(ctx, "dismissReminder", {})
    key, doc, row = _target(ctx, event_id, calendar)
    state = load_state(ctx)
    if doc.get("type") == "singleInstance":
        if doc.get("isReminderOn"):
            changed = dict(doc, isReminderOn=False)
            ev.touch(changed, ctx.now)
            ev.store_event(
                ctx.store,
                row["mailbox_id"],
                row["calendar_id"],
                changed,
                row["id"],
                row["kind"],
                row["series_master_id"],
                row["original_start"],
            )
        if state.pop(key, None) is not None:
            save_state(ctx, state)
    elif has_reminder(doc):
        state[key] = {"dismissed": True}
        save_state(ctx, state)
    return ctx.respond(None, 200)
