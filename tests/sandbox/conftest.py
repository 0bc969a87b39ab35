"""Fixtures for the sandbox as an HTTP API: the real ASGI app, in process (one conftest for every sandbox test).

Every test talks to the sandbox (:class:`outlook_calendar_mcp.sandbox.Sandbox`, or
:func:`~outlook_calendar_mcp.sandbox.create_app` over a store) over HTTP in process: ``httpx.AsyncClient(transport=httpx.ASGITransport(app))``,
driven synchronously on a private event loop by :class:`Client` (no thread
hop per request, unlike ``starlette.testclient.TestClient``, whose portal
thread made each request ~5 ms of GIL hand-off; the responses are the same
``httpx.Response`` objects). The demo organization is
seeded for a pinned day (:data:`TODAY`), so the "living week" is deterministic:
Monday 2026-03-02 .. Friday 2026-03-06 in Pacific time, the week before the US
switches to daylight time (2026-03-08), so the seeded weekly series crosses a
DST change in its own zone.

The sandbox's clock is the ``clock`` fixture: frozen at :data:`NOW` (Monday 2026-03-02 00:00 Pacific,
so the seeded week lies ahead); ``clock.set(instant)`` moves it.

Fixtures and helpers:

* ``client`` (fresh seeded sandbox per test, signed in as adele) and
  ``make_client(token)`` for other principals on the same sandbox: :class:`Client` is the one
  synchronous client of these tests;
* ``org`` (the seeded organization, with ``org.client(token)`` / ``org.as_user(address)``) and
  ``build_org`` (an empty organization built by hand: people with their own zones and working
  hours, rooms), for meetings between mailboxes;
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
from outlook_calendar_mcp.sandbox import Sandbox, create_app
from outlook_calendar_mcp.sandbox.models.seed import seed_store
from outlook_calendar_mcp.sandbox.models.store import Store

TODAY = dt.date(2026, 3, 4)          # a Wednesday
MONDAY = dt.date(2026, 3, 2)         # the seeded week
NOW = dt.datetime(2026, 3, 2, 8, 0, tzinfo=dt.UTC)    # Monday 00:00 Pacific: the sandbox's clock
BASE = "http://sandbox/v1.0/"
ADELE = "adele@contoso.com"
DANA = "dana@contoso.com"
DANA_TOKEN = f"sandbox:{DANA}"
PACIFIC = {"Prefer": 'outlook.timezone="Pacific Standard Time"'}
WEEKDAYS = ["monday", "tuesday", "wednesday", "thursday", "friday"]
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

    def __init__(self, app: Any, token: str | None = "sandbox", base_url: str = BASE):
        headers = {"Authorization": f"Bearer {token}"} if token is not None else {}
        self.app = app
        self._loop = asyncio.new_event_loop()
        self._client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=base_url, headers=headers)

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
    return Client(create_app(store, clock=clock or Clock(NOW, frozen=True), seed=seed), token)


@pytest.fixture
def clock() -> Clock:
    """The sandbox's clock, frozen at :data:`NOW`; ``clock.set(instant)`` moves it."""
    return Clock(NOW, frozen=True)


@pytest.fixture
def sandbox(clock: Clock) -> Iterator[Sandbox]:
    """The demo organization, seeded for the clock's week, in memory."""
    s = Sandbox(":memory:", clock=clock)
    yield s
    s.close()


@pytest.fixture
def store(sandbox: Sandbox) -> Store:
    return sandbox.store


@pytest.fixture
def make_client(sandbox: Sandbox) -> Iterator[Callable[..., Client]]:
    """Clients on ``sandbox`` for any token (None: no Authorization header; base_url: e.g. the /beta root)."""
    opened: list[Client] = []

    def make(token: str | None = "sandbox", base_url: str = BASE) -> Client:
        c = Client(sandbox.app, token, base_url)
        opened.append(c)
        return c

    yield make
    for c in opened:
        c.close()


@pytest.fixture
def client(make_client: Callable[..., Client]) -> Client:
    """Adele (the default user) on a fresh seeded sandbox."""
    return make_client("sandbox")


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
        rows = store.db.execute(f"SELECT * FROM {table}").fetchall()
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
    return naive.replace(tzinfo=zone_of(value["timeZone"]), fold=0).astimezone(dt.UTC)


def post_event(client: Client, body: dict[str, Any], path: str = "me/events", **kwargs: Any) -> dict[str, Any]:
    response = client.post(path, json=body, **kwargs)
    assert response.status_code == 201, response.text
    return response.json()


def event_body(subject: str = "Test event", start: str = "2026-03-10T09:00:00", end: str = "2026-03-10T10:00:00",
               zone: str = "Pacific Standard Time", **extra: Any) -> dict[str, Any]:
    return {"subject": subject, "start": {"dateTime": start, "timeZone": zone},
            "end": {"dateTime": end, "timeZone": zone}, **extra}


# -- organizations: meetings between mailboxes --------------------------------------------------------------


