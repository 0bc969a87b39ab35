"""Attachments as stored: the event they belong to (Owner), MIME of item attachments, cleaning up after writes.

The endpoints, rendering and upload sessions are :mod:`..responses.attachments`.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import email.message
import email.policy
import mimetypes
from typing import Any

from ... import timezones as tz
from ..errors import GraphHTTPError, bad_request, not_found
from . import events as ev
from . import lookup
from .rows import CalendarRow
from .session import Session
from .store import new_item_id, occurrence_start


class Owner:
    """An event and where its attachments live: its own rows, or (for an untouched occurrence) its master's."""

    def __init__(self, ctx: Session, event_id: str, calendar: CalendarRow | None):
        if ctx.mailbox["kind"] == "group":
            raise bad_request("Events in group calendars do not support attachments.")
        self.ctx, self.event_id = ctx, event_id
        self.doc, self.row, self.master = lookup.find_event(ctx, event_id, calendar)
        own = self._count(event_id)
        inherits = self.doc.get("type") in ("occurrence", "exception") and not own and self.doc.get("hasAttachments")
        self.source = self.master["id"] if inherits and self.master is not None else event_id

    def _count(self, event_id: str) -> int:
        return self.ctx.store.count_attachments(self.ctx.mailbox["id"], event_id)

    def rows(self, content: bool = False) -> list[Any]:
        return self.ctx.store.attachments_of(self.ctx.mailbox["id"], self.source, content=content)

    def find(self, attachment_id: str, content: bool = False) -> Any:
        if not _looks_like_id(attachment_id):
            raise GraphHTTPError(400, "ErrorInvalidIdMalformed", "Id is malformed.")
        row = self.ctx.store.attachment(attachment_id, self.ctx.mailbox["id"], self.source, content=content)
        if row is None:
            raise not_found()
        return row

    def take_over(self) -> None:
        """Before a change to an occurrence that shows its master's attachments: give it copies of its own."""
        if self.source == self.event_id:
            return
        for r in self.rows(content=True):
            self.add(
                r["kind"],
                r["name"],
                r["content_type"],
                r["size"],
                r["is_inline"],
                r["content"],
                r["doc"],
                r["last_modified"],
            )
        self.source = self.event_id

    def add(
        self,
        kind: str,
        name: str,
        content_type: str | None,
        size: int,
        is_inline: Any,
        content: bytes | None,
        doc: str,
        last_modified: str | None = None,
    ) -> str:
        """A new attachment of this event (``doc``: the JSON of the rest); its id."""
        attachment_id = new_item_id(b"A")
        self.ctx.store.add_attachment(
            attachment_id,
            self.ctx.mailbox["id"],
            self.event_id,
            kind,
            name,
            content_type,
            size,
            bool(is_inline),
            last_modified or stamp(self.ctx.now),
            content,
            doc,
        )
        return attachment_id

    def changed(self) -> None:
        """hasAttachments, lastModifiedDateTime and changeKey after an attachment came or went."""
        ctx, doc = self.ctx, dict(self.doc)
        doc["hasAttachments"] = self._count(self.event_id) > 0
        ev.touch(doc, ctx.now)
        if self.row is None:  # a changed occurrence is an exception
            assert self.master is not None  # an occurrence has its series master
            doc["type"] = "exception"
            original = occurrence_start(self.event_id).isoformat()
            ev.store_event(
                ctx.store,
                ctx.mailbox["id"],
                self.master["calendar_id"],
                doc,
                self.event_id,
                "exception",
                self.master["id"],
                original,
            )
        else:
            r = self.row
            ev.store_event(
                ctx.store,
                r["mailbox_id"],
                r["calendar_id"],
                doc,
                r["id"],
                r["kind"],
                r["series_master_id"],
                r["original_start"],
            )

    def path(self) -> str:
        return f"users('{self.ctx.mailbox['id']}')/events('{self.event_id}')"


def _looks_like_id(value: str) -> bool:
    try:
        return len(base64.urlsafe_b64decode(value.encode())) > 8
    except (ValueError, binascii.Error):
        return False


