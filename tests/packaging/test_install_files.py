"""Installs that fit the ecosystem: the MCP Registry ``server.json`` and the Claude Desktop extension manifest
(``manifest.json`` of an ``.mcpb``) are what ``packaging/generate.py`` makes now and fit their published schemas
(vendored in tests/data/packaging); the wheel ships ``py.typed``, the scenario files, the week view and the
pytest plugin's entry point; ``call`` says on stderr where it runs."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
import zipfile
from pathlib import Path

import jsonschema
import pytest

from tests.servers import server_env

ROOT = Path(__file__).parents[2]
SCHEMAS = ROOT / "tests" / "data" / "packaging"


def generator():
    spec = importlib.util.spec_from_file_location("generate", ROOT / "packaging" / "generate.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def built() -> dict[str, str]:
    return generator().build()


def test_the_committed_manifests_are_what_the_generator_makes(built):
    for name, text in built.items():
        assert (ROOT / name).read_text() == text, f"{name} is stale: run python packaging/generate.py"


def test_server_json_fits_the_registrys_published_schema(built):
    schema = json.loads((SCHEMAS / "server.schema.2025-10-17.json").read_text())
    document = json.loads(built["server.json"])
    assert document["$schema"] == schema["$id"]
    validator = jsonschema.Draft7Validator(schema, format_checker=jsonschema.Draft7Validator.FORMAT_CHECKER)
    assert not [e.message for e in validator.iter_errors(document)]
    (package,) = document["packages"]
    assert (package["registryType"], package["identifier"], package["runtimeHint"]) == (
        "pypi", "outlook-calendar-mcp", "uvx")
    # the registry checks PyPI ownership with this line in the package's README
    assert f"mcp-name: {document['name']}" in (ROOT / "README.md").read_text()
    wrong = dict(document, name="no slash")
    assert list(validator.iter_errors(wrong))


def test_manifest_json_fits_the_mcpb_schema_and_lists_every_tool(built):
    schema = json.loads((SCHEMAS / "mcpb-manifest-v0.4.schema.json").read_text())
    manifest = json.loads(built["manifest.json"])
    validator = jsonschema.validators.validator_for(schema)(schema)
    assert not [e.message for e in validator.iter_errors(manifest)]
    assert manifest["server"]["type"] == "uv"
    assert (ROOT / manifest["server"]["entry_point"]).is_file()
    from tests.e2e.conftest import TOOL_NAMES

    assert set(TOOL_NAMES) <= {t["name"] for t in manifest["tools"]}
    assert list(validator.iter_errors({**manifest, "server": {"type": "java", "entry_point": "x"}}))


@pytest.mark.slow
def test_the_wheel_ships_types_scenarios_the_page_and_the_plugin(tmp_path: Path):
    run = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w",
                          str(tmp_path), str(ROOT)], capture_output=True, text=True, timeout=300)
    if run.returncode != 0 and "hatchling" in run.stderr:  # no build backend in this venv: build isolated
        run = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(tmp_path),
                              str(ROOT)], capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr
    (wheel,) = tmp_path.glob("outlook_calendar_mcp-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    for path in ("py.typed", "testing.py", "sandbox/scenarios/demo.yaml", "sandbox/scenarios/scenario.schema.json",
                 "sandbox/web/index.html", "sandbox/web/app.js", "sandbox/web/style.css"):
        assert f"outlook_calendar_mcp/{path}" in names, path
    (entry_points,) = [n for n in names if n.endswith(".dist-info/entry_points.txt")]
    text = zipfile.ZipFile(wheel).read(entry_points).decode()
    assert "[pytest11]\noutlook_calendar_mcp = outlook_calendar_mcp.testing" in text


def test_call_says_on_stderr_that_it_runs_on_the_sandbox(tmp_path: Path):
    result = subprocess.run([sys.executable, "-m", "outlook_calendar_mcp", "call", "list_calendars",
                             "--backend", "sandbox", "--sandbox-db", ":memory:"], env=server_env(tmp_path),
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert "backend: the built-in sandbox" in result.stderr
    assert json.loads(result.stdout)["calendars"]  # stdout: the result alone
