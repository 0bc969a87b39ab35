"""``python -m outlook_calendar_mcp.sandbox.scenarios --schema``: the scenario JSON Schema, as shipped."""

from __future__ import annotations

import json
import sys

from .model import Scenario

SCHEMA_ID = "https://github.com/outlook-calendar-mcp/outlook-calendar-mcp/scenario.schema.json"


def schema() -> dict[str, object]:
    out: dict[str, object] = {"$schema": "https://json-schema.org/draft/2020-12/schema"}
    out.update(Scenario.model_json_schema(by_alias=True))
    return out


def schema_text() -> str:
    return json.dumps(schema(), indent=2, ensure_ascii=False) + "\n"


if __name__ == "__main__":
    if sys.argv[1:] != ["--schema"]:
        sys.exit("usage: python -m outlook_calendar_mcp.sandbox.scenarios --schema")
    sys.stdout.write(schema_text())
