"""The check of every GraphClient request against Graph's contract (tests/conftest.py, tests/contract/requests.py).

The checker accepts requests that fit the CSDL and names what is wrong with
those that do not; the recorder sees the requests of clients built in this
process and of child processes (a ``serve`` or ``call`` the tests start).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from outlook_calendar_mcp.config import Settings
from outlook_calendar_mcp.graph import GraphError
from outlook_calendar_mcp.server import build_graph
from tests.contract.requests import beta_operations, check
from tests.instants import suite_clock

V1 = "https://graph.microsoft.com/v1.0"
EVENT = {"subject": "Design sync", "start": {"dateTime": "2027-03-10T10:00:00", "timeZone": "Pacific Standard Time"},
         "end": {"dateTime": "2027-03-10T10:30:00", "timeZone": "Pacific Standard Time"},
         "attendees": [{"emailAddress": {"address": "dana@contoso.com"}, "type": "required"}]}


@pytest.mark.parametrize(("method", "url", "body"), [
    ("GET", f"{V1}/me/calendar/calendarView?startDateTime=2027-03-01T00:00:00&endDateTime=2027-03-08T00:00:00"
            "&$select=subject,start,end&$top=100", None),
    ("POST", f"{V1}/me/calendar/events", json.dumps(EVENT)),
    ("PATCH", f"{V1}/users/dana%40contoso.com/events/AAMkAGI2TG93AAA%3D", '{"subject":"Moved"}'),
    ("POST", f"{V1}/me/events/AAMkAGI2TG93AAA%3D/accept", '{"comment":"ok","sendResponse":true}'),
    ("POST", f"{V1}/me/calendar/getSchedule",
     json.dumps({"schedules": ["dana@contoso.com"], "availabilityViewInterval": 30,
                 "startTime": EVENT["start"], "endTime": EVENT["end"]})),
    ("DELETE", f"{V1}/me/events/AAMkAGI2TG93AAA%3D", None),
])
def test_requests_that_fit_the_contract(method: str, url: str, body: str | None):
    assert check(method, url, body) == []


@pytest.mark.parametrize(("method", "url", "body", "problem"), [
    ("GET", f"{V1}/me/calender/events", None, "'calender' is not a property"),
    ("PATCH", f"{V1}/me/events", '{"subject":"x"}', "PATCH needs a single entity"),
    ("POST", f"{V1}/me/calendar/events", '{"subject":5}', "event.subject: expected string"),
    ("POST", f"{V1}/me/calendar/events", '{"subjekt":"x"}', "unknown property of microsoft.graph.event"),
    ("POST", f"{V1}/me/events/AAMk%3D/accept", '{"sendReply":true}', "unknown parameter of action accept"),
    ("POST", f"{V1}/me/calendarView", json.dumps(EVENT), "POST"),
    ("GET", f"{V1}/me/events?$selct=subject", None, "unknown system query option"),
    ("POST", f"{V1}/me/calendar/events", "subject=x", "the body is not JSON"),
    ("GET", "https://graph.microsoft.com/beta/me/events/AAMk%3D/exceptionOccurrences", None, "beta request not listed"),
    ("GET", "https://graph.microsoft.com/me/events", None, "not a Graph request"),
])
def test_requests_outside_the_contract_are_named(method: str, url: str, body: str | None, problem: str):
    errors = check(method, url, body)
    assert errors and problem in " ".join(errors), errors


def test_beta_entries_have_reasons_and_may_be_narrowed_to_tests():
    for op in beta_operations():
        assert op.reason.strip() and op.method in ("GET", "POST", "PATCH", "PUT", "DELETE")
    listed = "https://graph.microsoft.com/beta/me/events"
    allowed = "tests/unit/test_graph_client.py::test_urls_relative_absolute_beta_and_merged_query"
    assert check("GET", listed, None, test=allowed) == []
    assert check("GET", listed, None, test="src/product") != []


@pytest.mark.anyio
@pytest.mark.parametrize("anyio_backend", ["asyncio"])
async def test_a_request_outside_the_contract_is_recorded_and_reported(tmp_path: Path, anyio_backend: str,
                                                                       graph_contract_recorder):
    graph_contract_recorder.check_pending()  # what earlier tests left is theirs
    graph = build_graph(Settings(backend="sandbox", sandbox_db=":memory:", data_dir=tmp_path, cache_dir=tmp_path), clock=suite_clock())
    try:
        with pytest.raises(GraphError):
            await graph.patch("me/events", json={"subject": "no such request"})
    finally:
        await graph.aclose()
    errors = graph_contract_recorder.check_pending()  # taken here, so this test's own check finds nothing
    assert len(errors) == 1 and "PATCH needs a single entity" in errors[0], errors
    assert "test_a_request_outside_the_contract_is_recorded_and_reported" in errors[0]


def test_child_processes_are_recorded(tmp_path: Path, graph_contract_recorder):
    graph_contract_recorder.check_pending()
    before = graph_contract_recorder.checked
    env = {k: v for k, v in os.environ.items() if not k.startswith("OUTLOOK_MCP_")}
    env.update(OUTLOOK_MCP_DATA_DIR=str(tmp_path), OUTLOOK_MCP_CACHE_DIR=str(tmp_path))
    proc = subprocess.run([sys.executable, "-m", "outlook_calendar_mcp", "call", "get_mailbox_settings",
                           "--backend", "sandbox", "--sandbox-db", str(tmp_path / "sandbox.db")],
                          env=env, capture_output=True, text=True, timeout=120, check=False)
    assert proc.returncode == 0, proc.stderr
    lines = Path(os.environ["GRAPH_CONTRACT_RECORD"]).read_text().splitlines()
    mine = [json.loads(line) for line in lines if "test_child_processes_are_recorded" in line]
    assert mine and all(r["where"].startswith("pid ") for r in mine)
    assert any(r["method"] == "GET" and "/v1.0/me/mailboxSettings" in r["url"] for r in mine), mine
    assert graph_contract_recorder.check_pending() == []
    assert graph_contract_recorder.checked >= before + len(mine)
