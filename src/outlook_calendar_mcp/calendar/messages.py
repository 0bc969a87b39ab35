"""Mailing the people of a meeting ("running 10 minutes late"), through Graph's ``sendMail``.

Sending mail needs the optional delegated permission Mail.Send, which the server asks for only when
``OUTLOOK_MCP_SEND_MAIL`` is on (or Mail.Send is among ``OUTLOOK_MCP_SCOPES``): without it, and when
Graph answers 403 all the same (consent withdrawn, an app without the permission), the operation
refuses and says how to grant it. Who gets the message: everyone on the meeting but the sender, rooms
and other resources left out; the organizer too when the sender is an attendee.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import anyio

from .. import timezones as tz
from ..graph import Forbidden
from .errors import InputError
from .events import event_path
from .services import Services
from .targets import Target, explain_access
from .together import Pending, capture, zone_and

__all__ = ["GRANT_MAIL_SEND", "Sent", "message_attendees", "recipients_of"]

GRANT_MAIL_SEND = (
    "Sending mail needs the optional Mail.Send permission, which this server was not given. Ask the user "
    "to turn it on: set OUTLOOK_MCP_SEND_MAIL=1 (or add Mail.Send to OUTLOOK_MCP_SCOPES), run "
    "`outlook-calendar-mcp auth login` again to consent, and restart the server."
)


@dataclass
class Sent:
    doc: dict[str, Any]  # the event (subject, start, attendees)
    subject: str
    to: list[str]


def recipients_of(doc: dict[str, Any], me: str | None) -> list[str]:
    """Everyone on the meeting but ``me`` (the sender) and resources; the organizer when not ``me``."""
    people = [
        (a.get("emailAddress") or {}).get("address") or ""
        for a in doc.get("attendees") or []
        if a.get("type") != "resource"
    ]
    if not doc.get("isOrganizer"):
        people.insert(0, ((doc.get("organizer") or {}).get("emailAddress") or {}).get("address") or "")
    mine = (me or "").lower()
    return list(dict.fromkeys(p for p in people if p and p.lower() != mine))


async def message_attendees(
    svc: Services, t: Target, event_id: str, event: str, text: str, subject: str | None
) -> Sent:
    """Mail ``text`` to the people of the meeting ``event`` (its time said in the calendar's zone). The event, the
    sender's address and the zone are read together: one wait, then the mail."""
    if not svc.settings.may_send_mail:
        raise InputError(GRANT_MAIL_SEND)
    if not text.strip():
        raise InputError("text: give the message to send, e.g. 'Running 10 minutes late, sorry.'")

    async def reads() -> tuple[Pending[dict[str, Any]], Pending[dict[str, Any] | None]]:
        meeting: Pending[dict[str, Any]] = Pending()
        sender: Pending[dict[str, Any] | None] = Pending()
        async with anyio.create_task_group() as tg:
            if t.base == "me":
                tg.start_soon(capture, sender, svc.graph.get(t.base, params={"$select": "mail,userPrincipalName"}))
            fields = "subject,start,end,attendees,organizer,isOrganizer"
            await capture(meeting, svc.graph.get(event_path(t, event_id), params={"$select": fields}))
        return meeting, sender

    (_, zone), found = await zone_and(svc, t, None, reads)
    meeting, sender = found.result()
    with explain_access(t, writing=False):
        doc = meeting.result()
    me = None if t.base == "me" else t.owner
    if me is None:
        me = (sender.result() or {}).get("mail")
    to = recipients_of(doc, me)
    if not to:
        raise InputError(f"event: {event} has nobody else on it to message (no attendees, no other organizer).")
    when = tz.format_local(tz.from_graph(doc["start"], "start"), zone)[:16].replace("T", " ")
    title = subject.strip() if subject and subject.strip() else f"{doc.get('subject') or 'Our meeting'} ({when})"
    body = {
        "message": {
            "subject": title,
            "body": {"contentType": "text", "content": text.strip()},
            "toRecipients": [{"emailAddress": {"address": a}} for a in to],
        },
        "saveToSentItems": True,
    }
    try:
        await svc.graph.post(f"{t.base}/sendMail", json=body)
    except Forbidden as e:
        raise InputError(f"{GRANT_MAIL_SEND} Graph said: {e.message}") from None
    return Sent(doc, title, to)
