"""What happens after an event is written, and what a read of one event expands: called explicitly.

The event handlers (:mod:`.api_events`, and the meeting actions that delete an event) call
:func:`after_write` once the event's own rows are stored, with ``kind`` one of ``create``,
``update``, ``delete`` and the document before and after the write (``None`` where there is
none). The effects run in this order, each inside the request's transaction:

1. meetings (:func:`.meetings.on_write`): an organizer's write reaches the attendees: their
   copies are created, updated or cancelled, rooms book themselves, messages go to the outbox;
2. attachments (:func:`.attachments.drop_orphans`): attachments and upload sessions of events
   that are gone are deleted;
3. reminders (:func:`.reminders.on_write`): snoozed or dismissed reminders of an event whose time
   or reminder changed are cleared.

Delta tombstones are not an effect: :meth:`.store.Store.delete_event_row` leaves one for every
row it deletes, so a delta query sees every removal, whoever made it.

A read of one event (``GET .../events/{id}``) calls :func:`expand_event`, in this order:
series (:func:`.series.on_get`: the /beta ``occurrenceId``, ``exceptionOccurrences`` and
``cancelledOccurrences``), then attachments (:func:`.attachments.expand_on_event`:
``$expand=attachments``).
"""

from __future__ import annotations

from typing import Any

from . import attachments, meetings, odata, reminders, series
from .ctx import Ctx


def after_write(ctx: Ctx, kind: str, before: dict[str, Any] | None, after: dict[str, Any] | None,
                event_id: str) -> None:
    """The effects of one event write, in the documented order."""
    meetings.on_write(ctx, kind, before, after, event_id)
    attachments.drop_orphans(ctx, kind, before, after, event_id)
    reminders.on_write(ctx, kind, before, after, event_id)


def expand_event(ctx: Ctx, event_id: str, doc: dict[str, Any], body: dict[str, Any], query: odata.Query) -> None:
    """Add to ``body`` (one rendered event) what the request asked to expand, in the documented order."""
    series.on_get(ctx, event_id, doc, body, query)
    attachments.expand_on_event(ctx, event_id, doc, body, query)
