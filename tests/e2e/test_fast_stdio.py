"""The stdio handshake cache (src/outlook_calendar_mcp/fast_stdio.py): a warm start answers ``initialize``
before the SDK has loaded, and the client cannot tell otherwise.

Real processes (``python -m outlook_calendar_mcp -v serve``, sandbox backend), raw JSON-RPC bytes over
pipes. Each test's servers share one data and cache dir, so the second start finds what the first stored.
Reference output comes from the same server with the fast path switched off (``OUTLOOK_MCP_FAST_STDIO=0``),
which is the SDK's own stdio path untouched. ``-v`` makes the module say on stderr whether it answered
from the cache ("answered initialize") or stored a result ("stored the initialize result").

The in-process tests at the end pin the request parser: anything the SDK could read differently from
``json`` is never answered early.
"""

from __future__ import annotations

import contextlib
import json
import os
import queue
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from outlook_calendar_mcp import fast_stdio
from outlook_calendar_mcp.fast_stdio import Initialize, is_response_to, parse_initialize, render

from .conftest import LA, TOOL_NAMES, server_env, stop

ANSWERED = "fast stdio: answered initialize"
STORED = "fast stdio: stored the initialize result"
DIFFERED = "the cached initialize result differed"


def initialize(request_id: Any = 1, version: str = "2025-06-18", **capabilities: Any) -> dict[str, Any]:
    return {"jsonrpc": "2.0", "id": request_id, "method": "initialize",
            "params": {"protocolVersion": version, "capabilities": capabilities,
                       "clientInfo": {"name": "fast-stdio-test", "version": "1.0"}}}


INITIALIZED = {"jsonrpc": "2.0", "method": "notifications/initialized"}
TOOLS_LIST = {"jsonrpc": "2.0", "id": 2, "method": "tools/list"}
CALENDAR_VIEW = {"jsonrpc": "2.0", "id": 3, "method": "tools/call",
                 "params": {"name": "calendar_view", "arguments": {"start": "2027-03-01", "end": "2027-03-08"}}}
PING = {"jsonrpc": "2.0", "id": 99, "method": "ping"}
ENVELOPE = {"io.modelcontextprotocol/protocolVersion": "2026-07-28",
            "io.modelcontextprotocol/clientInfo": {"name": "fast-stdio-test", "version": "1.0"},
            "io.modelcontextprotocol/clientCapabilities": {}}


class Session:
    def __init__(self, lines: list[bytes], stderr: str, code: int) -> None:
        self.lines, self.stderr, self.code = lines, stderr, code
        self.messages = [json.loads(line) for line in lines]  # every stdout line must be JSON

    def answers(self, request_id: Any) -> list[dict[str, Any]]:
        return [m for m in self.messages if "method" not in m and m.get("id") == request_id
                and type(m.get("id")) is type(request_id)]

    def line(self, request_id: Any) -> bytes:
        [line] = [raw for raw, m in zip(self.lines, self.messages, strict=True)
                  if "method" not in m and m.get("id") == request_id and type(m.get("id")) is type(request_id)]
        return line


def run(tmp_path: Path, messages: list[dict[str, Any] | bytes], expect: set[Any], *flags: str,
        fast: bool = True, timeout: float = 60) -> Session:
    """Start the server, write every message at once, read until each id in ``expect`` is answered, close stdin."""
    env = server_env(tmp_path) | ({} if fast else {"OUTLOOK_MCP_FAST_STDIO": "0"})
    argv = [sys.executable, "-m", "outlook_calendar_mcp", "-v", "serve", "--transport", "stdio",
            "--backend", "sandbox", "--sandbox-db", str(tmp_path / "sandbox.db"), *flags]
    errlog = tmp_path / "stderr.log"
    with errlog.open("wb") as err:
        proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=err, env=env,
                                cwd=tmp_path, bufsize=0)
    out: queue.Queue[bytes | None] = queue.Queue()

    def pump() -> None:
        for raw in proc.stdout:  # type: ignore[union-attr]
            out.put(raw)
        out.put(None)

    threading.Thread(target=pump, daemon=True).start()
    lines: list[bytes] = []
    eof = False
    try:
        payload = b"".join(m if isinstance(m, bytes) else json.dumps(m).encode() + b"\n" for m in messages)
        proc.stdin.write(payload)  # type: ignore[union-attr]
        answered: set[Any] = set()
        deadline = time.monotonic() + timeout
        while not expect <= answered:
            raw = out.get(timeout=max(0.01, deadline - time.monotonic()))
            if raw is None:
                eof = True
                break
            assert raw.endswith(b"\n"), raw
            lines.append(raw[:-1])
            with contextlib.suppress(ValueError, AttributeError):
                answered.add(json.loads(raw).get("id"))
        proc.stdin.close()  # type: ignore[union-attr]
        code = proc.wait(timeout=20)
        while not eof and (raw := out.get(timeout=10)) is not None:
            lines.append(raw.rstrip(b"\n"))
    finally:
        stop(proc)
    stderr = errlog.read_text()
    assert expect <= {json.loads(line).get("id") for line in lines}, stderr
    return Session(lines, stderr, code)


