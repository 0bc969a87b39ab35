"""The one HTTP client for Microsoft Graph (and the Graph-compatible sandbox).

One :class:`GraphClient` per server, holding one ``httpx.AsyncClient`` (HTTP/1.1
keep-alive pool). Every request carries ``Authorization: Bearer`` from the token
provider (except with ``auth=False``, for pre-authenticated upload URLs), a fresh
``client-request-id`` and ``Accept: application/json``.

Retries follow Graph's guidance as implemented by kiota's retry handler:

* 429, 503 and 504 are retried; a ``Retry-After`` above zero (seconds or an HTTP
  date) is honoured, otherwise exponential backoff ``0.5 * 2**n`` plus up to one
  second of jitter, each sleep capped at :data:`MAX_BACKOFF_S`;
* the client gives up after ``max_retries`` retries, or as soon as the total
  delay would exceed ``retry_budget_s`` (the error then carries ``retry_after``);
* transport failures (connect errors, timeouts, resets) are retried too;
* only GET, HEAD, PUT, DELETE and OPTIONS are retried by default. POST and
  PATCH are retried only with ``retry_post=True``, which the caller passes
  when a repeat cannot double an effect (an event create with ``transactionId``,
  a read-only action such as ``getSchedule``);
* a 401 makes the client ask the provider once for a fresh token and repeat.

Failures raise the classes of :mod:`outlook_calendar_mcp.graph.errors`.
Logging goes to the ``outlook_calendar_mcp.graph`` logger and never includes
the Authorization header or a token.
"""

from __future__ import annotations

import contextlib
import inspect
import json as _json
import logging
import random
import time
import uuid
from collections.abc import AsyncGenerator, Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable
from urllib.parse import quote, urlsplit

import anyio

from .. import __version__
from ..clock import Clock
from ..lazy import lazy_module
from . import outcomes
from .errors import (
    BadRequest,
    GraphError,
    GraphTransportError,
    MethodNotAllowed,
    NotFound,
    OutcomeUnknown,
    error_from_response,
    parse_retry_after,
)

if TYPE_CHECKING:
    import ssl

    import httpx
else:  # imported at the first Graph request: listing tools needs no HTTP client (see lazy.py)
    httpx = lazy_module("httpx")

__all__ = [
    "MAX_BACKOFF_S",
    "GraphClient",
    "GraphResponse",
    "Page",
    "Prefer",
    "RequestHook",
    "TokenProvider",
    "encode_query",
]

logger = logging.getLogger("outlook_calendar_mcp.graph")

MAX_BACKOFF_S = 30.0


class Batched(Protocol):
    """One request of a JSON batch, as :meth:`GraphClient.batch` sends it (graph/batch.py's ``BatchRequest``;
    a protocol here so that the client does not import the module that imports it)."""

    @property
    def retryable(self) -> bool: ...

    def entry(self, request_id: str) -> dict[str, Any]: ...

    def outcome(self, answer: Mapping[str, Any], root: str, now: float) -> GraphResponse | GraphError: ...


@runtime_checkable
class TokenProvider(Protocol):
    """What the client needs from sign-in (:mod:`..auth` has the providers): a bearer token on demand."""

    app_only: bool
    description: str

    async def get_token(self, *, force_refresh: bool = False) -> str: ...


BACKOFF_FACTOR_S = 0.5
RETRY_STATUSES = frozenset({429, 503, 504})
READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
REPEATABLE_METHODS = frozenset({"GET", "HEAD", "PUT", "DELETE", "OPTIONS", "PATCH"})
IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "PUT", "DELETE", "OPTIONS"})  # a batched request resent as is
MAX_BATCH = 20  # requests per JSON batch (Graph's limit)


def _not_sent() -> tuple[type[Exception], ...]:
    """Failures that happen before a request leaves: it cannot have been applied, any method may be sent
    again (httpx's classes, read when a request fails: httpx is imported at the first request)."""
    return (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)


DEFAULT_PAGE_SIZE = 100  # get_all asks for this page size unless the caller's Prefer names one

#: Called before every attempt with (method, url, headers without Authorization, body).
RequestHook = Callable[[str, str, dict[str, str], bytes | None], Awaitable[None] | None]

