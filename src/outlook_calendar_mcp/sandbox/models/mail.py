"""Sending mail (``POST {mb}/sendMail``): the message checked as Graph checks it, then put in the outbox.

The sandbox delivers no mail: every recipient of a sent message gets one outbox row (kind ``message``,
the subject, the body text as ``comment``), so tests see who was told what, as for invitations.
"""

from __future__ import annotations

from typing import Any

from ..errors import GraphHTTPError
from .bodies import ITEM_BODY, RECIPIENT
from .session import Session
from .store import Store

__all__ = ["MESSAGE", "SEND_MAIL", "send_mail"]

MESSAGE = (
    "object",
    "message",
    {
        "subject": "string",
        "body": ITEM_BODY,
        "toRecipients": ("list", RECIPIENT),
        "ccRecipients": ("list", RECIPIENT),
        "bccRecipients": ("list", RECIPIENT),
        "replyTo": ("list", RECIPIENT),
        "importance": ("enum", {"low", "normal", "high"}),
    },
)
# sendMail's parameters (user: sendMail action): the message, and whether to keep a copy in Sent Items.
SEND_MAIL = {"message": MESSAGE, "saveToSentItems": "bool"}


def _invalid(message: str) -> GraphHTTPError:
    return GraphHTTPError(400, "ErrorInvalidRecipients", message)


def send_mail(env: Session, sender: str, params: dict[str, Any]) -> list[str]:
    """Record the message ``params`` (sendMail's checked parameters) for each recipient; who got it."""
    message = params.get("message")
    if not isinstance(message, dict):
        raise GraphHTTPError(400, "ErrorInvalidParameter", "The parameter 'message' is required: the message to send.")
    recipients: list[str] = []
    for kind in ("toRecipients", "ccRecipients", "bccRecipients"):
        for i, r in enumerate(message.get(kind) or []):
            address = ((r or {}).get("emailAddress") or {}).get("address")
            if not address or "@" not in address:
                raise _invalid(
                    f"{kind}[{i}].emailAddress.address is required: an SMTP address such as dana@contoso.com."
                )
            if address.lower() not in {a.lower() for a in recipients}:
                recipients.append(address)
    if not recipients:
        raise _invalid("At least one recipient is required, but none were found.")
    text = (message.get("body") or {}).get("content") or ""
    record(env.store, env, sender, recipients, message.get("subject") or "", text)
    return recipients


def record(store: Store, env: Session, sender: str, recipients: list[str], subject: str, text: str) -> None:
    for address in recipients:
        store.record_message(sender, address, "message", None, None, subject, text, env.now)