def cache_files(tmp_path: Path) -> list[Path]:
    return sorted((tmp_path / "cache" / "stdio-handshake").glob("*.json"))


def with_id(line: bytes, old: bytes, new: bytes) -> bytes:
    head = b'{"jsonrpc":"2.0","id":'
    assert line.startswith(head + old + b","), line
    return head + new + line[len(head + old):]


def tool_names(session: Session) -> set[str]:
    [answer] = session.answers(2)
    return {t["name"] for t in answer["result"]["tools"]}


@pytest.mark.slow
def test_warm_start_sends_the_same_bytes_and_the_session_works(tmp_path: Path) -> None:
    session = [initialize(1), INITIALIZED, TOOLS_LIST, CALENDAR_VIEW]
    cold = run(tmp_path, session, {1, 2, 3})
    assert STORED in cold.stderr and ANSWERED not in cold.stderr, cold.stderr
    [cached] = cache_files(tmp_path)

    # Another id (a string this time): the cached result goes out under the request's id.
    warm = run(tmp_path, [initialize("init-7"), *session[1:]], {"init-7", 2, 3})
    assert ANSWERED in warm.stderr and "WARNING" not in warm.stderr, warm.stderr
    assert warm.code == 0, warm.stderr
    assert len(warm.answers("init-7")) == 1  # the SDK's own response to it never reached stdout
    assert warm.line("init-7") == with_id(cold.line(1), b"1", b'"init-7"')
    assert all(m.get("jsonrpc") == "2.0" for m in warm.messages)
    # The SDK saw the initialize too: its session is initialized, tools list and run.
    assert tool_names(warm) == tool_names(cold) >= set(TOOL_NAMES)
    [view] = warm.answers(3)
    assert view["result"]["isError"] is False and view["result"]["structuredContent"]["time_zone"] == LA
    assert cache_files(tmp_path) == [cached]

    # What the SDK alone sends (fast path off) is byte for byte what the cache sent.
    plain = run(tmp_path, [initialize("init-7"), *session[1:]], {"init-7", 2, 3}, fast=False)
    assert ANSWERED not in plain.stderr and STORED not in plain.stderr
    assert plain.line("init-7") == warm.line("init-7")
    assert plain.line(2) == warm.line(2)


@pytest.mark.slow
def test_a_client_that_waits_for_each_answer(tmp_path: Path) -> None:
    """initialize alone first, the rest only after its answer (as real clients do), on a warm cache."""
    run(tmp_path, [initialize(0)], {0})
    env = server_env(tmp_path)
    argv = [sys.executable, "-m", "outlook_calendar_mcp", "-v", "serve", "--backend", "sandbox",
            "--sandbox-db", str(tmp_path / "sandbox.db")]
    proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env,
                            bufsize=0)
    try:
        def ask(message: dict[str, Any]) -> dict[str, Any]:
            proc.stdin.write(json.dumps(message).encode() + b"\n")  # type: ignore[union-attr]
            if "id" not in message:
                return {}
            reply = json.loads(proc.stdout.readline())  # type: ignore[union-attr]
            assert reply["id"] == message["id"], reply
            return reply

        assert ask(initialize(0))["result"]["serverInfo"]["name"] == "outlook-calendar-mcp"
        ask(INITIALIZED)
        assert {t["name"] for t in ask(TOOLS_LIST)["result"]["tools"]} >= set(TOOL_NAMES)
        assert ask(PING) == {"jsonrpc": "2.0", "id": 99, "result": {}}
        proc.stdin.close()  # type: ignore[union-attr]
        assert proc.stdout.read() == b""  # type: ignore[union-attr]  # nothing else, no duplicate initialize
        assert proc.wait(timeout=20) == 0
        assert ANSWERED in proc.stderr.read().decode()  # type: ignore[union-attr]
    finally:
        stop(proc)


