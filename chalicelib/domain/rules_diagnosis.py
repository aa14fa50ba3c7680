"""Every problem of a rules file in one pass, named where a person looks for it.

pydantic reports all the field errors of a document at once, but a model's own checks run only when
its fields are valid, and the cross-references between sections (rules_references.py) only
when every section is: a file with a misspelt key and an undefined schedule was fixed in rounds.
Here, after each validation, the parts with errors are set aside (an unknown key renamed to the
closest valid one or deleted, a list element or a named entry removed, a required section replaced
by a minimal valid one) and the rest validated again, until it passes, the cross-references have
been checked, or nothing more can be set aside. A problem of a later round that
only follows from a part set aside (a reference to a removed entry, a list left empty) is not
reported: it is not in the file.

A path names a list element by its `name`, `label`, `property` or `grade` when that is unique in its
list (`engagement.rules[demo_request].points`), else by its index; an unknown key or name comes
with the closest valid one ("did you mean `points`?").
"""

from __future__ import annotations

import copy
import json
import re
import types
import typing
from dataclasses import dataclass
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError

from .rules import RulePathError, RuleProblems, Rules
from .suggestions import closest, did_you_mean

Path = tuple[str | int, ...]
MAX_ROUNDS = 6
# What a required section is replaced by while the rest of the file is checked.
STUBS: dict[str, Any] = {
    "tiers": {"bands": [{"name": "stub", "min": 0}], "mql_from": "stub"},
    "grades": [{"grade": "stub"}],
}
NAMING_KEYS = ("name", "label", "property", "grade")
_PLAIN_NAME = re.compile(r"[A-Za-z_][\w\- ]*")


@dataclass(frozen=True)
class RulesIssue:
    path: str
    message: str
    line: int | None = None
    value: Any = None

    def __str__(self) -> str:
        where = f"line {self.line}: " if self.line else ""
        shown = "" if self.value is None else f" (got {short(self.value)})"
        return f"{where}{self.path or '<top>'}: {self.message}{shown}"


class RulesError(ValueError):
    def __init__(self, source: str, issues: list[RulesIssue]) -> None:
        self.source = source
        self.issues = issues
        super().__init__(f"invalid rules in {source}:\n" + "\n".join(f"  {issue}" for issue in issues))


@dataclass(frozen=True)
class _Found:
    path: Path  # in the document as validated this round
    message: str
    value: Any
    kind: str  # pydantic's error type, "reference" for a cross-reference
    refers_to: tuple[str, ...] = ()
    rename_to: str | None = None  # an unknown key's closest valid key: checked on as if corrected


def diagnose(data: dict[str, Any], root: yaml.Node | None, first: ValidationError) -> list[RulesIssue]:
    """The issues of `data` (the document as parsed; `root` its YAML nodes, for lines), whose
    validation raised `first`."""
    current = copy.deepcopy(data)
    removed: dict[Path, set[int]] = {}  # original list path -> original indices set aside
    set_aside: list[Path] = []  # original paths
    issues: list[RulesIssue] = []
    error: ValidationError | None = first
    for round_number in range(MAX_ROUNDS):
        if error is None:
            break
        targets: dict[Path, str | None] = {}
        stuck = False
        round_found = _found(error, current)
        renamed = {(found.path[:-1], found.rename_to) for found in round_found if found.rename_to}
        # The cross-references are checked last, all at once: after them there is nothing left to find.
        final = any(found.kind == "reference" for found in round_found)
        for found in round_found:
            original = _original(found.path, data, removed)
            if round_number and _follows_from(original, found.refers_to, set_aside):
                continue
            if found.kind == "missing" and (found.path[:-1], found.path[-1]) in renamed:
                continue  # the misspelt key's message says it; checked on as corrected, it supplies it
            issues.append(_issue(found, original, data, root))
            target = _target(found, current)
            if target is None:
                stuck = True
            else:
                targets[target] = found.rename_to if target == found.path else None
        if stuck or final or not targets:
            break
        outermost = [path for path in targets if not any(_inside(path, other) for other in targets)]
        originals = {path: _original(path, data, removed) for path in outermost}
        for path in sorted(outermost, reverse=True):  # later list elements first: earlier indices hold
            original = originals[path]
            set_aside.append(original)
            if isinstance(path[-1], int):
                removed.setdefault(original[:-1], set()).add(int(original[-1]))
            _set_aside(current, path, targets[path])
        try:
            Rules.model_validate(current)
            error = None
        except ValidationError as exc:
            error = exc
    return sorted(_unique(issues), key=lambda issue: issue.line or 0)


