"""GraphClient over httpx.MockTransport: headers, paging, errors, retries, token refresh."""

from __future__ import annotations

import datetime
import email.utils
import json
import logging

import httpx
import pytest

from outlook_calendar_mcp import __version__
from outlook_calendar_mcp.clock import Clock
from outlook_calendar_mcp.graph import (
    BadRequest,
    Conflict,
    Forbidden,
    GatewayTimeout,
    GraphClient,
    GraphError,
    GraphTransportError,
    MethodNotAllowed,
    NotFound,
    PreconditionFailed,
    Prefer,
    ServiceError,
    ServiceUnavailable,
    Throttled,
    Unauthorized,
    encode_query,
    error_from_response,
)
from outlook_calendar_mcp.graph.errors import parse_retry_after
from tests.instants import suite_instant

pytestmark = pytest.mark.anyio

BASE = "https://graph.test/v1.0"
BETA = "https://graph.test/beta"
TOKEN = "tok-SECRET-1"
ACCEPT_ENCODING = "gzip, deflate"  # what httpx always decodes


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


class Tokens:
    """A token provider handing out tok-SECRET-1, then -2 on each forced refresh."""

    app_only = False
    description = "test tokens"

    def __init__(self, refreshable: bool = True) -> None:
        self.calls: list[bool] = []
        self.refreshable = refreshable
        self.n = 1

    async def get_token(self, *, force_refresh: bool = False) -> str:
        self.calls.append(force_refresh)
        if force_refresh and self.refreshable:
            self.n += 1
        return f"tok-SECRET-{self.n}"


class Wire:
    """Routes requests to a handler and records them; sleeps are recorded, never slept."""

    def __init__(self, handler) -> None:
        self.handler = handler
        self.requests: list[httpx.Request] = []
        self.sleeps: list[float] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        return self.handler(request)

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)

    def client(self, tokens: Tokens | None = None, **kw) -> GraphClient:
        return GraphClient(
            base_url=BASE, beta_url=BETA, token_provider=tokens or Tokens(),
            transport=httpx.MockTransport(self), sleep=self.sleep, **kw,
        )


def graph_error(status: int, code: str, message: str, request_id: str = "req-1", headers=None) -> httpx.Response:
    inner = {"request-id": request_id, "date": "2024-05-01T10:00:00", "client-request-id": "c"}
    body = {"error": {"code": code, "message": message, "innerError": inner}}
    return httpx.Response(status, json=body, headers=headers)


def sequence(*responses):
    items = list(responses)

    def handler(request: httpx.Request) -> httpx.Response:
        item = items.pop(0)
        if isinstance(item, Exception):
            raise item
        return item

    return handler


def without_request_id(headers: httpx.Headers) -> dict[str, str]:
    out = dict(headers)
    assert len(out.pop("client-request-id")) == 36
    return out


# --- headers and URLs ----------------------------------------------------------------
def test_prefer_values_and_header_value():
    assert Prefer().values() == []
    assert Prefer().header_value() is None
    prefer = Prefer(time_zone="Pacific Standard Time", body_text=True, max_page_size=50, return_minimal=True)
    assert prefer.values() == [
        'outlook.timezone="Pacific Standard Time"',
        'outlook.body-content-type="text"',
        "odata.maxpagesize=50",
        "return=minimal",
    ]
    assert prefer.header_value() == ('outlook.timezone="Pacific Standard Time", outlook.body-content-type="text", '
                                     "odata.maxpagesize=50, return=minimal")
    assert Prefer(time_zone="Europe/Berlin").values() == ['outlook.timezone="Europe/Berlin"']
    with pytest.raises(ValueError):
        Prefer(time_zone='Bad"Zone').values()
    with pytest.raises(ValueError):
        Prefer(max_page_size=0).values()


