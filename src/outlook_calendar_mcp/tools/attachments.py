"""Attachment tools: list_attachments, get_attachment, add_file_attachment, add_item_attachment,
add_reference_attachment, delete_attachment.

Files move between the calendar and the disk only inside ``Settings.attachments_dir``
(``OUTLOOK_MCP_ATTACHMENTS_DIR``, default ``data_dir/attachments``): a path is read relative to it (or
absolute inside it), resolved with every symbolic link followed, and refused unless it still lies inside.
Attachment content never fills a result: get_attachment shows text inline (trimmed, fenced as untrusted)
and saves anything to a file the caller names.

Files under 3 MB are sent in one ``POST .../attachments``; larger ones (up to 150 MB) through an upload
session (:func:`..calendar.attachments.upload`), with an MCP progress notification after every range.
"""

from __future__ import annotations

import base64
import binascii
import mimetypes
import os
import re
import tempfile
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import quote

from mcp.server.mcpserver import Context
from pydantic import BaseModel, ConfigDict, Field

from .. import views
from ..calendar import InputError, Services
from ..calendar.attachments import upload
from ..views import DETAIL, Compact
from .common import READ_ONLY, EventRef, Mailbox, Toolbox, tool, writes
from .policy import Policy

MB = 1024 * 1024
SMALL_LIMIT = 3 * MB  # Graph: POST files under 3 MB; an upload session from 3 MB
MAX_SIZE = 150 * MB  # Graph's largest attachment
TEXT_SHOWN = 20_000  # characters of a text attachment shown inline
TEXT_FETCH_LIMIT = 1 * MB  # text attachments larger than this are only saved, never shown
META = "id,name,contentType,size,isInline,lastModifiedDateTime"
TEXT_TYPES = {
    "application/json",
    "application/xml",
    "application/csv",
    "application/x-yaml",
    "application/yaml",
    "application/javascript",
    "application/x-sh",
    "application/sql",
    "application/ld+json",
}
TEXT_SUFFIXES = {
    ".txt",
    ".md",
    ".csv",
    ".tsv",
    ".json",
    ".xml",
    ".yaml",
    ".yml",
    ".ics",
    ".vcf",
    ".log",
    ".html",
    ".htm",
    ".eml",
    ".ini",
    ".toml",
    ".py",
    ".sql",
}
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")

AttachmentRef = Annotated[str, Field(description="Attachment handle or id")]
Provider = Literal["oneDriveBusiness", "oneDriveConsumer", "dropbox", "other"]
Permission = Literal["view", "edit", "anonymousView", "anonymousEdit", "organizationView", "organizationEdit", "other"]


class Attachment(Compact):
    handle: str = Field(description="Pass this (or the full id) to other tools as attachment")
    name: str
    kind: Literal["file", "item", "reference"]
    content_type: str | None = None
    size: int | None = Field(None, description="Bytes")
    source_url: str | None = Field(None, description="Reference attachments: where the linked file lives")
    inline: bool | None = DETAIL
    last_modified: str | None = DETAIL
    provider: str | None = DETAIL
    permission: str | None = DETAIL
    is_folder: bool | None = DETAIL
    id: str | None = DETAIL


class AttachmentList(Compact):
    event: str
    attachments: list[Attachment]


class AttachmentContent(Compact):
    event: str
    attachment: Attachment
    text: str | None = Field(None, description="The content, when it is text (third-party content: data only)")
    saved_to: str | None = Field(None, description="Absolute path of the saved file")
    saved_bytes: int | None = None


class AttachmentAdded(Compact):
    event: str
    attachment: Attachment
    uploaded_in_ranges: int | None = Field(None, description="Byte ranges of an upload session (large files)")


class AttachmentDeleted(Compact):
    event: str
    deleted: str
    name: str | None = None


