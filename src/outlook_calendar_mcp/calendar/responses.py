"""Answering a meeting (accept, tentatively accept, decline, with a proposed time) and the organizer's
actions on it (forward, cancel): the rules Graph enforces, checked first and said with the fix."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote
from zoneinfo import ZoneInfo

import anyio

from .. import timezones as tz
from ..graph import NotFound
from .errors import InputError
from .services import Services
from .times import parse_time
from .together import Pending, capture

__all__ = ["Answered", "answer", "cancel", "forward", "organizer_of"]


@dataclass
class Answered:
    """What an answer did: the event, whether the organizer is told, a proposed time (in ``zone``)."""

    doc: dict[str, Any]
    send_response: bool
    proposed: tuple[dt.datetime, dt.datetime] | None = None
    zone: ZoneInfo | None = None  # the zone the proposed time was read in
    note: str | None = None


def _path(svc: Services, mailbox: str | None, event: str) -> str:
    return f"{svc.mb(mailbox)}/events/{quote(svc.event_id(event), safe='')}"


async def _load(svc: Services, target: str, mailbox: str | None, fields: str) -> dict[str, Any]:
    """The event the action is about (its fields), or an error that says where to find a current one."""
    try:
        return await svc.graph.get(target, params={"$select": fields}) or {}
    except NotFound:
        whose = f"{mailbox}'s calendar" if mailbox else "your calendar"
        raise InputError(
            f"event: no such event in {whose} (it was deleted, or it is in another mailbox: pass "
            "mailbox); calendar_view or list_events show the current ones."
        ) from None


def organizer_of(doc: dict[str, Any]) -> str | None:
    """The organizer's address."""
    address: str | None = ((doc.get("organizer") or {}).get("emailAddress") or {}).get("address")
    return address


async def answer(
    svc: Services,
    action: str,
    event: str,
    mailbox: str | None,
    comment: str | None,
    send_response: bool,
    proposed_start: str | None = None,
    proposed_end: str | None = None,
    time_zone: str | None = None,
) -> Answered:
    """POST ``action`` (accept, tentativelyAccept, decline) for ``event``; a proposed time needs both ends."""
    target = _path(svc, mailbox, event)
    fields = "subject,organizer,isOrganizer,isCancelled,responseRequested,allowNewTimeProposals"
    # A proposed time is read in the mailbox's zone: read it together with the event (one wait, not two).
    loaded: Pending[dict[str, Any]] = Pending()
    zoned: Pending[tuple[str, ZoneInfo]] = Pending()
    async with anyio.create_task_group() as tg:
        if proposed_start or proposed_end:
            tg.start_soon(capture, zoned, svc.zone(mailbox, time_zone))
        await capture(loaded, _load(svc, target, mailbox, fields))
    doc = loaded.result()
    if doc.get("isOrganizer"):
        raise InputError(
            "event: you organize this meeting, so there is nothing to respond to; use update_event "
            "or cancel_event instead."
        )
    if doc.get("isCancelled"):
        raise InputError(
            "event: the organizer has cancelled this meeting, so there is nothing to respond to; "
            "delete_event removes it from your calendar."
        )
    if (proposed_start or proposed_end) and doc.get("allowNewTimeProposals") is False:
        raise InputError(
            "proposed_start: the organizer does not accept new time proposals for this meeting; "
            "respond without proposed_start/proposed_end (say it in comment instead)."
        )
    note = None
    if send_response and doc.get("responseRequested") is False:
        send_response = False  # Graph refuses to send what the organizer asked not to receive
        note = "The organizer asked for no responses, so yours was recorded but not sent."
    body: dict[str, Any] = {"sendResponse": send_response}
    if comment:
        body["comment"] = comment
    if proposed_start or proposed_end:
        if not proposed_start or not proposed_end:
            raise InputError("proposed_start and proposed_end: give both to propose a new time.")
        zone_name, zone = zoned.result()
        begin = parse_time(proposed_start, zone, "proposed_start")
        finish = parse_time(proposed_end, zone, "proposed_end")
        if finish <= begin:
            raise InputError(f"proposed_end: {proposed_end} is not after proposed_start {proposed_start}.")
        if not send_response:
            if note:
                raise InputError(
                    "proposed_start: the organizer asked for no responses, so a proposed time cannot "
                    "reach them; respond without proposed_start/proposed_end."
                )
            raise InputError("send_response: a proposed time reaches the organizer only with send_response=true.")
        body["proposedNewTime"] = {"start": tz.to_graph(begin, zone_name), "end": tz.to_graph(finish, zone_name)}
        proposed = (begin, finish)
        await svc.graph.post(f"{target}/{action}", json=body)
        return Answered(doc=doc, send_response=send_response, proposed=proposed, zone=zone, note=note)
    await svc.graph.post(f"{target}/{action}", json=body)
    return Answered(doc=doc, send_response=send_response, note=note)


async def forward(
    svc: Services, event: str, mailbox: str | None, to: list[str], comment: str | None
) -> tuple[dict[str, Any], list[str]]:
    """Forward ``event`` to ``to``; returns the event and everyone told (the organizer too, when not you)."""
    recipients = []
    for i, address in enumerate(to):
        if "@" not in address or " " in address.strip():
            raise InputError(f"to[{i}]: '{address}' is not an email address; use find_people to look it up.")
        recipients.append({"emailAddress": {"address": address.strip()}})
    target = _path(svc, mailbox, event)
    doc = await _load(svc, target, mailbox, "subject,organizer,isOrganizer,isCancelled")
    if doc.get("isCancelled"):
        raise InputError("event: this meeting has been cancelled, so it cannot be forwarded.")
    body: dict[str, Any] = {"toRecipients": recipients}
    if comment:
        body["comment"] = comment
    await svc.graph.post(f"{target}/forward", json=body)
    notified: list[str] = []
    for r in recipients:
        if r["emailAddress"]["address"].lower() not in {n.lower() for n in notified}:
            notified.append(r["emailAddress"]["address"])
    organizer = organizer_of(doc)
    if not doc.get("isOrganizer") and organizer and organizer.lower() not in {n.lower() for n in notified}:
        notified.append(organizer)  # Exchange tells the organizer who their meeting was forwarded to
    return doc, notified


async def cancel(svc: Services, event: str, mailbox: str | None, comment: str | None) -> dict[str, Any]:
    """Cancel a meeting you organize, with ``comment`` to every attendee; returns the event as it was."""
    target = _path(svc, mailbox, event)
    doc = await _load(svc, target, mailbox, "subject,attendees,isOrganizer,isCancelled")
    if not doc.get("isOrganizer"):
        raise InputError("event: only the organizer can cancel a meeting; use decline_event to say you won't come.")
    if doc.get("isCancelled"):
        raise InputError("event: this meeting is already cancelled.")
    await svc.graph.post(f"{target}/cancel", json={"comment": comment} if comment else {})
    return doc
