"""Fuzz every tool from its own input schema: no unexpected exception, no change from a refused call, no hang.

For each tool the client lists, hypothesis draws at least 200 argument sets from the tool's advertised JSON
schema: valid-shaped odd values (empty, huge, NUL, far dates, path tricks, unknown handles, right-to-left
marks, OData injection) and invalid ones (wrong types, unknown arguments, missing required ones). Each is
called through the MCP client on the in-process server and sandbox. Every answer must be a result or the
server's own specific error (never the SDK's bare "Error executing tool X", never the boundary's "could
not handle argument"), a refused call must leave the sandbox's database untouched (SQLite's change counter
of its connection), and no call may take longer than :data:`CALL_LIMIT_S`.
"""

from __future__ import annotations

import re
import time
from typing import Any

import anyio
import anyio.from_thread
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.e2e.conftest import Harness, open_harness
from tests.instants import BEFORE_MARCH_2027, clock_at

EXAMPLES = 200
CALL_LIMIT_S = 20.0
BARE_CRASH = re.compile(r"^Error executing tool \w+\.?$")

ODD_STRINGS = [
    "", " ", "\x00", "a\x00b", "x" * 70_000, "💥" * 300, "\u202eevil", "ev_aaaaaa", "ev_zzzzzzzz", "cal_aaaaaa",
    "att_aaaaaa", "perm_aaaaaa", "AAMkAGI2TG93AAA=", "9999-12-31T23:59:59", "0001-01-01", "2027-02-30",
    "2027-03-01T10:00", "2027-03-14T02:30", "2027-03-01", "2027-03-01T10:00:00+14:00", "-1", "1e308",
    "dana@contoso.com", "nobody@nowhere.invalid", "me", "../../etc/passwd", "/etc/passwd", "C:\\Windows\\x",
    "' or 1 eq 1 or '", "$filter=x", "FREQ=DAILY;COUNT=100000", "FREQ=SECONDLY", "PT1H", "P99999D",
    "https://contoso.sharepoint.com/x", "javascript:alert(1)", "Pacific Standard Time", "Mars/Olympus_Mons",
    "a" * 256, "\n\r\t", "null", "{}", "[]",
]


REAL: list[str] = []  # handles of items that exist, filled before the tools are fuzzed


def values(schema: dict[str, Any], defs: dict[str, Any], depth: int = 0) -> st.SearchStrategy[Any]:
    """Valid-shaped (often odd) values for ``schema``, now and then a value of the wrong type."""
    wrong = st.one_of(st.none(), st.integers(), st.text(max_size=5), st.lists(st.integers(), max_size=2),
                      st.booleans(), st.floats(allow_nan=True))
    return st.one_of(_shaped(schema, defs, depth), wrong) if depth else _shaped(schema, defs, depth) | wrong


def _shaped(schema: dict[str, Any], defs: dict[str, Any], depth: int) -> st.SearchStrategy[Any]:
    if "$ref" in schema:
        return _shaped(defs.get(schema["$ref"].rsplit("/", 1)[-1], {}), defs, depth)
    if "enum" in schema:
        return st.sampled_from(schema["enum"])
    for key in ("anyOf", "oneOf"):
        if key in schema:
            return st.one_of([_shaped(s, defs, depth) for s in schema[key]])
    kind = schema.get("type")
    if isinstance(kind, list):
        return st.one_of([_shaped({**schema, "type": k}, defs, depth) for k in kind])
    if kind == "string":
        return st.one_of(st.sampled_from(ODD_STRINGS + REAL), st.text(max_size=40))
    if kind == "integer":
        return st.one_of(st.integers(-5, 2000), st.sampled_from([0, -1, 2**31, -(2**63), 10**30]))
    if kind == "number":
        return st.floats(allow_nan=False) | st.integers()
    if kind == "boolean":
        return st.booleans()
    if kind == "array":
        items = schema.get("items", {})
        return st.lists(_shaped(items, defs, depth + 1) if depth < 2 else st.text(max_size=5), max_size=4) | \
            st.just([{"email": "dana@contoso.com"}] * 600) | st.just(["x"] * 501)
    if kind == "object" or "properties" in schema:
        return arguments(schema, defs, depth + 1)
    return st.one_of(st.text(max_size=10), st.integers(), st.none())


