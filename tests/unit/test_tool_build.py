"""Each tool is built from its one evaluated signature (tools/common._built), without the SDK's pydantic work at
start: the input schema written from the annotations (tools/schema.input_schema), the argument model made at the
first call. Held here equal to the SDK's way (``Tool.from_function``, then made lean: tools/common._built_by_sdk)
for every tool under every policy: the same advertised bytes, the same Context and resolver wiring, the same
arguments accepted and refused."""

from __future__ import annotations

import inspect
import json
from pathlib import Path
from typing import Annotated, Any, Literal

import pytest
from mcp.server.mcpserver.tools import Tool
from mcp.server.mcpserver.utilities.context_injection import find_context_parameter
from pydantic import BaseModel, Field, ValidationError

from outlook_calendar_mcp.clock import Clock
from outlook_calendar_mcp.config import Settings
from outlook_calendar_mcp.server import _policy, build_graph, create_server
from outlook_calendar_mcp.tools.common import READ_ONLY, Toolbox, _built_by_sdk, tool
from outlook_calendar_mcp.tools.schema import ArgumentsAtFirstUse, UnknownForm, input_schema

POLICIES = {
    "stdio": {"confirm_sends": False},
    "confirm sends": {"confirm_sends": True},
    "read-only": {"read_only": True, "confirm_sends": False},
}


def built_tools(tmp_path: Path, policy: str) -> list[Tool]:
    if policy == "stateless HTTP":
        settings = Settings(backend="sandbox", sandbox_db=":memory:", data_dir=tmp_path, cache_dir=tmp_path)
        server = create_server(
            settings, build_graph(settings, clock=Clock()), policy=_policy(settings, sessionless=True)
        )
    else:
        settings = Settings(
            backend="sandbox", sandbox_db=":memory:", data_dir=tmp_path, cache_dir=tmp_path, **POLICIES[policy]
        )
        server = create_server(settings, build_graph(settings, clock=Clock()))
    return server._tool_manager.list_tools()


def the_sdk_way(t: Tool) -> Tool:
    return _built_by_sdk(t.fn, inspect.signature(t.fn), t.name, t.description, t.annotations, t.context_kwarg)


def plans(t: Tool) -> dict[Any, Any]:
    return {
        key: (plan.wire_key, plan.is_async, {n: (p.kind, p.wants_union) for n, p in plan.params.items()})
        for key, plan in t.resolver_plans.items()
    }


@pytest.mark.parametrize("policy", [*POLICIES, "stateless HTTP"])
def test_every_tool_is_built_as_the_sdk_builds_it(tmp_path: Path, policy: str) -> None:
    tools = built_tools(tmp_path, policy)
    assert len(tools) == (18 if policy == "read-only" else 43)
    for ours in tools:
        sdk = the_sdk_way(ours)
        # The advertised schemas: the same bytes, key order included.
        assert json.dumps(ours.parameters) == json.dumps(sdk.parameters), ours.name
        assert json.dumps(ours.output_schema) == json.dumps(sdk.output_schema), ours.name
        assert ours.fn_metadata.output_model is None and sdk.fn_metadata.output_model is None
        assert (ours.name, ours.description, ours.annotations, ours.is_async, ours.context_kwarg) == (
            sdk.name,
            sdk.description,
            sdk.annotations,
            sdk.is_async,
            sdk.context_kwarg,
        )
        assert ours.resolved_params == sdk.resolved_params, ours.name
        assert plans(ours) == plans(sdk), ours.name
        assert isinstance(ours.fn_metadata, ArgumentsAtFirstUse), ours.name  # built our way, not the SDK's
    if policy == "confirm sends":
        assert sum(1 for t in tools if t.resolved_params) == 12  # the person is asked before these reach others


def outcome(t: Tool, arguments: dict[str, Any]) -> Any:
    try:
        return t.fn_metadata.validate_arguments(arguments)
    except ValidationError as e:
        return sorted((err["type"], err["loc"]) for err in e.errors())


