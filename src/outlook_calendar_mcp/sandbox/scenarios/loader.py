"""Reading a scenario file (YAML or JSON): a :class:`~.model.Scenario`, or every problem with its line and field.

``load(path)`` / ``parse(text, name)`` check the shape (pydantic, against :mod:`.model`) and then what a
schema cannot say: aliases are unique and every alias an event, group, share or answer names exists; an
answer comes from an attendee; a time ends after it starts. A bad file raises :class:`ScenarioError`, whose
message lists ``file:line: field.path: what is wrong``, the line being where YAML (or JSON) put that field.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from importlib import resources
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from .model import Attendee, Event, Reply, Scenario

Loc = tuple[str | int, ...]


class ScenarioError(ValueError):
    """A scenario file that cannot be used; ``problems`` are (line or None, field path, message)."""

    def __init__(self, name: str, problems: list[tuple[int | None, str, str]]):
        self.name = name
        self.problems = problems
        lines = [f"{name}:{line or '?'}: {field or '(top level)'}: {message}" for line, field, message in problems]
        super().__init__(f"{len(problems)} problem(s) in scenario {name}:\n" + "\n".join(lines))


def packaged(name: str = "demo") -> Scenario:
    """A scenario shipped in the package (``sandbox/scenarios/<name>.yaml``)."""
    source = resources.files(__package__).joinpath(f"{name}.yaml")
    return parse(source.read_text(encoding="utf-8"), f"{name}.yaml")


def load(path: str | Path) -> Scenario:
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as e:
        raise ScenarioError(str(path), [(None, "", f"cannot read the file: {e.strerror or e}")]) from None
    return parse(text, str(path), json_syntax=path.suffix.lower() == ".json")


def parse(text: str, name: str = "<scenario>", *, json_syntax: bool = False) -> Scenario:
    data = _read(text, name, json_syntax)
    lines = _lines(text)
    if not isinstance(data, dict):
        raise ScenarioError(name, [(1, "", "a scenario is a mapping: name, domain, people, events, ...")])
    try:
        scenario = Scenario.model_validate(data)
    except ValidationError as e:
        raise ScenarioError(
            name, [(_line(lines, err["loc"]), _field(err["loc"]), _message(err)) for err in e.errors()]
        ) from None
    problems = [(_line(lines, loc), _field(loc), message) for loc, message in check(scenario)]
    if problems:
        raise ScenarioError(name, problems)
    return scenario.locate(name, lines)


def problem_at(scenario: Scenario, loc: Loc, message: str) -> ScenarioError:
    """An error found after parsing (while seeding), located like the parser's."""
    return ScenarioError(scenario.source, [(_line(scenario.lines, loc), _field(loc), message)])


def _read(text: str, name: str, json_syntax: bool) -> Any:
    if json_syntax:
        try:
            return json.loads(text)
        except json.JSONDecodeError as e:
            raise ScenarioError(name, [(e.lineno, "", f"not valid JSON: {e.msg} (column {e.colno})")]) from None
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        problem = getattr(e, "problem", None) or str(e)
        raise ScenarioError(name, [(mark.line + 1 if mark else None, "", f"not valid YAML: {problem}")]) from None


def _lines(text: str) -> dict[Loc, int]:
    """The line of every field and list item (JSON is YAML too, for this)."""
    out: dict[Loc, int] = {}
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError:
        return out

    def walk(node: Any, path: Loc) -> None:
        out[path] = node.start_mark.line + 1
        if isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                child = (*path, key.value)
                walk(value, child)
                out[child] = key.start_mark.line + 1
        elif isinstance(node, yaml.SequenceNode):
            for i, item in enumerate(node.value):
                walk(item, (*path, i))

    if root is not None:
        walk(root, ())
    return out


def _line(lines: dict[Loc, int], loc: Loc) -> int | None:
    path = tuple(_alias_of(part) for part in loc)
    while path not in lines and path:
        path = path[:-1]
    return lines.get(path)


def _alias_of(part: str | int) -> str | int:
    return "with" if part == "grantee" else part


def _field(loc: Loc) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        elif part in ("str", "int", "bool", "Attendee", "Reply") or "[" in part or part.startswith("literal"):
            continue  # pydantic's name for one branch of a union, not a field
        else:
            out += ("." if out else "") + str(_alias_of(part))
    return out


def _message(err: Any) -> str:
    msg = str(err["msg"]).removeprefix("Value error, ")
    if err["type"] == "extra_forbidden":
        return "unknown field (check its spelling; the schema lists every field)"
    return msg


