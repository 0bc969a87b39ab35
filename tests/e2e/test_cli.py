"""The command line as a person (or a script) uses it: real processes, a sandbox file in tmp.

``call`` prints one tool's JSON on stdout (errors: exit 1, the message on
stderr, nothing on stdout), ``sandbox reset`` seeds the demo organization
again, ``--version`` answers, and ``serve`` over stdio keeps stdout for
JSON-RPC alone (the banner and logs go to stderr).
"""

from __future__ import annotations

import contextlib
import json
import queue
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from outlook_calendar_mcp import __version__
from tests.servers import free_port, server_env, stop

from .conftest import LA, LOCAL_RE, TOOL_NAMES, open_harness, read_rows

pytestmark = pytest.mark.slow

SCRIPT = str(Path(sys.executable).with_name("outlook-calendar-mcp"))
MODULE = [sys.executable, "-m", "outlook_calendar_mcp"]


def run(tmp_path: Path, argv: list[str], *, input: str | None = None, env: dict[str, str] | None = None,
        timeout: float = 30) -> subprocess.CompletedProcess[str]:
    return subprocess.run(argv, input=input, capture_output=True, text=True, timeout=timeout,
                          env=env or server_env(tmp_path), cwd=tmp_path)


def call(tmp_path: Path, db: Path, tool: str, *args: str, command: list[str] | None = None
         ) -> subprocess.CompletedProcess[str]:
    return run(tmp_path, [*(command or [SCRIPT]), "call", tool, *args, "--backend", "sandbox",
                          "--sandbox-db", str(db)])


def test_the_console_script_is_installed() -> None:
    assert Path(SCRIPT).is_file(), f"{SCRIPT} missing: is the package installed in this venv?"


def test_call_prints_json_on_stdout(tmp_path: Path) -> None:
    db = tmp_path / "sandbox.db"
    created = call(tmp_path, db, "create_event", "--json",
                   json.dumps({"subject": "From the CLI", "start": "2027-03-10T09:00", "end": "2027-03-10T10:00"}))
    assert created.returncode == 0, created.stderr
    event = json.loads(created.stdout)["event"]
    assert (event["subject"], event["start"]) == ("From the CLI", "2027-03-10T09:00:00-08:00")
    [row] = read_rows(db, "From the CLI")
    assert row["start_utc"] == "2027-03-10T17:00:00"

    # key=value arguments (values read as JSON when they are JSON); `python -m`, a new process, the same file.
    viewed = call(tmp_path, db, "calendar_view", "start=2027-03-10", "end=2027-03-11", f"time_zone={LA}",
                  "max_results=50", command=MODULE)
    assert viewed.returncode == 0, viewed.stderr
    data = json.loads(viewed.stdout)
    assert data["time_zone"] == LA
    [seen] = [e for e in data["events"] if e["subject"] == "From the CLI"]
    assert seen["handle"] == event["handle"] and LOCAL_RE.match(seen["start"])
    # Handles persist in the data dir: a third process resolves the first one's handle.
    got = call(tmp_path, db, "get_event", f"event={event['handle']}", "detail=compact")
    assert got.returncode == 0, got.stderr
    assert json.loads(got.stdout)["event"]["handle"] == event["handle"]


@pytest.mark.parametrize(("args", "expected"), [
    (["get_event", "event=ev_zzzzzz"], "event: unknown handle 'ev_zzzzzz'"),
    (["no_such_tool"], "Unknown tool: no_such_tool"),
    (["calendar_view", "start"], "argument 'start': use key=value"),
    (["calendar_view", "--json", "{start:"], "--json: not valid JSON"),
], ids=["unknown-handle", "unknown-tool", "not-key-value", "bad-json"])
def test_call_errors_exit_1_with_the_message_on_stderr(tmp_path: Path, args: list[str], expected: str) -> None:
    result = call(tmp_path, tmp_path / "sandbox.db", *args)
    assert result.returncode == 1
    assert result.stdout == ""
    assert expected in result.stderr


@pytest.mark.anyio
async def test_sandbox_reset_seeds_again(tmp_path: Path) -> None:
    db = tmp_path / "sandbox.db"
    async with open_harness(tmp_path, sandbox_db=str(db)) as h:  # the same file a server would use
        await h.call("create_event", {"subject": "Doomed", "start": "2027-03-10T09:00", "end": "2027-03-10T10:00"})
        await h.call("create_calendar", {"name": "Doomed calendar"})
        h.store.close()
    assert len(read_rows(db, "Doomed")) == 1

    def counts() -> dict[str, int]:
        conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
        try:
            return {t: conn.execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0]
                    for t in ("mailboxes", "calendars", "events")}
        finally:
            conn.close()

    before = counts()
    result = run(tmp_path, [SCRIPT, "sandbox", "reset", "--db", str(db)])
    assert result.returncode == 0, result.stderr
    assert result.stdout == ""
    assert "Sandbox reset" in result.stderr and str(db) in result.stderr
    assert read_rows(db, "Doomed") == []
    after = counts()
    assert after == {"mailboxes": before["mailboxes"], "calendars": before["calendars"] - 1,
                     "events": before["events"] - 1}
    assert read_rows(db, "Weekly team sync"), "the seeded series is back"