def arguments(schema: dict[str, Any], defs: dict[str, Any], depth: int = 0) -> st.SearchStrategy[dict[str, Any]]:
    """An argument object: required ones usually there, optional ones sometimes, now and then an unknown one."""
    props: dict[str, Any] = schema.get("properties", {})
    required = set(schema.get("required", []))

    @st.composite
    def build(draw: st.DrawFn) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for name, sub in props.items():
            keep = draw(st.integers(0, 9)) < (9 if name in required else 4)
            if keep and depth < 3:
                out[name] = draw(values(sub, defs, depth))
        if draw(st.integers(0, 9)) == 0 or not props:  # an argument no tool has (a typo such as timezone)
            out[draw(st.sampled_from(["timezone", "mailBox", "_x", "confirm "]) | st.text(min_size=1, max_size=12))] = \
                draw(st.sampled_from(ODD_STRINGS[:8]) | st.integers())
        return out

    return build()


def check_call(portal: Any, h: Harness, tool: str, args: dict[str, Any], problems: list[str]) -> None:
    async def one() -> None:
        before = h.store.db.total_changes
        started = time.monotonic()
        try:
            with anyio.fail_after(CALL_LIMIT_S):
                result = await h.client.call_tool(tool, args)
        except TimeoutError:
            problems.append(f"{tool}: call outlived {CALL_LIMIT_S}s with {short(args)}")
            return
        except Exception as e:
            problems.append(f"{tool}: {type(e).__name__}: {str(e)[:200]} with {short(args)}")
            return
        elapsed = time.monotonic() - started
        text = " ".join(getattr(c, "text", "") for c in result.content)
        if BARE_CRASH.match(text.strip()) or "could not handle argument" in text:
            problems.append(f"{tool}: unexpected exception: {text[:300]} with {short(args)}")
        if result.is_error and h.store.db.total_changes != before:
            problems.append(f"{tool}: a refused call changed the sandbox: {text[:200]} with {short(args)}")
        if elapsed > CALL_LIMIT_S:
            problems.append(f"{tool}: {elapsed:.1f}s with {short(args)}")

    portal.call(one)


async def real_items(h: Harness) -> list[str]:
    """Handles that exist (an event with an attendee, a calendar, an attachment), so odd calls reach Graph."""
    event = await h.call("create_event", {"subject": "Fuzz target", "start": "2027-03-02T10:00",
                                          "end": "2027-03-02T11:00", "attendees": [{"email": "dana@contoso.com"}]})
    handle = event["event"]["handle"]
    calendar = await h.call("create_calendar", {"name": "Fuzz calendar"})
    link = await h.call("add_reference_attachment", {"event": handle, "name": "Fuzz link",
                                                     "source_url": "https://contoso.sharepoint.com/f"})
    return [handle, calendar["calendar"]["handle"], link["attachment"]["handle"]]


def short(args: dict[str, Any]) -> str:
    return repr({k: (v[:40] + "…" if isinstance(v, str) and len(v) > 40 else v) for k, v in args.items()})[:300]


@pytest.mark.slow
def test_every_tool_survives_200_generated_inputs(tmp_path):
    problems: list[str] = []
    counts: dict[str, int] = {}
    with anyio.from_thread.start_blocking_portal("asyncio") as portal, \
            portal.wrap_async_context_manager(open_harness(tmp_path, clock=clock_at(BEFORE_MARCH_2027))) as h:
        tools = portal.call(h.client.list_tools).tools
        REAL[:] = portal.call(real_items, h)
        assert len(tools) >= 40
        for t in tools:
            fuzzer(portal, h, t.name, t.input_schema, counts, problems)()
    assert not problems, "\n".join(problems[:30])
    assert min(counts.values()) >= EXAMPLES, counts


def fuzzer(portal: Any, h: Harness, name: str, schema: dict[str, Any], counts: dict[str, int], problems: list[str]):
    """The hypothesis test of one tool (run in this thread; each call goes to the portal's event loop)."""

    @settings(max_examples=EXAMPLES, deadline=None, database=None, derandomize=True,
              suppress_health_check=list(HealthCheck))
    @given(args=arguments(schema, schema.get("$defs", {})) | st.fixed_dictionaries({}))
    def fuzz(args: dict[str, Any]) -> None:
        counts[name] = counts.get(name, 0) + 1
        check_call(portal, h, name, args, problems)

    return fuzz
