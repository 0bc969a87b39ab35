"""The suite's clock, and its check of every request a GraphClient sends against Graph's contract.

Time: "now" is the instant of tests/instants.py (``OUTLOOK_MCP_TEST_NOW``, a fixed default
otherwise), never the system's. The ``clock`` fixture is a Clock travelling from it; at configure
time ``OUTLOOK_MCP_NOW`` is set to it, so every Settings and every server the tests start as a
child process (``--now``) runs on the same instant. ``OUTLOOK_MCP_RATE_LIMIT`` is 0 in this process unless set
(see :func:`pytest_configure`).

The whole suite checks every request a GraphClient sends against Graph's contract.

Recording:

* in this process, ``GraphClient.__init__`` is wrapped (at configure time, before
  any test builds a client) so each client appends a recorder to its
  ``on_request`` hooks: method, URL and body of every attempt, tagged with the
  test that sent it;
* child processes the tests start (``serve`` over stdio, SSE or HTTP, driven by
  the MCP clients of tests/clients) record through
  ``tests/contract/recorder_site/sitecustomize.py``: this file puts that
  directory on ``PYTHONPATH`` and names a log file in ``GRAPH_CONTRACT_RECORD``.

Checking (:func:`tests.contract.requests.check`, against tests/data/graph/v1.0-Prod.csdl.xz
and tests/contract/beta_allowlist.toml): after each test, what was recorded since
the previous check; a request outside the contract fails that test (an error at
teardown naming the request, what is wrong and which test sent it). Whatever
arrives later (a child still serving, a module fixture's teardown) is checked at
the end of the session, where a violation fails the run. The terminal summary
counts the requests checked and the operations they used.

Only GraphClient's requests are in scope: sandbox tests that send raw HTTP to the
sandbox (tests/sandbox*) are not recorded.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from outlook_calendar_mcp.clock import Clock
from tests.instants import ENV as NOW_ENV
from tests.instants import suite_clock, suite_instant

RECORD_ENV = "GRAPH_CONTRACT_RECORD"
SITE_DIR = Path(__file__).parent / "contract" / "recorder_site"


@dataclass(frozen=True)
class Sent:
    method: str
    url: str
    body: str | None
    test: str
    where: str


def _current_test() -> str:
    return os.environ.get("PYTEST_CURRENT_TEST", "").rsplit(" (", 1)[0]


class ContractRecorder:
    """Collects the GraphClient requests of this process and of its children; checks each once."""

    def __init__(self, log: Path) -> None:
        self.log = log
        self.pending: list[Sent] = []
        self._read = 0  # bytes of the children's log already taken
        self._verdicts: dict[tuple[str, str, str | None, str], list[str]] = {}
        self.checked = 0
        self.by_shape: Counter[str] = Counter()
        self.late_violations: list[str] = []

    def hook(self, method: str, url: str, headers: dict[str, str], body: bytes | None) -> None:
        text = body.decode("utf-8", "replace") if body is not None else None
        self.pending.append(Sent(method, url, text, _current_test(), "in process"))

    def _take(self) -> list[Sent]:
        taken, self.pending = self.pending, []
        if self.log.exists():
            with self.log.open("rb") as f:
                f.seek(self._read)
                data = f.read()
            complete = data[: data.rfind(b"\n") + 1]  # a child may be writing the last line right now
            self._read += len(complete)
            taken += [Sent(**json.loads(line)) for line in complete.decode("utf-8").splitlines() if line.strip()]
        return taken

    def check_pending(self) -> list[str]:
        """Check everything recorded since the last call; the violations, each with its request and test."""
        from tests.contract.requests import check, shape

        errors = []
        for sent in self._take():
            key = (sent.method, sent.url, sent.body, sent.test)
            if key not in self._verdicts:
                self._verdicts[key] = check(sent.method, sent.url, sent.body, test=sent.test)
            self.checked += 1
            self.by_shape[shape(sent.method, sent.url)] += 1
            for problem in self._verdicts[key]:
                body = f"\n      body: {sent.body[:300]}" if sent.body else ""
                errors.append(f"  {problem}\n      request: {sent.method} {sent.url}{body}\n"
                              f"      sent by: {sent.test or '(no test)'} ({sent.where})")
        return errors


_recorder: ContractRecorder | None = None


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--graph-operations", action="store_true",
                     help="list the Graph operations the GraphClient requests of this run used, with counts")


def _xdist_controller(config: pytest.Config) -> bool:
    """Under pytest-xdist (``-n 2``) the controller runs no test: each worker records and checks its own."""
    return not hasattr(config, "workerinput") and bool(getattr(config.option, "numprocesses", None))


def pytest_configure(config: pytest.Config) -> None:
    global _recorder
    os.environ["OUTLOOK_MCP_NOW"] = suite_instant().isoformat()
    # In-process servers of the suite run on frozen or travelling clocks, where "a minute" can last a whole
    # module: no rate limit unless a test sets one (tests/e2e/test_rate_limit.py, tests/remote/). Servers
    # started as children with tests/servers.server_env keep the default (120 a minute, on a ticking clock).
    os.environ.setdefault("OUTLOOK_MCP_RATE_LIMIT", "0")
    if _xdist_controller(config):
        return
    from outlook_calendar_mcp.graph.client import GraphClient

    workdir = Path(tempfile.mkdtemp(prefix="graph-contract-"))
    _recorder = recorder = ContractRecorder(workdir / "children.jsonl")
    config._graph_contract_dir = workdir  # type: ignore[attr-defined]
    original = GraphClient.__init__

    def recording_init(self: GraphClient, *args: Any, **kwargs: Any) -> None:
        original(self, *args, **kwargs)
        self.on_request.append(recorder.hook)

    GraphClient.__init__ = recording_init  # type: ignore[method-assign]
    GraphClient._contract_recorded = True  # type: ignore[attr-defined]  # sitecustomize: patched already
    os.environ[RECORD_ENV] = str(recorder.log)
    os.environ["PYTHONPATH"] = os.pathsep.join(p for p in (str(SITE_DIR), os.environ.get("PYTHONPATH")) if p)


def pytest_unconfigure(config: pytest.Config) -> None:
    workdir = getattr(config, "_graph_contract_dir", None)
    if workdir is not None:
        shutil.rmtree(workdir, ignore_errors=True)


@pytest.fixture
def graph_contract_recorder() -> ContractRecorder:
    """The session's recorder (for tests of the recorder itself)."""
    assert _recorder is not None
    return _recorder


