"""The stdio transport on the event loop's pipes (stdio.py), and the SDK's own streams where stdin is a file.

A raw JSON-RPC client drives ``serve`` as a child process, so what is checked is exactly what crossed
stdin and stdout: every answer on its own line, a line that is not a message answered as JSON-RPC 2.0 asks
(-32700, -32600) without ending the session, a message split across writes, and the same answers through the
SDK's own streams when stdin is a terminal.
"""

from __future__ import annotations

import json
import os
import subprocess
import threading
import tty
from pathlib import Path
from typing import Any

from outlook_calendar_mcp.stdio import LINE_LIMIT
from tests.servers import stdio_command, stdio_env

INIT = {
    "jsonrpc": "2.0",
    "id": 1,
    "method": "initialize",
    "params": {"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "pipes", "version": "0"}},
}
INITIALIZED = {"jsonrpc": "2.0", "method": "notifications/initialized"}
LIST = {"jsonrpc": "2.0", "id": 2, "method": "tools/list"}
CALL = {"jsonrpc": "2.0", "id": 3, "method": "tools/call", "params": {"name": "get_mailbox_settings", "arguments": {}}}
NOT_A_REQUEST = {"jsonrpc": "2.0", "id": 9, "method": 42}  # JSON, but no message: answered with its id


def line(message: dict[str, Any]) -> bytes:
    return json.dumps(message).encode() + b"\n"


def answers(stdout: bytes) -> dict[Any, dict[str, Any]]:
    out = [json.loads(text) for text in stdout.decode().splitlines() if text.strip()]
    return {m.get("id"): m for m in out}


def check(by_id: dict[Any, dict[str, Any]]) -> None:
    assert by_id[1]["result"]["serverInfo"]["name"] == "outlook-calendar-mcp"
    assert len(by_id[2]["result"]["tools"]) == 43
    assert by_id[3]["result"]["structuredContent"]["time_zone"]


def test_pipes_answer_each_message_and_survive_a_bad_line(tmp_path: Path) -> None:
    proc = subprocess.Popen(
        stdio_command(tmp_path),
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=stdio_env(tmp_path),
    )
    assert proc.stdin and proc.stdout
    watchdog = threading.Timer(60, proc.kill)  # a line left unanswered ends the reads below, not the test run
    watchdog.start()
    proc.stdin.write(line(INIT))
    proc.stdin.flush()
    first = json.loads(proc.stdout.readline())  # answered before anything else is sent
    assert first["id"] == 1
    call = line(CALL)
    proc.stdin.write(line(INITIALIZED) + b"this is not json\n" + b"\n" + line(NOT_A_REQUEST) + line(LIST) + call[:20])
    proc.stdin.flush()
    proc.stdin.write(call[20:])  # one message in two writes
    proc.stdin.flush()
    by_id = {1: first}
    errors: list[dict[str, Any]] = []
    while not {2, 3} <= set(by_id):  # a client keeps stdin open until its answers are in
        message = json.loads(proc.stdout.readline() or b"null")
        assert message is not None, proc.stderr.read().decode()[-2000:] if proc.stderr else "stdout closed"
        by_id[message.get("id")] = message
        if "error" in message:
            errors.append(message)
    proc.stdin.write(b"x" * (LINE_LIMIT + 1) + b"\n")  # past what a message may be: skipped whole, answered
    proc.stdin.flush()
    errors.append(json.loads(proc.stdout.readline()))
    out, err = proc.communicate(timeout=60)
    watchdog.cancel()
    assert proc.returncode == 0, err.decode()[-2000:]
    assert out == b""  # the blank line got no answer
    check(by_id)  # the session went on past every line that was not a message
    assert [(e["id"], e["error"]["code"]) for e in errors] == [(None, -32700), (9, -32600), (None, -32700)]
    assert errors[0]["error"]["message"].startswith("Parse error: the line is not JSON")
    assert errors[1]["error"]["message"].startswith("Invalid Request: expected a JSON-RPC 2.0 request")
    assert "over 64 MiB" in errors[2]["error"]["message"]


def test_a_terminal_on_stdin_is_served_by_the_sdk_streams(tmp_path: Path) -> None:
    """A terminal is not a pipe: its flags are shared with the shell, so the loop does not take it over and
    the SDK's own (threaded) streams serve it, answering the same."""
    main, tty_side = os.openpty()
    tty.setraw(tty_side)  # no echo, no line editing: the bytes as sent
    proc = subprocess.Popen(stdio_command(tmp_path), stdin=tty_side, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, env=stdio_env(tmp_path))
    os.close(tty_side)
    assert proc.stdout
    try:
        os.write(main, line(INIT) + line(INITIALIZED) + b"{not json\n" + line(LIST) + line(CALL))
        by_id: dict[Any, dict[str, Any]] = {}
        while not {None, 1, 2, 3} <= set(by_id):
            message = json.loads(proc.stdout.readline() or b"null")
            assert message is not None, proc.stderr.read().decode()[-2000:] if proc.stderr else "stdout closed"
            by_id[message.get("id")] = message
        check(by_id)
        assert by_id[None]["error"]["code"] == -32700  # answered on these streams too
    finally:
        os.close(main)  # the terminal hangs up: the server ends
        proc.wait(timeout=30)