def _found(error: ValidationError, document: Any) -> list[_Found]:
    found: list[_Found] = []
    for item in error.errors():
        loc: Path = tuple(item["loc"])
        message = str(item["msg"]).removeprefix("Value error, ")
        cause = (item.get("ctx") or {}).get("error")
        if isinstance(cause, (RuleProblems, RulePathError)):
            problems = cause.problems if isinstance(cause, RuleProblems) else [cause]
            base = _present(loc, document, missing_last=False)
            for problem in problems:
                path = (*base, *problem.path)
                found.append(_Found(path, str(problem), _lookup(document, path), "reference", problem.refers_to))
            continue
        kind = str(item["type"])
        path = _present(loc, document, missing_last=kind == "missing")
        rename_to = None
        if kind == "extra_forbidden":
            key = str(path[-1])
            keys = _keys_at(path[:-1])
            rename_to = closest(key, keys)
            message = f"unknown key `{key}`" + (did_you_mean(key, keys) or f" (keys here: {', '.join(keys)})")
        found.append(_Found(path, message, item.get("input"), kind, rename_to=rename_to))
    return found


def _present(loc: Path, document: Any, missing_last: bool) -> Path:
    """pydantic's location without the union tags and validator names it adds: the keys that are
    in the document (and, for a missing key, that key)."""
    path: list[str | int] = []
    node = document
    for position, part in enumerate(loc):
        inside = isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node)
        if inside or (isinstance(node, dict) and part in node):
            node = node[part]
            path.append(part)
        elif missing_last and position == len(loc) - 1:
            path.append(part)
    return tuple(path)


def _target(found: _Found, document: Any) -> Path | None:
    """What to set aside so that this problem does not hide the others: the unknown key itself, else
    the innermost list element or named entry holding the problem, else its top-level section."""
    path = found.path
    if found.kind == "extra_forbidden" and path:
        return path
    for end in range(len(path), 0, -1):
        prefix = path[:end]
        if _lookup(document, prefix) is None and end == len(path) and found.kind == "missing":
            continue  # the missing key itself: its holder is set aside
        if isinstance(prefix[-1], int) or _is_named_entry(prefix):
            return prefix
    if path and isinstance(path[0], str) and path[0] in Rules.model_fields:
        return path[:1]
    return None


def _set_aside(document: dict[str, Any], path: Path, rename_to: str | None) -> None:
    holder: Any = _lookup(document, path[:-1]) if len(path) > 1 else document
    last = path[-1]
    if isinstance(holder, dict) and rename_to is not None and rename_to not in holder:
        holder[rename_to] = holder.pop(last)
    elif len(path) == 1 and str(last) in STUBS:
        document[str(last)] = copy.deepcopy(STUBS[str(last)])
    elif isinstance(holder, list) and isinstance(last, int) and last < len(holder):
        del holder[last]
    elif isinstance(holder, dict):
        holder.pop(last, None)


def _is_named_entry(path: Path) -> bool:
    """Whether `path` is a value of a mapping whose keys the file names (lists, decay, event_types ...)."""
    return any(_origin_is(kind, dict) for kind in _types_at(path[:-1]))


def _follows_from(path: Path, refers_to: tuple[str, ...], set_aside: list[Path]) -> bool:
    return any(
        _is_prefix(aside, path) or _is_prefix(path, aside) or (refers_to and _is_prefix(aside, refers_to))
        for aside in set_aside
    )


def _inside(path: Path, other: Path) -> bool:
    return other != path and _is_prefix(other, path)


def _is_prefix(prefix: tuple[Any, ...], path: tuple[Any, ...]) -> bool:
    return len(prefix) <= len(path) and path[: len(prefix)] == prefix


def _original(path: Path, data: Any, removed: dict[Path, set[int]]) -> Path:
    """A path of the document as validated this round, in the file as written."""
    original: list[str | int] = []
    for part in path:
        gone = removed.get(tuple(original))
        if isinstance(part, int) and gone:
            size = len(_lookup(data, tuple(original)) or [])
            kept = [index for index in range(size) if index not in gone]
            part = kept[part] if part < len(kept) else part
        original.append(part)
    return tuple(original)


