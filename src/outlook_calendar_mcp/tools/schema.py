"""Lean JSON schemas for the tool list: a model pays for every token of tools/list on every turn.

pydantic's schemas are exact but verbose: a ``title`` on every property,
``anyOf: [X, {"type": "null"}]`` plus ``"default": null`` for every optional
argument, descriptions on every output field. :func:`lean` rewrites a schema
so it accepts the same arguments and results:

- titles go (property names say the same);
- optional values lose their ``null`` branch and ``default: null``: an
  argument left out means "not given", and results never contain nulls
  (views dump without them);
- output schemas drop descriptions and ``additionalProperties: false``:
  they describe what the server sends, the field names carry the meaning;
  fields only ``detail="full"`` fills (marked ``x-detail``) are not listed —
  the schema stays open, so they still validate — and optional plain scalars
  are named without a type (``{}``).

Input schemas keep descriptions and ``additionalProperties: false`` (unknown
arguments are refused), and are written so that every agent framework's
conversion takes them (tests/clients/test_schema_dialects.py): OpenAI strict
mode (after its rewrite: every property required, optional ones nullable),
Azure OpenAI and Gemini function declarations. So they carry no ``default``
(a default is said in the description, "default 200"; a boolean left out is
false), no ``minLength``/``maxLength`` (the server still checks lengths: the
argument models keep them) and no ``$ref`` (nested models are inlined).

At start, :func:`input_schema` writes each tool's input schema from its annotations (what pydantic would write,
then made lean) and :class:`ArgumentsAtFirstUse` leaves its argument model (:func:`arguments_model`) to its first
call: a client waits for ``tools/list``, which needs neither pydantic's schema walk nor a validator.
"""

from __future__ import annotations

import functools
import inspect
import json
from collections.abc import Callable, Sequence
from types import NoneType, UnionType
from typing import TYPE_CHECKING, Annotated, Any, ClassVar, Literal, TypeVar, Union, get_args, get_origin

from annotated_types import Ge, Le, MaxLen, MinLen
from mcp.server.mcpserver.utilities.func_metadata import ArgModelBase, FuncMetadata
from pydantic import BaseModel, ConfigDict, PrivateAttr, Strict, create_model, model_validator
from pydantic.fields import FieldInfo

_SCHEMA_MAPS = ("properties", "$defs", "definitions", "patternProperties")
_SCHEMA_LISTS = ("anyOf", "oneOf", "allOf", "prefixItems")
_SCHEMA_ONE = ("items", "additionalProperties", "not", "contains")


def lean(schema: dict[str, Any], *, output: bool = False) -> dict[str, Any]:
    if output:
        return _shallow(_node(schema, output))
    return _inline_refs(_prune_defs(_node(schema, output)))


# Keywords some framework's conversion rejects (OpenAI strict: minLength/maxLength/default; Azure: default).
_INPUT_DROPPED = ("minLength", "maxLength")


def _inline_refs(schema: dict[str, Any]) -> dict[str, Any]:
    """Replace every ``{"$ref": "#/$defs/X"}`` by X itself (Gemini takes no $ref) and drop $defs."""
    defs = schema.get("$defs") or {}

    def walk(node: Any) -> Any:
        if isinstance(node, list):
            return [walk(n) for n in node]
        if not isinstance(node, dict):
            return node
        if "$ref" in node:
            target = defs[node["$ref"].rsplit("/", 1)[-1]]
            rest = {k: v for k, v in node.items() if k != "$ref"}
            return walk({**target, **rest})
        return {k: walk(v) for k, v in node.items()}

    return walk({k: v for k, v in schema.items() if k != "$defs"})


def _say_default(node: dict[str, Any], default: Any) -> None:
    """Move a default into the description (no framework rejects a description)."""
    if default is None or default is False:
        return  # absent means "not given"; a boolean left out is false
    said = f"default {json.dumps(default)}" if not isinstance(default, str) else f"default {default}"
    text = node.get("description")
    node["description"] = f"{text}; {said}" if text else said[0].upper() + said[1:]


def _shallow(schema: dict[str, Any]) -> dict[str, Any]:
    """An output schema that types the result's own fields and stops there: nested objects are
    {"type": "object"} and lists {"type": "array"} (their items are self-describing JSON the model reads
    anyway), so six event tools do not each carry the event model."""

    def flat(sub: Any) -> Any:
        if not isinstance(sub, dict):
            return sub
        if "$ref" in sub or sub.get("type") == "object":
            return {"type": "object"}
        if sub.get("type") == "array":
            return {"type": "array"}
        if "anyOf" in sub:
            kinds = {flat(b).get("type") for b in sub["anyOf"] if isinstance(b, dict)}
            return {"type": sorted(k for k in kinds if k)} if all(kinds) else {}
        return sub

    out = {k: v for k, v in schema.items() if k not in ("$defs", "required")}
    if isinstance(out.get("properties"), dict):
        # Lists and nested objects keep their kind; everything else is named only (the values speak for
        # themselves). "required" goes too: absent means "not set" in every result.
        out["properties"] = {
            name: (flat(sub) if flat(sub).get("type") in ("array", "object") else {})
            for name, sub in out["properties"].items()
        }
    return out


