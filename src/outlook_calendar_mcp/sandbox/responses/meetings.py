"""HTTP handlers of the meeting actions: accept, tentativelyAccept, decline (with a new time proposed), forward."""

from __future__ import annotations

import copy
import datetime as dt
from collections.abc import Callable
from typing import Any

from starlette.responses import Response

from ..ctx import Ctx
from ..errors import GraphHTTPError, bad_request
from ..models import events as ev
from ..models import lookup
from ..models.availability import in_organization
from ..models.bodies import RECIPIENT, TIME_SLOT
from ..models.meetings import (
    NONE,
    ORGANIZER_CANNOT,
    RESPONSES,
    SUBJECT_PREFIX,
    Meeting,
    address_key,
    attendees_of,
    book_room,
    copy_row,
    load,
    mail,
    organizer_meeting,
    put_copy,
    save,
    shown_response,
)
from ..models.rows import CalendarRow
from ..models.store import graph_timestamp, occurrence_id, occurrence_start
from .actions import action_body, instant


def responder(action: str) -> Callable[[Ctx, str, Any], Response]:
    """The handler of ``POST .../events/{id}/<action>`` (accept, tentativelyAccept, decline)."""

    def handler(ctx: Ctx, event_id: str, calendar: CalendarRow | None) -> Response:
        return respond(ctx, event_id, calendar, action)

    return handler


def respond(ctx: Ctx, event_id: str, calendar: CalendarRow | None, action: str) -> Response:
    params = action_body(ctx, action, RESPONSE_PARAMS[action])
    doc, row, master = lookup.find_event(ctx, event_id, calendar)
    if doc.get("isOrganizer"):
        code, verb = ORGANIZER_CANNOT[action]
        raise GraphHTTPError(
            400,
            code,
            f"Your request can't be completed. You can't {verb} this meeting because you're the meeting organizer.",
        )
    if doc.get("isCancelled"):
        raise bad_request(
            "This meeting has been canceled by its organizer; there is nothing to respond to.",
            "ErrorMeetingIsCancelled",
        )
    send = params.get("sendResponse")
    send = True if send is None else send
    proposal = params.get("proposedNewTime")
    if proposal is not None:
        if doc.get("allowNewTimeProposals") is False:
            raise bad_request(
                "The organizer of this meeting doesn't allow new time proposals (allowNewTimeProposals "
                "is false): respond without proposedNewTime.",
                "ErrorProposedNewTimeNotAllowed",
            )
        if not send:
            raise bad_request(
                "proposedNewTime is sent to the organizer, so it requires sendResponse true.", "ErrorInvalidRequest"
            )
        proposal = _proposal(proposal)
    if send and doc.get("responseRequested") is False:
        raise bad_request(
            "The organizer didn't request responses for this meeting (responseRequested is false): "
            "respond with sendResponse false.",
            "ErrorInvalidRequest",
        )
    response = RESPONSES[action]
    stamp = graph_timestamp(ctx.now)
    status = {"response": response, "time": stamp}
    intended = doc.get("_organizerShowAs") or "busy"

    mine = copy.deepcopy(doc)
    mine.pop("_id", None)
    mine["responseStatus"] = status
    mine["showAs"] = shown_response(intended, response)
    ev.touch(mine, ctx.now)
    if row is None or row["kind"] == "exception":
        assert master is not None  # an occurrence or an exception has its series master
        lookup.store_exception(ctx, master, row, event_id, mine)
    else:
        save(ctx, row, mine)
        if row["kind"] == "seriesMaster":  # answering the series answers its exceptions
            for child in ctx.store.series_children(row["id"]):
                if child["kind"] == "exception":
                    child_doc = copy.deepcopy(load(ctx, child))
                    if not child_doc.get("isCancelled"):
                        child_doc["responseStatus"] = dict(status)
                        child_doc["showAs"] = shown_response(child_doc.get("_organizerShowAs") or intended, response)
                        save(ctx, child, child_doc)

    if send:
        subject = doc.get("subject") or ""
        m = organizer_meeting(ctx, doc)
        if m is not None:
            if row is not None and row["kind"] in ("singleInstance", "seriesMaster"):
                m.set_status(ctx.mailbox["address"], response, stamp, proposal, add=True)
                if row["kind"] == "seriesMaster":
                    for child in ctx.store.series_children(m.row["id"]):
                        if child["kind"] == "exception":
                            org_child = Meeting(m.mailbox, child, copy.deepcopy(load(ctx, child)), child["id"])
                            org_child.set_status(ctx.mailbox["address"], response, stamp)
                            org_child.save(ctx)
            else:  # one occurrence: recorded where the organizer has an exception
                when = (
                    dt.datetime.fromisoformat(row["original_start"] or "")
                    if row is not None
                    else occurrence_start(event_id)
                )
                exception = ctx.store.event_row(m.mailbox["id"], occurrence_id(m.row["id"], when))
                if exception is not None and exception["kind"] == "exception":
                    m = Meeting(m.mailbox, exception, copy.deepcopy(load(ctx, exception)), exception["id"])
                    m.set_status(ctx.mailbox["address"], response, stamp, proposal)
            m.save(ctx, touch=True)
        organizer = ((doc.get("organizer") or {}).get("emailAddress") or {}).get("address") or ""
        prefix = "New Time Proposed: " if proposal else SUBJECT_PREFIX[response]
        mail(
            ctx,
            ctx.mailbox["address"],
            organizer,
            "response",
            event_id,
            doc.get("iCalUId"),
            prefix + subject,
            params.get("comment"),
        )
    return ctx.respond(None, 202)


