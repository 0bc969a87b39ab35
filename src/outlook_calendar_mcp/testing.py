"""A pytest plugin for people who test scheduling agents against the sandbox (``pytest11`` entry point).

Installed with the package, it offers these fixtures to any test suite:

* ``calendar_scenario``: the world to start from, a :class:`~.sandbox.scenarios.Scenario`. Default: the demo
  organization; ``@pytest.mark.calendar_scenario("tests/office.yaml")`` (a path, relative to the test's file
  or absolute) picks a file, or override the fixture.
* ``calendar_clock``: the one clock of the sandbox and the server. Default: ``OUTLOOK_MCP_NOW`` if set, else the
  system's now; ``@pytest.mark.calendar_now("2027-03-15T09:00-07:00")`` pins it (frozen), so the world is the
  same on every run.
* ``calendar_sandbox``: a fresh in-memory sandbox seeded with the scenario: a :class:`SandboxWorld`, with
  ``outbox()`` (what the sandbox mailed, in order), ``graph(path)`` (read it through Graph's paths) and
  ``act_as(alias)`` (a Graph client signed in as someone else: their replies) and ``calendar(alias)`` for
  assertions such as
  ``calendar_sandbox.calendar("dana").has_one_event(on="tuesday", at="10:00", with_={"fanny": "accepted"})``.
* ``calendar_mcp`` (async: mark the test ``@pytest.mark.anyio``): an MCP client (the SDK's ``mcp.Client``)
  connected to this server, built as ``serve`` builds it, on that sandbox; ``await calendar_mcp.call(tool,
  args)`` gives a tool's structured result (a failing call raises :class:`ToolCallFailed` with the server's
  message). ``@pytest.mark.calendar_user("dana")`` signs in as someone else than the scenario's first person.
  ``calendar_mcp.audit()`` gives the server's audit trail of writes (one dict per tool call, oldest first).

Only pytest and the standard library are imported when pytest loads the plugin; the server, the sandbox and
the MCP SDK are imported by the fixtures that need them. The README's "Testing your agent" has a worked
example.
"""

from __future__ import annotations

import datetime as dt
import json
import os
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from mcp import Client

    from .clock import Clock
    from .sandbox import Sandbox
    from .sandbox.scenarios import Scenario

APP_TOKEN = "Bearer sandbox-app"  # the sandbox's app-only token: may read every mailbox


def pytest_configure(config: pytest.Config) -> None:
    for line in (
        "calendar_scenario(path): the scenario file the calendar_sandbox fixture starts from (default: the demo)",
        "calendar_now(instant): pin the sandbox's clock at this ISO 8601 instant (frozen)",
        "calendar_user(alias): whom calendar_mcp signs in as (default: the scenario's first person)",
    ):
        config.addinivalue_line("markers", line)


class ToolCallFailed(AssertionError):
    """A tool call that answered isError; the message is the server's."""


# -- the world ----------------------------------------------------------------------------------------------


@dataclass
class SandboxWorld:
    """A seeded sandbox, its scenario and clock, and ways to look into it."""

    sandbox: Sandbox
    scenario: Scenario
    clock: Clock
    _http: Any = field(default=None, repr=False)
    _others: list[Any] = field(default_factory=list, repr=False)

    @property
    def store(self) -> Any:
        return self.sandbox.store

    def address(self, who: str) -> str:
        """An alias of the scenario (``dana``) as an address; an address stays itself."""
        return who if "@" in who else f"{who}@{self.scenario.domain}"

    def day(self, spec: int | str) -> dt.date:
        """A scenario day (``"tuesday"``, ``"next tuesday"``, ``2``, ``"2027-03-16"``) as a date, for the anchor."""
        from .sandbox.scenarios import anchor_day, resolve_day  # noqa: PLC0415
        from .sandbox.scenarios.model import day_spec  # noqa: PLC0415

        return resolve_day(day_spec(spec), anchor_day(self.scenario, self.clock))

    def outbox(self) -> list[dict[str, Any]]:
        """Everything the sandbox mailed (invitations, updates, cancellations, responses, forwards), oldest first:
        dicts with sender, recipient, kind, subject, comment, event_id, created."""
        with self.store.lock:
            return self.store.outbox()

    def graph(self, path: str, params: dict[str, str] | None = None, zone: str | None = None) -> dict[str, Any]:
        """GET a Graph path of the sandbox (``users/dana@contoso.com/calendar``) as an app-only client."""
        if self._http is None:
            from starlette.testclient import TestClient  # noqa: PLC0415

            self._http = TestClient(self.sandbox.app, base_url="http://sandbox/v1.0/")
        headers = {"Authorization": APP_TOKEN}
        if zone:
            headers["Prefer"] = f'outlook.timezone="{zone}"'
        r = self._http.get(path, params=params, headers=headers)
        if r.status_code != 200:
            raise AssertionError(f"GET {path}: {r.status_code} {r.text}")
        return r.json()

    def act_as(self, who: str) -> Any:
        """A synchronous HTTP client on the sandbox's Graph root, signed in as ``who``: what someone else does
        while the agent works (``calendar_sandbox.act_as("fanny").post(f"me/events/{id}/accept", json={})``)."""
        from starlette.testclient import TestClient  # noqa: PLC0415

        client = TestClient(
            self.sandbox.app,
            base_url="http://sandbox/v1.0/",
            headers={"Authorization": f"Bearer sandbox:{self.address(who)}"},
        )
        self._others.append(client)
        return client

    def calendar(self, who: str) -> Calendar:
        """Assertions on one mailbox's primary calendar (a person or a room), in its own time zone."""
        return Calendar(self, self.address(who))

    def close(self) -> None:
        for client in [self._http, *self._others]:
            if client is not None:
                client.close()
        self.sandbox.close()


