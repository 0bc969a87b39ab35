"""OData $filter for the sandbox: the expression tree, its parser and its evaluation on documents.

The grammar and the evaluation rules are described in :mod:`.odata`, which uses this module for
``$filter`` (and for date/time literals).
"""

from __future__ import annotations

import datetime as dt
import operator
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

MAX_DEPTH = 50


MAX_LAMBDAS = 3  # evaluation is exponential in lambda nesting


FUNCTIONS = ("startswith", "endswith", "contains")


_COMPARE = {name: getattr(operator, name) for name in ("eq", "ne", "gt", "ge", "lt", "le")}


_UNSUPPORTED_OPS = {"has", "add", "sub", "mul", "div", "divby", "mod"}


_KEYWORDS = {"and", "or", "not", "in", *_COMPARE, *_UNSUPPORTED_OPS}


_CONSTANTS = {"true": True, "false": False, "null": None}


IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*", re.A)


_DATE = (
    r"([0-9]{4})-([0-9]{2})-([0-9]{2})"  # date, then optional time (fraction of any length) and zone
    r"(?:T([0-9]{2}):([0-9]{2})(?::([0-9]{2})(?:\.([0-9]+))?)?)?(Z|[+-][0-9]{2}:[0-9]{2})?"
)


_INSTANT = re.compile(_DATE, re.A)


_TOKEN = re.compile(
    r"(?P<ws>\s+)|(?P<string>'(?:[^']|'')*')"
    r"|(?P<guid>[0-9A-Fa-f]{8}-(?:[0-9A-Fa-f]{4}-){3}[0-9A-Fa-f]{12}(?![0-9A-Za-z_]))"
    rf"|(?P<datetime>{re.sub(r'[(](?![?])', '(?:', _DATE)})"
    r"|(?P<number>-?[0-9]+(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?)|(?P<ident>[A-Za-z_][A-Za-z0-9_]*)|(?P<punct>[/(),:])",
    re.A,
)


class ODataError(ValueError):
    """A query Graph would refuse: answer HTTP 400 with ``code`` and ``str(self)`` as the message."""

    status = 400

    def __init__(self, message: str, code: str = "BadRequest"):
        super().__init__(message)
        self.code, self.message = code, message


@dataclass(frozen=True)
class Literal:
    value: Any  # str | int | float | bool | None | datetime (UTC) | tuple of those (the list of "in")


@dataclass(frozen=True)
class Path:
    segments: tuple[str, ...]


@dataclass(frozen=True)
class Compare:
    op: str  # eq ne gt ge lt le in
    left: Expr
    right: Expr


@dataclass(frozen=True)
class Logical:
    op: str  # and | or (two or more operands) | not (one)
    operands: tuple[Expr, ...]


@dataclass(frozen=True)
class Call:
    name: str
    args: tuple[Expr, ...]


@dataclass(frozen=True)
class Lambda:
    collection: Path
    kind: str  # any | all
    var: str | None
    body: Expr | None


Expr = Literal | Path | Compare | Logical | Call | Lambda


@dataclass(frozen=True)
class _Tok:
    kind: str
    text: str
    pos: int


def _syntax(text: str, pos: int, detail: str) -> ODataError:
    return ODataError(f"Invalid filter clause: Syntax error at position {pos} in '{text}'. {detail}")


def _tokenize(text: str) -> list[_Tok]:
    tokens, pos = [], 0
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if m is None:
            what = "an unterminated string literal" if text[pos] == "'" else f"an unexpected character {text[pos]!r}"
            raise _syntax(text, pos, f"Found {what}.")
        if m.lastgroup != "ws":
            tokens.append(_Tok(m.lastgroup or "", m.group(), pos))
        pos = m.end()
    return [*tokens, _Tok("eof", "", len(text))]


def _shown(tok: _Tok) -> str:
    return "the end of the expression" if tok.kind == "eof" else tok.text if tok.kind == "string" else f"'{tok.text}'"