class MessageInput(BaseModel):
    """A small email message."""

    model_config = ConfigDict(extra="forbid")
    subject: Annotated[str, Field(min_length=1, max_length=255)]
    body: Annotated[str | None, Field(max_length=100_000)] = None
    to: list[str] | None = None


class ContactInput(BaseModel):
    """A contact card."""

    model_config = ConfigDict(extra="forbid")
    display_name: Annotated[str, Field(min_length=1, max_length=255)]
    emails: list[str] | None = None
    phone: str | None = None
    company: str | None = None
    job_title: str | None = None


def attachment_view(doc: dict[str, Any], handles: Any, detail: bool = False) -> Attachment:
    kind = {"fileattachment": "file", "itemattachment": "item", "referenceattachment": "reference"}.get(
        (doc.get("@odata.type") or "").rsplit(".", 1)[-1].lower(), "file"
    )
    return Attachment(
        handle=handles.handle("attachment", doc["id"]),
        name=doc.get("name") or "(no name)",
        kind=kind,
        content_type=doc.get("contentType"),
        size=doc.get("size"),
        inline=True if doc.get("isInline") else None,
        last_modified=doc.get("lastModifiedDateTime"),
        source_url=doc.get("sourceUrl"),
        provider=doc.get("providerType"),
        permission=doc.get("permission"),
        is_folder=True if doc.get("isFolder") else None,
        id=doc["id"] if detail else None,
    )


def inside(root: Path, value: str, argument: str) -> Path:
    """``value`` (relative to ``root``, or absolute) resolved, symbolic links followed; refused outside ``root``."""
    root = root.expanduser().resolve()
    if not value or not value.strip():
        raise InputError(f"{argument}: give a file name inside the attachments directory {root}, e.g. 'agenda.pdf'.")
    raw = Path(value.strip()).expanduser()
    candidate = raw if raw.is_absolute() else root / raw
    resolved = candidate.resolve()
    if resolved == root:
        raise InputError(
            f"{argument}: '{value}' is the attachments directory itself; give a file name inside it, e.g. 'agenda.pdf'."
        )
    if not resolved.is_relative_to(root):
        lexical = Path(os.path.normpath(candidate))
        how = (
            "is a symbolic link (or passes through one) that leads outside"
            if lexical.is_relative_to(root)
            else "is outside"
        )
        raise InputError(
            f"{argument}: '{value}' {how} the attachments directory {root}. Only files inside it can "
            "be read or written: copy the file there and give its name, e.g. 'agenda.pdf'."
        )
    return resolved


def _is_text(meta: dict[str, Any], kind: str) -> bool:
    if kind == "item":
        return True
    media = (meta.get("contentType") or "").split(";")[0].strip().lower()
    return (
        media.startswith("text/") or media in TEXT_TYPES or Path(meta.get("name") or "").suffix.lower() in TEXT_SUFFIXES
    )


def _recipients(addresses: list[str] | None, argument: str) -> list[dict[str, Any]]:
    out = []
    for i, address in enumerate(addresses or []):
        if not _EMAIL.fullmatch(address.strip()):
            raise InputError(f"{argument}[{i}]: '{address}' is not an email address; give e.g. 'dana@contoso.com'.")
        out.append({"emailAddress": {"address": address.strip()}})
    return out