@pytest.mark.slow
def test_another_protocol_version_or_tool_selection_misses_the_cache(tmp_path: Path) -> None:
    full = run(tmp_path, [initialize(1, "2025-06-18"), INITIALIZED, TOOLS_LIST], {1, 2})
    [first] = cache_files(tmp_path)

    older = run(tmp_path, [initialize(1, "2025-03-26"), INITIALIZED, TOOLS_LIST], {1, 2})
    assert ANSWERED not in older.stderr and STORED in older.stderr, older.stderr
    assert older.answers(1)[0]["result"]["protocolVersion"] == "2025-03-26"
    assert tool_names(older) == tool_names(full)
    assert cache_files(tmp_path) == [first]  # same server: a second entry in the same file
    assert len(json.loads(first.read_text())["entries"]) == 2
    again = run(tmp_path, [initialize(1, "2025-03-26")], {1})
    assert ANSWERED in again.stderr and again.line(1) == older.line(1)

    core = run(tmp_path, [initialize(1, "2025-06-18"), INITIALIZED, TOOLS_LIST], {1, 2}, "--tools", "core")
    assert ANSWERED not in core.stderr and STORED in core.stderr, core.stderr
    assert "calendar_view" in tool_names(core) and tool_names(core) < tool_names(full)
    read_only = run(tmp_path, [initialize(1, "2025-06-18"), INITIALIZED, TOOLS_LIST], {1, 2}, "--read-only")
    assert ANSWERED not in read_only.stderr, read_only.stderr
    assert "create_event" not in tool_names(read_only) and "calendar_view" in tool_names(read_only)
    assert len(cache_files(tmp_path)) == 3  # one file per server configuration

    # Other client params (here: capabilities) are another entry, not a hit.
    roots = run(tmp_path, [initialize(1, "2025-06-18", roots={"listChanged": True})], {1})
    assert ANSWERED not in roots.stderr and STORED in roots.stderr


@pytest.mark.slow
def test_a_corrupt_or_foreign_cache_file_falls_back_cleanly(tmp_path: Path) -> None:
    cold = run(tmp_path, [initialize(1), INITIALIZED, TOOLS_LIST], {1, 2})
    [cached] = cache_files(tmp_path)
    for junk in (b"\x00garbage{", b'{"format": 1, "key": {}, "entries": {}}', b"[]",
                 json.dumps({**json.loads(cached.read_text()), "entries": {"x": 1}}).encode()):
        cached.write_bytes(junk)
        session = run(tmp_path, [initialize(1), INITIALIZED, TOOLS_LIST], {1, 2})
        assert session.code == 0 and ANSWERED not in session.stderr and STORED in session.stderr, session.stderr
        assert session.line(1) == cold.line(1) and tool_names(session) == tool_names(cold)
        assert json.loads(cached.read_text())["entries"]  # rewritten from the SDK's response
    cached.chmod(0o000)  # unreadable (unless root): a miss, the session goes on
    try:
        session = run(tmp_path, [initialize(1)], {1})
        assert session.line(1) == cold.line(1)
    finally:
        cached.chmod(0o600)


@pytest.mark.slow
def test_a_stale_entry_is_sent_once_then_replaced(tmp_path: Path) -> None:
    """The cache is checked against the SDK's own response on every start that uses it."""
    cold = run(tmp_path, [initialize(1)], {1})
    [cached] = cache_files(tmp_path)
    data = json.loads(cached.read_text())
    [entry] = data["entries"].values()
    entry["result"] = entry["result"].replace("Outlook calendar tools.", "Stale instructions.")
    cached.write_text(json.dumps(data))

    stale = run(tmp_path, [initialize(1), INITIALIZED, TOOLS_LIST], {1, 2})
    assert ANSWERED in stale.stderr and DIFFERED in stale.stderr, stale.stderr
    assert len(stale.answers(1)) == 1  # the SDK's (different) response was still not forwarded
    assert stale.answers(1)[0]["result"]["instructions"].startswith("Stale instructions.")
    assert tool_names(stale) >= set(TOOL_NAMES)

    fixed = run(tmp_path, [initialize(1)], {1})
    assert ANSWERED in fixed.stderr and DIFFERED not in fixed.stderr
    assert fixed.line(1) == cold.line(1)


@pytest.mark.slow
@pytest.mark.parametrize("first", [
    pytest.param(initialize(1, "2099-01-01"), id="unsupported-version"),
    pytest.param(initialize(1, "2026-07-28"), id="modern-version-in-initialize"),
    pytest.param({**initialize(1), "params": {**initialize(1)["params"], "capabilities": {"roots": 5}}},
                 id="invalid-params"),
    pytest.param({**initialize(1), "params": {**initialize(1)["params"], "_meta": ENVELOPE}},
                 id="enveloped-initialize"),
    pytest.param({"jsonrpc": "2.0", "id": 1, "method": "server/discover", "params": {"_meta": ENVELOPE}},
                 id="discover"),
    pytest.param(b"not json\n", id="garbage"),
    pytest.param(json.dumps(initialize(1)).encode().replace(b'"id": 1', b'"id": 1, "id": 1') + b"\n",
                 id="duplicate-key"),
    pytest.param(json.dumps(initialize(1.0)).encode() + b"\n", id="float-id"),
])
def test_everything_but_a_cacheable_handshake_passes_through_untouched(tmp_path: Path, first: Any) -> None:
    messages = [first, PING]
    plain = run(tmp_path, messages, {99}, fast=False)
    runs = [run(tmp_path, messages, {99}) for _ in range(2)]
    for session in runs:
        assert session.lines == plain.lines, (session.lines, plain.lines)
        assert ANSWERED not in session.stderr and STORED not in session.stderr, session.stderr
    for cached in cache_files(tmp_path):
        assert not json.loads(cached.read_text())["entries"]