async def test_get_sends_exactly_these_headers():
    wire = Wire(lambda r: httpx.Response(200, json={"id": "1"}))
    async with wire.client() as client:
        assert await client.get("me/events/1", prefer=Prefer(time_zone="UTC", body_text=True)) == {"id": "1"}
    (request,) = wire.requests
    assert str(request.url) == f"{BASE}/me/events/1"
    assert without_request_id(request.headers) == {
        "host": "graph.test",
        "accept": "application/json",
        "accept-encoding": ACCEPT_ENCODING,
        "user-agent": f"outlook-calendar-mcp/{__version__}",
        "prefer": 'outlook.timezone="UTC", outlook.body-content-type="text"',
        "authorization": f"Bearer {TOKEN}",
    }
    # Each preference travels as its own header line.
    assert request.headers.get_list("prefer") == ['outlook.timezone="UTC"', 'outlook.body-content-type="text"']


async def test_post_json_body_if_match_and_hook_without_authorization():
    seen = []
    wire = Wire(lambda r: httpx.Response(201, json={"id": "new"}, headers={"Location": f"{BASE}/me/events/new"}))
    async with wire.client(on_request=[lambda *args: seen.append(args)]) as client:
        response = await client.request("PATCH", "/me/events/1", json={"subject": "Café ☕"}, if_match='W/"abc"')
    assert response.status_code == 201 and response.location == f"{BASE}/me/events/new"
    (request,) = wire.requests
    assert request.content == '{"subject":"Café ☕"}'.encode()
    assert without_request_id(request.headers) == {
        "host": "graph.test",
        "accept": "application/json",
        "accept-encoding": ACCEPT_ENCODING,
        "user-agent": f"outlook-calendar-mcp/{__version__}",
        "content-type": "application/json",
        "if-match": 'W/"abc"',
        "content-length": str(len(request.content)),
        "authorization": f"Bearer {TOKEN}",
    }
    ((method, url, headers, body),) = seen
    assert (method, url, body) == ("PATCH", f"{BASE}/me/events/1", request.content)
    assert "authorization" not in {k.lower() for k in headers}
    assert headers["if-match"] == 'W/"abc"'


def test_query_encoding_keeps_odata_readable():
    query = encode_query({"$select": ["subject", "start"], "$filter": "subject eq 'a+b & c'",
                          "startDateTime": "2024-01-01T00:00:00+02:00", "$count": True, "$top": 5, "skip": None})
    assert query == ("$select=subject,start&$filter=subject%20eq%20'a%2Bb%20%26%20c'"
                     "&startDateTime=2024-01-01T00:00:00%2B02:00&$count=true&$top=5")


async def test_urls_relative_absolute_beta_and_merged_query():
    wire = Wire(lambda r: httpx.Response(204))
    async with wire.client() as client:
        assert await client.get("me/events?$select=id", params={"$top": 2}) is None
        await client.delete(f"{BASE}/me/events/2")
        await client.get("me/events", beta=True)
        with pytest.raises(GraphError) as info:
            await client.get("https://evil.example/v1.0/me")
    assert info.value.code == "foreignHost"
    assert [str(r.url) for r in wire.requests] == [
        f"{BASE}/me/events?$select=id&$top=2", f"{BASE}/me/events/2", f"{BETA}/me/events",
    ]
    assert [r.method for r in wire.requests] == ["GET", "DELETE", "GET"]


# --- paging --------------------------------------------------------------------------
def three_pages(request: httpx.Request) -> httpx.Response:
    page = int(request.url.params.get("page", "1"))
    body = {"value": [{"id": f"{page}-{i}"} for i in range(3)]}
    if page == 1:
        body["@odata.count"] = 9
    if page < 3:
        body["@odata.nextLink"] = f"{BASE}/me/calendarView?startDateTime=x&page={page + 1}"
    return httpx.Response(200, json=body)


async def test_get_all_follows_absolute_next_links():
    wire = Wire(three_pages)
    async with wire.client() as client:
        page = await client.get_all("me/calendarView", params={"startDateTime": "x", "$count": True})
    assert [item["id"] for item in page.items] == ["1-0", "1-1", "1-2", "2-0", "2-1", "2-2", "3-0", "3-1", "3-2"]
    assert (page.more, page.next_link, page.count) == (False, None, 9)
    assert [str(r.url) for r in wire.requests] == [
        f"{BASE}/me/calendarView?startDateTime=x&$count=true",
        f"{BASE}/me/calendarView?startDateTime=x&page=2",
        f"{BASE}/me/calendarView?startDateTime=x&page=3",
    ]
    assert {r.headers["prefer"] for r in wire.requests} == {"odata.maxpagesize=100"}


