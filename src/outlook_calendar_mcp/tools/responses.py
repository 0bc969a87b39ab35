"""Meeting responses and organizer actions: accept, tentatively accept, decline, forward, cancel."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import quote

from pydantic import Field

from .. import timezones as tz
from ..calendar import InputError, Services
from ..calendar.times import parse_time
from ..graph import NotFound
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


class Cancelled(Compact):
    event: str
    subject: str | None = None
    notified: list[str] | None = None


def register(box: Toolbox, svc: Services, enabled: Policy | None = None) -> None:
    """Add this module's tools to ``box``."""
    g = svc.graph

    def path(mailbox: str | None, event: str) -> str:
        return f"{svc.mb(mailbox)}/events/{quote(svc.event_id(event), safe='')}"

    async def load(target: str, mailbox: str | None, fields: str) -> dict:
        """The event the action is about (its fields), or an error that says where to find a current one."""
        try:
            return await g.get(target, params={"$select": fields}) or {}
        except NotFound:
            whose = f"{mailbox}'s calendar" if mailbox else "your calendar"
            raise InputError(f"event: no such event in {whose} (it was deleted, or it is in another mailbox: pass "
                             "mailbox); calendar_view or list_events show the current ones.") from None

    async def respond(action: str, label: str, event: str, mailbox: str | None, comment: str | None,
                      send_response: bool, proposed_start: str | None = None, proposed_end: str | None = None,
                      time_zone: str | None = None) -> Responded:
        target = path(mailbox, event)
        doc = await load(target, mailbox, "subject,organizer,isOrganizer,isCancelled,responseRequested,"
                                          "allowNewTimeProposals")
        if doc.get("isOrganizer"):
            raise InputError("event: you organize this meeting, so there is nothing to respond to; use update_event "
                             "or cancel_event instead.")
        if doc.get("isCancelled"):
            raise InputError("event: the organizer has cancelled this meeting, so there is nothing to respond to; "
                             "delete_event removes it from your calendar.")
        if (proposed_start or proposed_end) and doc.get("allowNewTimeProposals") is False:
            raise InputError("proposed_start: the organizer does not accept new time proposals for this meeting; "
                             "respond without proposed_start/proposed_end (say it in comment instead).")
        note = None
        if send_response and doc.get("responseRequested") is False:
            send_response = False      # Graph refuses to send what the organizer asked not to receive
            note = "The organizer asked for no responses, so yours was recorded but not sent."
        body: dict = {"sendResponse": send_response}
        if comment:
            body["comment"] = comment
        shown_start = shown_end = None
        if proposed_start or proposed_end:
            if not proposed_start or not proposed_end:
                raise InputError("proposed_start and proposed_end: give both to propose a new time.")
            zone_name, zone = await svc.zone(mailbox, time_zone)
            begin = parse_time(proposed_start, zone, "proposed_start")
            finish = parse_time(proposed_end, zone, "proposed_end")
            if finish <= begin:
                raise InputError(f"proposed_end: {proposed_end} is not after proposed_start {proposed_start}.")
            if not send_response:
                if note:
                    raise InputError("proposed_start: the organizer asked for no responses, so a proposed time cannot "
                                     "reach them; respond without proposed_start/proposed_end.")
                raise InputError("send_response: a proposed time reaches the organizer only with send_response=true.")
            body["proposedNewTime"] = {"start": tz.to_graph(begin, zone_name), "end": tz.to_graph(finish, zone_name)}
            shown_start, shown_end = tz.format_local(begin, zone), tz.format_local(finish, zone)
        await g.post(f"{target}/{action}", json=body)
        organizer = ((doc.get("organizer") or {}).get("emailAddress") or {}).get("address")
        return Responded(event=svc.handles.handle("event", svc.event_id(event)), subject=doc.get("subject"),
                         response=label, proposed_start=shown_start, proposed_end=shown_end,
                         notified=[organizer] if send_response and organizer else None, note=note)

    @tool(box, writes(destructive=False, idempotent=True, reaches_others=True), enabled=enabled, name="accept_event")
    async def accept_event(event: EventRef, comment: Comment = None, send_response: SendResponse = True,
                           mailbox: Mailbox = None) -> Responded:
        """Use to accept a meeting invitation (the organizer is told unless send_response is false). Returns the response sent."""
        return await respond("accept", "accepted", event, mailbox, comment, send_response)

    @tool(box, writes(destructive=False, idempotent=True, reaches_others=True), enabled=enabled, name="tentatively_accept_event")
    async def tentatively_accept_event(event: EventRef, comment: Comment = None, send_response: SendResponse = True,
                                       proposed_start: Proposed = None, proposed_end: Proposed = None,
                                       time_zone: TimeZoneArg = None, mailbox: Mailbox = None) -> Responded:
        """Use to answer 'maybe' to an invitation, optionally proposing another time. Returns the response sent."""
        return await respond("tentativelyAccept", "tentativelyAccepted", event, mailbox, comment, send_response,
                             proposed_start, proposed_end, time_zone)

    @tool(box, writes(destructive=True, idempotent=True, reaches_others=True), enabled=enabled, name="decline_event")
    async def decline_event(event: EventRef, comment: Comment = None, send_response: SendResponse = True,
                            proposed_start: Proposed = None, proposed_end: Proposed = None,
                            time_zone: TimeZoneArg = None, mailbox: Mailbox = None) -> Responded:
        """Use to decline an invitation, optionally proposing another time. Returns the response sent."""
        return await respond("decline", "declined", event, mailbox, comment, send_response,
                             proposed_start, proposed_end, time_zone)

    @tool(box, writes(destructive=False, idempotent=False, reaches_others=True), enabled=enabled, name="forward_event")
    async def forward_event(event: EventRef,
                            to: Annotated[list[str], Field(min_length=1, description="Addresses to forward it to")],
                            comment: Comment = None, mailbox: Mailbox = None) -> Forwarded:
        """Use to forward a meeting invitation to other people (the organizer is told). Returns who was notified."""
        recipients = []
        for i, address in enumerate(to):
            if "@" not in address or " " in address.strip():
                raise InputError(f"to[{i}]: '{address}' is not an email address; use find_people to look it up.")
            recipients.append({"emailAddress": {"address": address.strip()}})
        target = path(mailbox, event)
        doc = await load(target, mailbox, "subject,organizer,isOrganizer,isCancelled")
        if doc.get("isCancelled"):
            raise InputError("event: this meeting has been cancelled, so it cannot be forwarded.")
        body: dict = {"toRecipients": recipients}
        if comment:
            body["comment"] = comment
        await g.post(f"{target}/forward", json=body)
        notified: list[str] = []
        for r in recipients:
            if r["emailAddress"]["address"].lower() not in {n.lower() for n in notified}:
                notified.append(r["emailAddress"]["address"])
        organizer = ((doc.get("organizer") or {}).get("emailAddress") or {}).get("address")
        if not doc.get("isOrganizer") and organizer and organizer.lower() not in {n.lower() for n in notified}:
            notified.append(organizer)   # Exchange tells the organizer who their meeting was forwarded to
        return Forwarded(event=svc.handles.handle("event", svc.event_id(event)), subject=doc.get("subject"),
                         notified=notified)

    @tool(box, writes(destructive=True, idempotent=True, reaches_others=True), enabled=enabled, name="cancel_event")
    async def cancel_event(event: EventRef, comment: Comment = None, mailbox: Mailbox = None) -> Cancelled:
        """Use as the organizer to cancel a meeting with a message to every attendee. Returns who was told."""
        target = path(mailbox, event)
        doc = await load(target, mailbox, "subject,attendees,isOrganizer,isCancelled")
        if not doc.get("isOrganizer"):
            raise InputError("event: only the organizer can cancel a meeting; use decline_event to say you won't come.")
        if doc.get("isCancelled"):
            raise InputError("event: this meeting is already cancelled.")
        body = {"comment": comment} if comment else {}
        await g.post(f"{target}/cancel", json=body)
        attendees = [a["emailAddress"]["address"] for a in doc.get("attendees") or []]
        return Cancelled(event=svc.handles.handle("event", svc.event_id(event)), subject=doc.get("subject"),
                         notified=attendees or None)