def _prune_defs(schema: dict[str, Any]) -> dict[str, Any]:
    """Drop $defs nothing refers to any more (e.g. the models of detail-only fields)."""
    defs = schema.get("$defs")
    if not isinstance(defs, dict):
        return schema
    keep: set[str] = set()
    todo = [{k: v for k, v in schema.items() if k != "$defs"}]
    while todo:
        text = json.dumps(todo.pop())
        for name in defs:
            if name not in keep and f'"#/$defs/{name}"' in text:
                keep.add(name)
                todo.append(defs[name])
    out = {k: v for k, v in schema.items() if k != "$defs"}
    if keep:
        out["$defs"] = {name: defs[name] for name in defs if name in keep}
    return out


def _plain_scalar(schema: Any) -> bool:
    if not isinstance(schema, dict):
        return False
    if "anyOf" in schema:
        return all(_plain_scalar(b) or b == {"type": "null"} for b in schema["anyOf"])
    return schema.get("type") in ("string", "integer", "number", "boolean") and not (
        set(schema) - {"type", "description", "default"}
    )


def _node(node: Any, output: bool) -> Any:
    if not isinstance(node, dict):
        return node
    out: dict[str, Any] = {}
    for key, value in node.items():
        if key == "title" and isinstance(value, str):
            continue
        if key == "default" and (value is None or not output):
            continue
        if not output and key in _INPUT_DROPPED:
            continue
        if output and key == "description":
            continue
        if output and key == "additionalProperties" and value is False:
            continue
        if key == "x-detail":
            continue
        if key == "properties" and output and isinstance(value, dict):
            # detail-only fields (views.DETAIL) are not advertised: the schema stays open, so they still validate
            out[key] = {
                name: _node(sub, output)
                for name, sub in value.items()
                if not (isinstance(sub, dict) and sub.get("x-detail"))
            }
        elif key in _SCHEMA_MAPS and isinstance(value, dict):
            out[key] = {name: _node(sub, output) for name, sub in value.items()}
        elif key in _SCHEMA_LISTS and isinstance(value, list):
            out[key] = [_node(sub, output) for sub in value]
        elif key in _SCHEMA_ONE and isinstance(value, dict):
            out[key] = _node(value, output)
        else:
            out[key] = value
    if output and isinstance(out.get("properties"), dict):
        # Optional plain scalars of a result: named, not typed (the values are self-describing JSON).
        required = set(out.get("required") or [])
        out["properties"] = {
            name: ({} if name not in required and _plain_scalar(sub) else sub)
            for name, sub in out["properties"].items()
        }
    if not output and "default" in node:
        _say_default(out, node["default"])
    branches = out.get("anyOf")
    if isinstance(branches, list):
        kept = [b for b in branches if b != {"type": "null"}]
        if len(kept) == 1 and len(kept) < len(branches):
            merged = {k: v for k, v in out.items() if k != "anyOf"}
            merged.update(kept[0])
            out = merged
        elif len(kept) < len(branches):
            out["anyOf"] = kept
    return out


M = TypeVar("M", bound=BaseModel)


def nulls_as_absent(model: type[M]) -> type[M]:
    """The argument model a tool call is validated with: ``model``, refusing unknown arguments, and taking
    ``null`` for any optional argument as "not given".

    Frameworks in OpenAI strict mode make every property required and the optional ones nullable, so a
    model sends ``"max_results": null`` where it means "the default": that must not fail validation. Unknown
    arguments are refused (the SDK would drop them silently: a typo such as 'timezone' for 'time_zone' would
    book the event at another instant).

    Its validator is built at the tool's first call, not at start (``defer_build``): the advertised schema
    is ``model``'s, and listing tools never validates, so a start pays for one argument model per tool,
    not two."""
    defaults = {
        name for name, info in model.model_fields.items() if not info.is_required() and info.default is not None
    }

    class Arguments(model):  # type: ignore[valid-type,misc]
        model_config = ConfigDict(extra="forbid", defer_build=True)

        @model_validator(mode="before")
        @classmethod
        def drop_nulls(cls, data: Any) -> Any:
            if isinstance(data, dict):
                return {k: v for k, v in data.items() if not (v is None and k in defaults)}
            return data

    Arguments.__name__ = Arguments.__qualname__ = model.__name__
    return Arguments


