"""Every tool's input schema, converted the way agent frameworks convert it, is accepted by each model API.

- OpenAI function calling in strict mode (openai-agents, camel, ...): the usual rewrite makes every
  property required and the optional ones nullable, and needs ``additionalProperties: false`` on every
  object; strict mode rejects ``minLength``/``maxLength``/``default`` and the other keywords it lists as
  unsupported, a root that is not an object, a ``$ref`` with siblings.
- Azure OpenAI: the same, and no ``default`` anywhere.
- Gemini function declarations (an OpenAPI 3.0 subset): the usual conversion drops
  ``additionalProperties`` and titles and turns ``anyOf [X, null]`` into ``nullable``; what is left must use
  only the keywords of Gemini's ``Schema``, single type names, no ``$ref``.

Then the rewritten form is used for real: a model in strict mode sends ``null`` for every optional
argument it leaves out, and the server must take that as "not given".
"""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest

pytestmark = pytest.mark.anyio

# OpenAI's structured outputs: keywords strict mode does not support (platform docs, "Supported schemas").
OPENAI_UNSUPPORTED = {
    "minLength", "maxLength", "default", "minProperties", "maxProperties", "patternProperties",
    "unevaluatedProperties", "propertyNames", "unevaluatedItems", "contains", "minContains", "maxContains",
    "uniqueItems", "if", "then", "else", "not", "dependentRequired", "dependentSchemas", "allOf", "oneOf",
}
OPENAI_FORMATS = {"date-time", "time", "date", "duration", "email", "hostname", "ipv4", "ipv6", "uuid"}
# google-genai types.Schema fields (Gemini API function declarations).
GEMINI_KEYS = {
    "type", "format", "title", "description", "nullable", "enum", "maxItems", "minItems", "properties",
    "required", "minProperties", "maxProperties", "minLength", "maxLength", "pattern", "example", "anyOf",
    "propertyOrdering", "items", "minimum", "maximum",
}
GEMINI_TYPES = {"string", "number", "integer", "boolean", "array", "object"}


def openai_strict(schema: dict[str, Any]) -> dict[str, Any]:
    """The usual strict-mode rewrite: every property required, the optional ones nullable."""

    def nullable(node: dict[str, Any]) -> dict[str, Any]:
        node = dict(node)
        if "anyOf" in node:
            node["anyOf"] = [*node["anyOf"], {"type": "null"}]
        elif isinstance(node.get("type"), str):
            node["type"] = [node["type"], "null"]
            if "enum" in node:
                node["enum"] = [*node["enum"], None]
        else:
            node = {"anyOf": [node, {"type": "null"}]}
        return node

    def walk(node: Any) -> Any:
        if isinstance(node, list):
            return [walk(n) for n in node]
        if not isinstance(node, dict):
            return node
        node = {k: walk(v) for k, v in node.items()}
        if node.get("type") == "object" and isinstance(node.get("properties"), dict):
            required = set(node.get("required") or [])
            node["properties"] = {
                name: sub if name in required else nullable(sub) for name, sub in node["properties"].items()
            }
            node["required"] = list(node["properties"])
            node.setdefault("additionalProperties", False)
        return node

    return walk(copy.deepcopy(schema))


def openai_problems(schema: dict[str, Any], *, azure: bool = False) -> list[str]:
    problems = []
    if schema.get("type") != "object" or "anyOf" in schema:
        problems.append("root: must be an object, not anyOf")

    def walk(node: Any, where: str) -> None:
        if isinstance(node, list):
            for i, n in enumerate(node):
                walk(n, f"{where}[{i}]")
            return
        if not isinstance(node, dict):
            return
        for key in sorted(OPENAI_UNSUPPORTED & set(node)):
            problems.append(f"{where}: '{key}' is not supported in strict mode")
        if azure and "default" in node:
            problems.append(f"{where}: Azure OpenAI rejects 'default'")
        if "$ref" in node and len(node) > 1:
            problems.append(f"{where}: $ref with sibling keywords")
        if node.get("format") and node["format"] not in OPENAI_FORMATS:
            problems.append(f"{where}: format '{node['format']}' is not supported")
        if node.get("type") == "object" or "properties" in node:
            if node.get("additionalProperties") is not False:
                problems.append(f"{where}: object without additionalProperties: false")
            if set(node.get("required") or []) != set(node.get("properties") or {}):
                problems.append(f"{where}: not every property is required")
        for key, value in node.items():
            if key in ("properties", "$defs"):
                for name, sub in value.items():
                    walk(sub, f"{where}.{name}")
            elif key in ("items", "anyOf"):
                walk(value, f"{where}.{key}")

    walk(schema, "$")
    return problems


