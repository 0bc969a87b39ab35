"""A mixed write workload through the MCP client against a sandbox that misbehaves, and its honest tally.

:func:`faulty_server` builds the server as ``serve`` does, except that its one GraphClient talks to the
in-process sandbox through :class:`~outlook_calendar_mcp.sandbox.faults.FaultyTransport` (seeded faults) and
sleeps for no real time (a Retry-After is recorded, not waited). :func:`run_workload` sends ``n`` writes —
create, update, delete, accept / tentatively accept / decline (invitations another user sent), create
calendar, add an attachment — and after each one reads the sandbox's own store to see whether the change is
there. The :class:`Tally` then counts, against the truth:

* duplicates: a create that made two items;
* lost: a call reported success whose change is not there;
* phantoms: a call reported failure whose change *is* there, without saying it may have been applied;
* honest failures: a failure whose change is not there (avoidable when a retry could have made it);
* crashes: an exception out of the client, or an error that is not the server's own message.

Used by tests/reliability/test_faults.py (the numbers must be 0) and bench/faults_bench.py (the figures).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import random
import re
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from mcp import Client

from outlook_calendar_mcp.auth import SandboxTokenProvider
from outlook_calendar_mcp.clock import Clock
from outlook_calendar_mcp.config import Settings
from outlook_calendar_mcp.graph import GraphClient
from outlook_calendar_mcp.ids import Handles
from outlook_calendar_mcp.sandbox import Sandbox
from outlook_calendar_mcp.sandbox.faults import Faults, FaultyTransport
from outlook_calendar_mcp.server import SANDBOX_ORIGIN, create_server, services_of

ME = "adele@contoso.com"
ORGANIZER = "dana@contoso.com"
# The server's words for "it may have happened": a failure that says them is not a phantom.
ANNOUNCED = ("may have been applied",)


@dataclass
class Tally:
    operations: int = 0
    ok: int = 0
    recovered: int = 0  # successes that said the reply was lost but the change is there
    duplicates: int = 0
    lost: int = 0
    phantoms: int = 0
    announced: int = 0  # failures that said the change may have been applied
    honest_failures: int = 0
    crashes: int = 0
    by_tool: dict[str, int] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)

    def note(self, kind: str, tool: str, detail: str) -> None:
        setattr(self, kind, getattr(self, kind) + 1)
        if kind in ("duplicates", "lost", "phantoms", "crashes"):
            self.problems.append(f"{kind}: {tool}: {detail[:300]}")


@dataclass
class Faulty:
    client: Client
    sandbox: Sandbox
    faults: Faults
    handles: Handles
    sleeps: list[float]


@contextlib.asynccontextmanager
async def faulty_server(
    tmp_path: Path,
    rates: dict[str, float],
    seed: int,
    clock: Clock,
    wrap: Callable[[httpx.AsyncBaseTransport], httpx.AsyncBaseTransport] | None = None,
) -> AsyncIterator[Faulty]:
    """The server on an in-process sandbox behind seeded faults (or behind ``wrap``, a scripted transport)."""
    settings = Settings(backend="sandbox", sandbox_db=":memory:", data_dir=tmp_path, cache_dir=tmp_path)
    sandbox = Sandbox(":memory:", clock=clock)
    faults = Faults(rates, seed=seed)
    sleeps: list[float] = []

    async def sleep(seconds: float) -> None:
        sleeps.append(seconds)

    graph = GraphClient(
        base_url=f"{SANDBOX_ORIGIN}/v1.0",
        beta_url=f"{SANDBOX_ORIGIN}/beta",
        token_provider=SandboxTokenProvider(None),
        transport=wrap(sandbox.transport()) if wrap else FaultyTransport(sandbox.transport(), faults),
        sleep=sleep,
        clock=clock,
        timeout=10,
    )
    server = create_server(settings, graph, handles=Handles(clock=graph.clock))
    try:
        async with Client(server) as client:
            yield Faulty(client, sandbox, faults, services_of(server).handles, sleeps)
    finally:
        await graph.aclose()


async def invitations(sandbox: Sandbox, count: int) -> list[str]:
    """``count`` meetings the organizer sends to adele, straight to the sandbox (no faults): adele's copies' ids."""
    subjects = [f"Invite {i}" for i in range(count)]
    async with httpx.AsyncClient(transport=sandbox.transport(), base_url=f"{SANDBOX_ORIGIN}/v1.0") as http:
        for i, subject in enumerate(subjects):
            day = dt.date(2027, 3, 1) + dt.timedelta(days=i % 28)
            body = {
                "subject": subject,
                "start": {"dateTime": f"{day}T{7 + i % 3:02d}:00:00", "timeZone": "UTC"},
                "end": {"dateTime": f"{day}T{7 + i % 3:02d}:30:00", "timeZone": "UTC"},
                "attendees": [{"emailAddress": {"address": ME}, "type": "required"}],
            }
            answer = await http.post("/me/events", json=body, headers={"Authorization": f"Bearer sandbox:{ORGANIZER}"})
            answer.raise_for_status()
    ids = []
    for subject in subjects:
        rows = _rows(sandbox, "SELECT e.id FROM events e JOIN mailboxes m ON m.id = e.mailbox_id "
                     "WHERE m.address = ? AND json_extract(e.doc, '$.subject') = ?", ME, subject)
        ids.append(rows[0][0])
    return ids


def _rows(sandbox: Sandbox, sql: str, *args: Any) -> list[tuple]:
    return [tuple(r) for r in sandbox.store.db.execute(sql, args).fetchall()]


def _events_named(sandbox: Sandbox, subject: str) -> list[str]:
    return [r[0] for r in _rows(sandbox, "SELECT e.id FROM events e JOIN mailboxes m ON m.id = e.mailbox_id "
                                "WHERE m.address = ? AND json_extract(e.doc, '$.subject') = ?", ME, subject)]


def _doc(sandbox: Sandbox, event_id: str) -> dict | None:
    rows = _rows(sandbox, "SELECT doc FROM events WHERE id = ?", event_id)
    return json.loads(rows[0][0]) if rows else None


async def run_workload(h: Faulty, n: int, seed: int) -> Tally:
    """``n`` mixed writes (see the module's docstring); the tally of what they reported against the truth."""
    rng = random.Random(seed)
    tally = Tally()
    invites = await invitations(h.sandbox, 60)
    live: list[tuple[str, str]] = []  # (graph id, subject) of events this workload created and believes exist
    answers = {"accept_event": "accepted", "tentatively_accept_event": "tentativelyAccepted",
               "decline_event": "declined"}
    for i in range(n):
        roll = rng.random()
        if roll < 0.35 or not live:
            tool, day = "create_event", dt.date(2027, 3, 1) + dt.timedelta(days=i % 28)
            subject = f"FW {seed}-{i}"
            args: dict[str, Any] = {"subject": subject, "start": f"{day}T{8 + i % 9:02d}:{(i * 7) % 60:02d}",
                                    "end": f"{day}T{8 + i % 9:02d}:{(i * 7) % 60:02d}", "allow_duplicate": True}
            args["end"] = f"{day}T{9 + i % 9:02d}:{(i * 7) % 60:02d}"

            def check(subject: str = subject) -> tuple[bool, bool]:
                found = _events_named(h.sandbox, subject)
                if len(found) == 1:
                    live.append((found[0], subject))
                return len(found) >= 1, len(found) > 1
        elif roll < 0.55:
            tool = "update_event"
            event_id, old = live[rng.randrange(len(live))]
            subject = f"{old.split(' v')[0]} v{i}"
            args = {"event": event_id, "subject": subject}

            def check(event_id: str = event_id, subject: str = subject, old: str = old) -> tuple[bool, bool]:
                doc = _doc(h.sandbox, event_id)
                applied = doc is not None and doc.get("subject") == subject
                if applied:
                    live[live.index((event_id, old))] = (event_id, subject)
                return applied, False
        elif roll < 0.70:
            tool = "delete_event"
            event_id, old = live[rng.randrange(len(live))]
            args = {"event": event_id}

            def check(event_id: str = event_id, old: str = old) -> tuple[bool, bool]:
                applied = _doc(h.sandbox, event_id) is None
                if applied:
                    live.remove((event_id, old))
                return applied, False
        elif roll < 0.88 and invites:
            tool = rng.choice(list(answers))
            event_id = invites[rng.randrange(len(invites))]
            args = {"event": event_id, "comment": f"answer {i}"}
            before = (_doc(h.sandbox, event_id) or {}).get("responseStatus", {}).get("response")
            if before == answers[tool]:  # the same answer twice proves nothing: ask for another
                tool = next(t for t, a in answers.items() if a != before)

            def check(event_id: str = event_id, tool: str = tool) -> tuple[bool, bool]:
                doc = _doc(h.sandbox, event_id)
                if doc is None:  # a declined invitation may leave the calendar
                    invites.remove(event_id)
                    return tool == "decline_event", False
                return (doc.get("responseStatus") or {}).get("response") == answers[tool], False
        elif roll < 0.94:
            tool, name = "create_calendar", f"FW cal {seed}-{i}"
            args = {"name": name}

            def check(name: str = name) -> tuple[bool, bool]:
                found = _rows(h.sandbox, "SELECT c.id FROM calendars c JOIN mailboxes m ON m.id = c.mailbox_id "
                              "WHERE m.address = ? AND json_extract(c.doc, '$.name') = ?", ME, name)
                return len(found) >= 1, len(found) > 1
        else:
            tool = "add_reference_attachment"
            event_id, _ = live[rng.randrange(len(live))]
            name = f"FW link {seed}-{i}"
            args = {"event": event_id, "name": name, "source_url": f"https://contoso.sharepoint.com/f/{i}"}

            def check(event_id: str = event_id, name: str = name) -> tuple[bool, bool]:
                found = _rows(h.sandbox, "SELECT id FROM attachments WHERE event_id = ? AND name = ?", event_id, name)
                return len(found) >= 1, len(found) > 1

        tally.operations += 1
        tally.by_tool[tool] = tally.by_tool.get(tool, 0) + 1
        try:
            result = await h.client.call_tool(tool, args)
        except Exception as e:
            tally.note("crashes", tool, repr(e))
            continue
        text = " ".join(getattr(c, "text", "") for c in result.content)
        applied, duplicated = check()
        if duplicated:
            tally.note("duplicates", tool, text)
        if "could not handle argument" in text or re.fullmatch(r"Error executing tool \w+\.?", text.strip()):
            tally.note("crashes", tool, text)
        elif not result.is_error:
            tally.ok += 1
            if "reply was lost" in text:
                tally.recovered += 1
            if not applied:
                tally.note("lost", tool, f"{args} -> {text}")
        elif applied:
            if any(words in text for words in ANNOUNCED):
                tally.announced += 1
            else:
                tally.note("phantoms", tool, f"{args} -> {text}")
        else:
            tally.honest_failures += 1
    return tally


async def timed_workload(tmp_path: Path, rates: dict[str, float], n: int, seed: int, clock: Clock) -> tuple[Tally, Faulty, float]:
    async with faulty_server(tmp_path, rates, seed, clock) as h:
        started = time.perf_counter()
        tally = await run_workload(h, n, seed)
        return tally, h, time.perf_counter() - started
