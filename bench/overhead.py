"""Per-call overhead: ``calendar_view`` through an MCP client vs a raw GET of the same calendarView.

One sandbox runs over loopback HTTP (``outlook-calendar-mcp sandbox serve``) and is the backend of
both sides, so the Graph work is the same: the raw side sends the GET the tool sends (same path,
query and Prefer headers) with one kept-alive client, aiohttp's (the wire the server itself sends on:
graph/wire.py; the ratios are against it) and httpx's (printed for reference); the MCP sides call
the tool through the SDK's client, over stdio (a spawned ``serve``) and over streamable HTTP
(``serve --transport http``). Rounds alternate them, so background load spreads over all alike.

It also times ``resources/list`` (this server has none: an empty list) on the same connections: the
protocol's smallest round trip (read a message, dispatch it, answer it) with no tool and no Graph request
(``ping`` is gone from the 2026-07-28 revision the SDK's client negotiates). That + the raw GET is the
least any tool that sends one GET can cost through that client and transport: ``floor`` shows which
ratios the SDK leaves reachable.

    python bench/overhead.py [--calls 40] [--rounds 5]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import aiohttp
import httpx
from mcp import Client
from mcp.client.stdio import StdioServerParameters, stdio_client

sys.path.insert(0, str(Path(__file__).resolve().parent))
from harness import env_in, http_server, sandbox, serve_argv

NOW = "2027-03-10T09:00:00-08:00"  # the sandbox's and the server's clock: a seeded week
ZONE = "America/Los_Angeles"
ARGS = {"start": "2027-03-08T00:00", "end": "2027-03-15T00:00", "time_zone": ZONE}
# What calendar_view sends for ARGS (graph.get_all: pages of min(max_results, 100); services.prefer).
RAW_PARAMS = {"startDateTime": "2027-03-08T08:00:00Z", "endDateTime": "2027-03-15T07:00:00Z",
              "$orderby": "start/dateTime"}
RAW_HEADERS = {"Authorization": "Bearer sandbox",
               "Prefer": f'outlook.timezone="{ZONE}", outlook.body-content-type="text", odata.maxpagesize=100'}


async def raw_aiohttp(base: str, n: int) -> float:
    url = f"{base}/me/calendarView?{httpx.QueryParams(RAW_PARAMS)}"
    async with aiohttp.ClientSession(headers=RAW_HEADERS) as http:
        async with http.get(url) as r:
            await r.read()
        start = time.perf_counter()
        for _ in range(n):
            async with http.get(url) as r:
                r.raise_for_status()
                await r.json()
        return (time.perf_counter() - start) / n


async def raw_httpx(base: str, n: int) -> float:
    async with httpx.AsyncClient(headers=RAW_HEADERS) as http:
        await http.get(f"{base}/me/calendarView", params=RAW_PARAMS)
        start = time.perf_counter()
        for _ in range(n):
            r = await http.get(f"{base}/me/calendarView", params=RAW_PARAMS)
            r.raise_for_status()
            r.json()
        return (time.perf_counter() - start) / n


async def mcp_empty(client: Client, n: int) -> float:
    start = time.perf_counter()
    for _ in range(n):
        await client.list_resources()
    return (time.perf_counter() - start) / n


async def mcp_calls(client: Client, n: int) -> float:
    start = time.perf_counter()
    for _ in range(n):
        result = await client.call_tool("calendar_view", ARGS)
        if result.is_error:
            raise RuntimeError(str(result.content))
    return (time.perf_counter() - start) / n


class LineClient:
    """The least an MCP client can do over stdio: JSON-RPC lines on the child's pipes (initialize, then
    tools/call), no validation. What it saves next to the SDK's client is the client's own cost."""

    def __init__(self, proc: asyncio.subprocess.Process) -> None:
        self.proc, self.next_id = proc, 0

    async def send(self, method: str, params: dict | None = None, *, notify: bool = False) -> dict | None:
        assert self.proc.stdin and self.proc.stdout
        message: dict = {"jsonrpc": "2.0", "method": method, **({"params": params} if params is not None else {})}
        if not notify:
            self.next_id += 1
            message["id"] = self.next_id
        self.proc.stdin.write(json.dumps(message).encode() + b"\n")
        await self.proc.stdin.drain()
        if notify:
            return None
        answer = json.loads(await self.proc.stdout.readline())
        if "error" in answer or answer["result"].get("isError"):
            raise RuntimeError(str(answer)[:300])
        return answer

    async def calls(self, n: int, method: str = "tools/call") -> float:
        params = {"name": "calendar_view", "arguments": ARGS} if method == "tools/call" else {}
        start = time.perf_counter()
        for _ in range(n):
            await self.send(method, params)
        return (time.perf_counter() - start) / n


async def line_client(base: str, tmp: Path) -> LineClient:
    proc = await asyncio.create_subprocess_exec(*serve_argv(sys.executable, "stdio", base), env=env_in(tmp),
                                                stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
                                                stderr=asyncio.subprocess.DEVNULL, limit=2**24)
    client = LineClient(proc)
    await client.send("initialize", {"protocolVersion": "2025-06-18", "capabilities": {},
                                     "clientInfo": {"name": "bench-overhead", "version": "0"}})
    await client.send("notifications/initialized", notify=True)
    await client.send("tools/call", {"name": "calendar_view", "arguments": ARGS})
    return client


async def main_async(calls: int, rounds: int) -> int:
    with tempfile.TemporaryDirectory(prefix="bench-overhead-") as name:
        tmp = Path(name)
        os.environ["OUTLOOK_MCP_NOW"] = NOW
        with sandbox(tmp, now=NOW) as base, http_server(tmp, base) as mcp_url:
            params = StdioServerParameters(command=sys.executable, args=serve_argv(sys.executable, "stdio", base)[1:],
                                           env=env_in(tmp))
            lines = await line_client(base, tmp)
            async with Client(stdio_client(params)) as stdio, Client(mcp_url) as http:
                first = (await stdio.call_tool("calendar_view", ARGS)).structured_content or {}
                await http.call_tool("calendar_view", ARGS)
                events = len(first.get("events") or [])
                raw, raw_x, over_stdio, over_lines, over_http = [], [], [], [], []
                empty_stdio, empty_lines, empty_http = [], [], []
                for _ in range(rounds):
                    raw.append(await raw_aiohttp(base, calls))
                    raw_x.append(await raw_httpx(base, calls))
                    over_stdio.append(await mcp_calls(stdio, calls))
                    over_lines.append(await lines.calls(calls))
                    over_http.append(await mcp_calls(http, calls))
                    empty_stdio.append(await mcp_empty(stdio, calls))
                    empty_lines.append(await lines.calls(calls, "resources/list"))
                    empty_http.append(await mcp_empty(http, calls))
            assert lines.proc.stdin
            lines.proc.stdin.close()
            await lines.proc.wait()
    r, x, s, line, h = (statistics.median(v) for v in (raw, raw_x, over_stdio, over_lines, over_http))
    ps, pl, ph = (statistics.median(v) for v in (empty_stdio, empty_lines, empty_http))
    print(f"calendar_view of one week ({events} events), {rounds} rounds x {calls} calls, median ms per call "
          f"(python {sys.version.split()[0]}, {os.cpu_count()} CPUs, load {os.getloadavg()[0]:.2f})")
    print(f"  raw GET over loopback, aiohttp  {r * 1000:7.2f}")
    print(f"  raw GET over loopback, httpx    {x * 1000:7.2f}   {x / r:.2f}x raw (for reference)")
    print(f"  MCP over stdio                  {s * 1000:7.2f}   {s / r:.2f}x raw (target <= 1.3x)")
    print(f"  MCP over stdio, JSON-RPC lines  {line * 1000:7.2f}   {line / r:.2f}x raw (a client that costs ~nothing: "
          f"the SDK's client is {(s - line) * 1000:.2f} ms of the line above)")
    print(f"  MCP over streamable HTTP        {h * 1000:7.2f}   {h / r:.2f}x raw (target <= 1.5x)")
    print("  resources/list (empty: no tool, no Graph request), and the floor it sets for a tool that sends one GET "
          "(it + raw GET):")
    for label, empty, target in (("stdio", ps, 1.3), ("stdio, JSON-RPC lines", pl, 1.3), ("streamable HTTP", ph, 1.5)):
        print(f"    {label:28}{empty * 1000:7.2f}   floor {(empty + r) / r:.2f}x raw (target <= {target}x: "
              f"{'reachable' if (empty + r) / r <= target else 'out of reach through this SDK and client'})")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--calls", type=int, default=40)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args(argv)
    return asyncio.run(main_async(args.calls, args.rounds))


if __name__ == "__main__":
    sys.exit(main())
