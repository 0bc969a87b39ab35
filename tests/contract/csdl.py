"""Microsoft Graph v1.0 contract checker, generated at test time from Graph's CSDL.

``load_model()`` parses Graph's published OData metadata (``v1.0-Prod.csdl``, see
``tests/data/graph/README.md``) into a :class:`Model`; no Graph type is copied by hand.

* ``Model.validate(type_name, value, partial=...)`` checks a JSON value (a response the sandbox
  returns, a body the client sends) against an entity or complex type and returns errors with
  JSON paths: ``"event.start.dateTime: expected string (Edm.String), got int 5"``.
* ``Model.check_request(method, path, body, query=...)`` walks a path from the EntityContainer
  (entity sets, singletons, properties, keys, type casts, bound actions and functions), checks
  that the method fits what the path addresses, then the body, function parameters and
  system query options.

Decisions:

* JSON names, enum members and ``@odata.type`` are case-sensitive, as in Graph's payloads. URL
  segments match case-insensitively, as in Graph (its docs write ``microsoft.graph.roomlist``);
  so do operation parameters: the CSDL declares ``SendResponse``, ``Schedules``,
  ``StartDateTime`` where Graph's docs and clients send ``sendResponse``, ``schedules``, ...
* Many types are ``OpenType="true"`` (event, user, ...), which would admit any key. The project
  uses no dynamic properties: unknown keys are errors unless ``validate(..., open_types=True)``.
* ``partial=False`` (a whole response) also requires entity keys (``id``) and each
  ``Nullable="false"`` property of a complex value (``dateTimeTimeZone.dateTime``,
  ``recurrencePattern.interval``): Graph always returns them. ``partial=True`` (request bodies)
  requires nothing at any depth. Both reject ``null`` where ``Nullable="false"``; a collection
  is never ``null`` (OData: ``[]``), its ``Nullable`` applies to its items.
* Capability annotations (Insert/Update/Delete restrictions) on entity sets and navigation
  properties are honoured: ``POST me/calendarView`` is refused.
* A parameter is required when ``Nullable="false"`` and not ``Core.OptionalParameter``.
* The model is cached per process. No pickle: a parse takes ~0.1 s (``Model.parse_seconds``).
"""
from __future__ import annotations

import datetime as dt
import difflib
import functools
import json
import lzma
import os
import re
import time
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any, NamedTuple
from urllib.parse import parse_qsl, unquote

ENV_VAR = "OUTLOOK_MCP_CSDL"
DEFAULT_PATH = Path(__file__).resolve().parents[1] / "data" / "graph" / "v1.0-Prod.csdl.xz"  # vendored; see its README
GRAPH_NS = "microsoft.graph"
_RESTRICTIONS = {"InsertRestrictions": ("Insertable", "insert"), "UpdateRestrictions": ("Updatable", "update"),
                 "DeleteRestrictions": ("Deletable", "delete")}
_SYSTEM_QUERY = {"$select", "$expand", "$filter", "$orderby", "$top", "$skip", "$count", "$search", "$format",
                 "$skiptoken", "$deltatoken", "$apply", "$compute", "$levels", "$index", "$schemaversion", "$id"}


class PathError(ValueError):
    """A request path that does not exist in the model."""


# The model's records. Type names are qualified ("microsoft.graph.event", "Edm.String"); a
# collection is its element type plus collection=True, and its nullable applies to the items.
class Prop(NamedTuple):
    name: str
    type: str
    collection: bool
    nullable: bool
    nav: bool
class StructType(NamedTuple):
    name: str
    kind: str
    base: str | None
    abstract: bool
    open: bool
    has_stream: bool
    key: tuple[str, ...]
    props: dict[str, Prop]
class EnumType(NamedTuple):
    name: str
    flags: bool
    members: tuple[str, ...]
class Param(NamedTuple):
    name: str
    type: str
    collection: bool
    nullable: bool
    optional: bool
class Operation(NamedTuple):
    kind: str
    name: str
    binding: str
    binding_collection: bool
    params: tuple[Param, ...]
    returns: tuple[str, bool] | None
    composable: bool


