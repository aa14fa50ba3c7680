"""YAML text -> Rules, with errors that name the key path, the line and the bad value."""

from __future__ import annotations

from typing import Any

import yaml
from pydantic import ValidationError

from .data_lists import packaged_list
from .rules import Rules
from .rules_diagnosis import RulesError, RulesIssue, diagnose, line_of, named_path, short
from .traffic_filters import CRAWLER_LIST, CRAWLER_PACKAGE

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
        raise RulesError(source, [RulesIssue("", f"a value that cannot be read: {short(str(exc))}")]) from exc
    if not isinstance(data, dict):
        raise RulesError(source, [RulesIssue("", "the rules file must be a mapping of sections", 1)])
    data = _packaged_lists(data, root, source)
    try:
        return Rules.model_validate(data)
    except ValidationError as exc:
        raise RulesError(source, diagnose(data, root, exc)) from exc


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
                issue = RulesIssue(named_path(path, data), str(exc.args[0]), line_of(root, path), value["package"])
                raise RulesError(source, [issue]) from exc
    return {**data, "lists": resolved}
