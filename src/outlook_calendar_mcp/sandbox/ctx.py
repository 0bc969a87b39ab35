"""One request as the handlers see it (:class:`Ctx`): who calls, which mailbox, how to answer."""

from __future__ import annotations

import datetime as dt
import json
import logging
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from ..clock import Clock
from .errors import GraphHTTPError, bad_request
from .models.session import Session

log = logging.getLogger("outlook_calendar_mcp.sandbox")


@dataclass(kw_only=True)
class Ctx(Session):
    """Everything a handler needs about one request: the :class:`Session` and the HTTP request around it."""

    request: Request
    version: str
    segments: list[str]
    applied: list[str] = field(default_factory=list)
    max_page_size: int | None = None
    body_bytes: bytes = b""

    @property
    def params(self):
        return self.request.query_params

    @property
    def method(self) -> str:
        return self.request.method

    def json(self) -> Any:
        if not self.body_bytes.strip():
            raise bad_request("A request body is required: send a JSON object.", "BadRequest")
        media = (self.request.headers.get("content-type") or "").split(";", 1)[0].strip().lower()
        if media != "application/json":  # Graph reads a JSON body only when it is announced as one
            raise bad_request(
                "Unable to read JSON request payload. Please ensure Content-Type header is set and payload is of "
                "valid JSON format.",
                "BadRequest",
            )
        try:
            return json.loads(self.body_bytes)
        except ValueError as e:
            raise bad_request(f"The request body is not valid JSON: {e}.", "BadRequest") from None

    def base_url(self) -> str:
        root = str(self.request.base_url).rstrip("/")
        return f"{root}/{self.version}"

    def link(self, path: str, **params: Any) -> str:
        query = {k: v for k, v in self.params.items()}
        query.update({k: str(v) for k, v in params.items()})
        return f"{self.base_url()}/{path}?{urlencode(query)}"

    def context_url(self, fragment: str) -> str:
        return f"{self.base_url()}/$metadata#{fragment}"

    def doc_json(self, body: dict[str, Any], status: int = 200, headers: dict[str, str] | None = None) -> Response:
        return self.respond(body, status, headers)

    def respond(self, body: Any | None, status: int = 200, headers: dict[str, str] | None = None) -> Response:
        out_headers = dict(headers or {})
        if self.applied:
            out_headers["Preference-Applied"] = ", ".join(self.applied)
        if body is None:
            return Response(status_code=status, headers=out_headers)
        return JSONResponse(body, status_code=status, headers=out_headers)

    def respond_encoded(self, raw: bytes, status: int = 200) -> Response:
        """A JSON answer already encoded (as :func:`encode` does, which is JSONResponse's encoding)."""
        headers = {"Preference-Applied": ", ".join(self.applied)} if self.applied else None
        return Response(raw, status_code=status, headers=headers, media_type="application/json")


def encode(body: Any) -> bytes:
    """JSON as starlette's JSONResponse writes it: compact, UTF-8."""
    return json.dumps(body, ensure_ascii=False, allow_nan=False, indent=None, separators=(",", ":")).encode()


def methods(ctx: Ctx, table: dict[str, Callable[[], Response]]) -> Response:
    """Run the handler for the request's method, or answer 405 naming the methods the resource takes."""
    handler = table.get(ctx.method)
    if handler is None:
        allowed = ", ".join(sorted(table))
        raise GraphHTTPError(
            405,
            "ErrorInvalidRequest",
            f"The HTTP method '{ctx.method}' is not allowed for this resource. Allowed: {allowed}.",
        )
    return handler()


# -- the request line and headers ---------------------------------------------------------

_PREFER_ITEM = re.compile(r'\s*([\w.\-]+)\s*(?:=\s*("([^"]*)"|[^,;]*))?')


def parse_prefer(values: list[str]) -> dict[str, str]:
    out: dict[str, str] = {}
    for header in values:
        for m in _PREFER_ITEM.finditer(header):
            name = m.group(1)
            if not name:
                continue
            value = m.group(3) if m.group(3) is not None else (m.group(2) or "").strip()
            out[name.lower()] = value
    return out


_SEGMENT_CALL = re.compile(r"^([A-Za-z][\w.]*)\((?:'([^']*)'|([^=(),']*))\)$")
_SEGMENT_NAMED_CALL = re.compile(r"^([A-Za-z][\w.]*)\(([A-Za-z]\w*\s*=.*)\)$")


def split_path(path: str) -> list[str]:
    """'me/events('AAMk=')/accept' -> ['me', 'events', 'AAMk=', 'accept'] (OData key syntax unfolded).

    A function call with named parameters keeps them as one segment for its handler to read:
    "reminderView(startDateTime='a',endDateTime='b')" -> ['reminderView', "startDateTime='a',endDateTime='b'"].
    """
    out: list[str] = []
    for seg in path.split("/"):
        if not seg:
            continue
        m = _SEGMENT_CALL.match(seg) or _SEGMENT_NAMED_CALL.match(seg)
        if m:
            out.append(m.group(1))
            out.append(next(g for g in m.groups()[1:] if g is not None))
        else:
            out.append(seg)
    return out


def error_response(error: GraphHTTPError, now: dt.datetime, client_request_id: str | None = None) -> JSONResponse:
    """The Graph error body for ``error``; ``now`` (the sandbox clock's) dates it."""
    inner = {
        "date": now.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S"),
        "request-id": str(uuid.uuid4()),
        "client-request-id": client_request_id or str(uuid.uuid4()),
    }
    body = {"error": {"code": error.code, "message": error.message, "innerError": inner}}
    headers = {"request-id": inner["request-id"], "client-request-id": inner["client-request-id"], **error.headers}
    return JSONResponse(body, status_code=error.status, headers=headers)


async def answer(request: Request, clock: Clock, handle: Callable[[bytes], Response]) -> Response:
    """Run ``handle(body)`` for one request and answer in Graph's shape, whatever happens.

    A :class:`GraphHTTPError` becomes Graph's error body; any other exception (a sandbox bug) is logged
    and answered as a 500 ``generalException``; the caller's ``client-request-id`` is echoed."""
    client_request_id = request.headers.get("client-request-id")
    try:
        response = handle(await request.body())
    except GraphHTTPError as e:
        return error_response(e, clock.now(), client_request_id)
    except Exception:  # a bug in the sandbox must still answer in Graph's shape
        log.exception("sandbox: unhandled error for %s %s", request.method, request.url.path)
        return error_response(
            GraphHTTPError(500, "generalException", "An internal sandbox error occurred."),
            clock.now(),
            client_request_id,
        )
    if client_request_id:
        response.headers["client-request-id"] = client_request_id
    if "request-id" not in response.headers:  # Graph names every answer, success too (the audit trail keeps it)
        response.headers["request-id"] = str(uuid.uuid4())
    return response
