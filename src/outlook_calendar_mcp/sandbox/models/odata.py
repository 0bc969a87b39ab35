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

import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from .filter import (
    IDENT,
    Expr,
    ODataError,
    Parser,
    canonical_name,
    get_value,
    matches,
    parse_instant,
    property_lookup,
    walk,
)

ALL_OPTIONS = frozenset(
    {"$select", "$filter", "$orderby", "$top", "$skip", "$count", "$expand", "$search", "$skiptoken", "$deltatoken"}
)
MAX_TOP = 1000


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
        result.sort(key=lambda d: _sort_key(walk(d, segments), path), reverse=descending)
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
        yield from _strings(get_value(obj, segments[0]), segments[1:])
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


def _names(option: str, value: str, props: dict[str, str] | None, type_name: str) -> list[str] | None:
    prefix, names = "Parsing OData Select and Expand failed: ", []
    for raw in value.split(","):
        name = raw.strip()
        if name == "*" and option == "$select":
            return None
        if not IDENT.fullmatch(name):
            raise ODataError(f"{prefix}Term '{name}' is not valid in a {option} expression: use property names.")
        canonical = canonical_name(name, props, type_name, prefix)
        names += [] if canonical in names else [canonical]
    return names


def _orderby(value: str, props: dict[str, str] | None, type_name: str) -> list[tuple[str, bool]]:
    items = []
    for raw in value.split(","):
        parts = raw.split()
        segments = parts[0].split("/") if parts else []
        if not 1 <= len(parts) <= 2 or not all(IDENT.fullmatch(s) for s in segments):
            raise ODataError(f"Invalid $orderby item '{raw.strip()}': expected 'property[/subProperty] [asc|desc]'.")
        direction = parts[1].lower() if len(parts) == 2 else "asc"
        if direction not in ("asc", "desc"):
            raise ODataError(f"Invalid $orderby direction '{parts[1]}' after '{parts[0]}': use 'asc' or 'desc'.")
        segments[0] = canonical_name(segments[0], props, type_name, "Invalid $orderby clause: ")
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
    props = property_lookup(properties)
    query = Query(params={k: v for k, v in value.items() if not k.startswith("$")})
    if "$select" in value:
        query.select = _names("$select", value["$select"], props, type_name)
    if "$expand" in value:
        names = props if expandable is None else property_lookup(expandable)
        query.expand = _names("$expand", value["$expand"], names, type_name) or []
    if "$filter" in value:
        query.filter = Parser(value["$filter"], props, type_name).parse()
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