async def test_get_all_cap_mid_page_says_more_without_a_link():
    wire = Wire(three_pages)
    async with wire.client(max_items=4) as client:
        page = await client.get_all("me/calendarView", prefer=Prefer(time_zone="UTC"))
    assert [item["id"] for item in page.items] == ["1-0", "1-1", "1-2", "2-0"]
    assert (page.more, page.next_link) == (True, None)
    assert len(wire.requests) == 2
    assert wire.requests[0].headers["prefer"] == 'outlook.timezone="UTC", odata.maxpagesize=4'


async def test_get_all_cap_on_page_boundary_returns_the_next_link():
    wire = Wire(three_pages)
    async with wire.client() as client:
        page = await client.get_all("me/calendarView", max_items=6, prefer=Prefer(max_page_size=3))
    assert len(page.items) == 6
    assert (page.more, page.next_link) == (True, f"{BASE}/me/calendarView?startDateTime=x&page=3")
    assert {r.headers["prefer"] for r in wire.requests} == {"odata.maxpagesize=3"}


async def test_next_link_to_another_host_is_refused():
    def handler(request):
        return httpx.Response(200, json={"value": [{"id": "a"}], "@odata.nextLink": "https://evil.example/v1.0/me/events?p=2"})

    wire = Wire(handler)
    async with wire.client() as client:
        with pytest.raises(GraphError) as info:
            await client.get_all("me/events")
    assert info.value.code == "foreignNextLink"
    assert "evil.example" in str(info.value)
    assert len(wire.requests) == 1


async def test_get_page_returns_delta_link():
    delta = f"{BASE}/me/calendarView/delta?$deltatoken=abc"
    wire = Wire(lambda r: httpx.Response(200, json={"value": [], "@odata.deltaLink": delta}))
    async with wire.client() as client:
        page = await client.get_page("me/calendarView/delta")
    assert (page.items, page.more, page.next_link, page.delta_link) == ([], False, None, delta)


# --- errors ------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("status", "cls"),
    [(400, BadRequest), (401, Unauthorized), (403, Forbidden), (404, NotFound), (405, MethodNotAllowed),
     (409, Conflict), (412, PreconditionFailed), (429, Throttled), (500, ServiceError),
     (502, ServiceError), (503, ServiceUnavailable), (504, GatewayTimeout), (418, GraphError)],
)
async def test_error_statuses_map_to_classes(status, cls):
    wire = Wire(lambda r: graph_error(status, "SomeCode", "It went wrong.", request_id="rid-42"))
    async with wire.client(max_retries=0) as client:
        with pytest.raises(GraphError) as info:
            await client.get("me/events/x")
    error = info.value
    assert type(error) is cls
    assert (error.status, error.code, error.message, error.request_id, error.date) == (
        status, "SomeCode", "It went wrong.", "rid-42", "2024-05-01T10:00:00")
    assert str(error) == f"It went wrong. (Graph {status} SomeCode; request-id rid-42)"


def test_error_from_response_tolerates_odd_bodies():
    error = error_from_response(502, {"request-id": "hdr-1"}, b"<html>Bad Gateway</html>")
    assert (type(error), error.message, error.request_id, error.code) == (ServiceError, "Graph answered HTTP 502.",
                                                                          "hdr-1", None)
    error = error_from_response(404, {}, b"")
    assert (type(error), str(error)) == (NotFound, "Not found. (Graph 404)")
    error = error_from_response(400, {}, b"plain words")
    assert error.message == "plain words"
    error = error_from_response(400, {}, b'{"error": {"innerError": null}}')
    assert (error.message, error.code) == ("Bad request.", None)
    error = error_from_response(401, {}, json.dumps({"error": "invalid_token", "error_description": "expired"}))
    assert (type(error), error.code, error.message) == (Unauthorized, "invalid_token", "expired")
    error = error_from_response(429, {"Retry-After": "7"}, b"{}")
    assert error.retry_after == 7 and str(error) == "Too many requests. (Graph 429; retry after 7s)"


