"""Upload sessions: large file attachments (3 MB to 150 MB) uploaded in byte ranges.

::

    {event}/attachments/createUploadSession      POST {"AttachmentItem": {attachmentType, name, size, ...}}
    /api/v2.0/Users('{mailbox}')/Events('{event}')/AttachmentSessions('{session}')?authtoken=...
                                                 the uploadUrl: PUT a byte range, GET the session, DELETE

The rules Graph follows, and this module with it, are in :mod:`.attachments`' docstring.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import secrets
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from ...clock import Clock
from ..ctx import Ctx, answer, error_response, methods, split_path
from ..errors import GraphHTTPError, bad_request, not_found
from ..models import events as ev
from ..models.attachments import Owner, guess_type, parse_stamp, stamp
from ..models.rows import UploadSessionRow
from ..models.session import Principal
from ..models.store import Store, graph_timestamp
from .actions import action_body
from .attachments import MAX_SIZE, SESSION_LIFETIME, SMALL_LIMIT

ATTACHMENT_ITEM = (
    "object",
    "attachmentItem",
    {
        "attachmentType": ("enum", {"file", "item", "reference"}),
        "name": "string",
        "size": "int",
        "contentType": "string",
        "isInline": "bool",
        "contentId": "string",
    },
)
_RANGE = re.compile(r"bytes (\d{1,12})-(\d{1,12})/(\d{1,12})")


def create_session(ctx: Ctx, owner: Owner) -> Response:
    params = action_body(ctx, "createUploadSession", {"AttachmentItem": ATTACHMENT_ITEM})
    item = params.get("AttachmentItem")
    if not item:
        raise bad_request(
            'The parameter \'AttachmentItem\' is required: {"AttachmentItem": {"attachmentType": '
            '"file", "name": "report.pdf", "size": 3483322}}.',
            "ErrorInvalidParameter",
        )
    if (item.get("attachmentType") or "file") != "file":
        raise bad_request(
            "Only file attachments are uploaded in sessions: set attachmentType to 'file'.", "ErrorInvalidParameter"
        )
    if not item.get("name"):
        raise bad_request("AttachmentItem.name is required.", "ErrorInvalidParameter")
    size = item.get("size")
    if size is None:
        raise bad_request("AttachmentItem.size is required: the file's size in bytes.", "ErrorInvalidParameter")
    if size < SMALL_LIMIT:
        raise bad_request(
            f"The attachment size {size} is less than the minimum size {SMALL_LIMIT} for an upload "
            "session: POST files under 3 MB to the attachments collection.",
            "ErrorAttachmentSizeShouldNotBeLessThanMinimumSize",
        )
    if size > MAX_SIZE:
        raise bad_request(
            f"The message exceeds the maximum supported size: an attachment can be at most "
            f"{MAX_SIZE} bytes (150 MB), not {size}.",
            "ErrorMessageSizeExceeded",
        )
    ctx.store.drop_expired_sessions(ctx.mailbox["id"], stamp(ctx.now))
    session, token = secrets.token_urlsafe(24), secrets.token_urlsafe(32)
    expires = (ctx.now + SESSION_LIFETIME).replace(microsecond=0)
    ctx.store.add_upload_session(
        f"{session}:{token}",
        ctx.mailbox["id"],
        owner.event_id,
        item["name"],
        item.get("contentType") or guess_type(item["name"]),
        size,
        bool(item.get("isInline")),
        stamp(expires),
    )
    url = _outlook_url(ctx, ctx.mailbox["id"], owner.event_id, f"AttachmentSessions('{session}')?authtoken={token}")
    return ctx.respond(
        {
            "@odata.context": ctx.context_url("microsoft.graph.uploadSession"),
            "uploadUrl": url,
            "expirationDateTime": graph_timestamp(expires),
            "nextExpectedRanges": ["0-"],
        },
        201,
    )


async def upload_endpoint(request: Request) -> Response:
    """The uploadUrl: ``/api/v2.0/Users('{mailbox}')/Events('{event}')/AttachmentSessions('{id}')?authtoken=``.

    Outlook's own form of it, outside Graph's tree: the token in the URL is the credential, so a request
    with an Authorization header is refused (a Graph token is for another audience)."""
    store: Store = request.app.state.store
    clock: Clock = request.app.state.clock

    def handle(body: bytes) -> Response:
        segments = split_path(request.path_params["path"])
        with store.transaction():
            ctx, row = _session_ctx(store, request, segments, body, clock.now())
            return _session_routes(ctx, row)

    return await answer(request, clock, handle)


def _session_ctx(store: Store, request: Request, segments: list[str], body: bytes, now: dt.datetime) -> tuple[Ctx, Any]:
    if len(segments) != 6 or [s.lower() for s in segments[::2]] != ["users", "events", "attachmentsessions"]:
        raise not_found("Not an upload session URL: use the uploadUrl exactly as createUploadSession returned it.")
    mailbox_id, event_id, session = segments[1], segments[3], segments[5]
    token = request.query_params.get("authtoken") or ""
    row = store.upload_session(f"{session}:{token}")
    if row is None or (row["mailbox_id"], row["event_id"]) != (mailbox_id, event_id):
        if store.upload_session_known(session):
            raise GraphHTTPError(401, "InvalidAuthenticationToken", "The upload URL's authtoken is not valid.")
        raise not_found("The upload session does not exist: it was completed, cancelled or has expired.")
    if request.headers.get("authorization"):
        raise GraphHTTPError(
            401,
            "InvalidAuthenticationToken",
            (
                "The uploadUrl is pre-authenticated: send its requests without an Authorization header (a Microsoft "
                "Graph token is for another audience)."
            ),
        )
    mailbox = store.mailbox(mailbox_id)
    ctx = Ctx(
        request=request,
        store=store,
        principal=Principal(mailbox),
        version="v1.0",
        segments=segments,
        view=ev.Render(),
        applied=[],
        max_page_size=None,
        now=now,
        body_bytes=body,
        target=mailbox,
        path_prefix=f"users/{mailbox_id}",
    )
    return ctx, row


def _session_routes(ctx: Ctx, row: UploadSessionRow) -> Response:
    if stamp(ctx.now) > row["expires"]:
        ctx.store.delete_upload_session(row["id"])  # committed: no raise
        return error_response(
            GraphHTTPError(
                404,
                "ErrorItemNotFound",
                (f"The upload session expired at {row['expires']}: create a new one with createUploadSession."),
            ),
            ctx.now,
            ctx.request.headers.get("client-request-id"),
        )
    return methods(
        ctx,
        {
            "PUT": lambda: upload(ctx, row),
            "GET": lambda: ctx.respond(_session_status(ctx, row, row["next_offset"])),
            "DELETE": lambda: _cancel(ctx, row),
        },
    )


def _outlook_url(ctx: Ctx, mailbox_id: str, event_id: str, tail: str, metadata: bool = False) -> str:
    """An Outlook REST URL on the sandbox's host, as Graph hands out for upload sessions and their results."""
    root = f"{str(ctx.request.base_url).rstrip('/')}/api/v2.0{'/$metadata#' if metadata else '/'}"
    return f"{root}Users('{mailbox_id}')/Events('{event_id}')/{tail}"