@pytest.fixture(autouse=True)
def _graph_contract() -> Any:
    """After each test: the GraphClient requests recorded since the last check must fit Graph's contract."""
    yield
    if _recorder is not None and (errors := _recorder.check_pending()):
        pytest.fail("GraphClient sent requests outside Graph's contract (tests/contract/requests.py):\n"
                    + "\n".join(errors), pytrace=False)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if _recorder is not None and (errors := _recorder.check_pending()):
        _recorder.late_violations = errors
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_report_header(config: pytest.Config) -> str:
    return f"now: {suite_instant().isoformat()} (tests/instants.py; {NOW_ENV}={os.environ.get(NOW_ENV) or '(default)'})"


E2E = Path(__file__).parent / "e2e"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """``clock``: every test that runs on the suite's instant, i.e. uses this file's ``clock`` fixture (directly or
    through ``harness``; tests/sandbox has a frozen clock of its own), or drives the server end to end (tests/e2e:
    servers on the suite's clock)."""
    for item in items:
        info = getattr(item, "_fixtureinfo", None)
        defs = info.name2fixturedefs.get("clock", ()) if info is not None else ()
        if (defs and defs[-1].func.__module__ == __name__) or E2E in item.path.parents:
            item.add_marker(pytest.mark.clock)


@pytest.fixture
def clock() -> Clock:
    """"Now" for this test: a clock travelling from the suite's instant (tests/instants.py)."""
    return suite_clock()


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if _recorder is None or not _recorder.checked:
        return
    tr = terminalreporter
    if _recorder.late_violations:
        tr.section("Graph contract violations (recorded after the last test's check)", red=True)
        tr.line("\n".join(_recorder.late_violations))
    tr.line(f"Graph contract: {_recorder.checked} GraphClient requests checked against v1.0-Prod.csdl "
            f"({len(_recorder.by_shape)} operations; --graph-operations lists them).")
    if tr.config.getoption("graph_operations"):
        for operation, count in sorted(_recorder.by_shape.items()):
            tr.line(f"  {count:6d}  {operation}")
