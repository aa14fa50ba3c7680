"""UpdateItem for the embedded DynamoDB of `make run`, fast for the updates leadscore writes.

moto validates an UpdateExpression by walking its syntax tree once per node kind, over a deep copy,
twice for an item it creates: a lead's save (forty-odd SET clauses) costs tens of milliseconds
there, which made a batch of 2,500 new leads take minutes. The expressions leadscore writes are
flat: `SET #a = :v`, `#a = if_not_exists(#b, :v)`, `#a = <operand> - <operand>` (or `+`), and
`REMOVE #a, #b`. Those are applied here as DynamoDB defines them (every right-hand side read from
the item as it was, the condition checked first) and stored with moto's own put; anything else
(nested paths, ADD, DELETE, list functions, a missing attribute, a key attribute) goes to moto
unchanged, as do its errors.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from moto.dynamodb.comparisons import get_filter_expression
from moto.dynamodb.exceptions import ConditionalCheckFailed
from moto.dynamodb.models import DynamoDBBackend
from moto.dynamodb.models.dynamo_type import DynamoType, Item
from moto.dynamodb.parsing.expressions import UpdateExpressionParser  # type: ignore[attr-defined]

from local.embedded_index import mark_updated

Operand = tuple[str, ...]  # ("value", ":v") | ("name", "#a") | ("if_not_exists", "#a", ":v")
Expression = tuple[Operand, str, Operand] | Operand  # (left, "+" | "-", right) or one operand
Parsed = tuple[list[tuple[str, Expression]], list[str]]  # (target, expression) to SET, names to REMOVE
_IF_NOT_EXISTS = "if_not_exists("
_moto_update_item = DynamoDBBackend.update_item
_SERVING: list[Callable[[], bool]] = [lambda: False]


def install_flat_updates(serving: Callable[[], bool]) -> None:
    """Only while `serving()` (the embedded server answers a request): moto used otherwise in the
    process (a test's mock_aws) keeps moto's own UpdateItem."""
    _SERVING[0] = serving
    DynamoDBBackend.update_item = _update_item  # type: ignore[method-assign]
    UpdateExpressionParser.make = classmethod(_parsed_once)


# moto parses every transaction's UpdateExpressions (to check the attribute names they use) before
# its backend sees them; leadscore's saves repeat a few dozen expression texts, so each is parsed
# once. The tree is only read (moto's validator works on a deep copy of it).
_PARSED: dict[str, Any] = {}
_moto_parse = UpdateExpressionParser.make.__func__


def _parsed_once(cls: type[UpdateExpressionParser], expression_str: str) -> Any:
    if not _SERVING[0]():
        return _moto_parse(cls, expression_str)
    found = _PARSED.get(expression_str)
    if found is None:
        if len(_PARSED) > 1_000:
            _PARSED.clear()
        found = _PARSED[expression_str] = _moto_parse(cls, expression_str)
    return found


def _update_item(self: DynamoDBBackend, table_name: str, key: dict[str, Any], *args: Any, **kwargs: Any) -> Item:
    item = _apply(self, table_name, key, *args, **kwargs)
    mark_updated(self.get_table(table_name), item)  # moto may have changed it in place: re-index it
    return item


def _apply(
    self: DynamoDBBackend,
    table_name: str,
    key: dict[str, Any],
    update_expression: str,
    expression_attribute_names: dict[str, Any],
    expression_attribute_values: dict[str, Any],
    attribute_updates: dict[str, Any] | None = None,
    expected: dict[str, Any] | None = None,
    condition_expression: str | None = None,
    return_values_on_condition_check_failure: str | None = None,
) -> Item:
    arguments = (
        table_name,
        key,
        update_expression,
        expression_attribute_names,
        expression_attribute_values,
        attribute_updates,
        expected,
        condition_expression,
        return_values_on_condition_check_failure,
    )
    parsed = parse_flat_update(update_expression) if update_expression and not attribute_updates else None
    table = self.get_table(table_name)
    if parsed is None or expected or table.stream_shard is not None or not _SERVING[0]():
        return _moto_update_item(self, *arguments)
    current = self.get_item(table_name, key)
    updated = flat_update(
        current,
        key,
        parsed,
        expression_attribute_names or {},
        expression_attribute_values or {},
        {table.hash_key_attr, table.range_key_attr},
    )
    if updated is None:
        return _moto_update_item(self, *arguments)
    if condition_expression:
        condition = get_filter_expression(condition_expression, expression_attribute_names, expression_attribute_values)
        if not condition.expr(current):
            if return_values_on_condition_check_failure == "ALL_OLD" and current is not None:
                raise ConditionalCheckFailed(item=current.to_json()["Attributes"])
            raise ConditionalCheckFailed
    return self.put_item(table_name, updated)


def flat_update(
    current: Item | None,
    key: dict[str, Any],
    parsed: Parsed,
    names: dict[str, str],
    values: dict[str, Any],
    keys: set[str | None],
) -> dict[str, Any] | None:
    """The item after the update, in DynamoDB's JSON; None when moto must decide (an attribute the
    expression reads is missing, a type mismatch, a key attribute written, a placeholder unknown)."""
    before = {name: value for name, value in (current.attrs.items() if current is not None else ())}
    sets, removes = parsed
    try:
        written = {names[target]: _evaluate(expression, before, names, values) for target, expression in sets}
        removed = [names[target] for target in removes]
    except (KeyError, TypeError, ValueError):
        return None
    paths = [names[target] for target, _ in sets] + removed
    if any(name in keys for name in paths) or len(set(paths)) < len(paths):
        return None  # a key attribute, or two paths that overlap: moto refuses it as DynamoDB does
    after = {name: value.to_json() for name, value in before.items()}
    after.update({name: value.to_json() for name, value in written.items()})
    for name in removed:
        after.pop(name, None)
    after.update(key)
    return after


def _evaluate(
    expression: Expression, item: dict[str, DynamoType], names: dict[str, str], values: dict[str, Any]
) -> DynamoType:
    if isinstance(expression[0], tuple):
        left, sign, right = expression
        a, b = _operand(left, item, names, values), _operand(right, item, names, values)
        if not (a.is_number() and b.is_number()):
            raise TypeError("arithmetic on a non-number")
        return a + b if sign == "+" else a - b
    return _operand(expression, item, names, values)


def _operand(
    operand: Operand, item: dict[str, DynamoType], names: dict[str, str], values: dict[str, Any]
) -> DynamoType:
    kind = operand[0]
    if kind == "value":
        return DynamoType(values[operand[1]])
    if kind == "name":
        return item[names[operand[1]]]  # KeyError: moto says the attribute does not exist
    found = item.get(names[operand[1]])
    return found if found is not None else DynamoType(values[operand[2]])


def parse_flat_update(expression: str) -> Parsed | None:
    """`SET` clauses then an optional `REMOVE` list, each clause flat (see the module); else None."""
    if not expression.startswith("SET ") or " ADD " in expression or " DELETE " in expression:
        return None
    set_part, _, remove_part = expression[4:].partition(" REMOVE ")
    sets: list[tuple[str, Expression]] = []
    for clause in _split_commas(set_part):
        target, equals, right = clause.partition(" = ")
        parsed = _expression(right.strip()) if equals else None
        if parsed is None or not _placeholder(target.strip(), "#"):
            return None
        sets.append((target.strip(), parsed))
    removes = [name.strip() for name in remove_part.split(",")] if remove_part else []
    if not all(_placeholder(name, "#") for name in removes):
        return None
    return sets, removes


def _expression(text: str) -> Expression | None:
    depth = 0
    for index, char in enumerate(text):
        depth += (char == "(") - (char == ")")
        if depth == 0 and text[index : index + 3] in (" - ", " + "):
            left, right = _operand_text(text[:index]), _operand_text(text[index + 3 :])
            return (left, text[index + 1], right) if left and right else None
    return _operand_text(text)


def _operand_text(text: str) -> Operand | None:
    text = text.strip()
    if _placeholder(text, ":"):
        return ("value", text)
    if _placeholder(text, "#"):
        return ("name", text)
    if text.startswith(_IF_NOT_EXISTS) and text.endswith(")"):
        name, comma, value = text[len(_IF_NOT_EXISTS) : -1].partition(",")
        if comma and _placeholder(name.strip(), "#") and _placeholder(value.strip(), ":"):
            return ("if_not_exists", name.strip(), value.strip())
    return None


def _split_commas(text: str) -> list[str]:
    """`text` split at the commas outside parentheses."""
    parts, depth, start = [], 0, 0
    for index, char in enumerate(text):
        depth += (char == "(") - (char == ")")
        if char == "," and depth == 0:
            parts.append(text[start:index])
            start = index + 1
    return [*parts, text[start:]]


def _placeholder(token: str, sigil: str) -> bool:
    return len(token) > 1 and token[0] == sigil and all(char.isalnum() or char == "_" for char in token[1:])