def shallow_output(model: type[BaseModel]) -> dict[str, Any]:
    """``lean(<the SDK's output schema of model>, output=True)``, read off the model's fields instead of
    generating its whole JSON schema (nested models and all) only to keep the top level: the kind of each
    field — ``{"type": "array"}`` for lists, ``{"type": "object"}`` for models and dicts, ``{}`` for the
    rest — detail-only fields left out. tests/unit/test_output_schemas.py holds it equal to the long way
    for every tool's result model."""
    properties: dict[str, Any] = {}
    for name, field in model.model_fields.items():
        extra = field.json_schema_extra
        if isinstance(extra, dict) and extra.get("x-detail"):
            continue
        kind = _kind(field.annotation)
        properties[field.alias or name] = {"type": kind} if kind else {}
    return {"properties": properties, "type": "object"}


def _kind(annotation: Any) -> str | None:
    """'array', 'object' or None (anything else) for one field's type, an optional (``X | None``) as ``X``."""
    origin = get_origin(annotation)
    if origin is Annotated:
        return _kind(get_args(annotation)[0])
    if origin in (Union, UnionType):
        kinds = [_kind(a) for a in get_args(annotation) if a is not type(None)]
        return kinds[0] if len(kinds) == 1 else None
    if origin in (list, tuple, set, frozenset) or annotation in (list, tuple, set, frozenset):
        return "array"
    if origin is dict or annotation is dict:
        return "object"
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return "object"
    return None


# -- a tool's arguments, from its evaluated signature (start-up: no pydantic schema or validator build) --------------


class UnknownForm(Exception):
    """A parameter type :func:`input_schema` does not write itself: the caller takes the SDK's way."""


def input_schema(parameters: Sequence[inspect.Parameter]) -> dict[str, Any]:
    """The advertised input schema of a tool taking ``parameters`` (annotations evaluated), exactly
    ``lean(<the SDK's schema of its argument model> + additionalProperties: false)``, the same bytes: written
    from the annotations as pydantic writes them (same keys, in pydantic's order), then made lean. Building it
    through pydantic costs a core schema, a validator and a JSON-schema walk per tool at every start, none of
    which listing tools needs (tests/unit/test_tool_build.py holds the two equal for every tool).

    Knows the forms the tools use (str, int, bool, string Literals, lists, models, optional and plain
    unions, ``Field`` descriptions and length/range bounds); raises :class:`UnknownForm` for anything else."""
    defs: dict[str, Any] = {}
    properties: dict[str, Any] = {}
    required: list[str] = []
    for p in parameters:
        if p.annotation is inspect.Parameter.empty or p.name.startswith("_") or _shadows_base_model(p.name):
            raise UnknownForm(p.name)  # the SDK types it as a string, refuses it, or renames it with an alias
        node = _type_schema(p.annotation, defs)
        if p.default is inspect.Parameter.empty:
            required.append(p.name)
        elif p.default is None or isinstance(p.default, str | int):  # bool is an int
            node["default"] = p.default
        else:
            raise UnknownForm(f"{p.name}: default {p.default!r}")
        properties[p.name] = node
    raw: dict[str, Any] = {"properties": properties, "type": "object"}
    if required:
        raw["required"] = required
    if defs:
        raw["$defs"] = defs
    schema = _pydantic_order(raw)
    schema["additionalProperties"] = False
    return lean(schema)


def _shadows_base_model(name: str) -> bool:
    return hasattr(BaseModel, name) and callable(getattr(BaseModel, name))  # func_metadata gives it an alias


_JSON_TYPES: dict[Any, str] = {str: "string", int: "integer", bool: "boolean"}


def _type_schema(annotation: Any, defs: dict[str, Any]) -> dict[str, Any]:
    """pydantic's JSON schema (validation mode) of one annotation, titles left out (lean drops them)."""
    origin = get_origin(annotation)
    if origin is Annotated:
        inner, *metadata = get_args(annotation)
        node = _type_schema(inner, defs)
        for item in metadata:
            node = _constrained(node, item)
        return node
    if annotation in _JSON_TYPES:
        return {"type": _JSON_TYPES[annotation]}
    if origin is Literal:
        values = get_args(annotation)
        if len(values) < 2 or not all(isinstance(v, str) for v in values):
            raise UnknownForm(repr(annotation))
        return {"enum": list(values), "type": "string"}
    if origin in (Union, UnionType):
        members = get_args(annotation)
        branches = [_type_schema(m, defs) for m in members if m is not NoneType]
        if NoneType in members:
            if len(branches) != 1:
                raise UnknownForm(repr(annotation))  # pydantic flattens X | Y | None its own way
            return {"anyOf": [branches[0], {"type": "null"}]}
        return {"anyOf": branches}
    if origin is list and len(get_args(annotation)) == 1:
        return {"items": _type_schema(get_args(annotation)[0], defs), "type": "array"}
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        name = annotation.__name__
        model_defs = _model_schema(annotation)
        for key, value in model_defs.items():
            if defs.setdefault(key, value) != value:
                raise UnknownForm(f"two models named {key}")
        return {"$ref": f"#/$defs/{name}"}
    raise UnknownForm(repr(annotation))


