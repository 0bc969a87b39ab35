"""The official MCP conformance suite against ``serve --transport http`` (streamable HTTP).

``conformance server`` runs the suite's active server scenarios (initialize,
ping, logging/setLevel, completion, tools/list, multiple SSE streams,
resources/list, prompts/list, DNS-rebinding protection, and the scenarios that
need the suite's own fixtures) with clients/conformance-expected-failures.yml
as the baseline: it exits non-zero when a scenario fails that the baseline does
not list, or when a listed scenario passes (the baseline cannot go stale). With
sessions (the default) and with ``--stateless``, whose baseline adds the file's
``stateless-extra`` entries.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from tests.servers import spawned

from .conftest import CLIENTS, CONFORMANCE, explain, node_tool, run

EXPECTED_FAILURES = CLIENTS / "conformance-expected-failures.yml"
ENTRY = re.compile(r"^  - (?P<scenario>[a-z0-9-]+)(?:\s+#\s*(?P<reason>\S.*))?$")


def expected_failures(section: str = "server") -> dict[str, str]:
    """scenario -> reason in one section of the baseline file (each entry a ``  - name  # reason`` line)."""
    entries, current = {}, None
    for line in EXPECTED_FAILURES.read_text(encoding="utf-8").splitlines():
        if re.match(r"^[a-z-]+:", line):
            current = line.split(":", 1)[0]
        elif line.startswith("  -") and current == section:
            found = ENTRY.match(line)
            assert found, f"not a '  - scenario  # reason' line: {line!r}"
            entries[found["scenario"]] = found["reason"] or ""
    return entries


def baseline(tmp_path: Path, stateless: bool) -> tuple[Path, dict[str, str]]:
    """The baseline file for one run, and its entries."""
    entries = expected_failures() | (expected_failures("stateless-extra") if stateless else {})
    if not stateless:
        return EXPECTED_FAILURES, entries
    path = tmp_path / "expected-failures-stateless.yml"
    path.write_text("server:\n" + "".join(f"  - {name}\n" for name in entries), encoding="utf-8")
    return path, entries


def test_every_expected_failure_says_why():
    for section in ("server", "stateless-extra"):
        entries = expected_failures(section)
        assert entries, f"the baseline's {section} section lists no scenario"
        assert not [name for name, reason in entries.items() if not reason.strip()], "entries without a reason"


@pytest.mark.parametrize("stateless", [False, True], ids=["sessions", "stateless"])
def test_conformance_suite_over_streamable_http(tmp_path: Path, stateless: bool):
    cmd = node_tool(CONFORMANCE, "the MCP conformance suite")
    results = tmp_path / "results"
    expected_file, expected = baseline(tmp_path, stateless)
    with spawned(tmp_path, "http", *(["--stateless"] if stateless else [])) as child:
        url = child.url
        proc = run([*cmd, "server", "--url", url, "--expected-failures", str(expected_file), "-o", str(results)],
                   timeout=300)
    assert proc.returncode == 0, explain(proc)
    assert "Baseline check passed" in proc.stdout, explain(proc)
    # Each scenario the baseline does not list passed every check (not merely "ran").
    outcomes = {}
    for checks in results.glob("*/checks.json"):
        scenario = re.sub(r"^server-|-\d{4}-\d{2}-\d{2}T[\d-]+Z$", "", checks.parent.name)
        outcomes[scenario] = [c["status"] for c in json.loads(checks.read_text())]
    passed = {s for s in outcomes if s not in expected}
    assert {"server-initialize", "ping", "logging-set-level", "completion-complete", "tools-list",
            "resources-list", "prompts-list", "dns-rebinding-protection"} <= passed, sorted(outcomes)
    assert all(outcomes[s] and set(outcomes[s]) <= {"SUCCESS", "INFO"} for s in passed), \
        {s: outcomes[s] for s in passed}
    assert set(expected) <= set(outcomes), f"baseline entries the suite no longer has: {set(expected) - set(outcomes)}"
