"""Event attachments: file, item and reference attachments (upload sessions for large files: :mod:`.uploads`).

::

    {event}/attachments                          GET (list)  POST (file | item | reference attachment)
    {event}/attachments/{id}                     GET  DELETE
    {event}/attachments/{id}/$value              GET  raw bytes (file), MIME (item: iCalendar, vCard, RFC 822)
    {event}/attachments/createUploadSession      POST {"AttachmentItem": {attachmentType, name, size, ...}}
    /api/v2.0/Users('{mailbox}')/Events('{event}')/AttachmentSessions('{session}')?authtoken=...
                                                 the uploadUrl: PUT a byte range, GET the session, DELETE

As Graph does:

* ``POST .../attachments`` takes files under 3 MB (``contentBytes``, base64); larger ones are a 413 that
  points to ``createUploadSession``. Item attachments (an event, message or contact) are limited to 3 MB
  too. Reference attachments (``sourceUrl``, ``providerType``, ``permission``, ``isFolder``...) are
  beta-only: on /v1.0 those properties do not exist on ``referenceAttachment``, so a create is a 400.
* ``createUploadSession`` takes files from 3 MB to 150 MB (smaller:
  ``ErrorAttachmentSizeShouldNotBeLessThanMinimumSize``; larger: ``ErrorMessageSizeExceeded``) and answers
  201 with an absolute, pre-authenticated ``uploadUrl`` (in Outlook's own form, outside Graph's tree, as
  Graph's are on outlook.office.com; here on the sandbox's host), ``expirationDateTime`` (one hour, fixed
  for the session) and ``nextExpectedRanges: ["0-"]``. PUTs to the uploadUrl carry no Authorization header (the
  token in the URL is the credential; a Graph bearer token there is refused, as Outlook refuses a token
  for another audience) and a ``Content-Range: bytes {start}-{end}/{total}`` header. Ranges must come in
  order: a range that starts before the next expected byte overlaps (416 ``invalidRange``, "Uploaded
  fragment overlaps with existing data."), one that starts after it leaves a gap (416, "Uploaded fragment
  is out of order."); a malformed header, a total other than the declared size or a body whose length is
  not the range's is a 400. A partial range answers 200 with ``nextExpectedRanges: ["{next}"]``; the last
  one 201 with no body and a ``Location`` of the new attachment. Bytes are written in place into a blob
  preallocated at the session's size (``upload_sessions.received``), so a 150 MB upload costs O(size).
* Adding or deleting an attachment changes the event (``hasAttachments``, ``lastModifiedDateTime``,
  ``changeKey``). A series occurrence shows its master's attachments; changing its attachments makes it
  an exception that starts with copies of the master's, as Exchange does.
* ``$value`` of a reference attachment is a 405. Events of group calendars take no attachments.

Attachments of deleted events (and of cancelled occurrences) are removed after each write (:func:`.effects.after_write`).
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import json
from typing import Any
from urllib.parse import urlsplit

from starlette.responses import Response

from ..ctx import Ctx
from ..errors import GraphHTTPError, bad_request
from ..models import odata
from ..models.attachments import REFERENCE_PROPERTIES, TYPES, Owner, guess_type, item_mime
from ..models.bodies import ADDRESS, EMAIL, EVENT, ITEM_BODY, RECIPIENT, canonical_enums, check
from ..models.rows import AttachmentRow
from .common import respond_docs

MB = 1024 * 1024
SMALL_LIMIT = 3 * MB  # POST .../attachments: files (and items) under 3 MB
MAX_SIZE = 150 * MB  # upload sessions: 3 MB .. 150 MB
SESSION_LIFETIME = dt.timedelta(hours=1)
KINDS = {f"microsoft.graph.{name}".lower(): kind for kind, name in TYPES.items()}
BASE_PROPERTIES = ("id", "lastModifiedDateTime", "name", "contentType", "size", "isInline")
FILE_PROPERTIES = ("contentId", "contentLocation", "contentBytes")
ITEM_EXPAND = "microsoft.graph.itemattachment/item"
PROVIDERS = {"other", "oneDriveBusiness", "oneDriveConsumer", "dropbox"}
PERMISSIONS = {"other", "view", "edit", "anonymousView", "anonymousEdit", "organizationView", "organizationEdit"}

FILE = (
    "object",
    "fileAttachment",
    {
        "name": ("required", "string"),
        "contentBytes": ("required", "string"),
        "contentType": "string",
        "isInline": "bool",
        "contentId": "string",
        "contentLocation": "string",
        "size": "int",
        "lastModifiedDateTime": "string",
    },
)
ITEM = (
    "object",
    "itemAttachment",
    {
        "name": "string",
        "item": ("required", "any"),
        "contentType": "string",
        "isInline": "bool",
        "size": "int",
        "lastModifiedDateTime": "string",
    },
)
REFERENCE_V1 = (
    "object",
    "referenceAttachment",
    {"name": "string", "contentType": "string", "isInline": "bool", "size": "int", "lastModifiedDateTime": "string"},
)
REFERENCE_BETA = (
    "object",
    "referenceAttachment",
    {
        **REFERENCE_V1[2],
        "name": ("required", "string"),
        "sourceUrl": ("required", "string"),
        "providerType": ("enum", PROVIDERS),
        "permission": ("enum", PERMISSIONS),
        "isFolder": "bool",
        "thumbnailUrl": "string",
        "previewUrl": "string",
    },
)
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
        "from": RECIPIENT,
        "sender": RECIPIENT,
        "importance": ("enum", {"low", "normal", "high"}),
        "categories": ("list", "string"),
        "isRead": "bool",
        "receivedDateTime": "string",
        "sentDateTime": "string",
        "internetMessageId": "string",
    },
)
CONTACT = (
    "object",
    "contact",
    {
        **{
            k: "string"
            for k in (
                "displayName",
                "givenName",
                "surname",
                "middleName",
                "nickName",
                "title",
                "jobTitle",
                "companyName",
                "department",
                "officeLocation",
                "mobilePhone",
                "personalNotes",
                "birthday",
                "fileAs",
            )
        },
        "emailAddresses": ("list", EMAIL),
        "businessPhones": ("list", "string"),
        "homePhones": ("list", "string"),
        "businessAddress": ADDRESS,
        "homeAddress": ADDRESS,
        "categories": ("list", "string"),
    },
)
ITEM_TYPES = {"microsoft.graph.event": EVENT, "microsoft.graph.message": MESSAGE, "microsoft.graph.contact": CONTACT}


# -- the event an attachment belongs to -------------------------------------------------------------------


# -- rendering ------------------------------------------------------------------------------------------------


def parse(ctx: Ctx, options: set[str]) -> tuple[odata.Query, bool]:
    """The query options of an attachments request, and whether ``$expand=microsoft.graph.itemAttachment/item``."""
    params = {k: v for k, v in ctx.params.items() if k.lower() != "$expand"}
    expand = next((v for k, v in ctx.params.items() if k.lower() == "$expand"), None)
    if expand is not None and expand.strip().lower() not in (ITEM_EXPAND, "item"):
        raise bad_request(
            f"Parsing OData Select and Expand failed: '{expand}' cannot be expanded on an attachment; "
            "use $expand=microsoft.graph.itemAttachment/item.",
            "BadRequest",
        )
    names = BASE_PROPERTIES + FILE_PROPERTIES + (REFERENCE_PROPERTIES if ctx.version == "beta" else ())
    try:
        query = odata.parse(params, options=options, properties=names, type_name="microsoft.graph.attachment")
    except odata.ODataError as e:
        raise GraphHTTPError(400, e.code, str(e)) from None
    return query, expand is not None


def _wants_content(query: odata.Query) -> bool:
    return query.select is None or "contentBytes" in query.select


# -- handlers -------------------------------------------------------------------------------------------------


def list_attachments(ctx: Ctx, owner: Owner) -> Response:
    query, expand = parse(ctx, {"$select", "$filter", "$orderby", "$top", "$skip", "$count"})
    docs = [render(ctx, r, expand_item=expand, path=owner.path()) for r in owner.rows(content=_wants_content(query))]
    return respond_docs(ctx, docs, query, f"{owner.path()}/attachments", default_page=100)


def get_attachment(ctx: Ctx, owner: Owner, attachment_id: str) -> Response:
    query, expand = parse(ctx, {"$select"})
    row = owner.find(attachment_id, content=_wants_content(query))
    body = odata.project(render(ctx, row, expand_item=expand, path=owner.path()), query.select)
    return ctx.respond({"@odata.context": ctx.context_url(f"{owner.path()}/attachments/$entity"), **body})


def raw_value(ctx: Ctx, owner: Owner, attachment_id: str) -> Response:
    row = owner.find(attachment_id, content=True)
    if row["kind"] == "reference":
        raise GraphHTTPError(
            405,
            "ErrorInvalidRequest",
            "A reference attachment has no raw contents ($value): its content is at its sourceUrl.",
        )
    if row["kind"] == "file":
        return Response(row["content"] or b"", media_type=row["content_type"] or "application/octet-stream")
    item = json.loads(row["doc"])["item"]
    content, media = item_mime(item)
    return Response(content, media_type=media)


def create(ctx: Ctx, owner: Owner) -> Response:
    body = ctx.json()
    if not isinstance(body, dict):
        raise bad_request(
            "The request body must be a JSON object describing a microsoft.graph.attachment.", "BadRequest"
        )
    odata_type = str(body.get("@odata.type") or "").lstrip("#").lower()
    kind = KINDS.get(odata_type)
    if kind is None:
        raise GraphHTTPError(
            400,
            "RequestBodyRead",
            (
                f"The @odata.type '{body.get('@odata.type')}' is not an attachment type: give "
                "'#microsoft.graph.fileAttachment', '#microsoft.graph.itemAttachment' or "
                "'#microsoft.graph.referenceAttachment' (microsoft.graph.attachment itself is abstract)."
            ),
        )
    content, fields = {"file": _file_fields, "item": _item_fields, "reference": _reference_fields}[kind](ctx, body)
    owner.take_over()
    attachment_id = owner.add(
        kind,
        fields["name"],
        fields.get("contentType"),
        fields["size"],
        fields.get("isInline"),
        content,
        json.dumps(fields["doc"]),
    )
    owner.changed()
    row = owner.find(attachment_id, content=True)
    out = {"@odata.context": ctx.context_url(f"{owner.path()}/attachments/$entity"), **render(ctx, row)}
    return ctx.respond(out, 201, {"Location": f"{ctx.base_url()}/{owner.path()}/attachments('{attachment_id}')"})


def _file_fields(ctx: Ctx, body: dict[str, Any]) -> tuple[bytes, dict[str, Any]]:
    check(body, FILE)
    try:
        content = base64.b64decode(body["contentBytes"], validate=True)
    except (binascii.Error, ValueError):
        raise GraphHTTPError(
            400,
            "RequestBodyRead",
            "Cannot convert the literal in 'contentBytes' to the expected "
            "type 'Edm.Binary': give the file's bytes in base64.",
        ) from None
    if len(content) >= SMALL_LIMIT:
        raise GraphHTTPError(
            413,
            "RequestEntityTooLarge",
            (
                f"Maximum request length exceeded: the attachment is {len(content)} bytes. Attach files of 3 MB or more "
                "through attachments/createUploadSession (up to 150 MB)."
            ),
        )
    name = body["name"]
    return content, {
        "name": name,
        "contentType": body.get("contentType") or guess_type(name),
        "isInline": body.get("isInline"),
        "size": len(content),
        "doc": {"contentId": body.get("contentId"), "contentLocation": body.get("contentLocation")},
    }


def _item_fields(ctx: Ctx, body: dict[str, Any]) -> tuple[None, dict[str, Any]]:
    check(body, ITEM)
    item = body["item"]
    odata_type = str(item.get("@odata.type") or "").lstrip("#") if isinstance(item, dict) else ""
    spec = ITEM_TYPES.get(odata_type.lower())
    if spec is None:
        raise GraphHTTPError(
            400,
            "RequestBodyRead",
            (
                "The property 'item' must be an Outlook item with its @odata.type: '#microsoft.graph.event', "
                "'#microsoft.graph.message' or '#microsoft.graph.contact'."
            ),
        )
    check(item, spec, "item")
    fields = canonical_enums({k: v for k, v in item.items() if not k.startswith("@")}, spec)
    item = {"@odata.type": f"#{odata_type.lower()}", **fields}
    name = body.get("name") or item.get("subject") or item.get("displayName")
    if not name:
        raise bad_request("The property 'name' is required: the name shown for the attached item.")
    size = len(json.dumps(item).encode())
    if size >= SMALL_LIMIT:
        raise GraphHTTPError(
            413,
            "RequestEntityTooLarge",
            f"Maximum request length exceeded: an attached item must be under 3 MB ({size} bytes).",
        )
    return None, {
        "name": name,
        "contentType": None,
        "isInline": body.get("isInline"),
        "size": size,
        "doc": {"item": item},
    }


def _reference_fields(ctx: Ctx, body: dict[str, Any]) -> tuple[None, dict[str, Any]]:
    if ctx.version != "beta":
        check(body, REFERENCE_V1)
        raise bad_request(
            "A reference attachment needs sourceUrl, which only the beta endpoint defines: "
            "POST it to /beta/.../attachments.",
            "ErrorInvalidRequest",
        )
    check(body, REFERENCE_BETA)
    body = canonical_enums(body, REFERENCE_BETA)
    url = urlsplit(body["sourceUrl"])
    if url.scheme not in ("http", "https") or not url.netloc:
        raise bad_request(f"The property 'sourceUrl' must be an absolute http(s) URL, not '{body['sourceUrl']}'.")
    doc = {
        "sourceUrl": body["sourceUrl"],
        "providerType": body.get("providerType") or "other",
        "thumbnailUrl": body.get("thumbnailUrl"),
        "previewUrl": body.get("previewUrl"),
        "permission": body.get("permission") or "other",
        "isFolder": bool(body.get("isFolder")),
    }
    return None, {
        "name": body["name"],
        "contentType": body.get("contentType"),
        "isInline": body.get("isInline"),
        "size": len(json.dumps(doc).encode()),
        "doc": doc,
    }


def delete(ctx: Ctx, owner: Owner, attachment_id: str) -> Response:
    row = owner.find(attachment_id)
    if owner.source != owner.event_id:  # an occurrence showing its master's: it gets its own copies, minus this one
        index = [r["id"] for r in owner.rows()].index(row["id"])
        owner.take_over()
        row = owner.rows()[index]
    ctx.store.delete_attachment(row["id"])
    owner.changed()
    return ctx.respond(None, 204)


# -- upload sessions -----------------------------------------------------------------------------------------


def expand_on_event(ctx: Ctx, event_id: str, doc: dict[str, Any], body: dict[str, Any], query: odata.Query) -> None:
    """``$expand=attachments`` on an event (an effect of reading it: :mod:`.effects`)."""
    if "attachments" not in query.expand:
        return
    owner = Owner(ctx, event_id, None)
    body["attachments@odata.context"] = ctx.context_url(f"{owner.path()}/attachments")
    body["attachments"] = [render(ctx, r) for r in owner.rows(content=True)]


def render(ctx: Ctx, row: AttachmentRow, *, expand_item: bool = False, path: str = "") -> dict[str, Any]:
    kind, doc = row["kind"], json.loads(row["doc"])
    out: dict[str, Any] = {
        "@odata.type": f"#microsoft.graph.{TYPES[kind]}",
        "id": row["id"],
        "lastModifiedDateTime": row["last_modified"],
        "name": row["name"],
        "contentType": row["content_type"],
        "size": row["size"],
        "isInline": bool(row["is_inline"]),
    }
    if kind == "file":
        out["contentId"], out["contentLocation"] = doc.get("contentId"), doc.get("contentLocation")
        if "content" in row.keys():  # noqa: SIM118 - `in` on a sqlite3.Row looks at its values
            out["contentBytes"] = base64.b64encode(row["content"] or b"").decode()
    elif kind == "reference" and ctx.version == "beta":
        out.update({name: doc.get(name) for name in REFERENCE_PROPERTIES})
    elif kind == "item" and expand_item:
        out["item@odata.context"] = ctx.context_url(
            f"{path}/attachments('{row['id']}')/microsoft.graph.itemAttachment/item/$entity"
        )
        out["item"] = {
            "@odata.type": doc["item"]["@odata.type"],
            "id": "",
            **{k: v for k, v in doc["item"].items() if not k.startswith("@")},
        }
    return out