# Characters left readable in query strings: OData syntax ($select=a,b  $filter=f(x) eq 'y').
# Space becomes %20 and '+' becomes %2B: OData servers read '+' literally, not as a space.
_QUERY_SAFE = "$,'()/:@!*;"


@dataclass(frozen=True)
class Prefer:
    """Graph ``Prefer`` preferences; each becomes one ``Prefer`` header line."""

    time_zone: str | None = None  # outlook.timezone: event times in this zone (Windows or IANA name)
    body_text: bool = False  # outlook.body-content-type="text": bodies as text, not HTML
    max_page_size: int | None = None  # odata.maxpagesize
    return_minimal: bool = False  # return=minimal: 204 instead of the changed item
    track_changes: bool = False  # odata.track-changes: a delta query (calendarView/delta)

    def values(self) -> list[str]:
        out: list[str] = []
        if self.time_zone:
            if '"' in self.time_zone or "\n" in self.time_zone:
                raise ValueError(f"invalid time zone name for Prefer: {self.time_zone!r}")
            out.append(f'outlook.timezone="{self.time_zone}"')
        if self.body_text:
            out.append('outlook.body-content-type="text"')
        if self.max_page_size is not None:
            if self.max_page_size < 1:
                raise ValueError("max_page_size must be at least 1")
            out.append(f"odata.maxpagesize={self.max_page_size}")
        if self.return_minimal:
            out.append("return=minimal")
        if self.track_changes:
            out.append("odata.track-changes")
        return out

    def header_value(self) -> str | None:
        """All preferences as one comma-separated header value (RFC 7240), or None."""
        return ", ".join(self.values()) or None


@dataclass
class GraphResponse:
    """A successful (2xx/3xx) response."""

    method: str
    url: str
    status_code: int
    headers: httpx.Headers
    content: bytes
    outcome: str = "ok"  # "recovered": the reply was lost, reading back found the change (see .outcomes)

    def json(self) -> Any:
        """The parsed JSON body, or None for an empty body (204, 202)."""
        if not self.content or not self.content.strip():
            return None
        return _json.loads(self.content)

    @property
    def request_id(self) -> str | None:
        return self.headers.get("request-id")

    @property
    def etag(self) -> str | None:
        return self.headers.get("etag")

    @property
    def location(self) -> str | None:
        return self.headers.get("location")


@dataclass
class Page:
    """Items of a listing; ``more`` is True whenever Graph holds items not in ``items``."""

    items: list[dict]
    more: bool
    next_link: str | None  # absolute URL that continues right after items[-1]; None if not known
    count: int | None = None  # @odata.count, when $count=true was asked
    delta_link: str | None = None  # @odata.deltaLink of the last page of a delta query


def encode_query(params: Mapping[str, Any]) -> str:
    """OData-friendly query string: ``$`` and ``,`` kept, spaces as %20, '+' as %2B, bools lower-case."""
    parts = []
    for key, value in params.items():
        if value is None:
            continue
        if isinstance(value, bool):
            value = "true" if value else "false"
        elif isinstance(value, (list, tuple)):
            value = ",".join(str(v) for v in value)
        parts.append(f"{quote(str(key), safe='$')}={quote(str(value), safe=_QUERY_SAFE)}")
    return "&".join(parts)


def _environment_proxies() -> bool:
    """Whether the environment names a proxy (``HTTPS_PROXY``, ``HTTP_PROXY``, ``ALL_PROXY``, or the system's),
    which an httpx client honours (``trust_env``)."""
    import urllib.request  # noqa: PLC0415 - httpx has imported it already

    proxies = urllib.request.getproxies()
    return any(proxies.get(scheme) for scheme in ("https", "http", "all"))


def _origin(url: str) -> tuple[str, str]:
    parts = urlsplit(url)
    return parts.scheme.lower(), parts.netloc.lower()


