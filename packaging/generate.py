"""Write the install manifests from the project itself: ``server.json`` (MCP Registry) and ``manifest.json``
(an MCP Bundle, ``.mcpb``: a Claude Desktop extension), at the repository's root.

    python packaging/generate.py          # write both
    python packaging/generate.py --check  # exit 1 if either is out of date (tests/packaging does the same)

Name, version and Python requirement come from pyproject.toml; the bundle's tool list from the server as
``serve`` builds it (every tool, on the built-in sandbox); the settings a person may give (a Microsoft Entra
app's client id and tenant, a mailbox, read-only) map to the ``OUTLOOK_MCP_*`` variables the server reads.
The published schemas they follow are vendored in tests/data/packaging/ (see its README).
"""

from __future__ import annotations

import json
import sys
import tempfile
import tomllib
from pathlib import Path
from typing import Any

import anyio
from mcp import Client

from outlook_calendar_mcp.clock import Clock
from outlook_calendar_mcp.config import Settings
from outlook_calendar_mcp.ids import Handles
from outlook_calendar_mcp.server import build_graph, create_server

ROOT = Path(__file__).resolve().parents[1]
REGISTRY_SCHEMA = "https://static.modelcontextprotocol.io/schemas/2025-10-17/server.schema.json"
# The registry name: reverse DNS of the namespace the project publishes under (for PyPI, the README carries
# the matching "mcp-name:" line the registry checks). Change both together if the project moves.
REGISTRY_NAME = "io.github.outlook-calendar-mcp/outlook-calendar-mcp"
SHORT = "The whole Outlook calendar through Microsoft Graph, with a built-in sandbox calendar."
SETTINGS = [
    # variable, title, description, sensitive (defaults: the server's own, so an untouched field changes nothing)
    ("OUTLOOK_MCP_CLIENT_ID", "Client ID", "Application (client) id of the Microsoft Entra app to sign in with", False),
    ("OUTLOOK_MCP_TENANT_ID", "Tenant", "Directory (tenant) id or domain", False),
    ("OUTLOOK_MCP_MAILBOX", "Mailbox", "Mailbox to act on (required for app-only sign-in)", False),
    ("OUTLOOK_MCP_READ_ONLY", "Read only", "Offer no tool that changes anything (true or false)", False),
]


def defaults() -> dict[str, Any]:
    """The server's own default of each setting (a desktop extension passes a field's default when untouched)."""
    fields = Settings.model_fields
    return {name: fields[name.removeprefix("OUTLOOK_MCP_").lower()].default for name, *_ in SETTINGS}


def project() -> dict[str, Any]:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]


async def _tools() -> list[dict[str, str]]:
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(backend="sandbox", sandbox_db=":memory:", data_dir=Path(tmp), cache_dir=Path(tmp))
        graph = build_graph(settings, clock=Clock())
        try:
            async with Client(create_server(settings, graph, handles=Handles())) as client:
                listed = (await client.list_tools()).tools
        finally:
            await graph.aclose()
    return [{"name": t.name, "description": (t.description or "").split("\n")[0]} for t in listed]


def server_json(p: dict[str, Any]) -> dict[str, Any]:
    given = {name: value for name, value in defaults().items() if value is not None}
    return {
        "$schema": REGISTRY_SCHEMA,
        "name": REGISTRY_NAME,
        "title": "Outlook Calendar",
        "description": SHORT,
        "version": p["version"],
        "packages": [
            {
                "registryType": "pypi",
                "registryBaseUrl": "https://pypi.org",
                "identifier": p["name"],
                "version": p["version"],
                "runtimeHint": "uvx",
                "transport": {"type": "stdio"},
                "environmentVariables": [
                    {
                        "name": name,
                        "description": f"{title}: {text}",
                        "isRequired": False,
                        "isSecret": secret,
                        "format": "boolean" if name.endswith("READ_ONLY") else "string",
                        **(
                            {"default": str(given[name]).lower() if isinstance(given[name], bool) else given[name]}
                            if name in given
                            else {}
                        ),
                    }
                    for name, title, text, secret in SETTINGS
                ],
            }
        ],
    }


def manifest_json(p: dict[str, Any], tools: list[dict[str, str]]) -> dict[str, Any]:
    keys = {name: name.removeprefix("OUTLOOK_MCP_").lower() for name, *_ in SETTINGS}
    given = {name: value for name, value in defaults().items() if value is not None}
    return {
        "manifest_version": "0.4",
        "name": p["name"],
        "display_name": "Outlook Calendar",
        "version": p["version"],
        "description": SHORT,
        "long_description": p["description"] + " Without a Microsoft account configured it runs on its built-in "
        "sandbox (a made-up organization), so it can be tried safely.",
        "author": {"name": "outlook-calendar-mcp contributors"},
        "license": p["license"],
        "keywords": ["outlook", "calendar", "microsoft-graph", "scheduling", "meetings"],
        "server": {
            "type": "uv",
            "entry_point": "src/outlook_calendar_mcp/__main__.py",
            "mcp_config": {
                "command": "uv",
                "args": ["run", "--directory", "${__dirname}", "outlook-calendar-mcp", "serve"],
                "env": {name: f"${{user_config.{key}}}" for name, key in keys.items()},
            },
        },
        "tools": tools,
        "tools_generated": False,
        "compatibility": {"platforms": ["darwin", "win32", "linux"], "runtimes": {"python": p["requires-python"]}},
        "user_config": {
            keys[name]: {
                "type": "boolean" if name.endswith("READ_ONLY") else "string",
                "title": title,
                "description": text,
                "required": False,
                "sensitive": secret,
                **({"default": given[name]} if name in given else {}),
            }
            for name, title, text, secret in SETTINGS
        },
    }


def build() -> dict[str, str]:
    """{file name: text} of the manifests, as they should be committed."""
    p = project()
    tools = anyio.run(_tools)
    return {
        "server.json": json.dumps(server_json(p), indent=2, ensure_ascii=False) + "\n",
        "manifest.json": json.dumps(manifest_json(p, tools), indent=2, ensure_ascii=False) + "\n",
    }


def main(argv: list[str]) -> int:
    stale = []
    for name, text in build().items():
        path = ROOT / name
        if "--check" in argv:
            if not path.exists() or path.read_text() != text:
                stale.append(name)
        else:
            path.write_text(text)
            print(f"wrote {path}", file=sys.stderr)  # noqa: T201 - a script's voice
    if stale:
        print(f"out of date: {', '.join(stale)} (run python packaging/generate.py)", file=sys.stderr)  # noqa: T201
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