def gemini(schema: dict[str, Any]) -> dict[str, Any]:
    """The usual conversion to a Gemini function declaration's parameters."""

    def walk(node: Any) -> Any:
        if isinstance(node, list):
            return [walk(n) for n in node]
        if not isinstance(node, dict):
            return node
        out = {k: walk(v) for k, v in node.items() if k not in ("additionalProperties", "title", "$schema")}
        branches = out.get("anyOf")
        if isinstance(branches, list) and {"type": "null"} in branches:
            rest = [b for b in branches if b != {"type": "null"}]
            out.pop("anyOf")
            out.update(rest[0] if len(rest) == 1 else {"anyOf": rest})
            out["nullable"] = True
        if isinstance(out.get("type"), list) and "null" in out["type"]:
            kinds = [t for t in out["type"] if t != "null"]
            out["type"], out["nullable"] = kinds[0] if len(kinds) == 1 else kinds, True
        if isinstance(out.get("properties"), dict):
            out["properties"] = {name: walk(sub) for name, sub in node["properties"].items()}
        return out

    return walk(copy.deepcopy(schema))


def gemini_problems(schema: dict[str, Any]) -> list[str]:
    problems = []

    def walk(node: Any, where: str) -> None:
        if not isinstance(node, dict):
            problems.append(f"{where}: not a schema object")
            return
        for key in sorted(set(node) - GEMINI_KEYS):
            problems.append(f"{where}: Gemini's Schema has no '{key}'")
        kind = node.get("type")
        if "anyOf" not in node and not (isinstance(kind, str) and kind in GEMINI_TYPES):
            problems.append(f"{where}: type {kind!r} is not one Gemini type")
        if "enum" in node and kind != "string":
            problems.append(f"{where}: Gemini takes enum on strings only")
        if kind == "array" and "items" not in node:
            problems.append(f"{where}: an array without items")
        if kind == "object":
            props = node.get("properties") or {}
            if not props:
                problems.append(f"{where}: an object without properties")
            if set(node.get("required") or []) - set(props):
                problems.append(f"{where}: required names a property that does not exist")
            for name, sub in props.items():
                walk(sub, f"{where}.{name}")
        if "items" in node:
            walk(node["items"], f"{where}.items")
        for i, branch in enumerate(node.get("anyOf") or []):
            walk(branch, f"{where}.anyOf[{i}]")

    walk(schema, "$")
    return problems


async def test_every_tool_is_accepted_by_openai_strict_azure_and_gemini(harness):
    tools = (await harness.client.list_tools()).tools
    assert len(tools) >= 42
    rejected: dict[str, dict[str, list[str]]] = {"openai": {}, "azure": {}, "gemini": {}}
    for tool in tools:
        schema = tool.input_schema
        for dialect, problems in (
            ("openai", openai_problems(openai_strict(schema))),
            ("azure", openai_problems(openai_strict(schema), azure=True) + openai_problems_raw_default(schema)),
            # a tool without arguments is declared without parameters
            ("gemini", gemini_problems(gemini(schema)) if schema.get("properties") else []),
        ):
            if problems:
                rejected[dialect][tool.name] = problems
    assert rejected == {"openai": {}, "azure": {}, "gemini": {}}


def openai_problems_raw_default(schema: dict[str, Any]) -> list[str]:
    """Azure reads the schema before any rewrite too: no 'default' anywhere in it."""
    return ["'default' in the schema"] if '"default"' in json.dumps(schema) else []


def test_the_checks_can_fail():
    """Each dialect check rejects what that API rejects (so the test above can fail)."""
    before = {
        "type": "object",
        "properties": {
            "subject": {"type": "string", "minLength": 1},
            "max_results": {"type": "integer", "default": 200},
            "who": {"$ref": "#/$defs/Who"},
        },
        "required": ["subject"],
        "$defs": {"Who": {"type": "object", "properties": {"email": {"type": "string"}}}},
    }
    assert any("minLength" in p for p in openai_problems(openai_strict(before)))
    assert any("Azure" in p for p in openai_problems(openai_strict(before), azure=True))
    assert any("$ref" in p or "$defs" in p for p in gemini_problems(gemini(before)))
    assert any("type" in p for p in gemini_problems(gemini({"type": "object", "properties": {
        "duration": {"type": ["string", "integer"]}}})))


async def test_strict_mode_nulls_mean_not_given(harness):
    """What a strict-mode model sends: every argument, null where it means the default."""
    tools = {t.name: t for t in (await harness.client.list_tools()).tools}
    schema = tools["calendar_view"].input_schema
    nulls = {name: None for name in schema["properties"]}
    view = await harness.call("calendar_view", nulls)
    assert "events" in view and view["time_zone"] == "America/Los_Angeles"
    found = await harness.call("find_people", {"query": "Dana", "max_results": None})
    assert found["people"][0]["email"] == "dana@contoso.com"