class Target(NamedTuple):
    """What a request path addresses."""
    kind: str  # singleton entity collection property action function value count ref
    type: str  # (element) type; of an operation, its return type ("" if none)
    collection: bool
    operation: Operation | None = None
    forbidden: frozenset[str] = frozenset()  # "insert" "update" "delete", from capability annotations
    where: str = ""  # the annotated entity set or navigation property
    args: tuple[tuple[str, str], ...] = ()  # function arguments given in parentheses


def _split_type(t: str) -> tuple[str, bool]:
    return (t[11:-1], True) if t.startswith("Collection(") else (t, False)


def _split_top(text: str, sep: str) -> list[str]:
    """Split on ``sep`` outside quotes and parentheses (OData doubles a quote inside a string)."""
    parts, buf, depth, quoted = [], [], 0, False
    for ch in text:
        if ch == "'":
            quoted = not quoted
        elif not quoted and ch in "()":
            depth += 1 if ch == "(" else -1
        elif ch == sep and not quoted and depth == 0:
            parts.append("".join(buf))
            buf = []
            continue
        buf.append(ch)
    return [*parts, "".join(buf)]


def _parse(path: str) -> dict[str, Any]:
    """One pass over the CSDL; type names are qualified (aliases resolved) afterwards."""
    t0 = time.perf_counter()
    source = lzma.open(path) if path.endswith(".xz") else open(path, "rb")  # noqa: SIM115 - closed below
    with source:
        return _parse_stream(source, t0)


def _parse_stream(source: Any, t0: float) -> dict[str, Any]:
    aliases, raw, enums, raw_ops, sets, singletons, restr = {}, {}, {}, [], {}, {}, {}
    ns = container = ""
    for event, el in ET.iterparse(source, events=("start", "end")):
        tag = el.tag.rpartition("}")[2]
        if event == "start":
            if tag == "Schema":
                ns = el.get("Namespace")
                aliases[el.get("Alias") or ns] = ns
            elif tag == "EntityContainer":
                container = f"{ns}.{el.get('Name')}"
            continue
        children = [(c.tag.rpartition("}")[2], c) for c in el]
        if tag in ("EntityType", "ComplexType"):
            props = [(c.get("Name"), c.get("Type"), c.get("Nullable") != "false", t == "NavigationProperty")
                     for t, c in children if t in ("Property", "NavigationProperty")]
            key = tuple(r.get("Name") for r in el.iter() if r.tag.endswith("}PropertyRef"))
            raw[f"{ns}.{el.get('Name')}"] = ("entity" if tag == "EntityType" else "complex", el.get("BaseType"),
                                             el.get("Abstract") == "true", el.get("OpenType") == "true",
                                             el.get("HasStream") == "true", key, props)
        elif tag == "EnumType":
            name = f"{ns}.{el.get('Name')}"
            enums[name] = EnumType(name, el.get("IsFlags") == "true", tuple(c.get("Name") for _, c in children))
        elif tag in ("Action", "Function") and el.get("IsBound") == "true":
            params = [(c.get("Name"), c.get("Type"), c.get("Nullable") != "false",
                       any(a.get("Term") == "Org.OData.Core.V1.OptionalParameter" for a in c))
                      for t, c in children if t == "Parameter"]
            ret = next((c.get("Type") for t, c in children if t == "ReturnType"), None)
            raw_ops.append((tag.lower(), el.get("Name"), params, ret, el.get("IsComposable") == "true"))
        elif tag in ("EntitySet", "Singleton"):
            (sets if tag == "EntitySet" else singletons)[el.get("Name")] = el.get("EntityType") or el.get("Type")
        elif tag == "Annotations" and "/" in el.get("Target", ""):
            for _, ann in children:
                flag, what = _RESTRICTIONS.get(ann.get("Term", "").rpartition(".")[2], (None, None))
                if flag and any(pv.get("Property") == flag and pv.get("Bool") == "false" for pv in ann.iter()):
                    restr.setdefault(tuple(el.get("Target").split("/", 1)), set()).add(what)
        else:
            continue
        el.clear()

    def q(name: str) -> str:
        prefix, _, short = name.rpartition(".")
        return name if prefix == "Edm" else f"{aliases.get(prefix, prefix)}.{short}"

    def qt(t: str) -> tuple[str, bool]:
        elem, coll = _split_type(t)
        return q(elem), coll

    types: dict[str, StructType] = {}

    def build(name: str) -> StructType:
        if name not in types:
            kind, base, abstract, is_open, stream, key, own = raw[name]
            up = build(q(base)) if base else StructType("", "", None, False, False, False, (), {})
            props = dict(up.props) | {n: Prop(n, *qt(t), nullable, nav) for n, t, nullable, nav in own}
            types[name] = StructType(name, kind, up.name or None, abstract, is_open or up.open,
                                     stream or up.has_stream, key or up.key, props)
        return types[name]

    for name in raw:
        build(name)
    ops = [Operation(kind, name, *qt(params[0][1]), tuple(Param(n, *qt(t), nl, o) for n, t, nl, o in params[1:]),
                     qt(ret) if ret else None, composable)
           for kind, name, params, ret, composable in raw_ops if params]
    return {"types": types, "enums": enums, "operations": ops, "container": container,
            "entity_sets": {k: q(v) for k, v in sets.items()}, "singletons": {k: q(v) for k, v in singletons.items()},
            "restrictions": {(q(o), p): frozenset(v) for (o, p), v in restr.items()},
            "parse_seconds": time.perf_counter() - t0}


_B64 = "[A-Za-z0-9+/_-]"
_FORMATS = {  # string-typed primitives: (pattern, what is expected, further check)
    "Edm.DateTimeOffset": (r"\d{4}-\d\d-\d\dT\d\d:\d\d(:\d\d(\.\d{1,12})?)?(Z|[+-]\d\d:\d\d)",
                           "ISO 8601 date-time with offset or Z", dt.datetime.fromisoformat),
    "Edm.Date": (r"\d{4}-\d\d-\d\d", "YYYY-MM-DD", dt.date.fromisoformat),
    "Edm.TimeOfDay": (r"([01]\d|2[0-3]):[0-5]\d(:[0-5]\d(\.\d{1,12})?)?", "HH:MM[:SS[.fffffff]]", None),
    "Edm.Duration": (r"-?P(?=\d|T\d)(\d+D)?(T(?=\d)(\d+H)?(\d+M)?(\d+(\.\d+)?S)?)?", "ISO 8601 duration (PT1H)",
                     None),
    "Edm.Guid": (r"[0-9a-fA-F]{8}(-[0-9a-fA-F]{4}){3}-[0-9a-fA-F]{12}", "GUID", None),
    "Edm.Binary": (rf"({_B64}{{4}})*({_B64}{{2}}(==)?|{_B64}{{3}}=?)?", "base64", None),
}
_INTS = {"Edm.Byte": (0, 255), "Edm.SByte": (-128, 127), "Edm.Int16": (-2**15, 2**15 - 1),
         "Edm.Int32": (-2**31, 2**31 - 1), "Edm.Int64": (-2**63, 2**63 - 1)}
_ANY = {"Edm.Untyped", "Edm.PrimitiveType", "microsoft.graph.Json"}


def _primitive_problem(t: str, v: Any) -> str | None:
    """None if ``v`` is a JSON value of primitive type ``t``, else what was expected."""
    if t in _INTS:
        return None if type(v) is int and _INTS[t][0] <= v <= _INTS[t][1] else f"integer ({t})"
    if t in ("Edm.Double", "Edm.Single", "Edm.Decimal"):
        ok = type(v) in (int, float) or v in ("NaN", "INF", "-INF")
        return None if ok else f"number ({t})"
    if t == "Edm.Boolean":
        return None if isinstance(v, bool) else "boolean (Edm.Boolean)"
    if t in _ANY or t.startswith("Edm.Geo"):
        return None
    if not isinstance(v, str):
        return f"string ({t})"
    pattern, what, further = _FORMATS.get(t, (None, "", None))
    try:
        if pattern and not (re.fullmatch(pattern, v) and (further is None or further(v))):
            return f"{what} ({t})"
    except ValueError:
        return f"{what} ({t})"
    return None


def _got(v: Any) -> str:
    text = json.dumps(v, default=str)
    return f"got {type(v).__name__} {text if len(text) <= 60 else text[:57] + '...'}"


def _hint(name: str, candidates: Any) -> str:
    candidates = list(candidates)
    found = [c for c in candidates if c.lower() == name.lower()] or \
        difflib.get_close_matches(name, candidates, n=1, cutoff=0.75) * (len(name) > 3)  # no "uid" -> "id"
    return f" (did you mean '{found[0]}'?)" if found else ""


class Model:
    """Graph's types, bound operations and entry points, with the two checks."""

    def __init__(self, data: dict[str, Any]):
        self.types: dict[str, StructType] = data["types"]
        self.enums: dict[str, EnumType] = data["enums"]
        self.operations: list[Operation] = data["operations"]
        self.container: str = data["container"]
        self.entity_sets: dict[str, str] = data["entity_sets"]
        self.singletons: dict[str, str] = data["singletons"]
        self.restrictions: dict[tuple[str, str], frozenset[str]] = data["restrictions"]
        self.parse_seconds: float = data["parse_seconds"]
        self._ci_types = {n.lower(): n for n in self.types}
        self._bound: dict[tuple[str, bool], dict[str, list[Operation]]] = {}
        for op in self.operations:
            self._bound.setdefault((op.binding, op.binding_collection), {}).setdefault(op.name.lower(), []).append(op)

    # -- lookups ----------------------------------------------------------------------------
    def qualify(self, name: str) -> str:
        """'event', 'graph.event', '#microsoft.graph.event' -> 'microsoft.graph.event' (KeyError if unknown)."""
        n = name.lstrip("#")
        n = GRAPH_NS + n[5:] if n.startswith("graph.") else n
        for cand in (n, f"{GRAPH_NS}.{n}"):
            if cand in self.types or cand in self.enums or cand.startswith("Edm."):
                return cand
        same = [t for t in [*self.types, *self.enums] if t.rpartition(".")[2] == n]
        if len(same) == 1:
            return same[0]
        raise KeyError(f"unknown type {name!r}")

    def entity_set_type(self, name: str) -> str:
        """The qualified entity type of an entity set or singleton ('users', 'me')."""
        for k, v in [*self.entity_sets.items(), *self.singletons.items()]:
            if k.lower() == name.lower():
                return v
        raise KeyError(f"{name!r} is neither an entity set nor a singleton of {self.container}")

    def _bases(self, name: str | None):
        while name:
            yield name
            name = self.types[name].base if name in self.types else None

    def derives(self, name: str, base: str) -> bool:
        """Whether type ``name`` is ``base`` or derived from it."""
        return base in self._bases(name)

    def _find_op(self, name: str, t: str, collection: bool) -> list[Operation]:
        low = name.lower().removeprefix(GRAPH_NS.lower() + ".")
        return next((ops for b in self._bases(t) if (ops := self._bound.get((b, collection), {}).get(low))), [])

    def _ops_on(self, t: str, collection: bool) -> list[str]:
        return [ops[0].name for b in self._bases(t) for ops in self._bound.get((b, collection), {}).values()]

    # -- values -----------------------------------------------------------------------------
    def validate(self, type_name: str, value: Any, *, partial: bool = False, open_types: bool = False) -> list[str]:
        """Errors ("json.path: message") for ``value`` as an instance of ``type_name``; [] if it fits."""
        elem, coll = _split_type(type_name.strip())
        qn = self.qualify(elem)
        errors: list[str] = []
        self._check(value, qn, coll, True, qn.rpartition(".")[2], (partial, open_types, errors))
        return errors

    def _check(self, v: Any, t: str, coll: bool, nullable: bool, path: str, ctx: tuple) -> None:
        errors = ctx[2]
        if coll:
            if not isinstance(v, list):
                errors.append(f"{path}: expected array (Collection({t})), {_got(v)}")
            for i, item in enumerate(v if isinstance(v, list) else []):
                self._check(item, t, False, nullable, f"{path}[{i}]", ctx)
        elif v is None:
            if not nullable:
                errors.append(f'{path}: null is not allowed (Nullable="false")')
        elif t in self.types and t not in _ANY:
            self._check_struct(v, self.types[t], path, ctx)
        elif t in self.enums:
            enum = self.enums[t]
            for n in [s.strip() for s in v.split(",")] if isinstance(v, str) and enum.flags else [v]:
                if n not in enum.members:
                    listed = ", ".join(enum.members[:12]) + (", ..." if len(enum.members) > 12 else "")
                    hint = _hint(n, enum.members) if isinstance(n, str) else ""
                    errors.append(f"{path}: {json.dumps(n)} is not a member of {t} ({listed}){hint}")
        elif (problem := _primitive_problem(t, v)) is not None:
            errors.append(f"{path}: expected {problem}, {_got(v)}")

    def _check_struct(self, v: Any, st: StructType, path: str, ctx: tuple) -> None:
        partial, open_types, errors = ctx
        if not isinstance(v, dict):
            errors.append(f"{path}: expected object ({st.name}), {_got(v)}")
            return
        if "@odata.type" in v:
            odt = v["@odata.type"]
            try:
                derived = self.qualify(odt) if isinstance(odt, str) and odt.startswith("#") else ""
            except KeyError:
                derived = ""
            if derived not in self.types:
                errors.append(f"{path}.@odata.type: {json.dumps(odt)} is not a type of the model (expected "
                              f"'#{st.name}' or a type derived from it){_hint(str(odt), ['#' + n for n in self.types])}")
                return  # the object's type is unknown: its properties cannot be judged
            if not self.derives(derived, st.name):
                errors.append(f"{path}.@odata.type: {derived} is not {st.name} or derived from it")
                return
            st = self.types[derived]
        if st.abstract:
            errors.append(f"{path}: {st.name} is abstract; '@odata.type' must name a concrete derived type")
            return
        for key, val in v.items():
            if "@" in key:
                prop, _, term = key.partition("@")
                if prop and prop not in st.props:
                    errors.append(f"{path}.{key}: annotates unknown property '{prop}' of {st.name}")
                elif "." not in term and term != "removed":
                    errors.append(f"{path}.{key}: not an instance annotation (@namespace.term)")
            elif key in st.props:
                p = st.props[key]
                self._check(val, p.type, p.collection, p.nullable, f"{path}.{key}", ctx)
            elif not (st.open and open_types):
                errors.append(f"{path}.{key}: unknown property of {st.name}{_hint(key, st.props)}")
        for p in () if partial else st.props.values():
            if (p.name in st.key or (st.kind == "complex" and not p.nullable and not p.collection)) and p.name not in v:
                errors.append(f'{path}.{p.name}: missing (Nullable="false" in {st.name})')

    # -- requests ---------------------------------------------------------------------------
    def resolve(self, path: str) -> Target:
        """Walk ``path`` (relative to the version root) through the model; PathError where it leaves it."""
        segments = [unquote(s) for s in _split_top(path.split("?", 1)[0].strip("/"), "/") if s]
        if not segments:
            raise PathError("empty path")
        cur: Target | None = None
        for seg in segments:
            m = re.fullmatch(r"([^()]+)\((.*)\)", seg, re.S)
            name, args = (m.group(1), m.group(2)) if m else (seg, None)
            cur = self._root(name, args) if cur is None else self._step(cur, name, args, seg)
        return cur

    def _root(self, name: str, args: str | None) -> Target:
        for k, t in [*self.entity_sets.items(), *self.singletons.items()]:
            if k.lower() == name.lower():
                kind = "singleton" if k in self.singletons else "entity" if args is not None else "collection"
                return Target(kind, t, kind == "collection", forbidden=self.restrictions.get((self.container, k),
                              frozenset()), where=f"{self.container}/{k}")
        raise PathError(f"'{name}' is neither an entity set nor a singleton of {self.container}"
                        f"{_hint(name, [*self.entity_sets, *self.singletons])}")

    def _step(self, cur: Target, name: str, args: str | None, seg: str) -> Target:
        if cur.kind == "function" and cur.operation.composable and cur.operation.returns:
            t, coll = cur.operation.returns
            entity = t in self.types and self.types[t].kind == "entity"
            cur = Target(("collection" if coll else "entity") if entity else "property", t, coll)
        if cur.kind in ("action", "function", "value", "count", "ref"):
            raise PathError(f"nothing may follow {cur.kind} '{cur.operation.name if cur.operation else seg}'")
        low = name.lower()
        if low == "$count" and cur.collection:
            return Target("count", "Edm.Int32", False)
        if low == "$ref" and cur.kind in ("entity", "collection"):
            return cur._replace(kind="ref")
        if low == "$value" and ((cur.kind == "property" and cur.type.startswith("Edm.")) or (cur.kind == "entity" and any(
                s.has_stream and self.derives(s.name, cur.type) for s in self.types.values()))):
            return Target("value", "Edm.Stream", False)
        if name.startswith("$"):
            raise PathError(f"'{name}' cannot follow {cur.kind} {cur.type}")
        if args is None and low in self._ci_types:
            if not self.derives(self._ci_types[low], cur.type):
                raise PathError(f"type cast '{name}': {self._ci_types[low]} is not derived from {cur.type}")
            return cur._replace(type=self._ci_types[low])
        if cur.collection:
            return self._key_or_op(cur, name, args, seg)
        st = self.types.get(cur.type)
        p = next((p for k, p in st.props.items() if k.lower() == low), None) if st else None
        if p is None and (ops := self._find_op(name, cur.type, False)):
            return self._operation(ops, args)
        if p is None:
            if low.startswith(GRAPH_NS.lower() + "."):
                raise PathError(f"type cast '{name}': no such type in the model{_hint(name, self.types)}")
            raise PathError(f"'{name}' is not a property, navigation property or bound operation of {cur.type}"
                            f"{_hint(name, [*(st.props if st else ()), *self._ops_on(cur.type, False)])}")
        if args is not None and not (p.nav and p.collection):
            raise PathError(f"'{seg}': '{p.name}' is not a collection of entities and takes no key")
        if not p.nav:
            return Target("property", p.type, p.collection)
        where = next((f"{b}/{p.name}" for b in self._bases(st.name) if (b, p.name) in self.restrictions), "")
        kind = "entity" if args is not None or not p.collection else "collection"
        return Target(kind, p.type, kind == "collection",
                      forbidden=self.restrictions.get(tuple(where.split("/")), frozenset()), where=where)

    def _key_or_op(self, cur: Target, name: str, args: str | None, seg: str) -> Target:
        if cur.kind == "property":
            raise PathError(f"'{seg}' cannot follow a collection-valued property")
        if ops := self._find_op(name, cur.type, True):
            return self._operation(ops, args)
        if name.lower().startswith(GRAPH_NS.lower() + "."):
            raise PathError(f"type cast '{name}': no such type in the model{_hint(name, self.types)}")
        if any(k.lower() == name.lower() for k in self.types[cur.type].props):
            raise PathError(f"'{name}' follows a collection of {cur.type}: the key (id) before it is missing")
        if re.fullmatch(r"[A-Za-z]+", name) and (hint := _hint(name, self._ops_on(cur.type, True))):
            raise PathError(f"'{name}' would be taken as a key of {cur.type} but looks like a misspelt operation{hint}")
        return cur._replace(kind="entity", collection=False)

    def _operation(self, ops: list[Operation], args: str | None) -> Target:
        pairs = tuple((k.strip(), v.strip()) for k, _, v in (a.partition("=") for a in _split_top(args or "", ","))
                      if k.strip())
        given = {k.lower() for k, _ in pairs}
        op = next((o for o in ops if given <= {p.name.lower() for p in o.params}), ops[0])
        ret, coll = op.returns or ("", False)
        return Target(op.kind, ret, coll, operation=op, args=pairs)

    def check_request(self, method: str, path: str, body: Any = None, *, query: dict | None = None) -> list[str]:
        """Errors for a request (``path`` relative to the version root); [] if it fits the contract."""
        method, path = method.upper(), re.sub(r"^(https?://[^/]+)?/?(v1\.0|beta)/", "", path)
        q = dict(parse_qsl(path.split("?", 1)[1], keep_blank_values=True)) if "?" in path else {}
        q.update(query or {})
        label = f"{method} {path.split('?', 1)[0]}"
        try:
            tgt = self.resolve(path)
        except PathError as e:
            return [f"{label}: {e}"]
        errors = self._method_errors(method, tgt)
        if method in ("GET", "DELETE") and body not in (None, {}, "", b""):
            errors.append(f"a {method} request carries no body")
        elif tgt.kind == "action":
            errors += self._check_params(tgt.operation, body)
        elif tgt.kind == "function":
            names = {p.name.lower() for p in tgt.operation.params}
            supplied = {k: str(v) for k, v in q.items() if k.lower() in names} | dict(tgt.args)
            errors += self._check_params(tgt.operation, supplied, {k: k in dict(tgt.args) for k in supplied}, q)
        elif method in ("POST", "PATCH", "PUT") and tgt.kind in ("collection", "entity", "singleton", "property"):
            if body is None:
                errors.append(f"{method} needs a body ({tgt.type})")
            elif not tgt.type.startswith("Edm."):
                errors += self.validate(f"Collection({tgt.type})" if tgt.kind == "property" and tgt.collection
                                        else tgt.type, body, partial=True)
        return [f"{label}: {e}" for e in errors + self._query_errors(tgt, q)]

    def _method_errors(self, method: str, tgt: Target) -> list[str]:
        allowed = {"action": "POST", "function": "GET", "count": "GET", "value": "GET PUT", "ref": "GET POST PUT DELETE",
                   "collection": "GET POST", "entity": "GET PATCH PUT DELETE", "singleton": "GET PATCH PUT",
                   "property": "GET PATCH PUT"}[tgt.kind].split()
        if method in ("GET", "POST", "PATCH", "PUT", "DELETE") and method not in allowed:
            if tgt.operation:
                return [f"'{tgt.operation.name}' is {'an' if tgt.kind == 'action' else 'a'} {tgt.kind}: "
                        f"use {allowed[0]}, not {method}"]
            need = {"POST": "a collection or an action", "DELETE": "a single entity", "GET": "a readable resource"}
            what = {"collection": f"a collection of {tgt.type}", "singleton": f"the singleton {tgt.type}",
                    "entity": f"a single {tgt.type}"}.get(tgt.kind, f"a {tgt.kind} ({tgt.type})")
            return [f"{method} needs {need.get(method, 'a single entity or property')}, but the path addresses {what}"]
        flag = {"POST": "insert", "PATCH": "update", "PUT": "update", "DELETE": "delete"}.get(method)
        if flag in tgt.forbidden and tgt.kind in ("collection", "entity", "singleton"):
            term = next(f"{t}/{f}" for t, (f, what) in _RESTRICTIONS.items() if what == flag)
            return [f"{method} is not allowed: {tgt.where} is annotated {term}=false"]
        return [] if method in allowed else [f"unsupported method {method}"]

    def _check_params(self, op: Operation, values: Any, url: dict[str, bool] | None = None,
                      query: dict | None = None) -> list[str]:
        """Body parameters of an action or (``url``: name -> is an OData literal) URL parameters of a function."""
        values = {} if values is None else values
        if not isinstance(values, dict):
            return [f"{op.name}: the body must be a JSON object of parameters, {_got(values)}"]
        errors: list[str] = []
        by_name, seen = {p.name.lower(): p for p in op.params}, set()
        for key, raw in values.items():
            p = by_name.get(key.lower())
            if key.startswith("@"):
                continue  # instance annotations
            if p is None:
                errors.append(f"{op.name}.{key}: unknown parameter of {op.kind} {op.name} (parameters: "
                              f"{', '.join(p.name for p in op.params) or 'none'}){_hint(key, by_name)}")
                continue
            seen.add(p.name)
            if url is not None:
                raw = self._literal(p, f"{op.name}.{key}", raw, url[key], query or {}, errors)
            if raw is not _BAD:
                self._check(raw, p.type, p.collection, p.nullable, f"{op.name}.{key}", (True, False, errors))
        errors += [f'{op.name}.{p.name}: required parameter missing (Nullable="false")'
                   for p in op.params if not p.nullable and not p.optional and p.name not in seen]
        return errors

    def _literal(self, p: Param, where: str, raw: str, literal: bool, query: dict, errors: list[str]) -> Any:
        """The JSON value of a function parameter given as an OData literal or a plain query value."""
        if literal and raw.startswith("@"):
            if raw not in query:
                errors.append(f"{where}: parameter alias {raw} is not given in the query")
                return _BAD
            raw, literal = query[raw], False
        if raw == "null":
            return None
        if p.collection or p.type in self.types:
            try:
                return json.loads(raw)
            except json.JSONDecodeError:
                errors.append(f"{where}: expected JSON for {p.type}")
                return _BAD
        quoted = re.fullmatch(r"(?:[\w.]+)?'(.*)'", raw, re.S)
        if quoted:
            return quoted.group(1).replace("''", "'")
        if literal and (p.type == "Edm.String" or p.type in self.enums):
            errors.append(f"{where}: a string literal must be quoted ('...'), got {raw}")
            return _BAD
        if re.fullmatch(r"-?\d+(\.\d+)?([eE][-+]?\d+)?|true|false", raw) and p.type != "Edm.String":
            return json.loads(raw)
        return raw

    def _query_errors(self, tgt: Target, q: dict) -> list[str]:
        errors = []
        for key, val in q.items():
            k = key.lower()
            if not k.startswith("$"):
                continue  # custom options (startDateTime, ...) and function parameters
            if k not in _SYSTEM_QUERY:
                errors.append(f"{key}: unknown system query option{_hint(k, _SYSTEM_QUERY)}")
            elif k in ("$top", "$skip") and not re.fullmatch(r"\d+", str(val)):
                errors.append(f"{key}: expected a non-negative integer, got {val!r}")
            elif k == "$count" and str(val).lower() not in ("true", "false"):
                errors.append(f"{key}: expected true or false, got {val!r}")
            elif k in ("$select", "$expand") and tgt.type in self.types:
                for item in _split_top(str(val), ","):
                    parts = re.sub(r"\(.*\)$", "", item.strip(), flags=re.S).split("/")
                    st = self.types[tgt.type]
                    if len(parts) > 1 and parts[0].lower() in self._ci_types:
                        st, parts = self.types[self._ci_types[parts[0].lower()]], parts[1:]
                    p = st.props.get(parts[0])
                    if parts[0] not in ("*", "") and (p is None or (k == "$expand" and not p.nav)):
                        errors.append(f"{key}: '{parts[0]}' is not a {'navigation ' * (k == '$expand')}property of "
                                      f"{st.name}{_hint(parts[0], st.props)}")
        return errors


_BAD = object()  # marks a parameter value that could not be read


@functools.cache
def _load(path: str, size: int, mtime_ns: int) -> Model:
    return Model(_parse(path))


def load_model(path: str | Path | None = None) -> Model:
    """The Graph v1.0 model from ``path``, $OUTLOOK_MCP_CSDL or the vendored ``tests/data/graph/v1.0-Prod.csdl.xz``."""
    p = Path(path or os.environ.get(ENV_VAR) or DEFAULT_PATH).resolve()
    try:
        st = p.stat()
    except FileNotFoundError:
        raise FileNotFoundError(f"Graph CSDL not found at {p}; set {ENV_VAR} to the path of v1.0-Prod.csdl") from None
    return _load(str(p), st.st_size, st.st_mtime_ns)