def samples(t: Tool) -> list[dict[str, Any]]:
    """Arguments to validate: none, every one null, the required ones as text, each one of the wrong kind, an
    unknown one, and JSON inside a string (the SDK parses it)."""
    names = list(t.parameters["properties"])
    required = {n: "x" for n in t.parameters.get("required", [])}
    out: list[dict[str, Any]] = [{}, dict.fromkeys(names), dict(required), {**required, "timezone": "UTC"}]
    for name in names:
        out.append({**required, name: {"not": "this"}})
        out.append({**required, name: 7})
        out.append({**required, name: True})
        out.append({**required, name: '["a@contoso.com"]'})
        out.append({**required, name: [{"email": "a@contoso.com"}]})
    return out


@pytest.mark.parametrize("policy", ["stdio", "confirm sends"])
def test_every_tool_takes_and_refuses_the_same_arguments(tmp_path: Path, policy: str) -> None:
    for ours in built_tools(tmp_path, policy):
        sdk = the_sdk_way(ours)
        for arguments in samples(ours):
            assert outcome(ours, arguments) == outcome(sdk, arguments), (ours.name, arguments)


def test_listing_tools_builds_no_argument_model(tmp_path: Path) -> None:
    """Start-up: the argument models are made at a tool's first call, not when the tools are built or listed."""
    tools = built_tools(tmp_path, "stdio")
    assert all("arg_model" not in t.fn_metadata.__dict__ for t in tools)
    called = next(t for t in tools if t.name == "list_calendars")
    assert outcome(called, {"nonsense": 1}) == [("extra_forbidden", ("nonsense",))]
    assert "arg_model" in called.fn_metadata.__dict__
    assert sum("arg_model" in t.fn_metadata.__dict__ for t in tools) == 1


def test_the_context_parameter_is_found_as_the_sdk_finds_it(tmp_path: Path) -> None:
    from outlook_calendar_mcp.tools.common import _context_parameter

    for t in built_tools(tmp_path, "confirm sends"):
        fn = inspect.unwrap(t.fn)
        assert _context_parameter(inspect.signature(fn, eval_str=True)) == find_context_parameter(fn), t.name


# -- forms the tools do not use (yet): written exactly, or left to the SDK ---------------------------------------


class Inner(BaseModel):
    """An inner thing."""

    x: Annotated[int, Field(ge=0)]
    tags: list[str] = []


class Outer(BaseModel):
    inner: Inner | None = None
    kind: Literal["a", "b"] = "a"


async def known(
    a: Annotated[list[str] | None, Field(min_length=1, max_length=3, description="Some")] = None,
    b: str | int = 5,
    c: Annotated[str, Field(max_length=9)] = "dflt",
    d: list[Inner] | None = None,
    e: Outer | None = None,
    f: Literal["x", "y"] | None = None,
    g: bool = True,
) -> Outer:
    """Forms the tools do not use yet, written as pydantic writes them."""
    return Outer()


async def unknown(a: float, b: dict[str, int] | None = None) -> Outer:
    """A float and a dict: left to the SDK."""
    return Outer()


def test_forms_the_tools_do_not_use_yet_are_written_exactly() -> None:
    box: Toolbox = []
    tool(box, READ_ONLY)(known)
    (ours,) = box
    assert isinstance(ours.fn_metadata, ArgumentsAtFirstUse)
    assert json.dumps(ours.parameters) == json.dumps(the_sdk_way(ours).parameters)
    assert ours.parameters["properties"]["a"]["minItems"] == 1
    for arguments in ({}, {"a": []}, {"b": "x", "c": "0123456789"}, {"d": [{"x": -1}]}, {"e": {"inner": {"x": 1}}}):
        assert outcome(ours, arguments) == outcome(the_sdk_way(ours), arguments), arguments


def test_a_form_it_does_not_know_takes_the_sdks_way() -> None:
    parameters = list(inspect.signature(unknown, eval_str=True).parameters.values())
    with pytest.raises(UnknownForm):
        input_schema(parameters)
    box: Toolbox = []
    tool(box, READ_ONLY)(unknown)
    (registered,) = box
    assert not isinstance(registered.fn_metadata, ArgumentsAtFirstUse)
    assert registered.parameters == the_sdk_way(registered).parameters
    assert registered.parameters["properties"]["a"] == {"type": "number"}
    assert outcome(registered, {"a": 1.5, "extra": 1}) == [("extra_forbidden", ("extra",))]
