"""What a model pays, enforced: the tool list's tokens and the size of results against raw Graph JSON.

The tool list must cost at most 8,000 cl100k tokens and may not grow more than 5% past the committed
baseline (tests/budgets/tool_list_tokens.json): raise the baseline on purpose, in its own commit, with
`python bench/tokens.py --json`. calendar_view of a busy month must cost at most 15% of the same events
as pretty-printed raw Graph JSON.
"""

from __future__ import annotations

import importlib.util
import json
import re
from pathlib import Path

import pytest
from mcp import Client

from outlook_calendar_mcp.ids import Handles
from outlook_calendar_mcp.server import build_graph, create_server
from tests.instants import suite_clock

from .conftest import sandbox_settings

pytestmark = pytest.mark.anyio
ROOT = Path(__file__).resolve().parents[2]
BASELINE = ROOT / "tests" / "budgets" / "tool_list_tokens.json"
spec = importlib.util.spec_from_file_location("bench_tokens", ROOT / "bench" / "tokens.py")
bench = importlib.util.module_from_spec(spec)
spec.loader.exec_module(bench)


async def test_tool_list_fits_the_budget_and_the_baseline(tmp_path):
    settings = sandbox_settings(tmp_path)
    graph = build_graph(settings, clock=suite_clock())
    async with Client(create_server(settings, graph, handles=Handles())) as client:
        spent, count = await bench.tool_list_tokens(client)
        tools = (await client.list_tools()).tools
    await graph.aclose()
    baseline = json.loads(BASELINE.read_text())
    assert spent <= 8000, f"tools/list costs {spent} cl100k tokens for {count} tools: over the 8,000 budget"
    assert spent <= baseline["tokens"] * 1.05, (
        f"tools/list grew to {spent} tokens, more than 5% past the committed baseline {baseline['tokens']}: "
        "trim it, or raise tests/budgets/tool_list_tokens.json on purpose in its own commit")
    for tool in tools:  # when to use it, and what comes back: at most two sentences
        sentences = [s for s in re.split(r"(?<=[.!?])\s+", tool.description.strip()) if s]
        assert 1 <= len(sentences) <= 2, (tool.name, tool.description)
        assert tool.description.startswith("Use "), (tool.name, tool.description)
        assert "Returns" in tool.description, (tool.name, tool.description)


async def test_calendar_view_costs_at_most_15_percent_of_raw_graph_json():
    report = await bench.measure_tree(scripts=False)
    views = [r for r in report["results"] if r["result"].startswith("calendar_view")]
    assert views and all(r["ratio"] <= 0.15 for r in views), views