@dataclass
class Calendar:
    """One mailbox's calendar as its owner sees it, day by day (occurrences of series included)."""

    world: SandboxWorld
    address: str

    @property
    def zone(self) -> str:
        return self.world.graph(f"users/{self.address}/mailboxSettings")["timeZone"]

    def on(self, day: int | str) -> list[dict[str, Any]]:
        """The events of one day (scenario day spec), cancelled ones left out, by start: Graph's event JSON with
        local times in the owner's zone."""
        date = self.world.day(day)
        zone = self.zone
        window = {  # a day either side in UTC; the local date decides
            "startDateTime": f"{date - dt.timedelta(days=1)}T00:00:00Z",
            "endDateTime": f"{date + dt.timedelta(days=2)}T00:00:00Z",
            "$top": "1000",
        }
        items = self.world.graph(f"users/{self.address}/calendarView", window, zone)["value"]
        return sorted(
            (e for e in items if e["start"]["dateTime"][:10] == date.isoformat() and not e.get("isCancelled")),
            key=lambda e: e["start"]["dateTime"],
        )

    def has_one_event(
        self,
        on: int | str,
        at: str | None = None,
        subject: str | None = None,
        with_: dict[str, str] | None = None,
    ) -> dict[str, Any]:
        """Assert that exactly one event of day ``on`` matches: starting ``at`` ("HH:MM", the owner's zone), titled
        ``subject``, with these attendees' answers (``{"fanny": "accepted"}``; none, accepted,
        tentativelyAccepted, declined). Returns it; the failure message lists what the day holds."""
        day = self.on(on)
        found = [e for e in day if self._matches(e, at, subject, with_ or {})]
        if len(found) != 1:
            held = (
                "\n".join(
                    f"  {e['start']['dateTime'][11:16]} {e.get('subject')!r} " + self._answers_text(e) for e in day
                )
                or "  (nothing)"
            )
            want = " ".join(
                part
                for part in (
                    f"at {at}" if at else "",
                    f"titled {subject!r}" if subject else "",
                    f"with {with_}" if with_ else "",
                )
                if part
            )
            raise AssertionError(
                f"{self.address} has {len(found)} event(s) on {self.world.day(on)} {want}, not one. That day:\n{held}"
            )
        return found[0]

    def _matches(self, e: dict[str, Any], at: str | None, subject: str | None, answers: dict[str, str]) -> bool:
        if at is not None and e["start"]["dateTime"][11:16] != at:
            return False
        if subject is not None and e.get("subject") != subject:
            return False
        return all(self.answer_of(e, who) == response for who, response in answers.items())

    def answer_of(self, e: dict[str, Any], who: str) -> str | None:
        """An attendee's answer to this event: the organizer's tally when this calendar is the organizer's, else
        the attendee's own copy (what they answered); None when they are not invited."""
        address = self.world.address(who).lower()
        attendees = {a["emailAddress"]["address"].lower(): a for a in e.get("attendees") or []}
        if address not in attendees:
            return None
        if e.get("isOrganizer"):
            return attendees[address]["status"]["response"]
        theirs = Calendar(self.world, address)
        for copy in theirs.copies_of(e):
            return copy["responseStatus"]["response"]
        return None

    def copies_of(self, e: dict[str, Any]) -> list[dict[str, Any]]:
        """This calendar's occurrences of the meeting ``e`` (same iCalUId) around its day."""
        start = dt.datetime.fromisoformat(e["start"]["dateTime"][:19])
        window = {
            "startDateTime": f"{start.date() - dt.timedelta(days=1)}T00:00:00Z",
            "endDateTime": f"{start.date() + dt.timedelta(days=2)}T00:00:00Z",
            "$top": "1000",
        }
        items = self.world.graph(f"users/{self.address}/calendarView", window)["value"]
        return [c for c in items if c.get("iCalUId") == e.get("iCalUId")]

    def _answers_text(self, e: dict[str, Any]) -> str:
        return ", ".join(f"{a['emailAddress']['address']}: {a['status']['response']}" for a in e.get("attendees") or [])


