"""The stdio transport on the event loop's pipes (stdio.py), and the SDK's own streams where stdin is a file.

A raw JSON-RPC client drives ``serve`` as a child process, so what is checked is exactly what crossed
stdin and stdout: every answer on its own line, a line that is not JSON skipped without ending the
session, a message split across writes, and the same answers through the SDK's own streams when stdin is a terminal.
"""

from __future__ import annotations

import json
import os
import subprocess
import tty
from pathlib import Path
from typing import Any

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
    proc.stdin.write(line(INIT))
    proc.stdin.flush()
    first = json.loads(proc.stdout.readline())  # answered before anything else is sent
    assert first["id"] == 1
    call = line(CALL)
    proc.stdin.write(line(INITIALIZED) + b"this is not json\n" + line(LIST) + call[:20])
    proc.stdin.flush()
    proc.stdin.write(call[20:])  # one message in two writes
    proc.stdin.flush()
    by_id = {1: first}
    while not {2, 3} <= set(by_id):  # a client keeps stdin open until its answers are in
        message = json.loads(proc.stdout.readline() or b"null")
        assert message is not None, proc.stderr.read().decode()[-2000:] if proc.stderr else "stdout closed"
        by_id[message.get("id")] = message
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err.decode()[-2000:]
    assert out == b""
    check(by_id)  # the line that is not JSON was dropped (as the SDK's own streams do) and the session went on


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
        os.write(main, line(INIT) + line(INITIALIZED) + line(LIST) + line(CALL))
        by_id: dict[Any, dict[str, Any]] = {}
        while not {1, 2, 3} <= set(by_id):
            message = json.loads(proc.stdout.readline() or b"null")
            assert message is not None, proc.stderr.read().decode()[-2000:] if proc.stderr else "stdout closed"
            by_id[message.get("id")] = message
        check(by_id)
    finally:
        os.close(main)  # the terminal hangs up: the server ends
        proc.wait(timeout=30)
