"""The sandbox's app: the Starlette app, its request pipeline, and :class:`Sandbox` (store + clock + app).

Paths are served under ``/v1.0`` (and ``/beta``) for ``me`` and
``users/{id|userPrincipalName}``; :mod:`.urls` is the route table.
Every request:

1. is authenticated (``Authorization: Bearer sandbox`` is the default user,
   ``sandbox:<address>`` signs in as that mailbox, ``sandbox-app`` is
   app-only: no ``me``, any ``users/{id}``; a Graph token of the sandbox's
   identity platform (:mod:`.identity`) is its person, or app-only for a
   client-credentials token); anything else is a 401;
2. runs in one SQLite transaction: an error rolls back everything it did;
3. honours ``Prefer: outlook.timezone`` (Windows or IANA names, default
   UTC), ``outlook.body-content-type`` and ``odata.maxpagesize``, echoed in
   ``Preference-Applied``;
4. answers errors in Graph's shape (:mod:`.errors`).
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from .. import timezones as tz
from ..clock import Clock
from . import urls, web
from .ctx import Ctx, answer, parse_prefer, split_path
from .errors import GraphHTTPError, bad_request
from .identity import GRAPH, IdentityError, Keys, Platform, routes
from .models.events import Render
from .models.seed import seed_store
from .models.session import Principal
from .models.store import Store

DEFAULT_USER = "adele@contoso.com"


# -- Prefer ---------------------------------------------------------------------


def prefer_view(prefer: dict[str, str]) -> tuple[Render, list[str], int | None]:
    applied: list[str] = []
    view = Render()
    if "outlook.timezone" in prefer:
        name = prefer["outlook.timezone"]
        try:
            view = Render(zone_name=name, zone=tz.resolve(name))
        except tz.TimeZoneError as e:
            raise GraphHTTPError(
                400,
                "TimeZoneNotSupportedException",
                f"A valid TimeZone value must be specified. The following TimeZone value is not "
                f"supported: '{name}'. {e}",
            ) from None
        applied.append(f'outlook.timezone="{name}"')
    if "outlook.body-content-type" in prefer:
        kind = prefer["outlook.body-content-type"].lower()
        if kind not in ("text", "html"):
            raise bad_request(f'Prefer outlook.body-content-type must be "text" or "html", not "{kind}".')
        view.body_type = kind
        applied.append(f'outlook.body-content-type="{kind}"')
    page = None
    if "odata.maxpagesize" in prefer:
        try:
            page = int(prefer["odata.maxpagesize"])
            if page < 1:
                raise ValueError
        except ValueError:
            raise bad_request(
                f"Prefer odata.maxpagesize must be a positive integer, not '{prefer['odata.maxpagesize']}'."
            ) from None
        applied.append(f"odata.maxpagesize={page}")
    return view, applied, page


# -- auth -------------------------------------------------------------------------


def authenticate(store: Store, header: str | None, platform: Platform | None = None) -> Principal:
    hint = (
        "The sandbox accepts 'Authorization: Bearer sandbox' (the default user), "
        "'Bearer sandbox:<address>' (sign in as that mailbox) or 'Bearer sandbox-app' (app-only)."
    )
    if not header:
        raise GraphHTTPError(401, "InvalidAuthenticationToken", f"Access token is empty. {hint}")
    scheme, _, token = header.partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        raise GraphHTTPError(401, "InvalidAuthenticationToken", f"Access token validation failure. {hint}")
    if token == "sandbox-app":
        return Principal(None)
    if platform is not None and not token.startswith("sandbox") and token.count(".") == 2:
        return _token_principal(store, platform, token)
    if token == "sandbox" or token.startswith("sandbox:"):
        address = token.partition(":")[2] or DEFAULT_USER
        row = store.mailbox(address)
        if row is None or row["kind"] not in ("user",):
            raise GraphHTTPError(
                401,
                "InvalidAuthenticationToken",
                f"Access token validation failure: no sandbox user '{address}'. {hint}",
            )
        return Principal(row)
    raise GraphHTTPError(
        401, "InvalidAuthenticationToken", f"Access token validation failure. Invalid audience. {hint}"
    )


def _token_principal(store: Store, platform: Platform, token: str) -> Principal:
    """The person (or app) of a Graph token the sandbox's identity platform issued."""
    try:
        claims = platform.verify(token, audience=GRAPH)
    except IdentityError as e:
        raise GraphHTTPError(
            401, "InvalidAuthenticationToken", f"Access token validation failure. {e.description}"
        ) from None
    if claims.get("idtyp") == "app":
        return Principal(None)
    row = store.mailbox(str(claims.get("oid", "")))
    if row is None or row["kind"] != "user":
        raise GraphHTTPError(401, "InvalidAuthenticationToken", "Access token validation failure: unknown user.")
    return Principal(row)


