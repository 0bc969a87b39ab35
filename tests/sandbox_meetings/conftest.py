"""Fixtures for meetings between mailboxes: the sandbox app in process, over httpx.ASGITransport.

* ``org``: the demo organization seeded for a pinned week (Mon 2026-03-02 .. Fri 2026-03-06, Pacific),
  with the sandbox's clock set to Monday 2026-03-02 00:00 Pacific, so that week lies ahead;
  ``org.client(token)`` opens a client ("sandbox" is Adele, "sandbox:dana@contoso.com" is Dana,
  "sandbox-app" the app).
* ``build_org``: an empty organization built by hand (mailboxes with their own zones and working
  hours, rooms, calendars), for premises the seed does not hold.
* :func:`snapshot` / :func:`unchanged`: every table of the store, to prove a refused request
  changed nothing; :func:`graph_error` checks Graph's error shape.

Clients are synchronous wrappers around ``httpx.AsyncClient(transport=httpx.ASGITransport(app))``,
driven through one anyio blocking portal per test session.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Callable, Iterator
from typing import Any

import anyio.from_thread
import httpx
import pytest

from outlook_calendar_mcp.clock import Clock
from outlook_calendar_mcp.sandbox import create_app
from outlook_calendar_mcp.sandbox.seed import seed_store
from outlook_calendar_mcp.sandbox.store import Store

TODAY = dt.date(2026, 3, 4)                                          # the seeded week: Mon 2026-03-02 .. Fri 03-06
NOW = dt.datetime(2026, 3, 2, 8, 0, tzinfo=dt.timezone.utc)          # Monday 00:00 Pacific
BASE = "http://sandbox/v1.0/"
PACIFIC = {"Prefer": 'outlook.timezone="Pacific Standard Time"'}
TABLES = ("mailboxes", "calendar_groups", "calendars", "events", "tombstones", "outbox", "counters")
WEEKDAYS = ["monday", "tuesday", "wednesday", "thursday", "friday"]


class Api:
    """A synchronous HTTP client for the sandbox app (httpx over ASGITransport, run in the portal's loop)."""

    def __init__(self, portal: Any, app: Any, token: str | None):
        headers = {"Authorization": f"Bearer {token}"} if token is not None else {}
        self.portal = portal
        self.client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=BASE, headers=headers)

    def request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        return self.portal.call(lambda: self.client.request(method, path, **kwargs))

    def get(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.request("GET", path, **kwargs)

    def post(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.request("POST", path, **kwargs)

    def patch(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.request("PATCH", path, **kwargs)

    def delete(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.request("DELETE", path, **kwargs)

    def close(self) -> None:
        self.portal.call(self.client.aclose)


class Org:
    """A store, its app, and clients for whoever signs in."""

    def __init__(self, portal: Any, store: Store, clock: Clock):
        self.store = store
        self.app = create_app(store, clock=clock, seed=False)
        self.portal = portal
        self._clients: dict[str | None, Api] = {}

    def client(self, token: str | None = "sandbox") -> Api:
        if token not in self._clients:
            self._clients[token] = Api(self.portal, self.app, token)
        return self._clients[token]

    def as_user(self, address: str) -> Api:
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


@pytest.fixture(scope="session")
def portal() -> Iterator[Any]:
    with anyio.from_thread.start_blocking_portal() as p:
        yield p


@pytest.fixture
def clock() -> Clock:
    """The sandbox's clock (what 'now' is for requests), frozen at :data:`NOW`; move it with clock.set(instant)."""
    return Clock(NOW, frozen=True)


@pytest.fixture
def org(portal: Any, clock: Clock) -> Iterator[Org]:
    store = Store(":memory:")
    seed_store(store, clock)     # the week of NOW: Mon 2026-03-02 .. Fri 03-06 (TODAY's week)
    o = Org(portal, store, clock)
    yield o
    o.close()
    store.close()


@pytest.fixture
def build_org(portal: Any, clock: Clock) -> Iterator[Callable[[], Org]]:
    made: list[Org] = []

    def build() -> Org:
        o = Org(portal, Store(":memory:"), clock)
        made.append(o)
        return o

    yield build
    for o in made:
        o.close()
        o.store.close()


# -- helpers -------------------------------------------------------------------------------------------------

def snapshot(store: Store) -> dict[str, list[tuple[Any, ...]]]:
    return {t: sorted(tuple(r) for r in store.db.execute(f"SELECT * FROM {t}")) for t in TABLES}  # noqa: S608


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


def create(api: Api, subject: str, day: str, start: str, end: str, path: str = "me/events", **extra: Any) -> dict:
    r = api.post(path, json={"subject": subject, **when(day, start, end), **extra})
    assert r.status_code == 201, r.text
    return r.json()


def find_copy(api: Api, subject: str, prefix: str = "me") -> dict:
    """The one event of a mailbox with this subject (series masters and singles)."""
    r = api.get(f"{prefix}/events", params={"$filter": f"subject eq '{subject}'", "$top": "100"})
    assert r.status_code == 200, r.text
    found = r.json()["value"]
    assert len(found) == 1, [e["subject"] for e in found]
    return found[0]


def has_event(api: Api, subject: str) -> bool:
    r = api.get("me/events", params={"$filter": f"subject eq '{subject}'"})
    return bool(r.json()["value"])


def attendee(event: dict, address: str) -> dict:
    (a,) = [a for a in event["attendees"] if a["emailAddress"]["address"].lower() == address.lower()]
    return a


def load(text: str) -> Any:
    return json.loads(text)


GRAPH_STAMP = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{7}Z$")