# -- what the schema can't say ------------------------------------------------------------------


def check(s: Scenario) -> Iterator[tuple[Loc, str]]:
    people = {p.alias for p in s.people}
    rooms = {r.alias for r in s.rooms}
    lists = {r.alias for r in s.room_lists}
    groups = {g.alias for g in s.groups}
    seen: set[str] = set()
    aliases = (
        ("people", [p.alias for p in s.people]),
        ("room_lists", [r.alias for r in s.room_lists]),
        ("rooms", [r.alias for r in s.rooms]),
        ("groups", [g.alias for g in s.groups]),
    )
    for kind, names in aliases:
        for i, alias in enumerate(names):
            if alias in seen:
                yield (kind, i, "alias"), f"alias '{alias}' is used twice: every mailbox needs its own"
            seen.add(alias)
    for i, r in enumerate(s.rooms):
        if r.room_list not in lists:
            yield ("rooms", i, "room_list"), _unknown(r.room_list, "room list", lists)
    for i, g in enumerate(s.groups):
        for j, member in enumerate(g.members):
            if member not in people:
                yield ("groups", i, "members", j), _unknown(member, "person", people)
    for i, sh in enumerate(s.shares):
        if sh.owner not in people:
            yield ("shares", i, "owner"), _unknown(sh.owner, "person", people)
        if sh.grantee not in people:
            yield ("shares", i, "grantee"), _unknown(sh.grantee, "person", people)
    for i, e in enumerate(s.events):
        yield from (((("events", i, *loc), msg)) for loc, msg in _check_event(e, people, rooms, groups))


def _check_event(e: Event, people: set[str], rooms: set[str], groups: set[str]) -> Iterator[tuple[Loc, str]]:
    if e.calendar not in people and e.calendar not in groups:
        yield ("calendar",), _unknown(e.calendar, "person or group", people | groups)
    if not e.all_day:
        if e.start is None or e.end is None:
            yield ("start",), "a timed event needs start and end ('HH:MM'), or all_day: true"
        elif e.end <= e.start:
            yield ("end",), f"end {e.end} is not after start {e.start}"
    elif e.start or e.end:
        yield ("start",), "an all-day event has no start or end time: give days: N for its length"
    invited: set[str] = set()
    for j, a in enumerate(e.attendees):
        alias = a if isinstance(a, str) else a.alias
        if isinstance(a, Attendee):
            if (a.alias is None) == (a.address is None):
                yield ("attendees", j), "give an attendee either alias (someone of the scenario) or address"
                continue
            if a.address is not None and "@" not in a.address:
                yield ("attendees", j, "address"), f"'{a.address}' is not an email address"
        if alias is not None:
            if alias not in people and alias not in rooms:
                yield ("attendees", j), _unknown(alias, "person or room", people | rooms)
            invited.add(alias)
    for j, alias in enumerate(e.optional):
        if alias not in people:
            yield ("optional", j), _unknown(alias, "person", people)
        invited.add(alias)
    if e.room is not None and e.room not in rooms:
        yield ("room",), _unknown(e.room, "room", rooms)
    for alias, answer in e.responses.items():
        if alias not in invited or alias in rooms:
            yield (
                ("responses", alias),
                (f"'{alias}' is not a person this event invites (rooms answer by themselves): add them to attendees"),
            )
        elif isinstance(answer, Reply) and answer.proposed is not None:
            if answer.response not in ("tentativelyAccepted", "declined"):
                yield ("responses", alias, "proposed"), "a new time comes with tentativelyAccepted or declined"
            elif answer.proposed.end <= answer.proposed.start:
                yield ("responses", alias, "proposed", "end"), "the proposed end is not after its start"
    if (e.exceptions or e.cancelled) and e.recurrence is None:
        yield ("exceptions" if e.exceptions else "cancelled",), "only a series (recurrence) has exceptions"
    if e.recurrence is not None and e.recurrence.until is not None and e.recurrence.count is not None:
        yield ("recurrence", "count"), "give until or count, not both"
    for j, c in enumerate(e.exceptions):
        if (c.start is None) != (c.end is None):
            yield ("exceptions", j, "start"), "a moved occurrence needs both start and end"
        elif c.start is not None and c.end is not None and c.end <= c.start:
            yield ("exceptions", j, "end"), f"end {c.end} is not after start {c.start}"


def _unknown(alias: str, kind: str, known: set[str]) -> str:
    return f"no {kind} '{alias}' in this scenario (known: {', '.join(sorted(known)) or 'none'})"