def stamp(moment: dt.datetime) -> str:
    """lastModifiedDateTime of an attachment as Graph writes it: UTC, seconds, Z."""
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_stamp(text: str) -> dt.datetime:
    return dt.datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=dt.UTC)


def guess_type(name: str) -> str:
    return mimetypes.guess_type(name)[0] or "application/octet-stream"


def item_mime(item: dict[str, Any]) -> tuple[bytes, str]:
    """The raw contents of an attached item, as Graph's $value gives them: iCalendar, vCard or RFC 822."""
    kind = item["@odata.type"].lstrip("#").lower()
    if kind == "microsoft.graph.event":
        lines = [
            "BEGIN:VCALENDAR",
            "VERSION:2.0",
            "PRODID:-//outlook-calendar-mcp//sandbox//EN",
            "METHOD:PUBLISH",
            "BEGIN:VEVENT",
            f"SUMMARY:{_ical_text(item.get('subject') or '')}",
        ]
        for key, prop in (("start", "DTSTART"), ("end", "DTEND")):
            if item.get(key):
                wall, zone, _ = ev.wall_time(item[key], key)
                lines.append(f"{prop}:{tz.to_utc(wall, zone).strftime('%Y%m%dT%H%M%SZ')}")
        if (item.get("location") or {}).get("displayName"):
            lines.append(f"LOCATION:{_ical_text(item['location']['displayName'])}")
        if (item.get("body") or {}).get("content"):
            lines.append(f"DESCRIPTION:{_ical_text(ev.body_preview(item['body']))}")
        lines += ["END:VEVENT", "END:VCALENDAR"]
        return ("\r\n".join(lines) + "\r\n").encode(), "text/calendar"
    if kind == "microsoft.graph.contact":
        name = item.get("displayName") or " ".join(filter(None, (item.get("givenName"), item.get("surname"))))
        lines = [
            "BEGIN:VCARD",
            "VERSION:3.0",
            f"FN:{_ical_text(name)}",
            f"N:{_ical_text(item.get('surname') or '')};{_ical_text(item.get('givenName') or '')};;;",
        ]
        lines += [f"EMAIL;TYPE=INTERNET:{e.get('address')}" for e in item.get("emailAddresses") or []]
        lines += [f"TEL;TYPE=WORK:{p}" for p in item.get("businessPhones") or []]
        lines += [
            f"{prop}:{_ical_text(item[key])}"
            for key, prop in (("mobilePhone", "TEL;TYPE=CELL"), ("companyName", "ORG"), ("jobTitle", "TITLE"))
            if item.get(key)
        ]
        lines.append("END:VCARD")
        return ("\r\n".join(lines) + "\r\n").encode(), "text/vcard"
    msg = email.message.EmailMessage(policy=email.policy.SMTP)
    msg["Subject"] = item.get("subject") or ""
    sender = (item.get("from") or {}).get("emailAddress")
    if sender:
        msg["From"] = sender.get("address") or ""
    for key, header in (("toRecipients", "To"), ("ccRecipients", "Cc")):
        addresses = [r["emailAddress"].get("address") for r in item.get(key) or [] if r.get("emailAddress")]
        if addresses:
            msg[header] = ", ".join(a for a in addresses if a)
    body = item.get("body") or {}
    msg.set_content(body.get("content") or "", subtype="html" if body.get("contentType") == "html" else "plain")
    return msg.as_bytes(), "message/rfc822"


def _ical_text(text: str) -> str:
    return text.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,").replace("\n", "\\n")


def drop_orphans(ctx: Session, kind: str, before: Any, after: Any, event_id: str) -> None:
    """After a write (:mod:`.effects`): attachments and upload sessions of events that are gone (deleted, cancelled occurrences)."""
    if kind == "create":
        return
    ctx.store.drop_orphan_attachments(ctx.mailbox["id"])


TYPES = {"file": "fileAttachment", "item": "itemAttachment", "reference": "referenceAttachment"}


REFERENCE_PROPERTIES = ("sourceUrl", "providerType", "thumbnailUrl", "previewUrl", "permission", "isFolder")
