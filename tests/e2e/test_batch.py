"""JSON batching through the Graph client and the tools, against the sandbox's ``POST /v1.0/$batch``.

GraphClient.batch sends independent requests in one round trip and answers each with its own response
or GraphError; more than 20 go in several batches; a request throttled inside a batch (429 with
Retry-After) is sent again alone, after the time Graph asked for. find_meeting_times resolves every
name and the room list in one batch: the wire shows one $batch and the findMeetingTimes POST; get_schedule
sends the mailbox-settings read (its zone) and the batch of names together: two requests in flight, one wait.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import anyio
import httpx
import pytest
from mcp import Client
from starlette.types import ASGIApp, Receive, Scope, Send

from outlook_calendar_mcp.clock import Clock
from outlook_calendar_mcp.graph import BatchRequest, GraphClient, GraphResponse, NotFound, Throttled
from outlook_calendar_mcp.ids import Handles
from outlook_calendar_mcp.sandbox import Sandbox
from outlook_calendar_mcp.server import build_graph, create_server
from tests.instants import BEFORE_MARCH_2027, clock_at

from .conftest import open_harness, sandbox_settings, structured

pytestmark = pytest.mark.anyio
Sent = list[tuple[str, str, bytes | None]]


def recording_graph(tmp_path: Path, sandbox: Sandbox, clock: Clock, sent: Sent) -> GraphClient:
    def record(method: str, url: str, headers: dict[str, str], body: bytes | None) -> None:
        sent.append((method, url, body))

    return build_graph(sandbox_settings(tmp_path), clock=clock, sandbox=sandbox, on_request=[record])


def event(subject: str) -> dict[str, Any]:
    return {"subject": subject, "start": {"dateTime": "2027-03-09T10:00:00", "timeZone": "UTC"},
            "end": {"dateTime": "2027-03-09T11:00:00", "timeZone": "UTC"}}


async def test_each_request_gets_its_own_answer_in_order(tmp_path: Path) -> None:
    clock = clock_at(BEFORE_MARCH_2027)
    sandbox, sent = Sandbox(":memory:", clock=clock), []
    async with recording_graph(tmp_path, sandbox, clock, sent) as graph:
        answers = await graph.batch([
            BatchRequest("GET", "me", params={"$select": "displayName"}),
            BatchRequest("GET", "me/events/AAMkNoSuchEvent="),
            BatchRequest("POST", "me/events", json=event("Made in a batch")),
        ])
    me, missing, created = answers
    assert isinstance(me, GraphResponse) and me.json()["displayName"] == "Adele Vance"
    assert isinstance(missing, NotFound) and missing.status == 404
    assert isinstance(created, GraphResponse) and created.status_code == 201
    assert [(m, u.rsplit("/", 1)[1]) for m, u, _ in sent] == [("POST", "$batch")]
    subjects = [json.loads(r["doc"])["subject"] for r in sandbox.store.db.execute("SELECT doc FROM events")]
    assert subjects.count("Made in a batch") == 1


async def test_more_than_twenty_go_in_several_batches(tmp_path: Path) -> None:
    clock = clock_at(BEFORE_MARCH_2027)
    sandbox, sent = Sandbox(":memory:", clock=clock), []
    people = [r["address"] for r in sandbox.store.db.execute("SELECT address FROM mailboxes WHERE kind = 'user'")]
    requests = [BatchRequest("GET", f"users/{people[i % len(people)]}", params={"$select": "mail"}) for i in range(25)]
    async with recording_graph(tmp_path, sandbox, clock, sent) as graph:
        answers = await graph.batch(requests)
    assert [a.json()["mail"].lower() for a in answers if isinstance(a, GraphResponse)] == [
        people[i % len(people)].lower() for i in range(25)]
    sizes = [len(json.loads(body or b"{}")["requests"]) for _, _, body in sent]
    assert sizes == [20, 5]


class ThrottleOnce:
    """A throttling layer in the sandbox app: the first request to ``path`` is answered 429 (Retry-After: 3)."""

    def __init__(self, app: ASGIApp, path: str) -> None:
        self.app, self.path, self.hits = app, path, 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"] == self.path:
            self.hits += 1
            if self.hits == 1:
                body = json.dumps({"error": {"code": "TooManyRequests", "message": "Slow down."}}).encode()
                await send({"type": "http.response.start", "status": 429, "headers": [
                    (b"content-type", b"application/json"), (b"retry-after", b"3")]})
                await send({"type": "http.response.body", "body": body})
                return
        await self.app(scope, receive, send)


async def test_a_throttled_request_is_sent_again_alone(tmp_path: Path) -> None:
    clock = clock_at(BEFORE_MARCH_2027)
    sandbox, sent, sleeps = Sandbox(":memory:", clock=clock), [], []
    sandbox.app.add_middleware(ThrottleOnce, path="/v1.0/me/mailboxSettings")
    async with recording_graph(tmp_path, sandbox, clock, sent) as graph:
        async def no_sleep(seconds: float) -> None:
            sleeps.append(seconds)

        graph._sleep = no_sleep  # record the wait instead of waiting
        settings, me = await graph.batch([BatchRequest("GET", "me/mailboxSettings"), BatchRequest("GET", "me")])
        assert isinstance(settings, GraphResponse) and settings.json()["timeZone"]
        assert isinstance(me, GraphResponse)
        assert sleeps == [3.0]
        batches = [[r["url"] for r in json.loads(body or b"{}")["requests"]] for _, _, body in sent]
        assert batches == [["/me/mailboxSettings", "/me"], ["/me/mailboxSettings"]]

        graph.max_retries = 0  # a request still throttled when the retries are spent is a Throttled error
        sandbox.app.middleware_stack = None
        sandbox.app.user_middleware.clear()
        sandbox.app.add_middleware(ThrottleOnce, path="/v1.0/me")
        (throttled,) = await graph.batch([BatchRequest("GET", "me")])
        assert isinstance(throttled, Throttled) and throttled.retry_after == 3


async def test_find_meeting_times_resolves_every_name_in_one_round_trip(tmp_path: Path) -> None:
    sent: Sent = []

    def record(method: str, url: str, headers: dict[str, str], body: bytes | None) -> None:
        sent.append((method, url, body))

    async with open_harness(tmp_path, clock=clock_at(BEFORE_MARCH_2027)) as h:
        h.graph.on_request.append(record)
        found = structured(await h.client.call_tool("find_meeting_times", {
            "attendees": ["Dana", "Fanny"], "optional_attendees": ["Alex"], "duration": "1h",
            "start": "2027-03-08T09:00", "end": "2027-03-12T17:00", "time_zone": "America/Los_Angeles",
            "rooms": ["Conf Room Adams"]}))
    assert found["attendees"] == ["dana@contoso.com", "fanny@contoso.com", "alex@contoso.com"]
    paths = [f"{m} {u.split('/v1.0/', 1)[1].split('?')[0]}" for m, u, _ in sent]
    assert paths == ["POST $batch", "POST me/findMeetingTimes"]
    (batch,) = [json.loads(b or b"{}") for m, u, b in sent if u.endswith("$batch")]
    urls = [r["url"].split("?")[0] for r in batch["requests"]]
    assert urls == ["/users", "/users", "/users", "/places/microsoft.graph.room"]


class InFlight(httpx.AsyncBaseTransport):
    """The sandbox's transport, counting how many requests are in flight at once (each yields once first)."""

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self.inner, self.now, self.most, self.paths = inner, 0, 0, []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.now += 1
        self.most = max(self.most, self.now)
        self.paths.append(f"{request.method} {request.url.path.split('/v1.0/', 1)[1]}")
        try:
            await anyio.sleep(0)  # let anything else that is ready send its request too
            return await self.inner.handle_async_request(request)
        finally:
            self.now -= 1


async def test_the_zone_and_the_names_are_one_wait(tmp_path: Path) -> None:
    clock = clock_at(BEFORE_MARCH_2027)
    sandbox = Sandbox(":memory:", clock=clock)
    wire = InFlight(sandbox.transport())

    class Behind:
        def transport(self) -> httpx.AsyncBaseTransport:
            return wire

    settings = sandbox_settings(tmp_path)
    graph = build_graph(settings, clock=clock, sandbox=Behind())  # type: ignore[arg-type]
    try:
        async with Client(create_server(settings, graph, handles=Handles())) as client:
            schedule = structured(await client.call_tool("get_schedule", {
                "people": ["Dana", "Fanny"], "start": "2027-03-10T10:00", "end": "2027-03-10T11:00"}))
    finally:
        await graph.aclose()
    assert [s["email"] for s in schedule["schedules"]] == ["dana@contoso.com", "fanny@contoso.com"]
    assert sorted(wire.paths[:2]) == ["GET me/mailboxSettings", "POST $batch"] and wire.most == 2
    assert wire.paths[2:] == ["POST me/calendar/getSchedule"]