class Parser:
    """Recursive descent over the tokens, one method per grammar rule."""

    def __init__(self, text: str, props: dict[str, str] | None, type_name: str):
        self.text, self.props, self.type_name = text, props, type_name
        self.tokens, self.i, self.depth = _tokenize(text), 0, 0
        self.vars: list[str] = []

    def parse(self) -> Expr:
        expr = self.logical("or")
        if self.peek().kind != "eof":
            raise self.error(f"Expected 'and', 'or' or the end of the expression, found {_shown(self.peek())}.")
        return _boolean(expr)

    def peek(self, ahead: int = 0) -> _Tok:
        return self.tokens[min(self.i + ahead, len(self.tokens) - 1)]

    def take(self) -> _Tok:
        self.i += 1
        return self.tokens[self.i - 1]

    def error(self, detail: str, tok: _Tok | None = None) -> ODataError:
        return _syntax(self.text, (tok or self.peek()).pos, detail)

    def keyword(self, *words: str) -> str | None:
        tok = self.peek()
        found = tok.kind == "ident" and tok.text.lower() in words
        return self.take().text.lower() if found else None

    def expect(self, text: str) -> None:
        if self.peek().text != text:
            raise self.error(f"Expected '{text}', found {_shown(self.peek())}.")
        self.take()

    def nested(self, rule: Callable[[], Expr]) -> Expr:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise ODataError(f"Invalid filter clause: the expression nests more than {MAX_DEPTH} levels deep.")
        expr = rule()
        self.depth -= 1
        return expr

    def logical(self, op: str) -> Expr:
        sub = (lambda: self.logical("and")) if op == "or" else self.unary
        operands = [sub()]
        while self.keyword(op):
            operands.append(sub())
        return operands[0] if len(operands) == 1 else Logical(op, tuple(map(_boolean, operands)))

    def unary(self) -> Expr:
        if self.keyword("not"):
            return Logical("not", (_boolean(self.nested(self.unary)),))
        return self.comparison()

    def comparison(self) -> Expr:
        left, tok = self.operand(), self.peek()
        op = self.keyword(*_COMPARE, "in")
        if op == "in":
            return Compare(op, left, self.literal_list())
        if op:
            return Compare(op, left, self.operand())
        if tok.kind == "ident" and tok.text.lower() in _UNSUPPORTED_OPS:
            raise ODataError(
                f"Invalid filter clause: the operator '{tok.text}' is not supported. "
                "Supported operators: eq, ne, gt, ge, lt, le, in, and, or, not.",
                "ErrorInvalidUrlQueryFilter",
            )
        return left

    def literal_list(self) -> Literal:
        self.expect("(")
        values = [self.literal()]
        while self.peek().text == ",":
            self.take()
            values.append(self.literal())
        self.expect(")")
        return Literal(tuple(v.value for v in values))

    def operand(self) -> Expr:
        tok, word = self.peek(), self.peek().text.lower()
        if tok.text == "(":
            self.take()
            expr = self.nested(lambda: self.logical("or"))
            self.expect(")")
            return expr
        if tok.kind == "ident" and word not in _KEYWORDS and word not in _CONSTANTS:
            return self.call() if self.peek(1).text == "(" else self.path()
        return self.literal()

    def literal(self) -> Literal:
        tok = self.take()
        if tok.kind == "string":
            return Literal(tok.text[1:-1].replace("''", "'"))
        if tok.kind == "number":
            return Literal(float(tok.text) if any(c in tok.text for c in ".eE") else int(tok.text))
        if tok.kind == "datetime":
            if (instant := parse_instant(tok.text)) is None:
                raise self.error(f"'{tok.text}' is not a valid date or date/time.", tok)
            return Literal(instant)
        if tok.kind == "guid" or (tok.kind == "ident" and tok.text.lower() in _CONSTANTS):
            return Literal(_CONSTANTS.get(tok.text.lower(), tok.text))
        raise self.error(f"Expected an expression, found {_shown(tok)}.", tok)

    def call(self) -> Expr:
        tok = self.take()
        if tok.text.lower() not in FUNCTIONS:
            raise ODataError(
                f"Invalid filter clause: An unknown function with name '{tok.text}' was found. "
                f"Supported functions: {', '.join(FUNCTIONS)}."
            )
        self.expect("(")
        args = [self.nested(lambda: self.logical("or"))]
        while self.peek().text == ",":
            self.take()
            args.append(self.nested(lambda: self.logical("or")))
        self.expect(")")
        if len(args) != 2:
            raise self.error(f"The function '{tok.text}' takes 2 arguments, got {len(args)}.", tok)
        return Call(tok.text.lower(), tuple(args))

    def path(self) -> Expr:
        segments = [self.property_name(self.take())]
        while self.peek().text == "/":
            self.take()
            tok = self.take()
            if tok.kind != "ident" or tok.text.lower() in _KEYWORDS:
                raise self.error(f"Expected a property name after '/', found {_shown(tok)}.", tok)
            if tok.text.lower() in ("any", "all") and self.peek().text == "(":
                return self.lambda_(Path(tuple(segments)), tok.text.lower())
            segments.append(tok.text)
        return Path(tuple(segments))

    def property_name(self, tok: _Tok) -> str:
        if tok.text in self.vars:
            return tok.text
        return canonical_name(tok.text, self.props, self.type_name, "Invalid filter clause: ")

    def lambda_(self, collection: Path, kind: str) -> Expr:
        self.expect("(")
        if kind == "any" and self.peek().text == ")":
            self.take()
            return Lambda(collection, kind, None, None)
        var = self.take()
        if var.kind != "ident" or var.text.lower() in _KEYWORDS:
            raise self.error(f"Expected a range variable in {kind}(), found {_shown(var)}.", var)
        self.expect(":")
        if len(self.vars) == MAX_LAMBDAS:
            raise ODataError(f"Invalid filter clause: any/all lambdas nest at most {MAX_LAMBDAS} deep.")
        self.vars.append(var.text)
        body = _boolean(self.nested(lambda: self.logical("or")))
        self.vars.pop()
        self.expect(")")
        return Lambda(collection, kind, var.text, body)


# Boolean properties of the types the sandbox filters (a bare path may stand alone only if it is one of these).
BOOLEAN_PROPERTIES = frozenset(
    p.lower()
    for p in (
        "isAllDay",
        "isCancelled",
        "isOrganizer",
        "isReminderOn",
        "isOnlineMeeting",
        "hasAttachments",
        "responseRequested",
        "allowNewTimeProposals",
        "isDraft",
        "hideAttendees",
        "isDefaultCalendar",
        "canEdit",
        "canShare",
        "canViewPrivateItems",
        "isRemovable",
        "isTallyingResponses",
        "accountEnabled",
    )
)


def _boolean(expr: Expr) -> Expr:
    not_boolean = (isinstance(expr, Literal) and expr.value is not None and not isinstance(expr.value, bool)) or (
        isinstance(expr, Path) and len(expr.segments) == 1 and expr.segments[0].lower() not in BOOLEAN_PROPERTIES
    )
    if not_boolean:
        raise ODataError("Invalid filter clause: The $filter expression must evaluate to a single boolean value.")
    return expr


def parse_filter(text: str, properties: Iterable[str] | None = None, type_name: str = "microsoft.graph.event") -> Expr:
    """Parse a ``$filter`` value; property names are checked against ``properties`` when given."""
    return Parser(text, property_lookup(properties), type_name).parse()