@functools.cache
def _model_schema(model: type[BaseModel]) -> dict[str, Any]:
    """The $defs entries a model adds to a schema that refers to it: its own schema and those it refers to."""
    schema = model.model_json_schema()
    defs = dict(schema.pop("$defs", {}))
    defs[model.__name__] = schema
    return defs


_KNOWN_FIELD_ATTRIBUTES = {"description"}  # Field(...) arguments other than the bounds read here


def _constrained(node: dict[str, Any], item: Any) -> dict[str, Any]:
    """``node`` with one ``Annotated`` metadata item applied where pydantic applies it."""
    if isinstance(item, FieldInfo):
        if set(getattr(item, "_attributes_set", {})) - _KNOWN_FIELD_ATTRIBUTES or "$ref" in node:
            raise UnknownForm(repr(item))
        for bound in item.metadata:
            node = _constrained(node, bound)
        if item.description is not None:
            node["description"] = item.description
        return node
    if isinstance(item, Strict):
        return node
    branches = node.get("anyOf")
    if branches is not None:  # bounds of an optional value bind the value, not its null
        if len(branches) != 2 or branches[1] != {"type": "null"}:
            raise UnknownForm(repr(item))
        return {**node, "anyOf": [_constrained(dict(branches[0]), item), branches[1]]}
    kind = node.get("type")
    if isinstance(item, Ge) and kind == "integer":
        node["minimum"] = item.ge
    elif isinstance(item, Le) and kind == "integer":
        node["maximum"] = item.le
    elif isinstance(item, MinLen) and kind in ("string", "array"):
        node["minLength" if kind == "string" else "minItems"] = item.min_length
    elif isinstance(item, MaxLen) and kind in ("string", "array"):
        node["maxLength" if kind == "string" else "maxItems"] = item.max_length
    else:
        raise UnknownForm(repr(item))
    return node


def _pydantic_order(value: Any, parent: str | None = None) -> Any:
    """Keys in pydantic's order (``GenerateJsonSchema.sort``): sorted, except the names under ``properties`` and
    the inside of a ``default``."""
    if isinstance(value, dict):
        keys = value.keys() if parent in ("properties", "default") else sorted(value)
        return {key: _pydantic_order(value[key], key) for key in keys}
    if isinstance(value, list):
        return [_pydantic_order(item, parent) for item in value]
    return value


class Arguments(ArgModelBase):
    """The base of every tool's argument model (:func:`arguments_model`)."""

    model_config = ConfigDict(extra="forbid", defer_build=True)
    nullable_defaults: ClassVar[frozenset[str]] = frozenset()

    @model_validator(mode="before")
    @classmethod
    def drop_nulls(cls, data: Any) -> Any:
        if isinstance(data, dict):
            return {k: v for k, v in data.items() if not (v is None and k in cls.nullable_defaults)}
        return data


def arguments_model(name: str, parameters: Sequence[inspect.Parameter]) -> type[ArgModelBase]:
    """The model a call's arguments are validated with, as ``nulls_as_absent(<the SDK's argument model>)``: the
    same fields, unknown arguments refused, ``null`` for an argument with a default meaning "not given".
    Built at the first call (``defer_build``): a start only collects its fields."""
    fields: dict[str, Any] = {
        p.name: p.annotation if p.default is inspect.Parameter.empty else (p.annotation, p.default) for p in parameters
    }
    model: type[Arguments] = create_model(name, __base__=Arguments, **fields)
    model.nullable_defaults = frozenset(
        p.name for p in parameters if p.default is not inspect.Parameter.empty and p.default is not None
    )
    return model


class ArgumentsAtFirstUse(FuncMetadata):
    """The SDK's ``FuncMetadata`` whose ``arg_model`` is made when it is first read (the tool's first call, which
    validates its arguments), not at start: listing tools never reads it."""

    _make: Callable[[], type[ArgModelBase]] | None = PrivateAttr(default=None)

    @classmethod
    def of(cls, make: Callable[[], type[ArgModelBase]], output_schema: dict[str, Any] | None) -> ArgumentsAtFirstUse:
        # Without arg_model, which __getattr__ makes when it is first read.
        meta = cls.model_construct(output_schema=output_schema, output_model=None, wrap_output=False)  # type: ignore[call-arg]
        meta._make = make
        return meta

    if not TYPE_CHECKING:

        def __getattr__(self, name: str) -> Any:
            if name == "arg_model" and self._make is not None:
                self.__dict__["arg_model"] = model = self._make()
                return model
            return super().__getattr__(name)
