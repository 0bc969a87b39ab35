"""Scenario files: bad ones get each problem with its line and field; the published JSON Schema is the model's;
``sandbox seed --scenario`` seeds a database; days are relative to the anchor; the demo's week is believable."""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest
import yaml

from outlook_calendar_mcp.clock import Clock
from outlook_calendar_mcp.sandbox import Sandbox
from outlook_calendar_mcp.sandbox.scenarios import ScenarioError, load, packaged, parse, resolve_day, seed
from outlook_calendar_mcp.sandbox.scenarios.__main__ import schema_text
from tests.sandbox.conftest import Client, all_pages
from tests.servers import server_env

PACKAGE = Path(__file__).parents[2] / "src" / "outlook_calendar_mcp" / "sandbox" / "scenarios"
GOOD = """\
name: Tiny
domain: example.org
people:
  - alias: ann
    name: Ann Lee
    zone: Europe/Paris
    working_hours: {start: "09:00", end: "17:00"}
  - {alias: bob, name: Bob Roe, zone: America/Chicago, working_hours: {start: "08:00", end: "16:00"}}
events:
  - calendar: ann
    subject: Sync
    day: tuesday
    start: "10:00"
    end: "10:30"
    attendees: [bob]
"""


def problems(text: str, *, json_syntax: bool = False) -> list[tuple[int | None, str, str]]:
    with pytest.raises(ScenarioError) as caught:
        parse(text, "bad.yaml", json_syntax=json_syntax)
    return caught.value.problems


@pytest.mark.parametrize(("old", "new", "line", "field", "words"), [
    ('zone: Europe/Paris', 'zone: Mars/Olympus', 6, "people[0].zone", "Unknown time zone"),
    ('start: "10:00"', 'start: 10:00', 13, "events[0].start", "write the time in quotes"),
    ('day: tuesday', 'day: someday', 12, "events[0].day", "is not a day"),
    ('    attendees: [bob]', '    attendees: [bob]\n    colour: red', 16, "events[0].colour", "unknown field"),
    ('    attendees: [bob]', '    attendees: [carl]', 15, "events[0].attendees[0]", "no person or room 'carl'"),
    ('end: "10:30"', 'end: "09:30"', 14, "events[0].end", "not after start"),
    ('    attendees: [bob]', '    attendees: [bob]\n    responses: {ann: accepted}', 16, "events[0].responses.ann",
     "not a person this event invites"),
    ('  - {alias: bob,', '  - {alias: ann,', 8, "people[1].alias", "used twice"),  # (then: no bob to invite)
    ('calendar: ann', 'calendar: zed', 10, "events[0].calendar", "no person or group 'zed'"),
    ('domain: example.org\n', '', 1, "domain", "Field required"),
])
def test_a_bad_file_gets_its_line_and_field(old, new, line, field, words):
    assert old in GOOD
    got = problems(GOOD.replace(old, new))[0]
    assert got[:2] == (line, field), got
    assert words in got[2], got


def test_every_problem_is_listed_and_the_message_says_where():
    text = GOOD.replace("zone: Europe/Paris", "zone: Nowhere").replace("day: tuesday", "day: 32nd of never")
    with pytest.raises(ScenarioError) as caught:
        parse(text, "office.yaml")
    message = str(caught.value)
    assert "2 problem(s) in scenario office.yaml" in message
    assert "office.yaml:6: people[0].zone: Unknown time zone 'Nowhere'" in message
    assert "office.yaml:12: events[0].day: '32nd of never' is not a day" in message


def test_syntax_errors_name_their_line():
    (got,) = problems(GOOD.replace("    subject: Sync", "    subject: [Sync"))
    assert got[0] in (11, 12, 13) and "not valid YAML" in got[2]
    data = json.dumps(yaml.safe_load(GOOD), indent=2).replace('"Sync"', '"Sync",,')
    (got,) = problems(data, json_syntax=True)
    assert got[0] == next(i for i, s in enumerate(data.splitlines(), 1) if "Sync" in s) and "not valid JSON" in got[2]


def test_json_errors_name_their_line_too(tmp_path: Path):
    data = yaml.safe_load(GOOD)
    data["events"][0]["show_as"] = "maybe"
    path = tmp_path / "office.json"
    path.write_text(json.dumps(data, indent=2))
    with pytest.raises(ScenarioError) as caught:
        load(path)
    ((line, field, message),) = caught.value.problems
    assert field == "events[0].show_as" and "'busy'" in message
    assert '"show_as": "maybe"' in path.read_text().splitlines()[line - 1]


def test_an_occurrence_the_series_does_not_have_is_refused_and_nothing_is_seeded():
    text = GOOD.replace("    attendees: [bob]", "    recurrence: {type: weekly, days: [tuesday]}\n"
                        "    cancelled: [wednesday]")
    scenario = parse(text, "series.yaml")
    sandbox = Sandbox(":memory:", clock=Clock(dt.datetime(2027, 3, 9, tzinfo=dt.UTC)), seed=False)
    with pytest.raises(ScenarioError) as caught:
        seed(sandbox.store, scenario, sandbox.clock)
    ((line, field, message),) = caught.value.problems
    assert (line, field) == (16, "events[0].cancelled[0]") and "has no occurrence on 2027-03-10" in message
    assert sandbox.store.is_empty()


@pytest.mark.parametrize(("spec", "expected"), [
    (0, "2027-03-10"), (-27, "2027-02-11"), ("monday", "2027-03-08"), ("sunday", "2027-03-14"),
    ("next tuesday", "2027-03-16"), ("last friday", "2027-03-05"), ("4th thursday of november", "2027-11-25"),
    ("last monday of may", "2027-05-31"), ("1st sunday of march", "2027-03-07"), ("2027-12-24", "2027-12-24"),
])
def test_days_are_relative_to_the_anchor(spec, expected):
    assert resolve_day(spec, dt.date(2027, 3, 10)).isoformat() == expected