def _issue(found: _Found, path: Path, data: Any, root: yaml.Node | None) -> RulesIssue:
    value = found.value if found.kind != "reference" else _lookup(data, path)
    if isinstance(value, (dict, list)):
        value = None
    return RulesIssue(named_path(path, data), found.message, line_of(root, path), value)


def named_path(parts: Path, data: Any) -> str:
    """`engagement.rules[demo_request].points`: a list element by its name or label, else its index."""
    text, node = "", data
    for part in parts:
        element = node[part] if isinstance(node, list) and isinstance(part, int) and part < len(node) else None
        if isinstance(part, int):
            name = _name_of(element)
            if name and [_name_of(sibling) for sibling in node].count(name) == 1:
                text += f"[{name}]" if _PLAIN_NAME.fullmatch(name) else f"[{json.dumps(name)}]"
            else:
                text += f"[{part}]"
            node = element
        else:
            text += f".{part}" if text else str(part)
            node = node.get(part) if isinstance(node, dict) else None
    return text


def _name_of(element: Any) -> str | None:
    """What a person calls a list element: its name, label, CRM property or grade."""
    if isinstance(element, dict):
        for key in NAMING_KEYS:
            if isinstance(element.get(key), str) and element[key]:
                return str(element[key])
    return None


def line_of(root: yaml.Node | None, path: Path) -> int | None:
    """The line of the deepest node of `path` the file has."""
    node, line = root, (root.start_mark.line + 1 if root is not None else None)
    for part in path:
        node = _child(node, part)
        if node is None:
            break
        line = node.start_mark.line + 1
    return line


def _child(node: yaml.Node | None, part: str | int) -> yaml.Node | None:
    if isinstance(node, yaml.MappingNode):
        for key, child in node.value:
            if key.value == str(part):
                found: yaml.Node = child
                return found
    if isinstance(node, yaml.SequenceNode) and isinstance(part, int) and 0 <= part < len(node.value):
        item: yaml.Node = node.value[part]
        return item
    return None


def _lookup(data: Any, path: Path) -> Any:
    for part in path:
        try:
            data = data[part]
        except (KeyError, IndexError, TypeError):
            return None
    return data


# ------------------------------------------------------------------------ the schema, for key names
def _keys_at(path: Path) -> list[str]:
    """The keys the schema allows where `path` points."""
    keys: list[str] = []
    for kind in _types_at(path):
        if isinstance(kind, type) and issubclass(kind, BaseModel):
            keys += [field.alias or name for name, field in kind.model_fields.items()]
    return sorted(set(keys))


def _types_at(path: Path) -> list[Any]:
    kinds: list[Any] = [Rules]
    for part in path:
        kinds = [inner for kind in kinds for member in _members(kind) for inner in _step(member, part)]
    return [member for kind in kinds for member in _members(kind)]


def _step(kind: Any, part: str | int) -> list[Any]:
    if isinstance(kind, type) and issubclass(kind, BaseModel):
        return [field.annotation for name, field in kind.model_fields.items() if part in (name, field.alias)]
    args = typing.get_args(kind)
    if _origin_is(kind, list) and isinstance(part, int) and args:
        return [args[0]]
    if _origin_is(kind, dict) and isinstance(part, str) and len(args) == 2:
        return [args[1]]
    return []


def _members(kind: Any) -> list[Any]:
    """A type without Annotated, Optional and unions: its possible members."""
    origin = typing.get_origin(kind)
    if origin is typing.Annotated:
        return _members(typing.get_args(kind)[0])
    if origin in (typing.Union, types.UnionType):
        return [member for arg in typing.get_args(kind) for member in _members(arg)]
    return [kind]


def _origin_is(kind: Any, container: type) -> bool:
    return typing.get_origin(kind) is container


def _unique(issues: list[RulesIssue]) -> list[RulesIssue]:
    seen: set[tuple[str, str]] = set()
    kept = []
    for issue in issues:
        if (issue.path, issue.message) not in seen:
            seen.add((issue.path, issue.message))
            kept.append(issue)
    return kept


def short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."
