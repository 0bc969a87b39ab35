"""The week view: a page that shows what is on every calendar of the sandbox, and what the sandbox was asked.

``routes(store, clock, log)`` are the page's routes in the sandbox's Starlette app (``sandbox serve`` puts it
at ``/``; ``serve --transport http|sse`` on an in-process sandbox mounts the whole sandbox at ``/sandbox/``).
The page (``index.html``, ``app.js``, ``style.css`` beside this file: plain HTML and JavaScript, no build)
reads calendars through the sandbox's own Graph routes, as a client would: ``users``, ``places``,
``users/{id}/mailboxSettings``, ``calendarView``, ``events/{id}`` with its ``attachments``, and the series
master for a recurrence. Graph has no route for three things it also shows, so the sandbox adds three
read-only ones, under ``/_sandbox/`` (outside Graph's tree):

* ``state?zone=...``: the sandbox clock's now and today in that zone, a change counter (it moves on every
  write) and how many messages and requests there are. The page polls it and redraws when it moves.
* ``outbox?limit=N``: what the sandbox mailed (invitations, updates, responses...), newest first.
* ``requests?limit=N``: the last Graph requests received, newest first, with their status and who sent
  them (the token's name: ``sandbox``, ``sandbox:<address>``, ``sandbox-app``; any other token shows as
  ``other``, never its value). The page's own reads carry ``X-Sandbox-View: 1`` and are not logged.
"""

from __future__ import annotations

import collections
import datetime as dt
import threading
from importlib import resources
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from ... import timezones as tz
from ...clock import Clock
from ..models.store import Store

VIEW_HEADER = "x-sandbox-view"  # the page's own Graph reads: not in the request log
STATIC = {"app.js": "text/javascript", "style.css": "text/css"}


class RequestLog:
    """The last requests the sandbox's Graph routes received (a bounded ring, newest last)."""

    def __init__(self, size: int = 200) -> None:
        self.entries: collections.deque[dict[str, Any]] = collections.deque(maxlen=size)
        self.total = 0
        self._lock = threading.Lock()

    def record(self, request: Request, status: int, at: dt.datetime, elapsed_ms: float) -> None:
        if request.headers.get(VIEW_HEADER):
            return
        query = request.url.query
        entry = {
            "at": at.astimezone(dt.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            "method": request.method,
            "path": request.url.path.removeprefix(request.scope.get("root_path", "")) + (f"?{query}" if query else ""),
            "status": status,
            "caller": caller(request.headers.get("authorization")),
            "ms": round(elapsed_ms, 1),
        }
        with self._lock:
            self.total += 1
            entry["n"] = self.total
            self.entries.append(entry)

    def newest(self, limit: int) -> list[dict[str, Any]]:
        with self._lock:
            return list(reversed(self.entries))[:limit]


def caller(header: str | None) -> str:
    """Who sent a request, by the sandbox token's name; never a token's value."""
    scheme, _, token = (header or "").partition(" ")
    token = token.strip()
    if not header:
        return "none"
    if scheme.lower() == "bearer" and (token in ("sandbox", "sandbox-app") or token.startswith("sandbox:")):
        return token
    return "other"


def _limit(request: Request, default: int = 50) -> int:
    try:
        return max(1, min(int(request.query_params.get("limit", default)), 500))
    except ValueError:
        return default


def routes(store: Store, clock: Clock, log: RequestLog) -> list[Route]:
    files = resources.files(__package__)

    def page(_: Request) -> Response:
        return Response(
            files.joinpath("index.html").read_bytes(),
            media_type="text/html; charset=utf-8",
            headers={"Cache-Control": "no-store"},
        )

    def asset(request: Request) -> Response:
        name = request.path_params["name"]
        if name not in STATIC:
            return JSONResponse({"error": f"no file {name}"}, status_code=404)
        return Response(
            files.joinpath(name).read_bytes(), media_type=STATIC[name], headers={"Cache-Control": "no-store"}
        )

    def state(request: Request) -> Response:
        name = request.query_params.get("zone") or "UTC"
        try:
            zone = tz.resolve(name)
        except tz.TimeZoneError as e:
            return JSONResponse({"error": str(e)}, status_code=400)
        now = clock.now()
        with store.lock:
            changes = store.change_seq()
            messages = store.outbox_count()
        return JSONResponse(
            {
                "now": now.astimezone(dt.UTC).isoformat(timespec="seconds").replace("+00:00", "Z"),
                "today": now.astimezone(zone).date().isoformat(),
                "time": now.astimezone(zone).strftime("%H:%M"),
                "zone": tz.iana_name(name),
                "changes": changes,
                "messages": messages,
                "requests": log.total,
            },
            headers={"Cache-Control": "no-store"},
        )

    def outbox(request: Request) -> Response:
        with store.lock:
            rows = store.outbox()
        rows.reverse()
        return JSONResponse({"value": rows[: _limit(request)]}, headers={"Cache-Control": "no-store"})

    def requests(request: Request) -> Response:
        return JSONResponse({"value": log.newest(_limit(request))}, headers={"Cache-Control": "no-store"})

    return [
        Route("/", page, methods=["GET"]),
        Route("/favicon.ico", lambda _: Response(status_code=204), methods=["GET"]),
        Route("/_sandbox/web/{name:str}", asset, methods=["GET"]),
        Route("/_sandbox/state", state, methods=["GET"]),
        Route("/_sandbox/outbox", outbox, methods=["GET"]),
        Route("/_sandbox/requests", requests, methods=["GET"]),
    ]