def test_retry_after_parses_seconds_and_http_dates():
    now = suite_instant().timestamp()
    assert parse_retry_after("2") == 2
    assert parse_retry_after("0") == 0
    assert parse_retry_after(None) is None and parse_retry_after("soon") is None
    date = email.utils.formatdate(now + 30, usegmt=True)
    assert 28 <= parse_retry_after(date, now=now) <= 30
    assert parse_retry_after(email.utils.formatdate(now - 30, usegmt=True), now=now) == 0


# --- retries -------------------------------------------------------------------------------
async def test_429_with_retry_after_sleeps_that_long_then_succeeds():
    wire = Wire(sequence(graph_error(429, "TooManyRequests", "Slow down.", headers={"Retry-After": "2"}),
                         httpx.Response(200, json={"ok": True})))
    async with wire.client() as client:
        assert await client.get("me/events") == {"ok": True}
    assert wire.sleeps == [2]
    first, second = wire.requests
    assert "retry-attempt" not in first.headers and second.headers["retry-attempt"] == "1"
    assert first.headers["client-request-id"] == second.headers["client-request-id"]


async def test_retry_after_as_an_http_date_is_read_on_the_clients_clock():
    clock = Clock(datetime.datetime(2027, 3, 14, 9, 0, tzinfo=datetime.UTC), frozen=True)
    later = email.utils.format_datetime(datetime.datetime(2027, 3, 14, 9, 0, 20, tzinfo=datetime.UTC), usegmt=True)
    wire = Wire(sequence(graph_error(429, "TooManyRequests", "Slow down.", headers={"Retry-After": later}),
                         graph_error(429, "TooManyRequests", "Slow down.", headers={"Retry-After": later})))
    async with wire.client(clock=clock, max_retries=1) as client:
        with pytest.raises(Throttled) as info:
            await client.get("me/events")
    assert wire.sleeps == [20]                 # 20 s after the clock's now, whatever the system date
    assert info.value.retry_after == 20


async def test_503_without_retry_after_backs_off_exponentially_then_gives_up():
    wire = Wire(lambda r: graph_error(503, "ServiceUnavailable", "Try later."))
    async with wire.client(max_retries=4) as client:
        with pytest.raises(ServiceUnavailable):
            await client.get("me/events")
    assert len(wire.requests) == 5
    assert len(wire.sleeps) == 4
    for n, delay in enumerate(wire.sleeps):
        assert 0.5 * 2**n <= delay <= 0.5 * 2**n + 1  # 0.5·2^n plus up to a second of jitter


async def test_retry_budget_exhaustion_raises_throttled_with_retry_after():
    wire = Wire(lambda r: graph_error(429, "TooManyRequests", "Slow down.", headers={"Retry-After": "30"}))
    async with wire.client(retry_budget_s=60) as client:
        with pytest.raises(Throttled) as info:
            await client.get("me/events")
    assert wire.sleeps == [30, 30]
    assert len(wire.requests) == 3
    assert info.value.retry_after == 30
    assert str(info.value) == "Slow down. (Graph 429 TooManyRequests; request-id req-1; retry after 30s)"


async def test_retry_after_beyond_the_budget_fails_at_once():
    wire = Wire(lambda r: graph_error(504, "GatewayTimeout", "Late.", headers={"Retry-After": "120"}))
    async with wire.client(retry_budget_s=60) as client:
        with pytest.raises(GatewayTimeout):
            await client.get("me/events")
    assert (wire.sleeps, len(wire.requests)) == ([], 1)