@pytest.mark.slow
def test_switched_off_nothing_is_read_or_written(tmp_path: Path) -> None:
    session = run(tmp_path, [initialize(1), INITIALIZED, TOOLS_LIST], {1, 2}, fast=False)
    assert tool_names(session) >= set(TOOL_NAMES)
    assert not cache_files(tmp_path) and "fast stdio" not in session.stderr


# -- in process: what counts as a cacheable initialize ------------------------------------------------------------

def line(message: Any) -> bytes:
    return json.dumps(message).encode() + b"\n"


def test_parse_initialize_accepts_the_plain_handshake() -> None:
    request = parse_initialize(line(initialize(3)))
    assert isinstance(request, Initialize)
    assert (request.id, request.id_json, request.protocol_version) == (3, b"3", "2025-06-18")
    # Key order and spacing do not matter; the params do.
    compact = json.dumps(initialize(3), separators=(",", ":"), sort_keys=True).encode() + b"\r\n"
    assert parse_initialize(compact).params_hash == request.params_hash  # type: ignore[union-attr]
    assert parse_initialize(line(initialize(3, "2025-03-26"))).params_hash != request.params_hash  # type: ignore[union-attr]
    assert parse_initialize(line(initialize("a-b_c.1"))).id_json == b'"a-b_c.1"'  # type: ignore[union-attr]


@pytest.mark.parametrize("raw", [
    line(initialize(True)), line(initialize(1.5)), line(initialize(None)), line(initialize("é")),
    line(initialize('a"b')), line(initialize(2**60)), line({**initialize(1), "extra": 1}),
    line({**initialize(1), "method": "ping"}), line({**initialize(1), "jsonrpc": "1.0"}),
    line({k: v for k, v in initialize(1).items() if k != "params"}),
    line({**initialize(1), "params": {"capabilities": {}}}),
    line([initialize(1)]), b"\xef\xbb\xbf" + line(initialize(1)), line(initialize(1))[:-1],
    line(initialize(1)).replace(b", ", b",\r"), line(initialize(1)).replace(b"{}", b'{"x": NaN}'),
    line(initialize(1)).replace(b"{}", b'{"x": "\\ud800"}'), b"\n", b"{\n",
    line({**initialize(1), "params": {**initialize(1)["params"], "_meta": {"progressToken": 1}}}),
], ids=lambda raw: raw[:40].decode("utf-8", "replace"))
def test_parse_initialize_refuses_anything_unusual(raw: bytes) -> None:
    assert parse_initialize(raw) is None


def test_render_and_response_matching() -> None:
    request = parse_initialize(line(initialize(7)))
    assert request is not None
    answer = render(request.id_json, b'{"protocolVersion":"2025-06-18"}')
    assert answer == b'{"jsonrpc":"2.0","id":7,"result":{"protocolVersion":"2025-06-18"}}\n'
    assert is_response_to(answer[:-1], request)
    assert is_response_to(b'{"jsonrpc":"2.0","id":7,"error":{"code":-32602,"message":"x"}}', request)
    assert not is_response_to(b'{"jsonrpc":"2.0","id":7,"method":"roots/list"}', request)
    assert not is_response_to(b'{"jsonrpc":"2.0","id":70,"result":{}}', request)
    assert not is_response_to(b'{"jsonrpc":"2.0","id":"7","result":{}}', request)


def test_the_module_imports_nothing_heavy() -> None:
    code = ("import sys, outlook_calendar_mcp.cli, outlook_calendar_mcp.fast_stdio as f; "
            "print(sorted(m for m in ('mcp', 'mcp_types', 'pydantic', 'httpx', 'anyio') if m in sys.modules))")
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}  # no contract recorder (it loads httpx)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env).stdout
    assert out.strip() == "[]"
    assert fast_stdio.enabled({"OUTLOOK_MCP_FAST_STDIO": "0"}) is False
    assert fast_stdio.cache_dir({"outlook_mcp_cache_dir": "/x/y"}) == "/x/y"