# -- fixtures -----------------------------------------------------------------------------------------------


def _marker_arg(request: pytest.FixtureRequest, name: str) -> Any:
    marker = request.node.get_closest_marker(name)
    if marker is None:
        return None
    if not marker.args:
        raise pytest.UsageError(f"@pytest.mark.{name} needs one argument")
    return marker.args[0]


@pytest.fixture
def calendar_scenario(request: pytest.FixtureRequest) -> Scenario:
    """The scenario the sandbox starts from (``@pytest.mark.calendar_scenario(path)``; default: the demo)."""
    from .sandbox.scenarios import load, packaged  # noqa: PLC0415

    path = _marker_arg(request, "calendar_scenario")
    if path is None:
        return packaged()
    path = Path(path)
    if not path.is_absolute():
        path = Path(request.path).parent / path
    return load(path)


@pytest.fixture
def calendar_clock(request: pytest.FixtureRequest) -> Clock:
    """The clock of the sandbox and the server (``@pytest.mark.calendar_now(instant)`` pins it, frozen)."""
    from .clock import Clock, parse_instant  # noqa: PLC0415

    pinned = _marker_arg(request, "calendar_now")
    if pinned is not None:
        return Clock(parse_instant(pinned), frozen=True)
    travel = os.environ.get("OUTLOOK_MCP_NOW")
    return Clock(parse_instant(travel)) if travel else Clock()


@pytest.fixture
def calendar_sandbox(calendar_scenario: Scenario, calendar_clock: Clock) -> Iterator[SandboxWorld]:
    """A fresh in-memory sandbox seeded with ``calendar_scenario`` on ``calendar_clock``."""
    from .sandbox import Sandbox  # noqa: PLC0415
    from .sandbox.scenarios import seed  # noqa: PLC0415

    sandbox = Sandbox(":memory:", clock=calendar_clock, seed=False)
    seed(sandbox.store, calendar_scenario, calendar_clock)
    world = SandboxWorld(sandbox, calendar_scenario, calendar_clock)
    yield world
    world.close()


@dataclass
class CalendarSession:
    """An MCP client connected to the server on the test's sandbox."""

    client: Client
    server: Any
    world: SandboxWorld

    async def call(self, tool: str, arguments: dict[str, Any] | None = None) -> Any:
        """Call a tool; its structuredContent (or its text when it has none). An isError result raises."""
        result = await self.client.call_tool(tool, arguments or {})
        text = "\n".join(getattr(c, "text", "") for c in result.content)
        if result.is_error:
            raise ToolCallFailed(f"{tool} failed: {text}")
        if result.structured_content is not None:
            return result.structured_content
        try:
            return json.loads(text)
        except ValueError:
            return text

    async def tools(self) -> list[str]:
        return [t.name for t in (await self.client.list_tools()).tools]

    def outbox(self) -> list[dict[str, Any]]:
        return self.world.outbox()

    def audit(self) -> list[dict[str, Any]]:
        """The server's audit trail (``audit.py``): one entry per call of a writing tool, oldest first: time,
        user, tool, target, each Graph write (method, path, status, request id, outcome) and the outcome."""
        from .audit import read_trail  # noqa: PLC0415
        from .server import services_of  # noqa: PLC0415

        return list(read_trail(services_of(self.server).settings.data_dir / "audit"))


@pytest.fixture
async def calendar_mcp(
    calendar_sandbox: SandboxWorld, request: pytest.FixtureRequest, tmp_path: Path
) -> AsyncIterator[CalendarSession]:
    """An MCP client on this server, built as ``serve`` builds it, on ``calendar_sandbox`` (mark the test
    ``@pytest.mark.anyio``)."""
    from mcp import Client  # noqa: PLC0415

    from .config import Settings  # noqa: PLC0415
    from .ids import Handles  # noqa: PLC0415
    from .server import build_graph, create_server  # noqa: PLC0415

    user = _marker_arg(request, "calendar_user") or calendar_sandbox.scenario.people[0].alias
    settings = Settings(
        backend="sandbox",
        sandbox_db=":memory:",
        sandbox_user=calendar_sandbox.address(user),
        data_dir=tmp_path,
        cache_dir=tmp_path,
        confirm_sends=False,
        rate_limit=0,  # a pinned clock is one minute forever: an agent's test is never rate limited
    )
    graph = build_graph(settings, clock=calendar_sandbox.clock, sandbox=calendar_sandbox.sandbox)
    server = create_server(settings, graph, handles=Handles(clock=graph.clock))
    try:
        async with Client(server) as client:
            yield CalendarSession(client=client, server=server, world=calendar_sandbox)
    finally:
        await graph.aclose()
