"""Fixtures for the sandbox as an HTTP API: the real ASGI app, in process.

Every test talks to :func:`outlook_calendar_mcp.sandbox.app.create_app` over
HTTP in process: ``httpx.AsyncClient(transport=httpx.ASGITransport(app))``,
driven synchronously on a private event loop by :class:`Client` (no thread
hop per request, unlike ``starlette.testclient.TestClient``, whose portal
thread made each request ~5 ms of GIL hand-off; the responses are the same
``httpx.Response`` objects). The demo organization is
seeded for a pinned day (:data:`TODAY`), so the "living week" is deterministic:
Monday 2026-03-02 .. Friday 2026-03-06 in Pacific time, the week before the US
switches to daylight time (2026-03-08), so the seeded weekly series crosses a
DST change in its own zone.

Helpers:

* ``client`` (fresh seeded store per test, signed in as adele) and
  ``make_client(token)`` for other principals on the same store;
* :func:`snapshot` dumps every table of a store, to prove a failed request
  changed nothing;
* :func:`assert_graph_error` checks Graph's error shape, status and code;
* :func:`all_pages` follows ``@odata.nextLink`` to the end.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import re
from collections.abc import Callable, Iterator
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest

from outlook_calendar_mcp.clock import Clock
from outlook_calendar_mcp.sandbox import create_app
from outlook_calendar_mcp.sandbox.seed import seed_store
from outlook_calendar_mcp.sandbox.store import Store

TODAY = dt.date(2026, 3, 4)          # a Wednesday
MONDAY = dt.date(2026, 3, 2)         # the seeded week
NOW = dt.datetime(2026, 3, 4, 17, 0, tzinfo=dt.timezone.utc)   # TODAY, 09:00 Pacific: the sandbox's clock
BASE = "http://sandbox/v1.0/"
ADELE = "adele@contoso.com"
DANA = "dana@contoso.com"
TABLES = ("mailboxes", "calendar_groups", "calendars", "events", "tombstones", "outbox", "counters")
# Graph's ids: long, url-safe base64 (the reference shows 'AAMkAGI2TG93AAA=').
ID_RE = re.compile(r"^[A-Za-z0-9_\-]+=*$")
GRAPH_DT_RE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{7}$")
GRAPH_STAMP_RE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{7}Z$")


# Windows -> IANA, from CLDR windowsZones.xml (territory 001): written out here so the tests do not
# lean on the sandbox's own mapping.
WINDOWS_ZONES = {
    "UTC": "UTC",
    "Pacific Standard Time": "America/Los_Angeles",
    "Mountain Standard Time": "America/Denver",
    "Central Standard Time": "America/Chicago",
    "Eastern Standard Time": "America/New_York",
    "GMT Standard Time": "Europe/London",
    "W. Europe Standard Time": "Europe/Berlin",
    "Romance Standard Time": "Europe/Paris",
    "E. Europe Standard Time": "Europe/Chisinau",
    "Tokyo Standard Time": "Asia/Tokyo",
    "India Standard Time": "Asia/Calcutta",
    "AUS Eastern Standard Time": "Australia/Sydney",
    "Lord Howe Standard Time": "Australia/Lord_Howe",
    "Chatham Islands Standard Time": "Pacific/Chatham",
    "Pacific SA Standard Time": "America/Santiago",
    "New Zealand Standard Time": "Pacific/Auckland",
    "Newfoundland Standard Time": "America/St_Johns",
}


def zone(name: str) -> ZoneInfo:
    """A zone by Windows or IANA name (the test's own mapping)."""
    return ZoneInfo(WINDOWS_ZONES.get(name, name))


def clock_on(today: dt.date) -> Clock:
    """A clock travelling from 09:00 Pacific on ``today``."""
    return Clock(dt.datetime.combine(today, dt.time(9), ZoneInfo("America/Los_Angeles")))


def new_store(today: dt.date = TODAY, path: str = ":memory:") -> Store:
    store = Store(path)
    seed_store(store, clock_on(today))
    return store


class Client:
    """A synchronous face on ``httpx.AsyncClient`` over ``httpx.ASGITransport``: the real HTTP path, in process."""

    def __init__(self, app: Any, token: str | None = "sandbox"):
        headers = {"Authorization": f"Bearer {token}"} if token is not None else {}
        self.app = app
        self._loop = asyncio.new_event_loop()
        self._client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=BASE, headers=headers)

    def request(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        return self._loop.run_until_complete(self._client.request(method, url, **kwargs))

    def get(self, url: str, **kwargs: Any) -> httpx.Response:
        return self.request("GET", url, **kwargs)

    def post(self, url: str, **kwargs: Any) -> httpx.Response:
        return self.request("POST", url, **kwargs)

    def patch(self, url: str, **kwargs: Any) -> httpx.Response:
        return self.request("PATCH", url, **kwargs)

    def put(self, url: str, **kwargs: Any) -> httpx.Response:
        return self.request("PUT", url, **kwargs)

    def delete(self, url: str, **kwargs: Any) -> httpx.Response:
        return self.request("DELETE", url, **kwargs)

    def close(self) -> None:
        if not self._loop.is_closed():
            self._loop.run_until_complete(self._client.aclose())
            self._loop.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def open_client(store: Store, token: str | None = "sandbox", *, seed: bool = False,
                clock: Clock | None = None) -> Client:
    """A client on a new app over ``store`` (``seed=True``: create_app's own first-run seeding)."""
    return Client(create_app(store, clock=clock or Clock(NOW), seed=seed), token)


@pytest.fixture
def clock() -> Clock:
    """The sandbox's clock: travelling from :data:`NOW`; ``clock.set(instant)`` moves it."""
    return Clock(NOW)


@pytest.fixture
def store() -> Iterator[Store]:
    s = new_store()
    yield s
    s.close()


@pytest.fixture
def client(store: Store, clock: Clock) -> Iterator[Client]:
    with open_client(store, clock=clock) as c:
        yield c


@pytest.fixture
def make_client(store: Store, clock: Clock) -> Iterator[Callable[[str | None], Client]]:
    """Clients on the same store as ``client``, for other tokens (None: no Authorization header)."""
    opened: list[Client] = []

    def make(token: str | None) -> Client:
        c = open_client(store, token, clock=clock)
        opened.append(c)
        return c

    yield make
    for c in opened:
        c.close()


@pytest.fixture(scope="module")
def shared_store() -> Iterator[Store]:
    """One seeded store for a whole module: only for tests that read, or that clean up after themselves."""
    s = new_store()
    yield s
    s.close()


@pytest.fixture(scope="module")
def shared_client(shared_store: Store) -> Iterator[Client]:
    with open_client(shared_store) as c:
        yield c


# -- helpers --------------------------------------------------------------------------------


def snapshot(store: Store) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table, sorted: equal snapshots mean nothing changed."""
    out = {}
    for table in TABLES:
        rows = store.db.execute(f"SELECT * FROM {table}").fetchall()  # noqa: S608 - fixed names
        out[table] = sorted(tuple(r) for r in rows)
    return out


def assert_graph_error(response: Any, status: int, code: str | None = None, *, contains: str | None = None) -> dict:
    """Graph's error shape: {"error": {"code", "message", "innerError": {"request-id", "date"}}}."""
    assert response.status_code == status, (response.status_code, response.text)
    body = response.json()
    assert set(body) == {"error"}, body
    error = body["error"]
    assert isinstance(error.get("code"), str) and error["code"], body
    assert isinstance(error.get("message"), str) and error["message"], body
    inner = error.get("innerError")
    assert isinstance(inner, dict), body
    assert re.fullmatch(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", inner.get("request-id", "")), body
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}", inner.get("date", "")), body
    if code is not None:
        assert error["code"] == code, body
    if contains is not None:
        assert contains.lower() in error["message"].lower(), body
    return error


def all_pages(client: Client, url: str, *, headers: dict[str, str] | None = None,
              params: dict[str, str] | None = None, max_pages: int = 100) -> list[dict[str, Any]]:
    """Every item of a collection, following @odata.nextLink (absolute URLs) to the end."""
    items: list[dict[str, Any]] = []
    response = client.get(url, headers=headers, params=params)
    for _ in range(max_pages):
        assert response.status_code == 200, response.text
        body = response.json()
        items.extend(body["value"])
        link = body.get("@odata.nextLink")
        if not link:
            return items
        assert link.startswith(BASE), link
        response = client.get(link, headers=headers)
    raise AssertionError(f"more than {max_pages} pages for {url}")


def utc(value: dict[str, str], zone_of: Callable[[str], dt.tzinfo] = zone) -> dt.datetime:
    """A Graph dateTimeTimeZone as an aware UTC instant (7 fractional digits, as Graph writes them)."""
    text = value["dateTime"]
    base, _, frac = text.partition(".")
    naive = dt.datetime.fromisoformat(base)
    assert not frac or len(frac) == 7, text
    return naive.replace(tzinfo=zone_of(value["timeZone"]), fold=0).astimezone(dt.timezone.utc)


def post_event(client: Client, body: dict[str, Any], path: str = "me/events", **kwargs: Any) -> dict[str, Any]:
    response = client.post(path, json=body, **kwargs)
    assert response.status_code == 201, response.text
    return response.json()


def event_body(subject: str = "Test event", start: str = "2026-03-10T09:00:00", end: str = "2026-03-10T10:00:00",
               zone: str = "Pacific Standard Time", **extra: Any) -> dict[str, Any]:
    return {"subject": subject, "start": {"dateTime": start, "timeZone": zone},
            "end": {"dateTime": end, "timeZone": zone}, **extra}