class Directory:
    """The demo organization's people, as the identity platform sees them."""

    def __init__(self, store: Store) -> None:
        self.store = store

    @staticmethod
    def _person(row: Any) -> dict[str, Any]:
        return {
            "id": row["id"],
            "address": row["address"],
            "name": json.loads(row["doc"]).get("displayName") or row["address"],
        }

    def __call__(self, hint: str) -> dict[str, Any] | None:
        row = self.store.mailbox(hint.strip()) if hint and hint.strip() else None
        return self._person(row) if row is not None and row["kind"] == "user" else None

    def all(self) -> list[dict[str, Any]]:
        return [self._person(r) for r in self.store.mailboxes("user")]


# -- the app ------------------------------------------------------------------------

Handler = Callable[[Ctx], Response]


def create_app(store: Store, *, clock: Clock, seed: bool = True, platform: Platform | None = None) -> Starlette:
    """The sandbox as an ASGI app over ``store`` (seeded on first use unless ``seed=False``).

    ``clock`` is the only source of "now": request times, error dates and the seed's living week.
    ``platform`` is its identity platform (one with throwaway keys when not given).
    """
    platform = platform or Platform(Directory(store), clock=clock)
    if seed and store.is_empty():
        seed_store(store, clock)
    requests_log = web.RequestLog()  # the last requests, for the week view (sandbox/web)

    async def endpoint(request: Request) -> Response:
        started = time.perf_counter()
        response = await graph_endpoint(request)
        requests_log.record(request, response.status_code, clock.now(), (time.perf_counter() - started) * 1000)
        return response

    async def graph_endpoint(request: Request) -> Response:
        def handle(body: bytes) -> Response:
            version = request.path_params["version"]
            if version not in ("v1.0", "beta"):
                raise GraphHTTPError(400, "BadRequest", f"Invalid version '{version}': use /v1.0 (or /beta).")
            path = request.path_params.get("path", "")
            with store.transaction():
                principal = authenticate(store, request.headers.get("authorization"), platform)
                view, applied, page = prefer_view(parse_prefer(request.headers.getlist("prefer")))
                ctx = Ctx(
                    request=request,
                    store=store,
                    principal=principal,
                    version=version,
                    segments=split_path(path),
                    view=view,
                    applied=applied,
                    max_page_size=page,
                    now=clock.now(),
                    body_bytes=body,
                )
                return urls.dispatch(ctx)

        return await answer(request, clock, handle)

    methods = ["GET", "POST", "PATCH", "PUT", "DELETE"]
    app = Starlette(
        routes=[
            *routes(platform),  # the identity platform, at Entra's paths (before the Graph tree)
            *web.routes(store, clock, requests_log),  # the week view at / and its read-only /_sandbox/ routes
            *urls.OUTSIDE_GRAPH,  # matched first: an upload session's pre-authenticated uploadUrl
            Route("/{version:str}/{path:path}", endpoint, methods=methods),
            Route("/{version:str}", endpoint, methods=methods),
        ]
    )
    app.state.store = store
    app.state.clock = clock
    app.state.platform = platform
    app.state.requests = requests_log
    return app


class Sandbox:
    """The sandbox, assembled: a store (``db``: a file, or ``":memory:"``), its clock and its ASGI app.

    ``Sandbox(":memory:", clock=Clock())`` is the demo organization, seeded for the clock's week
    (``seed=False``: an empty organization). ``.transport()`` is an ``httpx`` transport into the app.
    ``identity_dir`` keeps the identity platform's keys (``sandbox serve``: under the data directory).
    """

    def __init__(
        self,
        db: str | os.PathLike[str] = ":memory:",
        *,
        clock: Clock,
        seed: bool = True,
        identity_dir: Path | None = None,
    ) -> None:
        self.clock = clock
        self.store = Store(db)
        self.platform = Platform(Directory(self.store), clock=clock, keys=Keys(identity_dir))
        self.app = create_app(self.store, clock=clock, seed=seed, platform=self.platform)

    def reset(self) -> None:
        """Empty the store and seed the demo organization again, for the clock's week."""
        self.store.wipe()
        seed_store(self.store, self.clock)

    def transport(self) -> httpx.ASGITransport:
        return httpx.ASGITransport(app=self.app)

    def close(self) -> None:
        self.store.close()
