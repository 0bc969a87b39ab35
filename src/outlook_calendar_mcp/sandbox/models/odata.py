"""OData query options for the sandbox: parse, validate and apply them to Graph-shaped JSON.

:func:`parse` takes a request's whole query string and the options the endpoint
allows, and returns a :class:`Query` or raises :class:`ODataError` (HTTP 400,
a Graph error ``code``, a message naming the option or property).
:meth:`Query.apply` filters, sorts and pages documents; :func:`project` applies
``$select`` to one of them.

Query string: option names are case-insensitive and the ``$`` is optional
(``top`` == ``$TOP`` == ``$top``; ``dollar_optional=False`` requires it). Each
option appears at most once. An option the endpoint does not allow, or a plain
parameter not in ``non_dollar``, is an ``ErrorInvalidUrlQuery`` naming it:
nothing is silently ignored. ``$top`` is 1..1000, ``$skip`` >= 0, ``$count``
``true|false``; ``$select``/``$expand`` are lists of top-level property names
(``$select=*`` is all); ``$search`` is a bare or "double-quoted" string.
Codes: ``ErrorInvalidUrlQuery`` for a parameter the endpoint does not take,
``ErrorInvalidUrlQueryFilter`` for an OData operator the sandbox does not
implement (has, add, ...), ``BadRequest`` for everything else.

``$filter`` grammar (keywords and property names are case-insensitive)::

    or         := and ("or" and)*
    and        := unary ("and" unary)*
    unary      := "not" unary | comparison                  -- not > and > or
    comparison := operand [("eq"|"ne"|"gt"|"ge"|"lt"|"le") operand | "in" "(" literal ("," literal)* ")"]
    operand    := literal | "(" or ")" | function "(" or "," or ")" | path ["/" lambda]
    function   := "startswith" | "endswith" | "contains"
    lambda     := ("any"|"all") "(" [var ":" or] ")"        -- any() = not empty
    path       := name ("/" name)*                          -- first name: a property or a lambda var
    literal    := 'text' ('' is a quote) | 42 | -1.5 | true | false | null | GUID
                | 2026-11-23 | 2026-11-23T15:00[:00[.fffffff]][Z|+01:00]

Syntax errors give the 0-based position of the offending token. Nesting is
limited to 50 levels (parentheses, not, function arguments) and any/all to 3
(their cost is exponential). Graph documents ``all`` as unsupported; the
sandbox evaluates it anyway.

Evaluation: a missing property is null; ``eq null``/``ne null`` test presence,
other comparisons with null are false; and/or/not follow OData's three-valued
logic and only documents whose filter is exactly true match. Strings compare
case-insensitively, as Exchange does (eq, ne, ordering, startswith, endswith,
contains). When both sides are date/times (datetime literals, or strings such
as ``start/dateTime`` '2026-11-23T15:00:00.0000000') they compare as instants;
no Z/offset means UTC, a date means its midnight UTC (resolution: microseconds;
the 7th fractional digit is dropped). Values of different kinds (a number and
a string, a collection and a string) are never equal.

``$orderby`` is ``path [asc|desc], ...``: stable, nulls first ascending (last
descending), strings case-insensitive, date/time strings by instant. Ordering
by a complex value or a collection raises ODataError when the query is applied.
"""

from __future__ import annotations

import datetime as dt
import operator
import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

ALL_OPTIONS = frozenset(
    {"$select", "$filter", "$orderby", "$top", "$skip", "$count", "$expand", "$search", "$skiptoken", "$deltatoken"}
)
MAX_TOP = 1000
MAX_DEPTH = 50
MAX_LAMBDAS = 3  # evaluation is exponential in lambda nesting
FUNCTIONS = ("startswith", "endswith", "contains")
_COMPARE = {name: getattr(operator, name) for name in ("eq", "ne", "gt", "ge", "lt", "le")}
_UNSUPPORTED_OPS = {"has", "add", "sub", "mul", "div", "divby", "mod"}
_KEYWORDS = {"and", "or", "not", "in", *_COMPARE, *_UNSUPPORTED_OPS}
_CONSTANTS = {"true": True, "false": False, "null": None}
_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*", re.A)
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