@pytest.mark.parametrize("method", ["POST", "PATCH"])
async def test_429_and_503_are_retried_for_every_method(method):
    # Graph applied nothing when it answers 429 or 503: any method may be sent again, after Retry-After.
    path = "me/events" if method == "POST" else "me/events/AAMkAGI2TG93AAA="
    wire = Wire(sequence(graph_error(503, "ServiceUnavailable", "Try later.", headers={"Retry-After": "1"}),
                         graph_error(429, "TooManyRequests", "Slow.", headers={"Retry-After": "2"}),
                         httpx.Response(201, json={"id": "e1"})))
    async with wire.client() as client:
        response = await client.request(method, path, json={"subject": "x"}, if_match='W/"k"')
    assert response.json() == {"id": "e1"}
    assert wire.sleeps == [1, 2]
    assert wire.requests[0].content == wire.requests[2].content


@pytest.mark.parametrize("exc", [httpx.ConnectError("refused"), httpx.ReadTimeout("slow"),
                                 httpx.RemoteProtocolError("reset")])
async def test_transport_errors_are_retried_for_reads(exc):
    wire = Wire(sequence(exc, httpx.Response(200, json={"ok": 1})))
    async with wire.client() as client:
        assert await client.get("me/events") == {"ok": 1}
    assert len(wire.requests) == 2 and len(wire.sleeps) == 1 and 0.5 <= wire.sleeps[0] <= 1.5


async def test_a_post_that_never_left_is_sent_again():
    wire = Wire(sequence(httpx.ConnectError("refused"), httpx.Response(201, json={"id": 1})))
    async with wire.client() as client:
        assert await client.post("me/calendars", json={"name": "x"}) == {"id": 1}
    assert [r.method for r in wire.requests] == ["POST", "POST"]


async def test_transport_errors_give_up_after_max_retries():
    wire = Wire(lambda r: (_ for _ in ()).throw(httpx.ConnectError("refused")))
    async with wire.client(max_retries=2) as client:
        with pytest.raises(GraphTransportError) as info:
            await client.get("me/events")
    assert len(wire.requests) == 3 and len(wire.sleeps) == 2
    assert "after 3 attempts" in str(info.value)


# --- 401 and token refresh ---------------------------------------------------------------
async def test_401_refreshes_the_token_once_and_retries():
    tokens = Tokens()
    wire = Wire(sequence(graph_error(401, "InvalidAuthenticationToken", "Expired."), httpx.Response(200, json={})))
    async with wire.client(tokens) as client:
        assert await client.get("me") == {}
    assert [r.headers["authorization"] for r in wire.requests] == ["Bearer tok-SECRET-1", "Bearer tok-SECRET-2"]
    assert tokens.calls == [False, True]
    assert wire.sleeps == []


async def test_second_401_is_raised_as_unauthorized():
    tokens = Tokens()
    wire = Wire(lambda r: graph_error(401, "InvalidAuthenticationToken", "Nope."))
    async with wire.client(tokens) as client:
        with pytest.raises(Unauthorized):
            await client.get("me")
    assert len(wire.requests) == 2 and tokens.calls == [False, True]


async def test_401_with_a_token_that_cannot_refresh_is_not_repeated():
    tokens = Tokens(refreshable=False)
    wire = Wire(lambda r: graph_error(401, "InvalidAuthenticationToken", "Nope."))
    async with wire.client(tokens) as client:
        with pytest.raises(Unauthorized):
            await client.get("me")
    assert len(wire.requests) == 1 and tokens.calls == [False, True]


async def test_logs_never_carry_the_token(caplog):
    caplog.set_level(logging.DEBUG)
    wire = Wire(sequence(graph_error(401, "InvalidAuthenticationToken", "Expired."),
                         graph_error(429, "TooManyRequests", "Slow.", headers={"Retry-After": "1"}),
                         httpx.Response(200, json={})))
    async with wire.client() as client:
        await client.get("me/events", params={"$filter": "subject eq 'private'"})
    assert "outlook_calendar_mcp.graph" in {r.name for r in caplog.records}
    assert "tok-SECRET" not in caplog.text and "Bearer" not in caplog.text
    ours = "\n".join(r.getMessage() for r in caplog.records if r.name.startswith("outlook_calendar_mcp"))
    assert "private" not in ours  # our lines leave query strings out ($filter can hold personal data)