def parse_instant(text: str) -> dt.datetime | None:
    """An ISO 8601 date or date/time as an aware UTC datetime (no zone = UTC), or None."""
    m = _INSTANT.fullmatch(text)
    if m is None:
        return None
    y, mo, d, h, mi, s, frac, zone = m.groups()
    try:
        offset = dt.timedelta(0)
        if zone and zone != "Z":
            offset = (-1 if zone[0] == "-" else 1) * dt.timedelta(hours=int(zone[1:3]), minutes=int(zone[4:6]))
        micro = int((frac or "0")[:6].ljust(6, "0"))
        local = dt.datetime(int(y), int(mo), int(d), int(h or 0), int(mi or 0), int(s or 0), micro, dt.timezone(offset))
        return local.astimezone(dt.UTC)
    except (ValueError, OverflowError):
        return None


def get_value(obj: Any, key: str) -> Any:
    if not isinstance(obj, dict):
        return None
    if key in obj:
        return obj[key]
    return next((v for k, v in obj.items() if k.casefold() == key.casefold()), None)


def walk(obj: Any, segments: Sequence[str]) -> Any:
    for segment in segments:
        obj = get_value(obj, segment)
    return obj


def _comparable(a: Any, b: Any) -> tuple[Any, Any] | None:
    if isinstance(a, bool) or isinstance(b, bool):
        return (a, b) if isinstance(a, bool) and isinstance(b, bool) else None
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return a, b
    ta, tb = (v if isinstance(v, dt.datetime) else isinstance(v, str) and parse_instant(v) for v in (a, b))
    if ta and tb:
        return ta, tb
    return (a.casefold(), b.casefold()) if isinstance(a, str) and isinstance(b, str) else None


def _compare(op: str, a: Any, b: Any) -> bool:
    if op == "in":
        return any(_compare("eq", a, v) for v in b)
    if a is None or b is None:
        return {"eq": a is b, "ne": a is not b}.get(op, False)
    pair = _comparable(a, b)
    return op == "ne" if pair is None else bool(_COMPARE[op](*pair))


def _call(name: str, value: Any, part: Any) -> bool | None:
    if not isinstance(value, str) or not isinstance(part, str):
        return None
    value, part = value.casefold(), part.casefold()
    if name == "contains":
        return part in value
    return value.startswith(part) if name == "startswith" else value.endswith(part)


def _bool(value: Any) -> bool | None:
    return value if isinstance(value, bool) else None


def _evaluate(expr: Expr, doc: dict, env: dict[str, Any]) -> Any:
    if isinstance(expr, Literal):
        return expr.value
    if isinstance(expr, Path):
        head, *rest = expr.segments
        return walk(env[head] if head in env else get_value(doc, head), rest)
    if isinstance(expr, Compare):
        return _compare(expr.op, _evaluate(expr.left, doc, env), _evaluate(expr.right, doc, env))
    if isinstance(expr, Logical):
        values = [_bool(_evaluate(o, doc, env)) for o in expr.operands]
        if expr.op == "not":
            return None if values[0] is None else not values[0]
        decisive = expr.op == "or"  # one true decides an "or", one false an "and"
        return decisive if decisive in values else (None if None in values else not decisive)
    if isinstance(expr, Call):
        return _call(expr.name, *(_evaluate(a, doc, env) for a in expr.args))
    items = _evaluate(expr.collection, doc, env)
    items = items if isinstance(items, list) else []
    if expr.body is None or expr.var is None:
        return bool(items)
    results = (_evaluate(expr.body, doc, {**env, expr.var: item}) is True for item in items)
    return any(results) if expr.kind == "any" else all(results)


def matches(expr: Expr, doc: dict) -> bool:
    """True when ``expr`` is exactly true on ``doc`` (false and null both exclude it)."""
    return _evaluate(expr, doc, {}) is True


def property_lookup(names: Iterable[str] | None) -> dict[str, str] | None:
    return None if names is None else {n.casefold(): n for n in names}


def canonical_name(name: str, props: dict[str, str] | None, type_name: str, prefix: str) -> str:
    if props is None:
        return name
    if name.casefold() not in props:
        raise ODataError(f"{prefix}Could not find a property named '{name}' on type '{type_name}'.")
    return props[name.casefold()]