# ---------------------------------------------------------------- $filter parser


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


class _Parser:
    """Recursive descent over the tokens, one method per grammar rule."""

    def __init__(self, text: str, props: dict[str, str] | None, type_name: str):
        self.text, self.props, self.type_name = text, props, type_name
        self.tokens, self.i, self.depth, self.vars = _tokenize(text), 0, 0, []

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
        return _canonical(tok.text, self.props, self.type_name, "Invalid filter clause: ")

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
BOOLEAN_PROPERTIES = frozenset(p.lower() for p in (
    "isAllDay", "isCancelled", "isOrganizer", "isReminderOn", "isOnlineMeeting", "hasAttachments",
    "responseRequested", "allowNewTimeProposals", "isDraft", "hideAttendees", "isDefaultCalendar", "canEdit",
    "canShare", "canViewPrivateItems", "isRemovable", "isTallyingResponses", "accountEnabled"))


def _boolean(expr: Expr) -> Expr:
    not_boolean = (isinstance(expr, Literal) and expr.value is not None and not isinstance(expr.value, bool)) or (
        isinstance(expr, Path) and len(expr.segments) == 1 and expr.segments[0].lower() not in BOOLEAN_PROPERTIES)
    if not_boolean:
        raise ODataError("Invalid filter clause: The $filter expression must evaluate to a single boolean value.")
    return expr


def parse_filter(text: str, properties: Iterable[str] | None = None, type_name: str = "microsoft.graph.event") -> Expr:
    """Parse a ``$filter`` value; property names are checked against ``properties`` when given."""
    return _Parser(text, _lookup(properties), type_name).parse()


# ---------------------------------------------------------------- evaluation


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


def _get(obj: Any, key: str) -> Any:
    if not isinstance(obj, dict):
        return None
    if key in obj:
        return obj[key]
    return next((v for k, v in obj.items() if k.casefold() == key.casefold()), None)


def _walk(obj: Any, segments: Sequence[str]) -> Any:
    for segment in segments:
        obj = _get(obj, segment)
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
        return _walk(env[head] if head in env else _get(doc, head), rest)
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
    if expr.body is None:
        return bool(items)
    results = (_evaluate(expr.body, doc, {**env, expr.var: item}) is True for item in items)
    return any(results) if expr.kind == "any" else all(results)


def matches(expr: Expr, doc: dict) -> bool:
    """True when ``expr`` is exactly true on ``doc`` (false and null both exclude it)."""
    return _evaluate(expr, doc, {}) is True


# ---------------------------------------------------------------- $orderby, $select, $search


def _sort_key(value: Any, path: str) -> tuple[int, Any]:
    if value is None or isinstance(value, (bool, int, float)):
        return (0, 0) if value is None else (1, value) if isinstance(value, bool) else (2, value)
    if isinstance(value, str):
        instant = parse_instant(value)
        return (3, instant) if instant else (4, value.casefold())
    kind = "a collection" if isinstance(value, list) else "a complex value"
    raise ODataError(
        f"The $orderby expression must evaluate to a single value of primitive type: '{path}' is {kind}; "
        "order by one of its properties instead."
    )


def sort(docs: Iterable[dict], orderby: Sequence[tuple[str, bool]]) -> list[dict]:
    """Stable multi-key sort on (path, descending) keys; ODataError when a key is not primitive."""
    result = list(docs)
    for path, descending in reversed(orderby):
        segments = path.split("/")
        result.sort(key=lambda d: _sort_key(_walk(d, segments), path), reverse=descending)
    return result


def project(doc: dict, select: Sequence[str] | None) -> dict:
    """``$select`` on one document: ``id`` and ``@odata.*`` stay; a selected but absent property is null."""
    if select is None:
        return dict(doc)
    wanted = {name.casefold(): name for name in select}
    out = {k: v for k, v in doc.items() if k == "id" or k.startswith("@odata.") or k.casefold() in wanted}
    present = {k.casefold() for k in out}
    return out | {name: None for folded, name in wanted.items() if folded not in present}