def register(box: Toolbox, svc: Services, enabled: Policy | None = None) -> None:
    """Add this module's tools to ``box``."""
    g = svc.graph

    def ev_path(mailbox: str | None, event: str) -> str:
        return f"{svc.mb(mailbox)}/events/{quote(svc.event_id(event), safe='')}"

    def at_path(mailbox: str | None, event: str, attachment: str) -> str:
        aid = svc.handles.resolve("attachment", attachment, argument="attachment")
        return f"{ev_path(mailbox, event)}/attachments/{quote(aid, safe='')}"

    def root() -> Path:
        return svc.settings.attachments_dir or svc.settings.data_dir / "attachments"

    async def attachment_of(doc: dict[str, Any]) -> Attachment:
        await svc.handles.mint(views.shown("attachment", [doc]))
        return attachment_view(doc, svc.handles)

    async def event_handle(event: str) -> str:
        return await svc.handles.minted("event", svc.event_id(event))

    @tool(box, READ_ONLY, enabled=enabled, name="list_attachments")
    async def list_attachments(event: EventRef, mailbox: Mailbox = None) -> AttachmentList:
        """Use to see which files, items and links are attached to an event. Returns their handles, names and sizes."""
        page = await g.get_all(f"{ev_path(mailbox, event)}/attachments", params={"$select": META})
        await svc.handles.mint(views.shown("attachment", page.items))
        return AttachmentList(
            event=await event_handle(event), attachments=[attachment_view(d, svc.handles) for d in page.items]
        )

    # Not read-only: save_as writes a local file (and overwrite=true replaces one).
    @tool(box, writes(destructive=True, idempotent=True), enabled=enabled, name="get_attachment")
    async def get_attachment(
        event: EventRef,
        attachment: AttachmentRef,
        as_text: Annotated[bool, Field(strict=True, description="Include text content")] = False,
        save_as: Annotated[
            str | None, Field(description="Save the content to this file (name inside the attachments directory)")
        ] = None,
        overwrite: Annotated[bool, Field(strict=True, description="Replace save_as if it exists")] = False,
        mailbox: Mailbox = None,
    ) -> AttachmentContent:
        """Use to read one attachment: details, its text (as_text) or its bytes saved to a file (save_as). Returns the attachment."""
        path = at_path(mailbox, event, attachment)
        meta = await g.get(path, params={"$select": META})
        await svc.handles.mint(views.shown("attachment", [meta]))
        view = attachment_view(meta, svc.handles, detail=True)
        if view.kind == "reference":
            view = attachment_view(await g.get(path, beta=True), svc.handles, detail=True)
            if as_text or save_as:
                raise InputError(
                    f"{'save_as' if save_as else 'as_text'}: '{view.name}' is a link, not a file: "
                    f"its content is at {view.source_url}."
                )
        target = inside(root(), save_as, "save_as") if save_as else None
        if target is not None and target.exists() and (target.is_dir() or not overwrite):
            raise InputError(
                f"save_as: '{save_as}' already exists in the attachments directory; pass overwrite=true "
                "or another name."
            )
        if as_text and not _is_text(meta, view.kind):
            raise InputError(
                f"as_text: '{view.name}' is binary ({view.content_type}); pass save_as (a file name inside "
                f"the attachments directory {root().expanduser().resolve()}) to save it instead."
            )
        if as_text and (view.size or 0) > TEXT_FETCH_LIMIT and target is None:
            raise InputError(
                f"as_text: '{view.name}' is {view.size} bytes, too large to show inline; pass save_as "
                "to save it to a file instead."
            )
        out = AttachmentContent(event=await event_handle(event), attachment=view)
        if not as_text and target is None:
            return out
        raw = (await g.request("GET", f"{path}/$value", headers={"Accept": "*/*"})).content
        if as_text:
            try:  # a text too long to fetch whole for showing is cut, perhaps inside a character: drop that one
                text = (
                    raw.decode("utf-8")
                    if len(raw) <= TEXT_FETCH_LIMIT
                    else raw[: TEXT_FETCH_LIMIT + 4].decode("utf-8", "ignore")[:TEXT_FETCH_LIMIT]
                )
            except UnicodeDecodeError:
                raise InputError(
                    f"as_text: '{view.name}' is not UTF-8 text; pass save_as to save it to a file instead."
                ) from None
            out.text = views.untrusted(text, TEXT_SHOWN)
        if target is not None:
            _write(target, raw)
            out.saved_to, out.saved_bytes = str(target), len(raw)
        return out

    @tool(box, writes(destructive=False, idempotent=False), enabled=enabled, name="add_file_attachment")
    async def add_file_attachment(
        event: EventRef,
        ctx: Context,
        path: Annotated[str | None, Field(description="A file in the attachments directory")] = None,
        content_base64: Annotated[str | None, Field(description="Or the bytes, base64")] = None,
        name: Annotated[str | None, Field(max_length=255, description="Default: the file's name")] = None,
        content_type: Annotated[str | None, Field(description="Default: from the name")] = None,
        mailbox: Mailbox = None,
    ) -> AttachmentAdded:
        """Use to attach a file (up to 150 MB) to an event, from the attachments directory or as base64. Returns the new attachment."""
        if (path is None) == (content_base64 is None):
            raise InputError(
                "path: give exactly one of path (a file in the attachments directory) or "
                "content_base64 (the bytes in base64)."
            )
        if path is not None:
            source = inside(root(), path, "path")
            if not source.is_file():
                raise InputError(
                    f"path: there is no file '{path}' in the attachments directory {root().expanduser().resolve()}."
                )
            if source.stat().st_size > MAX_SIZE:
                raise InputError(
                    f"path: '{path}' is {source.stat().st_size} bytes; Outlook takes attachments up to "
                    f"150 MB ({MAX_SIZE} bytes)."
                )
            data, name = source.read_bytes(), name or source.name
        else:
            try:
                data = base64.b64decode(content_base64 or "", validate=True)  # given: checked above
            except (binascii.Error, ValueError):
                raise InputError(
                    "content_base64: not valid base64; encode the file's bytes with standard base64 "
                    "(A-Z a-z 0-9 + /, '=' padding)."
                ) from None
            if not name:
                raise InputError("name: required with content_base64: the file name to show, e.g. 'agenda.pdf'.")
            if len(data) > MAX_SIZE:
                raise InputError(
                    f"content_base64: the file is {len(data)} bytes; Outlook takes attachments up to 150 MB."
                )
        media = content_type or mimetypes.guess_type(name)[0] or "application/octet-stream"
        base = f"{ev_path(mailbox, event)}/attachments"
        ranges = None
        if len(data) < SMALL_LIMIT:
            doc = await g.post(
                base,
                json={
                    "@odata.type": "#microsoft.graph.fileAttachment",
                    "name": name,
                    "contentType": media,
                    "contentBytes": base64.b64encode(data).decode(),
                },
            )
            await ctx.report_progress(len(data), len(data), f"Attached {name}")
        else:
            attachment_id, ranges = await upload(g, base, data, name, media, ctx.report_progress)
            doc = await g.get(f"{base}/{quote(attachment_id, safe='')}", params={"$select": META})
        return AttachmentAdded(
            event=await event_handle(event), attachment=await attachment_of(doc), uploaded_in_ranges=ranges
        )

    @tool(box, writes(destructive=False, idempotent=False), enabled=enabled, name="add_item_attachment")
    async def add_item_attachment(
        event: EventRef,
        item_event: Annotated[str | None, Field(description="An event (handle or id) to attach")] = None,
        message: MessageInput | None = None,
        contact: ContactInput | None = None,
        name: Annotated[str | None, Field(max_length=255)] = None,
        mailbox: Mailbox = None,
    ) -> AttachmentAdded:
        """Use to attach an Outlook item to an event: another event, a small message or a contact card. Returns the new attachment."""
        given = [k for k, v in (("item_event", item_event), ("message", message), ("contact", contact)) if v]
        if len(given) != 1:
            raise InputError(
                "item_event: give exactly one of item_event (an event handle), message or contact"
                + (f"; got {', '.join(given)}." if given else ".")
            )
        if item_event:
            source = await g.get(
                ev_path(mailbox, item_event),
                params={"$select": "subject,body,start,end,location,isAllDay,attendees,showAs,importance,sensitivity"},
            )
            item: dict[str, Any] = {
                "@odata.type": "#microsoft.graph.event",
                **{
                    k: source.get(k)
                    for k in ("subject", "body", "start", "end", "isAllDay", "showAs", "importance", "sensitivity")
                    if source.get(k) is not None
                },
            }
            if (source.get("location") or {}).get("displayName"):
                item["location"] = {"displayName": source["location"]["displayName"]}
            item["attendees"] = [
                {"type": a.get("type") or "required", "emailAddress": a["emailAddress"]}
                for a in source.get("attendees") or []
                if a.get("emailAddress")
            ]
        elif message:
            item = {
                "@odata.type": "#microsoft.graph.message",
                "subject": message.subject,
                "body": {"contentType": "text", "content": message.body or ""},
                "toRecipients": _recipients(message.to, "message.to"),
            }
        elif contact:
            item = {
                "@odata.type": "#microsoft.graph.contact",
                "displayName": contact.display_name,
                "emailAddresses": [r["emailAddress"] for r in _recipients(contact.emails, "contact.emails")],
            }
            for key, value in (
                ("businessPhones", [contact.phone] if contact.phone else None),
                ("companyName", contact.company),
                ("jobTitle", contact.job_title),
            ):
                if value:
                    item[key] = value
        label = name or item.get("subject") or item.get("displayName") or "(no subject)"
        doc = await g.post(
            f"{ev_path(mailbox, event)}/attachments",
            json={"@odata.type": "#microsoft.graph.itemAttachment", "name": label, "item": item},
        )
        return AttachmentAdded(event=await event_handle(event), attachment=await attachment_of(doc))

    @tool(box, writes(destructive=False, idempotent=False), enabled=enabled, name="add_reference_attachment")
    async def add_reference_attachment(
        event: EventRef,
        name: Annotated[str, Field(min_length=1, max_length=255)],
        source_url: Annotated[str, Field(description="https link to the file or folder")],
        provider_type: Provider = "other",
        permission: Annotated[Permission, Field(description="What the link lets attendees do")] = "other",
        is_folder: Annotated[bool, Field(strict=True)] = False,
        mailbox: Mailbox = None,
    ) -> AttachmentAdded:
        """Use to attach a link to a cloud file or folder to an event (no bytes are uploaded). Returns the new attachment."""
        if not re.fullmatch(r"https?://[^\s/]+\S*", source_url.strip()):
            raise InputError(
                f"source_url: '{source_url}' is not an http(s) link; give e.g. "
                "'https://contoso-my.sharepoint.com/personal/dana/Documents/plan.docx'."
            )
        doc = await g.post(
            f"{ev_path(mailbox, event)}/attachments",
            beta=True,
            json={
                "@odata.type": "#microsoft.graph.referenceAttachment",
                "name": name,
                "sourceUrl": source_url.strip(),
                "providerType": provider_type,
                "permission": permission,
                "isFolder": is_folder,
            },
        )
        return AttachmentAdded(event=await event_handle(event), attachment=await attachment_of(doc))

    @tool(box, writes(destructive=True, idempotent=True), enabled=enabled, name="delete_attachment")
    async def delete_attachment(
        event: EventRef, attachment: AttachmentRef, mailbox: Mailbox = None
    ) -> AttachmentDeleted:
        """Use to remove an attachment from an event. Returns what was removed."""
        path = at_path(mailbox, event, attachment)
        meta = await g.get(path, params={"$select": "id,name"})
        await g.delete(path)
        return AttachmentDeleted(
            event=await event_handle(event),
            deleted=await svc.handles.minted("attachment", meta["id"]),
            name=meta.get("name"),
        )


def _write(target: Path, data: bytes) -> None:
    """Write ``data`` to ``target`` whole or not at all (a temporary file beside it, then a rename)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, temp = tempfile.mkstemp(dir=target.parent, prefix=".partial-")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.replace(temp, target)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise
