"""Meeting responses and organizer actions: accept, tentatively accept, decline, forward, cancel.

The rules (what the organizer allows, who is told) live in :mod:`..calendar.responses`."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from .. import timezones as tz
from ..calendar import Services
from ..calendar.messages import message_attendees as message_attendees_of
from ..calendar.responses import answer, cancel, forward, organizer_of
from ..calendar.targets import target
from ..views import Compact
from .common import EventRef, Mailbox, TimeZoneArg, Toolbox, tool, writes
from .policy import Policy

Comment = Annotated[str | None, Field(max_length=4000)]  # a message that goes with the answer
SendResponse = Annotated[bool, Field(strict=True)]  # false: answer without telling the organizer
Proposed = Annotated[str | None, Field(description="ISO 8601")]  # a proposed new time needs both ends


class Responded(Compact):
    event: str
    subject: str | None = None
    response: str
    proposed_start: str | None = None
    proposed_end: str | None = None
    notified: list[str] | None = None
    note: str | None = None


class Forwarded(Compact):
    event: str
    subject: str | None = None
    notified: list[str]


class Messaged(Compact):
    event: str
    subject: str
    notified: list[str]


class Cancelled(Compact):
    event: str
    subject: str | None = None
    notified: list[str] | None = None


def register(box: Toolbox, svc: Services, enabled: Policy | None = None) -> None:
    """Add this module's tools to ``box``."""

    async def respond(
        action: str,
        label: str,
        event: str,
        mailbox: str | None,
        comment: str | None,
        send_response: bool,
        proposed_start: str | None = None,
        proposed_end: str | None = None,
        time_zone: str | None = None,
    ) -> Responded:
        done = await answer(
            svc, action, event, mailbox, comment, send_response, proposed_start, proposed_end, time_zone
        )
        shown_start = shown_end = None
        if done.proposed is not None and done.zone is not None:
            shown_start, shown_end = (tz.format_local(moment, done.zone) for moment in done.proposed)
        organizer = organizer_of(done.doc)
        return Responded(
            event=await svc.handles.minted("event", svc.event_id(event)),
            subject=done.doc.get("subject"),
            response=label,
            proposed_start=shown_start,
            proposed_end=shown_end,
            notified=[organizer] if done.send_response and organizer else None,
            note=done.note,
        )

    @tool(box, writes(destructive=False, idempotent=True, reaches_others=True), enabled=enabled, name="accept_event")
    async def accept_event(
        event: EventRef, comment: Comment = None, send_response: SendResponse = True, mailbox: Mailbox = None
    ) -> Responded:
        """Use to accept a meeting invitation (the organizer is told unless send_response is false). Returns the response sent."""
        return await respond("accept", "accepted", event, mailbox, comment, send_response)

    @tool(
        box,
        writes(destructive=False, idempotent=True, reaches_others=True),
        enabled=enabled,
        name="tentatively_accept_event",
    )
    async def tentatively_accept_event(
        event: EventRef,
        comment: Comment = None,
        send_response: SendResponse = True,
        proposed_start: Proposed = None,
        proposed_end: Proposed = None,
        time_zone: TimeZoneArg = None,
        mailbox: Mailbox = None,
    ) -> Responded:
        """Use to answer 'maybe' to an invitation, optionally proposing another time. Returns the response sent."""
        return await respond(
            "tentativelyAccept",
            "tentativelyAccepted",
            event,
            mailbox,
            comment,
            send_response,
            proposed_start,
            proposed_end,
            time_zone,
        )

    @tool(box, writes(destructive=True, idempotent=True, reaches_others=True), enabled=enabled, name="decline_event")
    async def decline_event(
        event: EventRef,
        comment: Comment = None,
        send_response: SendResponse = True,
        proposed_start: Proposed = None,
        proposed_end: Proposed = None,
        time_zone: TimeZoneArg = None,
        mailbox: Mailbox = None,
    ) -> Responded:
        """Use to decline an invitation, optionally proposing another time. Returns the response sent."""
        return await respond(
            "decline", "declined", event, mailbox, comment, send_response, proposed_start, proposed_end, time_zone
        )

    @tool(box, writes(destructive=False, idempotent=False, reaches_others=True), enabled=enabled, name="forward_event")
    async def forward_event(
        event: EventRef,
        to: Annotated[list[str], Field(min_length=1, description="Addresses to forward it to")],
        comment: Comment = None,
        mailbox: Mailbox = None,
    ) -> Forwarded:
        """Use to forward a meeting invitation to other people (the organizer is told). Returns who was notified."""
        doc, notified = await forward(svc, event, mailbox, to, comment)
        return Forwarded(
            event=await svc.handles.minted("event", svc.event_id(event)), subject=doc.get("subject"), notified=notified
        )

    @tool(
        box, writes(destructive=False, idempotent=False, reaches_others=True), enabled=enabled, name="message_attendees"
    )
    async def message_attendees(
        event: EventRef,
        text: Annotated[str, Field(min_length=1, max_length=4000, description="The message")],
        subject: Annotated[str | None, Field(max_length=255)] = None,  # default: the event's subject and time
        mailbox: Mailbox = None,
    ) -> Messaged:
        """Use to email a short note to everyone on a meeting ('running late'). Returns who got it."""
        t = await target(svc, mailbox, None)
        sent = await message_attendees_of(svc, t, svc.event_id(event), event, text, subject)
        return Messaged(
            event=await svc.handles.minted("event", svc.event_id(event)), subject=sent.subject, notified=sent.to
        )

    @tool(box, writes(destructive=True, idempotent=True, reaches_others=True), enabled=enabled, name="cancel_event")
    async def cancel_event(event: EventRef, comment: Comment = None, mailbox: Mailbox = None) -> Cancelled:
        """Use as the organizer to cancel a meeting with a message to every attendee. Returns who was told."""
        doc = await cancel(svc, event, mailbox, comment)
        attendees = [a["emailAddress"]["address"] for a in doc.get("attendees") or []]
        return Cancelled(
            event=await svc.handles.minted("event", svc.event_id(event)),
            subject=doc.get("subject"),
            notified=attendees or None,
        )