@pytest.mark.parametrize("command", [[SCRIPT], MODULE], ids=["console-script", "python-m"])
def test_version(tmp_path: Path, command: list[str]) -> None:
    result = run(tmp_path, [*command, "--version"])
    assert result.returncode == 0
    assert result.stdout.strip() == f"outlook-calendar-mcp {__version__}"


# -- stdio: stdout is the protocol's ---------------------------------------------------------------------------

def requests() -> str:
    messages: list[dict[str, Any]] = [
        {"jsonrpc": "2.0", "id": 1, "method": "initialize",
         "params": {"protocolVersion": "2025-06-18", "capabilities": {},
                    "clientInfo": {"name": "raw-test", "version": "0"}}},
        {"jsonrpc": "2.0", "method": "notifications/initialized"},
        {"jsonrpc": "2.0", "id": 2, "method": "tools/list"},
        {"jsonrpc": "2.0", "id": 3, "method": "tools/call",
         "params": {"name": "calendar_view", "arguments": {"start": "2027-03-01", "end": "2027-03-08"}}},
        {"jsonrpc": "2.0", "id": 4, "method": "tools/call",
         "params": {"name": "get_event", "arguments": {"event": "ev_zzzzzz"}}},
        {"jsonrpc": "2.0", "id": 5, "method": "tools/call", "params": {"name": "nope", "arguments": {}}},
        {"jsonrpc": "2.0", "id": 6, "method": "tools/call",
         "params": {"name": "create_event", "arguments": {"subject": "Raw", "start": "2027-03-02T09:00",
                                                          "end": "2027-03-02T10:00"}}},
    ]
    return "".join(json.dumps(m) + "\n" for m in messages)


def stdio_session(tmp_path: Path, argv: list[str], env: dict[str, str], expected: set[int],
                  timeout: float = 30) -> tuple[list[str], str, int]:
    """Write the requests, read stdout until every expected id is answered, then close stdin and wait.

    (Closing stdin at once would be shutdown: requests still in flight may be dropped, as the SDK does.)
    """
    errlog = tmp_path / "stdio.stderr"
    with errlog.open("w") as err:
        proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=err, text=True,
                                env=env, cwd=tmp_path)
    lines: queue.Queue[str | None] = queue.Queue()

    def pump() -> None:
        for line in proc.stdout:  # type: ignore[union-attr]
            lines.put(line)
        lines.put(None)

    threading.Thread(target=pump, daemon=True).start()
    out: list[str] = []
    eof = False
    try:
        with contextlib.suppress(BrokenPipeError):
            proc.stdin.write(requests())  # type: ignore[union-attr]
            proc.stdin.flush()  # type: ignore[union-attr]
        answered: set[int] = set()
        deadline = time.monotonic() + timeout
        while not expected <= answered and time.monotonic() < deadline:
            try:
                line = lines.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                break
            if line is None:
                eof = True
                break
            out.append(line.rstrip("\n"))
            with contextlib.suppress(ValueError, AttributeError):
                answered.add(json.loads(line).get("id"))
        with contextlib.suppress(BrokenPipeError):
            proc.stdin.close()  # type: ignore[union-attr]
        code = proc.wait(timeout=10)
        while not eof and (line := lines.get(timeout=5)) is not None:  # anything written after stdin closed
            out.append(line.rstrip("\n"))
    finally:
        stop(proc)
    return out, errlog.read_text(), code


def check_stdio_session(lines: list[str], stderr: str) -> None:
    assert lines, f"no output; stderr: {stderr}"
    answers = {}
    for line in lines:
        message = json.loads(line)  # every byte on stdout is JSON-RPC
        assert message.get("jsonrpc") == "2.0", line
        if "id" in message:
            answers[message["id"]] = message
    assert set(answers) == {1, 2, 3, 4, 5, 6}, answers.keys()
    assert answers[1]["result"]["serverInfo"]["name"] == "outlook-calendar-mcp"
    assert {t["name"] for t in answers[2]["result"]["tools"]} >= set(TOOL_NAMES)
    assert answers[3]["result"]["isError"] is False
    assert answers[3]["result"]["structuredContent"]["time_zone"] == LA
    assert answers[4]["result"]["isError"] is True
    assert "unknown handle" in answers[4]["result"]["content"][0]["text"]
    assert answers[5].get("error") or answers[5]["result"]["isError"] is True
    assert answers[6]["result"]["structuredContent"]["event"]["start"] == "2027-03-02T09:00:00-08:00"
    assert "outlook-calendar-mcp" in stderr and "serving over stdio" in stderr


