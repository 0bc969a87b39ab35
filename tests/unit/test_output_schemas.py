"""Every tool's advertised output schema, read off its result model's fields (tools/schema.shallow_output),
equals the long way: the MCP SDK's own schema of the model (FuncMetadata), made lean (tools/schema.lean)."""

from __future__ import annotations

import inspect
from pathlib import Path

import pytest
from mcp.server.mcpserver.utilities.func_metadata import ArgModelBase, FuncMetadata
from pydantic import BaseModel

from outlook_calendar_mcp.clock import Clock
from outlook_calendar_mcp.config import Settings
from outlook_calendar_mcp.server import build_graph, create_server
from outlook_calendar_mcp.tools.schema import lean, shallow_output


def result_models(tmp_path: Path) -> dict[str, type[BaseModel]]:
    settings = Settings(backend="sandbox", sandbox_db=":memory:", data_dir=tmp_path, cache_dir=tmp_path)
    server = create_server(settings, build_graph(settings, clock=Clock()))
    tools = server._tool_manager.list_tools()  # the Tool objects: their functions' result models
    returns = {t.name: inspect.signature(inspect.unwrap(t.fn), eval_str=True).return_annotation for t in tools}
    return {name: model for name, model in returns.items() if isinstance(model, type)}


def test_results_are_not_validated_twice(tmp_path: Path) -> None:
    """A tool's result is its model, dumped once: the SDK is given the schema to advertise and no model to
    validate the dump back into on every call."""
    settings = Settings(backend="sandbox", sandbox_db=":memory:", data_dir=tmp_path, cache_dir=tmp_path)
    server = create_server(settings, build_graph(settings, clock=Clock()))
    for t in server._tool_manager.list_tools():
        assert t.fn_metadata.output_model is None and t.fn_metadata.output_schema, t.name


def test_every_result_model(tmp_path: Path) -> None:
    models = result_models(tmp_path)
    assert len(models) == 43
    for name, model in models.items():
        long_way = lean(FuncMetadata(arg_model=ArgModelBase, output_model=model).output_schema or {}, output=True)
        assert shallow_output(model) == long_way, name
        assert list(shallow_output(model)["properties"]) == list(long_way["properties"]), name  # same order too


class Nested(BaseModel):
    x: int


class Shapes(BaseModel):
    items: list[Nested]
    maybe_items: list[str] | None = None
    child: Nested | None = None
    mapping: dict[str, int] = {}
    either: int | str = 0
    text: str | None = None


@pytest.mark.parametrize("model", [Shapes, Nested])
def test_shapes_the_tools_do_not_use_yet(model: type[BaseModel]) -> None:
    long_way = lean(FuncMetadata(arg_model=ArgModelBase, output_model=model).output_schema or {}, output=True)
    assert shallow_output(model) == long_way
