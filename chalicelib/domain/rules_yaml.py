"""YAML text -> Rules, with errors that name the key path, the line and the bad value."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import yaml
from pydantic import ValidationError

from .data_lists import packaged_list
from .rules import RulePathError, Rules
from .traffic_filters import CRAWLER_LIST, CRAWLER_PACKAGE


@dataclass(frozen=True)
class RulesIssue:
    path: str
    message: str
    line: int | None = None
    value: Any = None

    def __str__(self) -> str:
        where = f"line {self.line}: " if self.line else ""
        shown = "" if self.value is None else f" (got {_short(self.value)})"
        return f"{where}{self.path or '<top>'}: {self.message}{shown}"


class RulesError(ValueError):
    def __init__(self, source: str, issues: list[RulesIssue]) -> None:
        self.source = source
        self.issues = issues
        super().__init__(f"invalid rules in {source}:\n" + "\n".join(f"  {issue}" for issue in issues))


# LibYAML's safe loader when PyYAML was built with it (its wheels are): the same documents, faster.
LOADER: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
MAX_DEPTH = 32  # a rules file nests under 10; deeper is hostile, and recursion is finite
# Aliases may repeat a part of the file, but what the file expands to stays proportional to what it
# says: an anchor repeated by thousands of aliases would cost memory and time far beyond its bytes.
EXPANSION_FACTOR = 4
EXPANSION_ALLOWANCE = 1_000


def parse_rules(text: str, source: str = "<rules>") -> Rules:
    try:
        root, data = _load(text, source)
    except RulesError:
        raise
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        problem = getattr(exc, "problem", None) or str(exc)
        raise RulesError(source, [RulesIssue("", f"not valid YAML: {problem}", line)]) from exc
    except RecursionError as exc:
        raise RulesError(source, [RulesIssue("", f"nested more than {MAX_DEPTH} deep")]) from exc
    except ValueError as exc:  # a number beyond what Python converts (over 4,300 digits)
        raise RulesError(source, [RulesIssue("", f"a value that cannot be read: {_short(str(exc))}")]) from exc
    if not isinstance(data, dict):
        raise RulesError(source, [RulesIssue("", "the rules file must be a mapping of sections", 1)])
    data = _packaged_lists(data, root, source)
    try:
        return Rules.model_validate(data)
    except ValidationError as exc:
        raise RulesError(source, [_issue(error, data, root) for error in exc.errors()]) from exc


def _load(text: str, source: str) -> tuple[yaml.Node | None, Any]:
    """One parse: the document's nodes (their lines name the problems), checked for shape, then
    the values built from those same nodes."""
    loader = LOADER(text)
    try:
        root = loader.get_single_node()
        _check_shape(root, source)
        return root, loader.construct_document(root) if root is not None else None
    finally:
        loader.dispose()


def _check_shape(root: yaml.Node | None, source: str) -> None:
    """Refuse, before anything is built from it, a document nested too deep or one whose aliases
    expand it far beyond its own size. Iterative, and linear in the document's nodes."""
    if root is None:
        return
    seen: set[int] = set()
    post_order: list[yaml.Node] = []  # every node after its children
    pending: list[tuple[yaml.Node, int, bool]] = [(root, 0, False)]
    while pending:
        node, depth, children_done = pending.pop()
        if children_done:
            post_order.append(node)
            continue
        if id(node) in seen:
            continue  # an alias: the node is counted once here, its repetitions below
        if depth > MAX_DEPTH:
            raise RulesError(source, [RulesIssue("", f"nested more than {MAX_DEPTH} deep", node.start_mark.line + 1)])
        seen.add(id(node))
        pending.append((node, depth, True))
        pending += [(child, depth + 1, False) for child in _children(node) if id(child) not in seen]
    expanded: dict[int, int] = {}
    for node in post_order:
        expanded[id(node)] = 1 + sum(expanded.get(id(child), 1) for child in _children(node))
    limit = EXPANSION_FACTOR * len(post_order) + EXPANSION_ALLOWANCE
    if expanded[id(root)] > limit:
        issue = RulesIssue("", f"its aliases expand it to {expanded[id(root)]:,} values, over {limit:,}: write it out")
        raise RulesError(source, [issue])


def _children(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.MappingNode):
        return [part for pair in node.value for part in pair]
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    return []


def _packaged_lists(data: dict[str, Any], root: yaml.Node | None, source: str) -> dict[str, Any]:
    """`lists: {name: {package: NAME}}` takes the list from a maintained data package."""
    lists = data.get("lists", {})
    if not isinstance(lists, dict):
        return data
    filters = data.get("filters")
    crawler_list = filters.get("crawler_user_agents", CRAWLER_LIST) if isinstance(filters, dict) else CRAWLER_LIST
    if crawler_list == CRAWLER_LIST and CRAWLER_LIST not in lists:
        lists = {**lists, CRAWLER_LIST: {"package": CRAWLER_PACKAGE}}
    resolved = dict(lists)
    for name, value in lists.items():
        if isinstance(value, dict) and set(value) == {"package"}:
            try:
                resolved[name] = packaged_list(str(value["package"]))
            except KeyError as exc:
                path: tuple[str | int, ...] = ("lists", name, "package")
                issue = RulesIssue(_format_path(list(path)), str(exc.args[0]), _line(root, path), value["package"])
                raise RulesError(source, [issue]) from exc
    return {**data, "lists": resolved}


def _issue(error: Any, data: Any, root: yaml.Node | None) -> RulesIssue:
    loc: tuple[str | int, ...] = tuple(error["loc"])
    message = str(error["msg"]).removeprefix("Value error, ")
    value = error.get("input")
    cause = (error.get("ctx") or {}).get("error")
    if isinstance(cause, RulePathError):
        loc = (*loc, *cause.path)
        value = _lookup(data, cause.path)
    path_parts: list[str | int] = []
    node = root
    # pydantic adds union tags and validator names to `loc`; keep only the keys that exist in the file.
    for position, part in enumerate(loc):
        found = _child(node, part)
        if found is not None:
            node = found
            path_parts.append(part)
        elif error["type"] == "missing" and position == len(loc) - 1:
            path_parts.append(part)  # the key that should be there
    if isinstance(value, (dict, list)):
        value = None
    line = node.start_mark.line + 1 if node is not None else None
    return RulesIssue(_format_path(path_parts), message, line, value)


def _line(root: yaml.Node | None, path: tuple[str | int, ...]) -> int | None:
    node = root
    for part in path:
        node = _child(node, part)
    return node.start_mark.line + 1 if node is not None else None


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


def _lookup(data: Any, path: tuple[str | int, ...]) -> Any:
    for part in path:
        try:
            data = data[part]
        except (KeyError, IndexError, TypeError):
            return None
    return data


def _format_path(parts: list[str | int]) -> str:
    text = ""
    for part in parts:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."