@pytest.mark.parametrize("argv", [
    pytest.param([*MODULE, "serve", "--transport", "stdio"], id="python-m-serve"),
    pytest.param([SCRIPT], id="bare-command"),
    pytest.param([SCRIPT, "-v"], id="bare-command-verbose"),
])
def test_stdio_writes_only_json_rpc_to_stdout(tmp_path: Path, argv: list[str]) -> None:
    env = server_env(tmp_path) | {"OUTLOOK_MCP_BACKEND": "sandbox",
                                  "OUTLOOK_MCP_SANDBOX_DB": str(tmp_path / "sandbox.db")}
    lines, stderr, code = stdio_session(tmp_path, argv, env, expected={1, 2, 3, 4, 5, 6})
    check_stdio_session(lines, stderr)
    assert code == 0, stderr
    assert read_rows(tmp_path / "sandbox.db", "Raw")


# -- time travel: --now ---------------------------------------------------------------------------------------

TRAVEL = "2027-03-14T01:30:00-08:00"  # a Sunday night in Pacific time, half an hour before the clocks jump


def test_call_runs_on_the_clock_given_by_now(tmp_path: Path) -> None:
    got = call(tmp_path, tmp_path / "sandbox.db", "get_mailbox_settings", "--now", TRAVEL)
    assert got.returncode == 0, got.stderr
    settings = json.loads(got.stdout)
    assert (settings["today"], settings["weekday"]) == ("2027-03-14", "Sunday")
    assert settings["now"].startswith("2027-03-14T01:3") and settings["now"].endswith("-08:00"), settings["now"]


def test_sandbox_reset_with_now_seeds_that_week(tmp_path: Path) -> None:
    db = tmp_path / "sandbox.db"
    reset = run(tmp_path, [SCRIPT, "sandbox", "reset", "--db", str(db), "--now", TRAVEL])
    assert reset.returncode == 0, reset.stderr
    # On a Sunday the living week is the one ahead: Monday 2027-03-15 to Friday 2027-03-19.
    starts = sorted(r["start_utc"][:10] for r in read_rows(db, "Quarterly planning"))
    assert starts and all("2027-03-15" <= s <= "2027-03-20" for s in starts), starts


def test_sandbox_serve_with_now_answers_on_that_clock(tmp_path: Path) -> None:
    port = free_port()
    proc = subprocess.Popen([SCRIPT, "sandbox", "serve", "--port", str(port), "--db", str(tmp_path / "s.db"),
                             "--now", TRAVEL], env=server_env(tmp_path), stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    try:
        base = f"http://127.0.0.1:{port}/v1.0"
        deadline = time.monotonic() + 30
        while True:
            try:
                httpx.get(f"{base}/me", headers={"Authorization": "Bearer sandbox"}, timeout=2)
                break
            except httpx.TransportError:
                assert proc.poll() is None and time.monotonic() < deadline, proc.stderr.read() if proc.stderr else ""
                time.sleep(0.1)
        auth = {"Authorization": "Bearer sandbox"}
        made = httpx.post(f"{base}/me/events", headers=auth, timeout=10, json={
            "subject": "Made while travelling", "start": {"dateTime": "2027-03-20T10:00:00", "timeZone": "UTC"},
            "end": {"dateTime": "2027-03-20T11:00:00", "timeZone": "UTC"}}).json()
        assert made["createdDateTime"].startswith("2027-03-14T09:3"), made["createdDateTime"]  # 01:3x Pacific
        week = httpx.get(f"{base}/me/calendarView", headers=auth, timeout=10, params={
            "startDateTime": "2027-03-15T00:00:00Z", "endDateTime": "2027-03-20T00:00:00Z"}).json()["value"]
        assert "Quarterly planning" in {e["subject"] for e in week}
    finally:
        stop(proc)
    assert "Time travel: its clock reads 2027-03-14T09:3" in (proc.stderr.read() if proc.stderr else "")


@pytest.mark.parametrize(("now", "zone", "says"), [
    ("next tuesday", "UTC", "is not an ISO 8601 instant"),
    ("2027-03-14T02:30", "America/Los_Angeles", "does not exist (the clocks jump over it) in America/Los_Angeles"),
    ("2027-11-07T01:30", "America/Los_Angeles", "happens twice (the clocks go back) in America/Los_Angeles"),
])
def test_a_bad_now_is_refused_with_the_fix(tmp_path: Path, now: str, zone: str, says: str) -> None:
    db = tmp_path / "sandbox.db"
    got = run(tmp_path, [SCRIPT, "call", "calendar_view", "--backend", "sandbox", "--sandbox-db", str(db),
                         "--now", now], env=server_env(tmp_path) | {"TZ": zone})
    assert got.returncode != 0 and got.stdout == ""
    assert says in got.stderr and "e.g. 20" in got.stderr and "Traceback" not in got.stderr, got.stderr
    assert not db.exists() or read_rows(db, "anything") == []