class GraphClient:
    """Async client for Graph v1.0 (and beta) with auth, retries, paging and typed errors."""

    def __init__(
        self,
        *,
        base_url: str,
        token_provider: TokenProvider,
        beta_url: str | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        timeout: float = 30.0,
        max_retries: int = 4,
        retry_budget_s: float = 60.0,
        max_items: int = 500,
        sleep: Callable[[float], Awaitable[Any]] = anyio.sleep,
        user_agent: str = f"outlook-calendar-mcp/{__version__}",
        on_request: list[RequestHook] | None = None,
        clock: Clock | None = None,
        verify: ssl.SSLContext | str | bool = True,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.beta_url = beta_url.rstrip("/") if beta_url else None
        self.token_provider = token_provider
        self.max_retries = max_retries
        self.retry_budget_s = retry_budget_s
        self.max_items = max_items
        self.on_request: list[RequestHook] = list(on_request or [])
        self._sleep = sleep
        self.clock = clock or Clock()  # "now" for a Retry-After given as an HTTP date
        self._origins = {_origin(self.base_url)} | ({_origin(self.beta_url)} if self.beta_url else set())
        self._timeout = timeout
        self._user_agent = user_agent
        self._transport = transport
        self._verify = verify
        self._client: httpx.AsyncClient | None = None  # only when the environment names a proxy
        self._dispatch: Callable[[httpx.Request], Awaitable[httpx.Response]] | None = None
        self._timeouts: dict[str, float | None] = {}

    def _sender(self) -> Callable[[httpx.Request], Awaitable[httpx.Response]]:
        """What sends a built request, chosen at the first request (not at start: see lazy.py): the transport
        itself (the given one; else aiohttp's pool, wire.py), without an httpx client's per-request work
        (URL merging, cookies, redirect and auth hooks: about 40% of a GET's client-side CPU) that Graph
        calls do not use. When the environment names a proxy (``HTTPS_PROXY``...), an httpx client on its
        own transports sends instead: it mounts httpx's proxy transports and honours ``NO_PROXY``."""
        if self._dispatch is None:
            self._timeouts = httpx.Timeout(self._timeout).as_dict()
            if self._transport is None and _environment_proxies():
                # httpx's own transports, with a proxy transport mounted per the environment (an httpx client
                # given a transport of its own ignores the environment's proxies)
                self._client = httpx.AsyncClient(verify=self._verify, follow_redirects=False)
                self._dispatch = self._client.send
            else:
                if self._transport is None:
                    from .wire import AiohttpTransport  # noqa: PLC0415 - imported with httpx, at the first request

                    self._transport = AiohttpTransport(verify=self._verify)
                self._dispatch = self._transport.handle_async_request
        return self._dispatch

    async def __aenter__(self) -> GraphClient:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        if self._client is not None:
            await self._client.aclose()  # closes the transport too
        elif self._transport is not None:
            await self._transport.aclose()

    # --- URLs --------------------------------------------------------------------
    def url_for(
        self, path: str, params: Mapping[str, Any] | None = None, *, beta: bool = False, any_https_host: bool = False
    ) -> str:
        """Absolute URL for a relative path ("me/events") or an absolute same-host URL (a nextLink).

        ``any_https_host``: an absolute https URL may be on another host (for requests without credentials).
        """
        if path.startswith(("http://", "https://")):
            if _origin(path) not in self._origins and not (any_https_host and path.startswith("https://")):
                raise GraphError(
                    f"Refusing to send a request to {urlsplit(path).netloc}: not the Graph host this server uses.",
                    code="foreignHost",
                )
            url = path
        else:
            if beta and not self.beta_url:
                raise GraphError("This backend has no beta endpoint.", code="betaUnavailable")
            root = self.beta_url if beta else self.base_url
            url = f"{root}/{path.lstrip('/')}"
        query = encode_query(params) if params else ""
        if query:
            url = f"{url}{'&' if '?' in url else '?'}{query}"
        return url

    # --- the request loop ------------------------------------------------------------
    async def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
        content: bytes | str | None = None,
        headers: Mapping[str, str] | None = None,
        prefer: Prefer | None = None,
        beta: bool = False,
        if_match: str | None = None,
        retry_post: bool = False,
        auth: bool = True,
    ) -> GraphResponse:
        """Send one logical request (with retries); raise a GraphError subclass unless it succeeds.

        ``auth=False`` sends no Authorization header: for pre-authenticated URLs, such as the ``uploadUrl`` of
        an attachment upload session, whose token is in the URL (Graph's docs: "Do not specify an
        Authorization request header"). Such a URL may be on another Microsoft host (outlook.office.com),
        so any https host is accepted then: no credential goes with the request.

        A write whose reply was lost is settled (:mod:`.outcomes`): the answer is then either the change,
        with a note in the tool call's record that the reply was lost, or an error saying what Graph holds.
        A PATCH without ``if_match`` carries the item's current etag (read first), so no retry of it can
        overwrite a newer change. Every write is recorded for the audit trail (:func:`.outcomes.current`).
        """
        method = method.upper()
        if method == "PATCH" and not if_match and auth:
            if_match = await self._etag_of(path, beta=beta)
        try:
            response = await self._send(
                method,
                path,
                params=params,
                json=json,
                content=content,
                headers=headers,
                prefer=prefer,
                beta=beta,
                if_match=if_match,
                retry_post=retry_post,
                auth=auth,
            )
        except GraphError as e:
            self._record(method, path, e.status, e.request_id, "unknown" if isinstance(e, OutcomeUnknown) else "failed")
            raise
        self._record(method, path, response.status_code, response.request_id, response.outcome)
        return response

    async def _etag_of(self, path: str, *, beta: bool) -> str | None:
        """The ``@odata.etag`` of the item at ``path`` (None when it has none, or cannot be read that way)."""
        try:
            doc = await self.get(path, params={"$select": "id"}, beta=beta)
        except (BadRequest, MethodNotAllowed):
            return None
        etag = doc.get("@odata.etag") if isinstance(doc, dict) else None
        return etag if isinstance(etag, str) else None

    @staticmethod
    def _record(method: str, path: str, status: int | None, request_id: str | None, outcome: str) -> None:
        calls = outcomes.current()
        if calls is None or method in READ_METHODS:
            return
        parts = urlsplit(path)
        shown = parts.path if parts.scheme else path.split("?", 1)[0]
        calls.writes.append(outcomes.Write(method, shown[:300], status, request_id, outcome))

    async def _send(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None,
        json: Any,
        content: bytes | str | None,
        headers: Mapping[str, str] | None,
        prefer: Prefer | None,
        beta: bool,
        if_match: str | None,
        retry_post: bool,
        auth: bool,
    ) -> GraphResponse:
        url = self.url_for(path, params, beta=beta, any_https_host=not auth)
        body: bytes | None
        extra: list[tuple[str, str]] = [
            ("Accept", "application/json"),
            ("Accept-Encoding", "gzip, deflate"),
            ("User-Agent", self._user_agent),
            ("client-request-id", str(uuid.uuid4())),
        ]
        if json is not None:
            body = _json.dumps(json, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
            extra.append(("Content-Type", "application/json"))
        else:
            body = content.encode("utf-8") if isinstance(content, str) else content
        extra.extend(("Prefer", v) for v in (prefer.values() if prefer else ()))
        if if_match:
            extra.append(("If-Match", if_match))
        base_headers = httpx.Headers(extra)
        for key, value in (headers or {}).items():
            base_headers[key] = value
        # Repeating cannot double the effect: reads, PUT, DELETE, PATCH (it sets values; its If-Match keeps a
        # repeat from overwriting a newer change), and a POST the caller vouches for (transactionId, actions).
        repeatable = method in REPEATABLE_METHODS or retry_post
        is_write = method not in READ_METHODS
        since = self.clock.now()
        lost: str | None = None  # why an earlier attempt's reply was lost (that attempt may have been applied)

        async def settle_now() -> outcomes.Settled:
            async def get(where: str, query: dict[str, str] | None) -> Any:
                if self.beta_url and where.startswith(self.beta_url + "/"):  # read back in v1.0 (the contract)
                    where = self.base_url + where[len(self.beta_url) :]
                if query is None and where.split("?", 1)[0].rsplit("/", 1)[-1] in outcomes.COLLECTIONS:
                    return {"value": (await self.get_all(where, max_items=5000)).items}  # every page
                return await self.get(where, params=query, prefer=prefer, auth=auth)

            try:
                return await outcomes.settle(method, url, json, get=get, not_found=NotFound, since=since)
            except GraphError as e:  # reading back failed too: nothing can be said either way
                return outcomes.Settled(None, f"reading it back failed too: {e.message[:200]}")

        retries = 0
        slept = 0.0
        refreshed = False
        token = await self.token_provider.get_token() if auth else None
        send = self._sender()
        while True:
            request = httpx.Request(
                method, url, headers=base_headers, content=body, extensions={"timeout": self._timeouts}
            )
            if retries:
                request.headers["Retry-Attempt"] = str(retries)
            await self._notify(method, url, request.headers, body)
            if token is not None:
                request.headers["Authorization"] = f"Bearer {token}"
            started = time.monotonic()
            delay = self._backoff(retries)
            within = retries < self.max_retries and slept + delay <= self.retry_budget_s
            try:
                response = await send(request)
                response.request = request
                content_bytes = await response.aread()
            except httpx.RequestError as exc:
                transient = isinstance(exc, (httpx.TimeoutException, httpx.NetworkError, httpx.RemoteProtocolError))
                never_sent = isinstance(exc, _not_sent())
                if transient and is_write and not never_sent:
                    lost = lost or type(exc).__name__
                    if not repeatable:  # find out before sending it again
                        done = await self._settled(method, url, lost, await settle_now(), within)
                        if done is not None:
                            return done
                if transient and (repeatable or never_sent or lost) and within:
                    logger.warning(
                        "%s %s failed (%s); retry %d/%d in %.1fs",
                        method,
                        _loggable(url),
                        type(exc).__name__,
                        retries + 1,
                        self.max_retries,
                        delay,
                    )
                    await self._sleep(delay)
                    slept += delay
                    retries += 1
                    continue
                if lost:
                    done = await self._settled(method, url, lost, await settle_now(), False)
                    if done is not None:
                        return done
                raise GraphTransportError(
                    f"Could not reach {urlsplit(url).netloc}: {type(exc).__name__}"
                    + (f": {str(exc)[:200]}" if str(exc) else "")
                    + (f" (after {retries + 1} attempts)" if retries else ""),
                    code=type(exc).__name__,
                ) from exc
            status = response.status_code
            logger.debug(
                "%s %s -> %d in %.0f ms (request-id %s)",
                method,
                _loggable(url),
                status,
                (time.monotonic() - started) * 1000,
                response.headers.get("request-id"),
            )
            if status == 401 and auth and not refreshed:
                refreshed = True
                fresh = await self.token_provider.get_token(force_refresh=True)
                if fresh != token:
                    logger.info("%s %s -> 401; retrying once with a refreshed token", method, _loggable(url))
                    token = fresh
                    continue
            if status == 504 and is_write:  # the gateway gave up waiting: the write may have been applied
                lost = lost or "504 Gateway Timeout"
                if not repeatable:
                    done = await self._settled(method, url, lost, await settle_now(), within)
                    if done is not None:
                        return done
            if status in RETRY_STATUSES and (repeatable or status != 504 or lost) and retries < self.max_retries:
                retry_after = parse_retry_after(response.headers.get("retry-after"), now=self.clock.timestamp())
                delay = retry_after if retry_after and retry_after > 0 else delay
                if slept + delay <= self.retry_budget_s:
                    logger.warning(
                        "%s %s -> %d; retry %d/%d in %.1fs",
                        method,
                        _loggable(url),
                        status,
                        retries + 1,
                        self.max_retries,
                        delay,
                    )
                    await self._sleep(delay)
                    slept += delay
                    retries += 1
                    continue
                logger.warning(
                    "%s %s -> %d; retry budget of %.0fs spent", method, _loggable(url), status, self.retry_budget_s
                )
            if lost and (
                (method == "DELETE" and status == 404)  # the lost attempt deleted it
                or (method == "POST" and status == 409)  # the lost attempt created it (ErrorFolderExists)
                or (method == "PUT" and status == 404)  # an upload's last range landed and closed the session
                or (status == 412 and method == "PATCH")  # the lost attempt changed the etag
                or status in RETRY_STATUSES
            ):
                done = await self._settled(method, url, lost, await settle_now(), False)
                if done is not None:
                    return done
            if status == 412 and method == "PATCH":
                seen = await settle_now()
                error = error_from_response(status, response.headers, content_bytes, now=self.clock.timestamp())
                error.message = (
                    f"{error.message} Not changed: the item changed since it was read; {seen.observed}. "
                    "Read it again and decide."
                )
                raise error
            if status >= 400:
                raise error_from_response(status, response.headers, content_bytes, now=self.clock.timestamp())
            return GraphResponse(method, url, status, response.headers, content_bytes)

    async def _settled(
        self, method: str, url: str, lost: str, seen: outcomes.Settled, may_retry: bool
    ) -> GraphResponse | None:
        """The answer to a write whose reply was lost, given what reading back found: the change (with a note),
        None when it was not applied and may be sent again, or an error saying what Graph holds."""
        what = f"{method} {_loggable(url)}"
        if seen.applied:
            note = f"done; Graph's reply was lost ({lost}), the change is there: {seen.observed}."
            calls = outcomes.current()
            if calls is not None:
                calls.notes.append(note)
            logger.warning("%s: reply lost (%s); read back: applied (%s)", what, lost, seen.observed)
            body = _json.dumps(seen.doc).encode() if seen.doc is not None else b""
            return GraphResponse(method, url, 200, httpx.Headers(), body, outcome="recovered")
        if seen.applied is False and may_retry:
            logger.warning("%s: reply lost (%s); read back: not applied (%s); sending again", what, lost, seen.observed)
            return None
        if seen.applied is False:
            raise GraphTransportError(
                f"Not done: Graph's reply was lost ({lost}) and reading back shows the change is not there "
                f"({seen.observed}). Nothing was changed; try again.",
                code="notApplied",
            )
        raise OutcomeUnknown(
            f"Graph's reply was lost ({lost}) and whether the change took effect cannot be read back "
            f"({seen.observed}): it may have been applied. Check before trying again."
        )

    async def _notify(self, method: str, url: str, headers: httpx.Headers, body: bytes | None) -> None:
        if not self.on_request:
            return
        visible = {k: v for k, v in headers.items() if k.lower() != "authorization"}
        for hook in self.on_request:
            result = hook(method, url, dict(visible), body)
            if inspect.isawaitable(result):
                await result

    @staticmethod
    def _backoff(retry_index: int) -> float:
        return min(MAX_BACKOFF_S, BACKOFF_FACTOR_S * 2**retry_index + random.uniform(0.0, 1.0))

    # --- verbs ------------------------------------------------------------------------
    async def get(self, path: str, **kw: Any) -> Any:
        return (await self.request("GET", path, **kw)).json()

    async def post(self, path: str, **kw: Any) -> Any:
        return (await self.request("POST", path, **kw)).json()

    async def patch(self, path: str, **kw: Any) -> Any:
        return (await self.request("PATCH", path, **kw)).json()

    async def put(self, path: str, **kw: Any) -> Any:
        return (await self.request("PUT", path, **kw)).json()

    async def delete(self, path: str, **kw: Any) -> None:
        await self.request("DELETE", path, **kw)

    # --- JSON batching (graph/batch.py) ----------------------------------------------
    async def batch(self, requests: Sequence[Batched], *, beta: bool = False) -> list[GraphResponse | GraphError]:
        """Send independent requests in one round trip (``POST /$batch``, 20 per batch); in order, each one's
        response or the error it ended with (returned, not raised: one failure does not hide the others).

        A request answered 429/503/504 goes again in a later batch after the longest Retry-After (or the
        backoff), when a repeat cannot double it, up to ``max_retries`` times and within ``retry_budget_s``."""
        results: list[GraphResponse | GraphError | None] = [None] * len(requests)
        todo, retries, slept = list(range(len(requests))), 0, 0.0
        root = self.beta_url if beta and self.beta_url else self.base_url
        while todo:
            again: list[int] = []
            delay = 0.0
            for chunk in (todo[i : i + MAX_BATCH] for i in range(0, len(todo), MAX_BATCH)):
                body = {"requests": [requests[i].entry(str(i)) for i in chunk]}
                sent = await self.request(
                    "POST", "$batch", json=body, beta=beta, retry_post=all(requests[i].retryable for i in chunk)
                )
                answers = {str(a.get("id")): a for a in (sent.json() or {}).get("responses") or []}
                for i in chunk:
                    answer = answers.get(str(i))
                    if answer is None:
                        results[i] = GraphError(f"The $batch answer has no response for request {i}.", code="batch")
                        continue
                    results[i] = requests[i].outcome(answer, root, self.clock.timestamp())
                    if answer.get("status") in RETRY_STATUSES and requests[i].retryable:
                        named = httpx.Headers(answer.get("headers") or {}).get("retry-after")
                        after = parse_retry_after(named, now=self.clock.timestamp())
                        delay = max(delay, after if after and after > 0 else self._backoff(retries))
                        again.append(i)
            if not again or retries >= self.max_retries or slept + delay > self.retry_budget_s:
                break
            logger.warning(
                "$batch: %d request(s) throttled; retry %d/%d in %.1fs",
                len(again),
                retries + 1,
                self.max_retries,
                delay,
            )
            await self._sleep(delay)
            slept, retries, todo = slept + delay, retries + 1, again
        return [r if r is not None else GraphError("No answer.", code="batch") for r in results]

    # --- paging -----------------------------------------------------------------------
    async def get_page(
        self,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        prefer: Prefer | None = None,
        beta: bool = False,
        headers: Mapping[str, str] | None = None,
    ) -> Page:
        """One page of a collection; ``path`` may be an absolute nextLink or deltaLink."""
        data = await self.get(path, params=params, prefer=prefer, beta=beta, headers=headers) or {}
        items = data.get("value")
        if not isinstance(items, list):
            raise GraphError(f"Expected a collection from {path}, got no 'value' array.", code="notACollection")
        next_link = data.get("@odata.nextLink")
        return Page(
            items=items,
            more=next_link is not None,
            next_link=next_link,
            count=data.get("@odata.count"),
            delta_link=data.get("@odata.deltaLink"),
        )

    async def get_all(
        self,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        prefer: Prefer | None = None,
        max_items: int | None = None,
        beta: bool = False,
        headers: Mapping[str, str] | None = None,
    ) -> Page:
        """Follow ``@odata.nextLink`` (same host only) until the listing ends or ``max_items`` are collected.

        Unless ``prefer`` names a page size, pages of ``min(max_items, 100)`` are
        asked for (calendarView otherwise pages by 10). When the cap cuts a
        page, ``more`` is True and ``next_link`` is None: no link continues
        exactly after the last returned item.
        """
        cap = max_items or self.max_items
        if prefer is None or prefer.max_page_size is None:
            prefer = replace(prefer or Prefer(), max_page_size=min(cap, DEFAULT_PAGE_SIZE))
        items: list[dict] = []
        first: Page | None = None
        last: Page | None = None
        async with contextlib.aclosing(
            self.pages(path, params=params, prefer=prefer, beta=beta, headers=headers)
        ) as pages:
            async for page in pages:
                first, last = first or page, page
                items.extend(page.items)
                if len(items) >= cap:
                    break
        assert first is not None and last is not None  # pages() yields at least one page
        if len(items) > cap:
            return Page(items=items[:cap], more=True, next_link=None, count=first.count)
        return Page(
            items=items,
            more=last.next_link is not None,
            next_link=last.next_link,
            count=first.count,
            delta_link=last.delta_link,
        )

    async def pages(
        self,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        prefer: Prefer | None = None,
        beta: bool = False,
        headers: Mapping[str, str] | None = None,
    ) -> AsyncGenerator[Page, None]:
        """The pages of a listing: ``path``'s, then each ``@odata.nextLink``'s (same host only), in order.

        The one paging loop: :meth:`get_all` collects from it, a delta query (sync) reads it to its
        ``@odata.deltaLink``. ``prefer`` goes with every page (Graph wants the same Prefer on each).
        """
        page = await self.get_page(path, params=params, prefer=prefer, beta=beta, headers=headers)
        yield page
        while page.next_link:
            if _origin(page.next_link) not in self._origins:
                raise GraphError(
                    f"Refusing to follow @odata.nextLink to {urlsplit(page.next_link).netloc}: not the Graph host.",
                    code="foreignNextLink",
                )
            page = await self.get_page(page.next_link, prefer=prefer, headers=headers)
            yield page


def _loggable(url: str) -> str:
    """The URL without its query: $filter values and skip tokens can carry personal data."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}{parts.path}" + ("?…" if parts.query else "")
