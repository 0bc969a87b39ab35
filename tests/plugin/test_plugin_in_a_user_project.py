"""The pytest plugin (``outlook_calendar_mcp.testing``, a pytest11 entry point) used as an agent developer would.

A temporary project outside this repository's tests (its own scenario file and test module, no conftest of
ours) runs ``pytest`` in a subprocess: the plugin's fixtures come from the installed package's entry point.
Its test is the README's worked example: the agent's tool calls through the MCP client, a colleague's reply,
then assertions on calendars and the outbox. A second run proves the helpers fail when the calendar is not
as claimed, with a message that shows the day.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

SCENARIO = """\
name: A small office
domain: example.org
anchor: {day: this-week, zone: America/New_York}
people:
  - {alias: dana, name: Dana Swope, zone: America/New_York, working_hours: {start: "08:00", end: "16:30"}}
  - {alias: fanny, name: Fanny Downs, zone: Europe/Paris, working_hours: {start: "09:00", end: "18:00"}}
events:
  - {calendar: fanny, subject: Workshop, day: tuesday, start: "16:00", end: "18:00"}
"""

AGENT_TEST = '''\
import pytest

pytestmark = [
    pytest.mark.anyio,
    pytest.mark.calendar_scenario("office.yaml"),
    pytest.mark.calendar_now("2027-03-15T09:00:00-04:00"),  # a Monday morning in New York
    pytest.mark.calendar_user("dana"),
]


@pytest.fixture
def anyio_backend():
    return "asyncio"


async def test_the_agent_books_a_design_sync(calendar_mcp, calendar_sandbox):
    # What the agent does: look at Tuesday, then invite Fanny at 10:00.
    day = await calendar_mcp.call("calendar_view", {"start": "2027-03-16", "end": "2027-03-17"})
    assert day["events"] == []
    created = await calendar_mcp.call("create_event", {
        "subject": "Design sync", "start": "2027-03-16T10:00", "end": "2027-03-16T10:30",
        "attendees": [{"email": "fanny@example.org"}]})
    dana = calendar_sandbox.calendar("dana")
    dana.has_one_event(on="tuesday", at="10:00", subject="Design sync", with_={"fanny": "none"})
    # Fanny, elsewhere, accepts.
    (invite,) = [e for e in calendar_sandbox.calendar("fanny").on("tuesday") if e["subject"] == "Design sync"]
    assert calendar_sandbox.act_as("fanny").post(f"me/events/{invite['id']}/accept", json={}).status_code == 202
    # "Dana has one event on Tuesday at 10:00 with Fanny accepted"
    dana.has_one_event(on="tuesday", at="10:00", with_={"fanny": "accepted"})
    calendar_sandbox.calendar("fanny").has_one_event(on="tuesday", at="15:00", subject="Design sync")  # Paris time
    assert [(m["sender"], m["recipient"], m["kind"]) for m in calendar_mcp.outbox()] == [
        ("dana@example.org", "fanny@example.org", "invitation"),
        ("fanny@example.org", "dana@example.org", "response"),
    ]
    assert created["event"]["subject"] == "Design sync"
    (entry,) = calendar_mcp.audit()  # the one write the agent made, as the audit trail tells it
    assert entry["tool"] == "create_event" and entry["outcome"] == "ok"
    assert [(w["method"], w["status"]) for w in entry["requests"]] == [("POST", 201)]


async def test_a_wrong_claim_fails_and_shows_the_day(calendar_sandbox):
    calendar_sandbox.calendar("fanny").has_one_event(on="tuesday", at="10:00")
'''


def run_pytest(project: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", *args], cwd=project,
                          capture_output=True, text=True, timeout=300)


@pytest.mark.slow
def test_the_plugin_in_a_project_of_its_own(tmp_path: Path):
    project = tmp_path / "my-agent"
    (project / "tests").mkdir(parents=True)
    (project / "tests" / "office.yaml").write_text(SCENARIO)
    (project / "tests" / "test_agent.py").write_text(textwrap.dedent(AGENT_TEST))
    (project / "pytest.ini").write_text("[pytest]\ntestpaths = tests\n")

    ok = run_pytest(project, "-k", "books")
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert "1 passed" in ok.stdout

    wrong = run_pytest(project, "-k", "wrong_claim")
    assert wrong.returncode == 1, wrong.stdout + wrong.stderr
    assert "fanny@example.org has 0 event(s) on 2027-03-16 at 10:00, not one" in wrong.stdout
    assert "16:00 'Workshop'" in wrong.stdout  # the day as it is


def test_the_plugin_is_registered_as_a_pytest11_entry_point():
    from importlib.metadata import entry_points

    (plugin,) = [e for e in entry_points(group="pytest11") if e.value == "outlook_calendar_mcp.testing"]
    assert plugin.load().__name__ == "outlook_calendar_mcp.testing"