def _proposal(slot: dict[str, Any]) -> dict[str, Any]:
    out = {}
    moments = {}
    for key in ("start", "end"):
        moment, zone_name = instant(slot.get(key), f"proposedNewTime.{key}")
        wall = moment.astimezone(ev.zone_of(zone_name, f"proposedNewTime.{key}")).replace(tzinfo=None)
        out[key] = {"dateTime": ev.tz.format_graph_datetime(wall), "timeZone": zone_name}
        moments[key] = moment
    if moments["end"] <= moments["start"]:
        raise bad_request("proposedNewTime.end must be later than proposedNewTime.start.", "ErrorInvalidRequest")
    return out


def forward(ctx: Ctx, event_id: str, calendar: CalendarRow | None) -> Response:
    params = action_body(ctx, "forward", {"toRecipients": ("list", RECIPIENT), "comment": "string"})
    recipients = params.get("toRecipients") or []
    if not recipients:
        raise bad_request(
            'toRecipients is required: at least one recipient, e.g. [{"emailAddress": '
            '{"address": "dana@contoso.com"}}].',
            "ErrorInvalidRecipients",
        )
    for i, r in enumerate(recipients):
        address = ((r or {}).get("emailAddress") or {}).get("address")
        if not address or "@" not in address:
            raise bad_request(
                f"toRecipients[{i}].emailAddress.address is required: an SMTP address such as dana@contoso.com.",
                "ErrorInvalidRecipients",
            )
    doc, row, master = lookup.find_event(ctx, event_id, calendar)
    if row is None or row["kind"] == "exception":  # an occurrence forwards its series
        assert master is not None  # an occurrence or an exception has its series master
        row, doc = master, load(ctx, master)
    if doc.get("isCancelled"):
        raise bad_request("This meeting has been canceled; it can't be forwarded.", "ErrorMeetingIsCancelled")
    me = ctx.mailbox["address"]
    if doc.get("isOrganizer"):
        m = Meeting(ctx.mailbox, row, copy.deepcopy(doc), row["id"])
    else:
        m = organizer_meeting(ctx, doc) or Meeting(ctx.mailbox, row, copy.deepcopy(doc), row["id"])
    subject = doc.get("subject") or ""
    comment = params.get("comment")
    known = {address_key(a) for a in attendees_of(m.doc)} | {m.address.lower()}
    sent_to: list[str] = []
    new: list[tuple[Any, dict[str, Any] | None]] = []
    for r in recipients:
        address = r["emailAddress"]["address"]
        if address.lower() == me.lower() or address.lower() in {s.lower() for s in sent_to}:
            continue
        sent_to.append(address)
        mail(ctx, me, address, "forward", event_id, doc["iCalUId"], "FW: " + subject, comment)
        mailbox = in_organization(ctx, address)
        if address.lower() not in known:
            entry = {
                "type": "resource" if mailbox is not None and mailbox["kind"] == "room" else "required",
                "status": dict(NONE),
                "emailAddress": {"name": r["emailAddress"].get("name") or address, "address": address},
            }
            if m.doc.get("isOrganizer"):
                m.doc.setdefault("attendees", []).append(entry)
                m.dirty = True
            known.add(address.lower())
            new.append((mailbox, entry))
        elif mailbox is not None and mailbox["kind"] != "room" and copy_row(ctx, mailbox["id"], m.uid) is None:
            new.append((mailbox, None))  # on the list but without a copy: send one
    for mailbox, _ in new:
        if mailbox is None:
            continue
        if mailbox["kind"] == "room" and m.doc.get("isOrganizer"):
            book_room(ctx, m, mailbox, notify=True)
        elif mailbox["kind"] != "room":
            put_copy(ctx, m, mailbox)
    if m.doc.get("isOrganizer") and m.address.lower() != me.lower() and sent_to:
        mail(
            ctx,
            me,
            m.address,
            "forwardNotification",
            event_id,
            doc["iCalUId"],
            "Meeting Forward Notification: " + subject,
            "Forwarded to " + ", ".join(sent_to),
        )
    if m.doc.get("isOrganizer"):
        m.save(ctx, touch=True)
    return ctx.respond(None, 202)


RESPONSE_PARAMS: dict[str, dict[str, Any]] = {
    "accept": {"comment": "string", "sendResponse": "bool"},
    "tentativelyAccept": {"comment": "string", "sendResponse": "bool", "proposedNewTime": TIME_SLOT},
    "decline": {"comment": "string", "sendResponse": "bool", "proposedNewTime": TIME_SLOT},
}