def test_the_published_schema_is_the_models_and_accepts_the_shipped_files():
    shipped = PACKAGE / "scenario.schema.json"
    assert shipped.read_text() == schema_text(), (
        "scenario.schema.json is stale: python -m outlook_calendar_mcp.sandbox.scenarios --schema > " + str(shipped))
    schema = json.loads(shipped.read_text())
    jsonschema.Draft202012Validator.check_schema(schema)
    validator = jsonschema.Draft202012Validator(schema)
    for path in (PACKAGE / "demo.yaml", Path(__file__).parent / "data" / "everything.yaml"):
        data = json.loads(json.dumps(yaml.safe_load(path.read_text()), default=str))  # dates as JSON has them
        assert not list(validator.iter_errors(data)), path
    wrong = yaml.safe_load(GOOD)
    wrong["events"][0]["show_as"] = "maybe"
    assert list(validator.iter_errors(wrong))


def test_sandbox_seed_fills_a_database_from_a_file(tmp_path: Path):
    scenario = tmp_path / "office.yaml"
    scenario.write_text(GOOD)
    db = tmp_path / "office.db"
    env = server_env(tmp_path)
    env["OUTLOOK_MCP_NOW"] = "2027-03-09T12:00:00+00:00"
    run = subprocess.run([sys.executable, "-m", "outlook_calendar_mcp", "sandbox", "seed", "--scenario",
                          str(scenario), "--db", str(db)], env=env, capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, run.stderr
    assert "holds 'Tiny' (2 people, 0 rooms, 1 events; days relative to 2027-03-08)" in run.stderr
    conn = sqlite3.connect(db)
    rows = conn.execute("SELECT m.address, json_extract(e.doc, '$.start.dateTime') FROM events e "
                        "JOIN mailboxes m ON m.id = e.mailbox_id ORDER BY m.address").fetchall()
    conn.close()
    assert rows == [("ann@example.org", "2027-03-09T10:00:00"), ("bob@example.org", "2027-03-09T10:00:00")]

    scenario.write_text(GOOD.replace('end: "10:30"', 'end: "09:00"'))
    bad = subprocess.run([sys.executable, "-m", "outlook_calendar_mcp", "sandbox", "seed", "--scenario",
                          str(scenario), "--db", str(db)], env=env, capture_output=True, text=True, timeout=60)
    assert bad.returncode == 2
    assert f"{scenario}:14: events[0].end: end 09:00 is not after start 10:00" in bad.stderr
    conn = sqlite3.connect(db)
    assert conn.execute("SELECT COUNT(*) FROM events").fetchone()[0] == 2  # a bad file changes nothing
    conn.close()


@pytest.mark.clock
def test_the_demo_gives_adele_invitations_to_answer_and_everyone_a_week(clock: Clock):
    """Issue 14's point 8: invitations from others this week and next (one awaiting an answer, one tentative,
    one with a new time proposed), and a believable week for every seeded person."""
    sandbox = Sandbox(":memory:", clock=clock)
    app = Client(sandbox.app, "sandbox-app")
    adele = Client(sandbox.app, "sandbox")
    invitations = [e for e in all_pages(adele, "me/events") if not e["isOrganizer"]]
    answers = {e["subject"]: (e["organizer"]["emailAddress"]["address"], e["responseStatus"]["response"])
               for e in invitations}
    assert answers == {"API design review": ("dana@contoso.com", "notResponded"),  # an invitee copy, unanswered
                       "Campaign retrospective": ("megan@contoso.com", "tentativelyAccepted"),
                       "Pipeline review with Sales": ("pavel@contoso.com", "tentativelyAccepted")}
    pipeline = next(e for e in all_pages(app, "users/pavel@contoso.com/events")
                    if e["subject"] == "Pipeline review with Sales")
    (mine,) = [a for a in pipeline["attendees"] if a["emailAddress"]["address"] == "adele@contoso.com"]
    assert mine["status"]["response"] == "tentativelyAccepted" and mine["proposedNewTime"]["start"]["dateTime"]
    # this week and next
    monday = dt.date.fromisoformat(next(e for e in invitations if e["subject"] == "API design review")
                                   ["start"]["dateTime"][:10])
    monday -= dt.timedelta(days=monday.weekday())
    starts = sorted(e["start"]["dateTime"][:10] for e in invitations)
    assert starts[0] >= monday.isoformat() and starts[-1] < (monday + dt.timedelta(days=14)).isoformat()
    # everyone's working week holds a few things of their own or of others
    week = {"startDateTime": f"{monday}T00:00:00Z", "endDateTime": f"{monday + dt.timedelta(days=5)}T00:00:00Z"}
    for person in packaged().people:
        items = all_pages(app, f"users/{person.alias}@contoso.com/calendarView", params=week)
        assert len(items) >= 3, (person.alias, [e["subject"] for e in items])
    sandbox.close()


def test_the_readmes_scenario_example_seeds():
    readme = (Path(__file__).parents[2] / "README.md").read_text()
    block = readme.split("```yaml\n", 1)[1].split("```", 1)[0]
    scenario = parse(block, "README.md")
    sandbox = Sandbox(":memory:", clock=Clock(dt.datetime(2027, 3, 15, 13, tzinfo=dt.UTC), frozen=True), seed=False)
    seed(sandbox.store, scenario, sandbox.clock)
    fanny = Client(sandbox.app, "sandbox:fanny@example.org")
    (review,) = fanny.get("me/events", params={"$filter": "subject eq 'Design review'"}).json()["value"]
    assert review["responseStatus"]["response"] == "accepted"
    sandbox.close()