def _session_status(ctx: Ctx, row: UploadSessionRow, next_offset: int) -> dict[str, Any]:
    return {
        "@odata.context": _outlook_url(
            ctx, row["mailbox_id"], row["event_id"], "AttachmentSessions/$entity", metadata=True
        ),
        "expirationDateTime": graph_timestamp(parse_stamp(row["expires"])),
        "nextExpectedRanges": [str(next_offset) if next_offset else "0-"],
    }


def _cancel(ctx: Ctx, row: UploadSessionRow) -> Response:
    ctx.store.delete_upload_session(row["id"])
    return ctx.respond(None, 204)


MAX_RANGE = 4 * 1024 * 1024


def upload(ctx: Ctx, row: UploadSessionRow) -> Response:
    header = (ctx.request.headers.get("content-range") or "").strip()
    m = _RANGE.fullmatch(header)
    if not m:
        raise bad_request(
            f"The Content-Range header '{header}' is missing or malformed: send 'bytes "
            "{start}-{end}/{total}' (0-based, end inclusive), e.g. 'bytes 0-4194303/10485760'.",
            "invalidRequest",
        )
    start, end, total = (int(g) for g in m.groups())
    size, expected = row["size"], row["next_offset"]
    if total != size:
        raise bad_request(
            f"Content-Range total {total} is not the size declared for this upload session ({size}).", "invalidRequest"
        )
    if end < start or end >= total:
        raise bad_request(
            f"Content-Range 'bytes {start}-{end}/{total}' is not a range inside the file.", "invalidRequest"
        )
    if end - start + 1 >= MAX_RANGE:  # Graph: "the maximum bytes in any given request is less than 4 MB"
        raise bad_request(
            f"Content-Range 'bytes {start}-{end}/{total}' is {end - start + 1} bytes: each range of an upload "
            f"session must be less than 4 MB ({MAX_RANGE} bytes); split the file into smaller ranges.",
            "invalidRequest",
        )
    data = ctx.body_bytes
    if len(data) != end - start + 1:
        raise bad_request(
            f"The request body has {len(data)} bytes but Content-Range 'bytes {start}-{end}/{total}' "
            f"announces {end - start + 1}.",
            "invalidRequest",
        )
    if start < expected:
        raise GraphHTTPError(
            416,
            "invalidRange",
            (
                f"Uploaded fragment overlaps with existing data: bytes up to {expected - 1} were already received; "
                f"continue at {expected} (nextExpectedRanges)."
            ),
        )
    if start > expected:
        raise GraphHTTPError(
            416,
            "invalidRange",
            (
                f"Uploaded fragment is out of order: the next expected byte is {expected}, not {start}; upload the "
                "ranges in order."
            ),
        )
    ctx.store.write_upload(row["rowid"], start, data)
    if end + 1 < size:
        ctx.store.set_upload_offset(row["id"], end + 1)
        return ctx.respond(_session_status(ctx, row, end + 1))
    content = ctx.store.upload_content(row["id"])
    ctx.store.delete_upload_session(row["id"])
    event_id = row["event_id"]
    owner = Owner(ctx, event_id, None)
    owner.take_over()
    attachment_id = owner.add(
        "file",
        row["name"],
        row["content_type"],
        size,
        row["is_inline"],
        content,
        json.dumps({"contentId": None, "contentLocation": None}),
    )
    owner.changed()
    return ctx.respond(
        None, 201, {"Location": _outlook_url(ctx, ctx.mailbox["id"], event_id, f"Attachments('{attachment_id}')")}
    )


# -- helpers ----------------------------------------------------------------------------------------------------


# -- effects (called by sandbox.effects) ----------------------------------------------------------------------------------------------