def _strings(obj: Any, segments: Sequence[str]) -> Iterator[str]:
    if isinstance(obj, list):
        for item in obj:
            yield from _strings(item, segments)
    elif segments:
        yield from _strings(_get(obj, segments[0]), segments[1:])
    elif isinstance(obj, str):
        yield obj


def search_matches(query: str, doc: dict, fields: Iterable[str]) -> bool:
    """Every term of ``query`` (a word or a "quoted phrase") occurs, ignoring case, in one of ``fields``.

    Fields are paths such as ``subject`` or ``attendees/emailAddress/name``;
    collections on the way are searched item by item.
    """
    terms = [(phrase or word).casefold() for phrase, word in re.findall(r'"([^"]*)"|(\S+)', query)]
    texts = [s.casefold() for f in fields for s in _strings(doc, f.split("/"))]
    return all(any(term in text for text in texts) for term in terms if term.strip())


# ---------------------------------------------------------------- query


@dataclass
class Page:
    items: list[dict]
    total: int  # matches before paging: @odata.count
    has_more: bool
    next_skip: int | None  # $skip of the next page (for @odata.nextLink); None on the last page


@dataclass
class Query:
    select: list[str] | None = None
    filter: Expr | None = None
    orderby: list[tuple[str, bool]] = field(default_factory=list)
    top: int | None = None
    skip: int = 0
    count: bool = False
    expand: list[str] = field(default_factory=list)
    search: str | None = None
    skiptoken: str | None = None
    deltatoken: str | None = None
    params: dict[str, str] = field(default_factory=dict)  # allowed plain parameters, by canonical name

    def apply(
        self, docs: Iterable[dict], *, default_page: int, max_page: int | None = None, search_fields: Sequence[str] = ()
    ) -> Page:
        """$search (over ``search_fields``, when given), $filter, $orderby, then one page at $skip.

        As in Outlook, ``$top`` is the page size (capped by ``max_page``): more matches set ``has_more``.
        """
        kept = [
            d
            for d in docs
            if (self.filter is None or matches(self.filter, d))
            and not (self.search and search_fields and not search_matches(self.search, d, search_fields))
        ]
        ordered = sort(kept, self.orderby) if self.orderby else kept
        size = self.top or default_page
        size = min(size, max_page) if max_page else size
        items = ordered[self.skip : self.skip + size]
        end = self.skip + len(items)
        return Page(items, len(ordered), end < len(ordered), end if end < len(ordered) else None)


def _lookup(names: Iterable[str] | None) -> dict[str, str] | None:
    return None if names is None else {n.casefold(): n for n in names}


def _canonical(name: str, props: dict[str, str] | None, type_name: str, prefix: str) -> str:
    if props is None:
        return name
    if name.casefold() not in props:
        raise ODataError(f"{prefix}Could not find a property named '{name}' on type '{type_name}'.")
    return props[name.casefold()]


def _names(option: str, value: str, props: dict[str, str] | None, type_name: str) -> list[str] | None:
    prefix, names = "Parsing OData Select and Expand failed: ", []
    for raw in value.split(","):
        name = raw.strip()
        if name == "*" and option == "$select":
            return None
        if not _IDENT.fullmatch(name):
            raise ODataError(f"{prefix}Term '{name}' is not valid in a {option} expression: use property names.")
        canonical = _canonical(name, props, type_name, prefix)
        names += [] if canonical in names else [canonical]
    return names


def _orderby(value: str, props: dict[str, str] | None, type_name: str) -> list[tuple[str, bool]]:
    items = []
    for raw in value.split(","):
        parts = raw.split()
        segments = parts[0].split("/") if parts else []
        if not 1 <= len(parts) <= 2 or not all(_IDENT.fullmatch(s) for s in segments):
            raise ODataError(f"Invalid $orderby item '{raw.strip()}': expected 'property[/subProperty] [asc|desc]'.")
        direction = parts[1].lower() if len(parts) == 2 else "asc"
        if direction not in ("asc", "desc"):
            raise ODataError(f"Invalid $orderby direction '{parts[1]}' after '{parts[0]}': use 'asc' or 'desc'.")
        segments[0] = _canonical(segments[0], props, type_name, "Invalid $orderby clause: ")
        items.append(("/".join(segments), direction == "desc"))
    return items


