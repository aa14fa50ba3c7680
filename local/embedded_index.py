"""Queries for the embedded DynamoDB of `make run` that read one partition, not the whole table.

moto answers every Query, of the table's own key as of a global secondary index, by sorting and
reading every item of the table: with 10,000 leads a leaderboard page or a what-if page took tens of
seconds. Here a Query of the table's key reads that key's items, and a Query of an index reads the
items grouped under its partition value; the groups are kept current write by write (every put,
delete and update marks its item), not rebuilt. moto still filters, sorts and pages them, so the
answers are moto's, paged as DynamoDB pages an index (by its items' projected size). A COUNT of a
whole index partition (no condition on its sort key, no filter) counts the group in one answer:
moto would sort, copy and project every item only to count them.
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from moto.dynamodb.models.dynamo_type import Item
from moto.dynamodb.models.table import SecondaryIndex, Table
from moto.dynamodb.responses import DynamoHandler

ItemKey = tuple[Any, Any]  # (hash key, range key) as moto's DynamoTypes
_SERVING: list[Callable[[], bool]] = [lambda: False]
_plain_query = Table.query
_plain_put = Table.put_item
_plain_delete = Table.delete_item
_plain_sort = Table.sorted_items
_plain_project = SecondaryIndex.project
_plain_handle_query = DynamoHandler.query
_COUNTING = threading.local()  # set while a Query asks only for the count of a whole partition


@dataclass
class _Grouping:
    """One index attribute's items by value; `dirty`: items written since, to place again;
    `projected`: by index name, its items as projected (an item written since is taken out)."""

    groups: dict[tuple[str, str], dict[ItemKey, Any]] = field(default_factory=dict)
    where: dict[ItemKey, tuple[str, str]] = field(default_factory=dict)
    dirty: set[ItemKey] = field(default_factory=set)
    projected: dict[str, dict[ItemKey, Item]] = field(default_factory=dict)


_GROUPINGS: weakref.WeakKeyDictionary[Table, dict[str, _Grouping]] = weakref.WeakKeyDictionary()


def install_index_partitions(serving: Callable[[], bool]) -> None:
    """Queries take the partition only while `serving()`; writes are marked always (so a grouping
    is never stale, whoever wrote)."""
    _SERVING[0] = serving
    Table.query = _query  # type: ignore[method-assign]
    Table.put_item = _put_item  # type: ignore[method-assign]
    Table.delete_item = _delete_item  # type: ignore[method-assign]
    Table.sorted_items = _sorted_items  # type: ignore[method-assign]
    SecondaryIndex.project = _project  # type: ignore[method-assign]
    DynamoHandler.query = _handle_query  # type: ignore[method-assign]
    # UpdateItem, which moto may apply to the item in place, marks it in local/embedded_updates.py.


def _sorted_items(self: Table, hash_key_attrs: list[str], range_key_attrs: list[str | None], items: list[Any]) -> Any:
    """moto's order, each item's sort values worked out once (moto's comparisons convert both sides
    of every comparison: a page of a 10,000-lead index sorted in seconds)."""
    if not _SERVING[0]():
        return _plain_sort(self, hash_key_attrs, range_key_attrs, items)
    attributes = self._generate_attr_to_sort_by(hash_key_attrs, range_key_attrs)
    items.sort(key=lambda item: tuple(item.attrs[name].cast_value for name in attributes))
    return items


def _project(self: SecondaryIndex, item: Item) -> Item:
    """An index's projection of an item (its keys and included attributes) taken attribute by
    attribute: moto converts the whole item to plain Python and back for every row it returns."""
    kind = (self.projection or {}).get("ProjectionType")
    if not _SERVING[0]() or kind not in ("KEYS_ONLY", "INCLUDE"):
        return _plain_project(self, item)
    kept = {*self.table_key_attrs, *self.schema_key_attrs}
    if kind == "INCLUDE":
        kept.update(self.projection.get("NonKeyAttributes", []))
    return Item(item.hash_key, item.range_key, {name: value for name, value in item.attrs.items() if name in kept})


def _put_item(self: Table, *args: Any, **kwargs: Any) -> Any:
    item = _plain_put(self, *args, **kwargs)
    _mark(self, (item.hash_key, item.range_key))
    return item


def _delete_item(self: Table, hash_key: Any, range_key: Any) -> Any:
    found = _plain_delete(self, hash_key, range_key)
    _mark(self, (hash_key, range_key))
    return found


def mark_updated(table: Table, item: Any) -> None:
    _mark(table, (item.hash_key, item.range_key))


def _mark(table: Table, key: ItemKey) -> None:
    for grouping in _GROUPINGS.get(table, {}).values():
        grouping.dirty.add(key)


def _handle_query(self: DynamoHandler) -> Any:
    body = self.body
    _COUNTING.whole = (
        _SERVING[0]() and str(body.get("Select", "")).upper() == "COUNT"
        and not any(body.get(name) for name in ("FilterExpression", "QueryFilter", "ExclusiveStartKey", "Limit"))
    )  # fmt: skip
    try:
        return _plain_handle_query(self)
    finally:
        _COUNTING.whole = False


def _query(self: Table, *args: Any, **kwargs: Any) -> Any:
    if not _SERVING[0]():
        return _plain_query(self, *args, **kwargs)
    index_name = args[7] if len(args) > 7 else kwargs.get("index_name")
    if not index_name:
        hash_key = args[0] if args else kwargs.get("hash_key")
        if hash_key is None or not self.range_key_attr:
            return _plain_query(self, *args, **kwargs)
        partition = list(self.items[hash_key].values()) if hash_key in self.items else []
        return _query_over(self, partition, args, kwargs)
    conditions = kwargs.get("hash_key_conditions") or []
    if len(conditions) != 1 or index_name not in {index.name for index in self.global_indexes}:
        return _plain_query(self, *args, **kwargs)
    attribute, value = conditions[0]
    grouping = _current(self, attribute)
    group = grouping.groups.get((value.type, str(value.value)), {})
    index = next(index for index in self.global_indexes if index.name == index_name)
    if getattr(_COUNTING, "whole", False) and args[1] is None and not kwargs.get("range_key_conditions"):
        # The index holds only the items with every one of its key attributes.
        sort_keys = [key["AttributeName"] for key in index.schema if key["KeyType"] == "RANGE"]
        counted = [item for item in group.values() if all(item.attrs.get(name) for name in sort_keys)]
        return counted, len(counted), None
    if (index.projection or {}).get("ProjectionType") not in ("KEYS_ONLY", "INCLUDE"):
        return _query_over(self, list(group.values()), args, kwargs)
    # DynamoDB reads an index's own items, so its 1 MB page holds as many of them as fit: moto
    # measures (and deep-copies) whole table items, paging a count of 10,000 leads 30 times.
    projected = grouping.projected.setdefault(index.name, {})
    items = []
    for key, item in group.items():
        found = projected.get(key)
        if found is None:
            found = projected[key] = index.project(item)
        items.append(found)
    return _query_over(self, items, args, kwargs)


def _current(table: Table, attribute: str) -> _Grouping:
    by_attribute = _GROUPINGS.setdefault(table, {})
    grouping = by_attribute.get(attribute)
    if grouping is None:
        grouping = by_attribute[attribute] = _Grouping()
        for item in table.all_items():
            _place(grouping, (item.hash_key, item.range_key), item, attribute)
        return grouping
    for key in grouping.dirty:
        for projected in grouping.projected.values():
            projected.pop(key, None)
        old = grouping.where.pop(key, None)
        if old is not None:
            grouping.groups[old].pop(key, None)
        hash_key, range_key = key
        current = table.items[hash_key].get(range_key) if hash_key in table.items else None
        if current is not None:
            _place(grouping, key, current, attribute)
    grouping.dirty.clear()
    return grouping


def _place(grouping: _Grouping, key: ItemKey, item: Any, attribute: str) -> None:
    found = item.attrs.get(attribute)
    if found is not None:
        value = (found.type, str(found.value))
        grouping.groups.setdefault(value, {})[key] = item
        grouping.where[key] = value


def _query_over(table: Table, partition: list[Any], args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    table.all_items = lambda: partition  # type: ignore[method-assign]  # for this one Query
    try:
        return _plain_query(table, *args, **kwargs)
    finally:
        del table.all_items
