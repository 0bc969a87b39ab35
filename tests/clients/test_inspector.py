"""The MCP Inspector CLI (npm @modelcontextprotocol/inspector) over stdio and streamable HTTP.

* ``--strict --method tools/list``: the Inspector's tool-schema portability
  checks; it exits 6 when any finding is error-severity.
* ``--method tools/call``: the Inspector validates a result's
  ``structuredContent`` against the tool's ``outputSchema`` (Ajv) and fails the
  call when it does not fit; checked on a write tool (create_event, delete_event)
  and on read tools (get_event, calendar_view), in one list -> create -> view ->
  delete flow. A tool error comes back as an ``isError`` result (exit 5,
  ``tool_is_error``), not as a crash.
* a control: the same check fails a probe server whose ``structuredContent``
  breaks its own ``outputSchema`` (a naive date-time where the schema says
  ``format: date-time``, a number where it says string).
* resources/read, prompts/get and logging/setLevel: what the conformance
  scenarios that need the suite's fixtures would exercise, on the server's
  real resources and prompts.

Every stdio invocation starts a fresh server on the same sandbox file and data
dir, so handles carry over between invocations, as between restarts.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.servers import spawned, stdio_command, stdio_env

from .conftest import INSPECTOR, LOCAL_RE, TOOLS_AT_LEAST, check_event, explain, node_tool, run, shown_times

SUBJECT = "Inspector flow"
WINDOW = {"start": "2027-03-08T00:00", "end": "2027-03-13T00:00"}


class Inspector:
    """Runs ``inspector --cli`` against one server (stdio command or HTTP URL)."""

    def __init__(self, tmp_path: Path, target: list[str]) -> None:
        self.cmd = node_tool(INSPECTOR, "the MCP Inspector")
        self.target = target
        home = tmp_path / "inspector-home"  # the Inspector keeps its catalog and storage under HOME
        home.mkdir(exist_ok=True)
        self.env = {**os.environ, "HOME": str(home), "NO_COLOR": "1"}

    def __call__(self, *args: str, expect: int = 0) -> Any:
        proc = run([*self.cmd, "--cli", *args, *self.target], env=self.env)
        assert proc.returncode == expect, explain(proc)
        return proc

    def json(self, *args: str) -> Any:
        return json.loads(self(*args).stdout)

    def call(self, tool: str, arguments: dict[str, Any]) -> dict[str, Any]:
        result = self.json("--method", "tools/call", "--tool-name", tool, "--tool-args-json", json.dumps(arguments))
        assert result.get("isError") is not True, result
        # The text block carries the same JSON as structuredContent.
        assert json.loads(result["content"][0]["text"]) == result["structuredContent"]
        return result["structuredContent"]


@pytest.fixture(params=["stdio", "http"])
def inspector(request: pytest.FixtureRequest, tmp_path: Path) -> Any:
    if request.param == "stdio":
        env = [arg for k, v in stdio_env(tmp_path).items() for arg in ("-e", f"{k}={v}")]
        yield Inspector(tmp_path, [*env, "--", *stdio_command(tmp_path)])
    else:
        with spawned(tmp_path, "http") as child:
            url = child.url
            yield Inspector(tmp_path, ["--transport", "http", "--server-url", url])


def test_tools_list_passes_strict_checks(inspector: Inspector):
    proc = inspector("--strict", "--method", "tools/list")
    tools = {tool["name"]: tool for tool in json.loads(proc.stdout)["tools"]}
    assert set(tools) >= TOOLS_AT_LEAST
    for name, tool in tools.items():
        assert tool["inputSchema"]["type"] == "object", name
        assert tool.get("outputSchema", {}).get("type") == "object", f"{name} has no outputSchema"
        assert "readOnlyHint" in tool.get("annotations", {}), f"{name} has no annotations"


def test_list_create_view_delete_validates_structured_content(inspector: Inspector):
    created = inspector.call("create_event", {"subject": SUBJECT, "start": "2027-03-10T09:30",
                                              "end": "2027-03-10T10:15", "time_zone": "America/Los_Angeles"})
    event = created["event"]
    check_event(event, SUBJECT)
    assert (event["start"], event["end"]) == ("2027-03-10T09:30:00-08:00", "2027-03-10T10:15:00-08:00")

    shown = inspector.call("get_event", {"event": event["handle"]})
    check_event(shown["event"], SUBJECT)
    view = inspector.call("calendar_view", WINDOW)
    assert [e["handle"] for e in view["events"] if e["subject"] == SUBJECT] == [event["handle"]]
    assert all(shown_times(e) for e in view["events"])

    inspector.call("delete_event", {"event": event["handle"]})
    view = inspector.call("calendar_view", WINDOW)
    assert not [e for e in view["events"] if e["subject"] == SUBJECT]
    # A tool error is an isError result (the Inspector exits 5, tool_is_error).
    proc = inspector("--method", "tools/call", "--tool-name", "get_event", "--tool-arg", f"event={event['handle']}",
                     expect=5)
    assert json.loads(proc.stdout)["isError"] is True
    assert "tool_is_error" in proc.stderr


def test_resources_prompts_and_logging(inspector: Inspector):
    listed = inspector.json("--method", "resources/list")
    uris = {r["uri"] for r in listed["resources"]}
    assert "calendar://agenda/today" in uris
    read = inspector.json("--method", "resources/read", "--uri", "calendar://agenda/today")
    agenda = json.loads(read["contents"][0]["text"])
    assert LOCAL_RE.match(agenda["now"]), agenda

    prompts = {p["name"]: p for p in inspector.json("--method", "prompts/list")["prompts"]}
    required = [a["name"] for a in prompts["schedule_meeting"]["arguments"] if a.get("required")]
    args = {name: f"{name} value" for name in required}
    got = inspector.json("--method", "prompts/get", "--prompt-name", "schedule_meeting",
                         "--prompt-args", *(f"{k}={v}" for k, v in args.items()))
    assert got["messages"] and all(v in got["messages"][0]["content"]["text"] for v in args.values())

    assert inspector.json("--method", "logging/setLevel", "--log-level", "debug") == {}


@pytest.mark.parametrize(("value", "fails_with"), [("offset", None), ("naive", 'must match format "date-time"'),
                                                    ("number", "must be string")])
def test_control_the_output_check_rejects_what_the_schema_rejects(tmp_path: Path, value: str, fails_with: str | None):
    probe = Inspector(tmp_path, ["--", sys.executable, str(Path(__file__).with_name("schema_probe_server.py")), value])
    proc = probe("--method", "tools/call", "--tool-name", "when", expect=0 if fails_with is None else 1)
    if fails_with:
        assert fails_with in json.loads(proc.stderr.strip().splitlines()[-1])["error"]["message"], explain(proc)
