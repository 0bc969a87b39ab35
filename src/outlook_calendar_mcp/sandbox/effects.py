"""What happens after an event is written, called explicitly by the handlers that write events, in one order.

The event handlers (:mod:`.responses.events`, and the meeting actions that delete an event) call
:func:`after_write` once the event's own rows are stored, with ``kind`` one of ``create``,
``update``, ``delete`` and the document before and after the write (``None`` where there is
none). The effects run in this order, each inside the request's transaction:

1. meetings (:func:`.models.meeting_writes.on_write`): an organizer's write reaches the attendees: their
   copies are created, updated or cancelled, rooms book themselves, messages go to the outbox;
2. attachments (:func:`.models.attachments.drop_orphans`): attachments and upload sessions of events
   that are gone are deleted;
3. reminders (:func:`.models.reminders.on_write`): snoozed or dismissed reminders of an event whose time
   or reminder changed are cleared.

Delta tombstones are not an effect: :meth:`.models.store.Store.delete_event_row` leaves one for every
row it deletes, so a delta query sees every removal, whoever made it.

What a read of one event expands is not an effect: :func:`.responses.events.get_event` adds it.
"""

from __future__ import annotations

from typing import Any

from .models import attachments, meeting_writes, reminders
from .models.session import Session


def after_write(
    ctx: Session, kind: str, before: dict[str, Any] | None, after: dict[str, Any] | None, event_id: str
) -> None:
    """The effects of one event write, in the documented order."""
    meeting_writes.on_write(ctx, kind, before, after, event_id)
    attachments.drop_orphans(ctx, kind, before, after, event_id)
    reminders.on_write(ctx, kind, before, after, event_id)