def _integer(option: str, value: str, low: int, high: int | None) -> int:
    number = int(value) if re.fullmatch(r"[0-9]{1,18}", value) else -1
    if number < low or (high is not None and number > high):
        need = f"an integer from {low} to {high}" if high else "a non-negative integer value"
        raise ODataError(
            f"Invalid value '{value}' for {option} query option found. The {option} query option requires {need}."
        )
    return number


def _search(value: str) -> str:
    text = value.strip()
    if text.strip('"').strip() == "":
        raise ODataError("The $search query option requires a non-empty search string.")
    if text.count('"') % 2:
        raise ODataError(f"Syntax error: the $search value '{value}' has an unterminated double quote.")
    return text


def _options(
    params: Mapping[str, str], options: set[str], non_dollar: Iterable[str], dollar_optional: bool
) -> dict[str, str]:
    """Each parameter's value by canonical name ('$top', or a ``non_dollar`` name)."""
    plain = {n.casefold(): n for n in non_dollar}
    allowed = ", ".join(sorted(options) + sorted(plain.values())) or "none"
    found: dict[str, str] = {}
    for name, value in params.multi_items() if hasattr(params, "multi_items") else params.items():
        folded = name.casefold()
        key = plain.get(folded) or (folded if folded.startswith("$") or not dollar_optional else "$" + folded)
        if key not in options and key not in plain.values():
            raise ODataError(
                f"The query parameter '{name}' is not supported. Supported query parameters: {allowed}.",
                "ErrorInvalidUrlQuery",
            )
        if key in found:
            raise ODataError(
                f"Query option '{name}' was specified more than once, but it must be specified at most once."
            )
        found[key] = value
    return found


def parse(
    params: Mapping[str, str],
    *,
    options: set[str],
    properties: Iterable[str] | None = None,
    type_name: str = "microsoft.graph.event",
    non_dollar: Iterable[str] = frozenset(),
    expandable: Iterable[str] | None = None,
    dollar_optional: bool = True,
) -> Query:
    """Check a request's query string against what the endpoint allows and parse every option.

    ``options``: the ``$`` options the endpoint allows; ``properties``: the
    type's top-level property names (None: not checked); ``expandable``: the
    names ``$expand`` accepts (default ``properties``); ``non_dollar``: the
    endpoint's plain parameters (e.g. startDateTime), returned in ``Query.params``.
    """
    options = {o.casefold() for o in options}
    if not options <= ALL_OPTIONS:
        raise ValueError(f"unknown OData options: {sorted(options - ALL_OPTIONS)}")
    value = _options(params, options, non_dollar, dollar_optional)
    props = _lookup(properties)
    query = Query(params={k: v for k, v in value.items() if not k.startswith("$")})
    if "$select" in value:
        query.select = _names("$select", value["$select"], props, type_name)
    if "$expand" in value:
        names = props if expandable is None else _lookup(expandable)
        query.expand = _names("$expand", value["$expand"], names, type_name) or []
    if "$filter" in value:
        query.filter = _Parser(value["$filter"], props, type_name).parse()
    if "$orderby" in value:
        query.orderby = _orderby(value["$orderby"], props, type_name)
    if "$top" in value:
        query.top = _integer("$top", value["$top"], 1, MAX_TOP)
    if "$skip" in value:
        query.skip = _integer("$skip", value["$skip"], 0, None)
    if value.get("$count", "true") not in ("true", "false"):
        raise ODataError(f"'{value['$count']}' is not a valid count option: use $count=true or $count=false.")
    query.count = value.get("$count") == "true"
    if "$search" in value:
        query.search = _search(value["$search"])
    for token in ("$skiptoken", "$deltatoken"):
        if token in value and not value[token]:
            raise ODataError(f"The {token} query option requires a value.")
        setattr(query, token[1:], value.get(token))
    return query