class Org:
    """A sandbox and clients for whoever signs in (one :class:`Client` per token)."""

    def __init__(self, sandbox: Sandbox):
        self.sandbox = sandbox
        self.store = sandbox.store
        self.app = sandbox.app
        self._clients: dict[str | None, Client] = {}

    def client(self, token: str | None = "sandbox") -> Client:
        if token not in self._clients:
            self._clients[token] = Client(self.app, token)
        return self._clients[token]

    def as_user(self, address: str) -> Client:
        return self.client(f"sandbox:{address}")

    def outbox(self) -> list[tuple[str, str, str, str | None]]:
        """(sender, recipient, kind, subject) of every message sent, in order."""
        return [(m["sender"], m["recipient"], m["kind"], m["subject"]) for m in self.store.outbox()]

    def close(self) -> None:
        for c in self._clients.values():
            c.close()

    # -- building an organization by hand ------------------------------------------------------------------
    def add_person(self, address: str, name: str, zone: str = "Pacific Standard Time", hours: tuple[str, str] = (
            "08:00", "17:00"), days: list[str] | None = None) -> None:
        self._add(address, "user", {"displayName": name, "timeZone": zone, "workingHours": {
            "daysOfWeek": days or WEEKDAYS, "startTime": f"{hours[0]}:00.0000000", "endTime": f"{hours[1]}:00.0000000",
            "timeZone": zone}})

    def add_room(self, address: str, name: str, capacity: int = 8, room_list: str | None = None) -> None:
        self._add(address, "room", {"displayName": name, "timeZone": "Pacific Standard Time", "place": {
            "capacity": capacity, "building": "HQ", "floorNumber": 1, "roomList": room_list, "bookingType": "standard",
            "isWheelChairAccessible": True, "tags": []}})

    def _add(self, address: str, kind: str, doc: dict[str, Any]) -> None:
        with self.store.transaction():
            mailbox_id = self.store.add_mailbox(address, kind, doc)
            group = self.store.add_group(mailbox_id, "My Calendars")
            self.store.add_calendar(mailbox_id, group, {"name": "Calendar", "owner": {
                "name": doc["displayName"], "address": address}}, is_default=True)


@pytest.fixture
def org(sandbox: Sandbox) -> Iterator[Org]:
    """The seeded organization (the week of :data:`NOW`: Mon 2026-03-02 .. Fri 03-06, Pacific)."""
    o = Org(sandbox)
    yield o
    o.close()


@pytest.fixture
def build_org(clock: Clock) -> Iterator[Callable[[], Org]]:
    """Empty organizations, to build by hand (``org.add_person``, ``org.add_room``), on the test's clock."""
    made: list[Org] = []

    def build() -> Org:
        o = Org(Sandbox(":memory:", clock=clock, seed=False))
        made.append(o)
        return o

    yield build
    for o in made:
        o.close()
        o.sandbox.close()


def unchanged(store: Store, call: Callable[[], httpx.Response]) -> httpx.Response:
    """Run a request that must fail and check that every table is as it was."""
    before = snapshot(store)
    response = call()
    assert snapshot(store) == before, f"a refused request changed the store: {response.text}"
    return response


def graph_error(response: httpx.Response, status: int, code: str | None = None, contains: str | None = None) -> dict:
    assert response.status_code == status, (response.status_code, response.text)
    body = response.json()
    assert set(body) == {"error"}, body
    error = body["error"]
    assert error["code"] and error["message"] and isinstance(error.get("innerError"), dict), body
    assert re.fullmatch(r"[0-9a-f-]{36}", error["innerError"]["request-id"]), body
    if code is not None:
        assert error["code"] == code, body
    if contains is not None:
        assert contains.lower() in error["message"].lower(), body
    return error


def when(day: str, start: str, end: str, zone: str = "Pacific Standard Time") -> dict[str, Any]:
    return {"start": {"dateTime": f"{day}T{start}:00", "timeZone": zone},
            "end": {"dateTime": f"{day}T{end}:00", "timeZone": zone}}


def person(address: str, kind: str = "required", name: str | None = None) -> dict[str, Any]:
    return {"type": kind, "emailAddress": {"address": address, **({"name": name} if name else {})}}


def create(api: Client, subject: str, day: str, start: str, end: str, path: str = "me/events", **extra: Any) -> dict:
    r = api.post(path, json={"subject": subject, **when(day, start, end), **extra})
    assert r.status_code == 201, r.text
    return r.json()


def find_copy(api: Client, subject: str, prefix: str = "me") -> dict:
    """The one event of a mailbox with this subject (series masters and singles)."""
    r = api.get(f"{prefix}/events", params={"$filter": f"subject eq '{subject}'", "$top": "100"})
    assert r.status_code == 200, r.text
    found = r.json()["value"]
    assert len(found) == 1, [e["subject"] for e in found]
    return found[0]


def has_event(api: Client, subject: str) -> bool:
    r = api.get("me/events", params={"$filter": f"subject eq '{subject}'"})
    return bool(r.json()["value"])


def attendee(event: dict, address: str) -> dict:
    (a,) = [a for a in event["attendees"] if a["emailAddress"]["address"].lower() == address.lower()]
    return a


GRAPH_STAMP = GRAPH_STAMP_RE
