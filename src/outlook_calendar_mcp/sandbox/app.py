"""The sandbox: a Microsoft Graph v1.0-compatible calendar service (Starlette over SQLite).

Paths are served under ``/v1.0`` (and ``/beta``) for ``me`` and
``users/{id|userPrincipalName}``; see :mod:`.routes` for the resource tree.
Every request:

1. is authenticated (``Authorization: Bearer sandbox`` is the default user,
   ``sandbox:<address>`` signs in as that mailbox, ``sandbox-app`` is
   app-only: no ``me``, any ``users/{id}``); anything else is a 401;
2. runs in one SQLite transaction: an error rolls back everything it did;
3. honours ``Prefer: outlook.timezone`` (Windows or IANA names, default
   UTC), ``outlook.body-content-type`` and ``odata.maxpagesize``, echoed in
   ``Preference-Applied``;
4. answers errors in Graph's shape (:mod:`.errors`).
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import re
from dataclasses import dataclass, field
from typing import Any, Callable
from urllib.parse import urlencode

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from .. import timezones as tz
from .errors import GraphHTTPError, bad_request
from .events import Render
from ..clock import Clock
from .store import Store

log = logging.getLogger("outlook_calendar_mcp.sandbox")

DEFAULT_USER = "adele@contoso.com"


@dataclass
class Principal:
    """Who is calling: a mailbox (delegated) or the app itself."""

    mailbox: Any | None  # sqlite3.Row of the signed-in mailbox; None when app-only

    @property
    def app_only(self) -> bool:
        return self.mailbox is None


@dataclass
class Ctx:
    """Everything a handler needs about one request."""

    request: Request
    store: Store
    principal: Principal
    version: str
    segments: list[str]
    view: Render
    applied: list[str]
    max_page_size: int | None
    now: dt.datetime
    body_bytes: bytes = b""
    mailbox: Any | None = None  # the target mailbox row
    path_prefix: str = ""       # "me" or "users/{id}", as the caller wrote it
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def params(self):
        return self.request.query_params

    @property
    def method(self) -> str:
        return self.request.method

    def json(self) -> Any:
        if not self.body_bytes.strip():
            raise bad_request("A request body is required: send a JSON object.", "BadRequest")
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


# -- Prefer ---------------------------------------------------------------------

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


def prefer_view(prefer: dict[str, str]) -> tuple[Render, list[str], int | None]:
    applied: list[str] = []
    view = Render()
    if "outlook.timezone" in prefer:
        name = prefer["outlook.timezone"]
        try:
            view = Render(zone_name=name, zone=tz.resolve(name))
        except tz.TimeZoneError as e:
            raise GraphHTTPError(400, "TimeZoneNotSupportedException",
                                 f"A valid TimeZone value must be specified. The following TimeZone value is not "
                                 f"supported: '{name}'. {e}") from None
        applied.append(f'outlook.timezone="{name}"')
    if "outlook.body-content-type" in prefer:
        kind = prefer["outlook.body-content-type"].lower()
        if kind not in ("text", "html"):
            raise bad_request(f"Prefer outlook.body-content-type must be \"text\" or \"html\", not \"{kind}\".")
        view.body_type = kind
        applied.append(f'outlook.body-content-type="{kind}"')
    page = None
    if "odata.maxpagesize" in prefer:
        try:
            page = int(prefer["odata.maxpagesize"])
            if page < 1:
                raise ValueError
        except ValueError:
            raise bad_request(f"Prefer odata.maxpagesize must be a positive integer, not '{prefer['odata.maxpagesize']}'.") from None
        applied.append(f"odata.maxpagesize={page}")
    return view, applied, page


# -- auth -------------------------------------------------------------------------

def authenticate(store: Store, header: str | None) -> Principal:
    hint = ("The sandbox accepts 'Authorization: Bearer sandbox' (the default user), "
            "'Bearer sandbox:<address>' (sign in as that mailbox) or 'Bearer sandbox-app' (app-only).")
    if not header:
        raise GraphHTTPError(401, "InvalidAuthenticationToken", f"Access token is empty. {hint}")
    scheme, _, token = header.partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        raise GraphHTTPError(401, "InvalidAuthenticationToken", f"Access token validation failure. {hint}")
    if token == "sandbox-app":
        return Principal(None)
    if token == "sandbox" or token.startswith("sandbox:"):
        address = token.partition(":")[2] or DEFAULT_USER
        row = store.mailbox(address)
        if row is None or row["kind"] not in ("user",):
            raise GraphHTTPError(401, "InvalidAuthenticationToken",
                                 f"Access token validation failure: no sandbox user '{address}'. {hint}")
        return Principal(row)
    raise GraphHTTPError(401, "InvalidAuthenticationToken", f"Access token validation failure. Invalid audience. {hint}")



# -- the app ------------------------------------------------------------------------

Handler = Callable[[Ctx], Response]


def create_app(store: Store, *, clock: Clock, seed: bool = True) -> Starlette:
    """The sandbox as an ASGI app over ``store`` (seeded on first use unless ``seed=False``).

    ``clock`` is the only source of "now": request times, error dates and the seed's living week.
    """
    from . import routes  # noqa: PLC0415 - routes imports this module's Ctx
    from . import availability, meetings, places  # noqa: F401, PLC0415 - they register themselves (install())
    from . import attachments, reminders  # noqa: F401, PLC0415 - they register themselves (install())
    from .seed import seed_store  # noqa: PLC0415

    if seed and store.is_empty():
        seed_store(store, clock)

    async def endpoint(request: Request) -> Response:
        client_request_id = request.headers.get("client-request-id")
        try:
            body = await request.body()
            version = request.path_params["version"]
            if version not in ("v1.0", "beta"):
                raise GraphHTTPError(400, "BadRequest", f"Invalid version '{version}': use /v1.0 (or /beta).")
            path = request.path_params.get("path", "")
            with store.transaction():
                principal = authenticate(store, request.headers.get("authorization"))
                view, applied, page = prefer_view(parse_prefer(request.headers.getlist("prefer")))
                ctx = Ctx(request=request, store=store, principal=principal, version=version,
                          segments=split_path(path), view=view, applied=applied, max_page_size=page,
                          now=clock.now(), body_bytes=body)
                response = routes.dispatch(ctx)
        except GraphHTTPError as e:
            return e.response(clock.now(), client_request_id)
        except Exception:  # a bug in the sandbox must still answer in Graph's shape
            log.exception("sandbox: unhandled error for %s %s", request.method, request.url.path)
            return GraphHTTPError(500, "generalException", "An internal sandbox error occurred.").response(
                clock.now(), client_request_id)
        if client_request_id:
            response.headers["client-request-id"] = client_request_id
        return response

    methods = ["GET", "POST", "PATCH", "PUT", "DELETE"]
    app = Starlette(routes=[
        *EXTRA_ROUTES,
        Route("/{version:str}/{path:path}", endpoint, methods=methods),
        Route("/{version:str}", endpoint, methods=methods),
    ])
    app.state.store = store
    app.state.clock = clock
    return app


# Routes outside Graph's tree, matched first: an upload session's pre-authenticated uploadUrl (attachments.py).
EXTRA_ROUTES: list[Route] = []

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


class Sandbox:
    """The sandbox, assembled: a store (``db``: a file, or ``":memory:"``), its clock and its ASGI app.

    ``Sandbox(":memory:", clock=Clock())`` is the demo organization, seeded for the clock's week
    (``seed=False``: an empty organization). ``.transport()`` is an ``httpx`` transport into the app.
    """

    def __init__(self, db: str | os.PathLike[str] = ":memory:", *, clock: Clock, seed: bool = True) -> None:
        self.clock = clock
        self.store = Store(db)
        self.app = create_app(self.store, clock=clock, seed=seed)

    def transport(self) -> httpx.ASGITransport:
        return httpx.ASGITransport(app=self.app)

    def close(self) -> None:
        self.store.close()
