"""One index partition spread over shards (`<key>`, `<key>~1` ... `<key>~N-1`, storage/items.py
`spread`), read as if it were one: each shard is Queried from where it stopped (in parallel), the
pages are merged by the range key in the partition's order and cut to the page size, and the
cursor keeps each shard's own position. Correct because the first `limit` items of the merge are
among the first `limit` of each shard.

A position is a shard's LastEvaluatedKey-shaped key (the last item taken from it), None (not read
yet) or "done"."""

from __future__ import annotations

import heapq
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from chalicelib.storage.table import DynamoTable, Item

DONE = "done"
MERGED = "~"  # a merged position: {"~": {shard value: position}}
MAX_PARALLEL = 16

Resume = Callable[[int], Any]  # items taken -> the position to go on from (None: nothing left)


def key_of(item: Item, names: Sequence[str]) -> Item:
    return {name: item[name] for name in names}


def shard_page(
    table: DynamoTable,
    requests: dict[str, dict[str, Any]],
    key_names: Sequence[str],
    range_key: Callable[[Item], Any],
    limit: int,
    position: Any,
) -> tuple[list[Item], Resume]:
    """`requests`: each shard's Query (by its hash value), all in one order (ScanIndexForward False:
    `range_key` descending). Returns up to `limit` items in that order, and `resume`."""
    values = list(requests)
    if len(values) == 1:
        return _single(table, requests[values[0]], key_names, limit, position)
    positions: dict[str, Any] = dict(position[MERGED]) if position else dict.fromkeys(values)
    live = [value for value in values if positions.get(value) != DONE]

    def read(value: str) -> tuple[str, list[Item], Any]:
        items, last = table.page("query", {**requests[value], "Limit": limit}, positions.get(value))
        return value, items, last

    with ThreadPoolExecutor(max_workers=min(MAX_PARALLEL, max(1, len(live)))) as pool:
        pages = list(pool.map(read, live))
    streams = [[(range_key(item), number, index, value, item) for index, item in enumerate(items)]
               for number, (value, items, _) in enumerate(pages)]  # fmt: skip
    merged = list(heapq.merge(*streams, key=lambda entry: (entry[0], -entry[1], -entry[2]), reverse=True))[:limit]
    ends = {value: last for value, _, last in pages}
    fetched = {value: items for value, items, _ in pages}

    def resume(taken: int) -> Any:
        after = dict(positions)
        counts: dict[str, int] = {}
        for entry in merged[:taken]:
            counts[entry[3]] = counts.get(entry[3], 0) + 1
        for value in live:
            used, items = counts.get(value, 0), fetched[value]
            if used == len(items):
                after[value] = ends[value] if ends[value] else DONE
            elif used:
                after[value] = key_of(items[used - 1], key_names)
        return None if all(after.get(value) == DONE for value in values) else {MERGED: after}

    return [entry[4] for entry in merged], resume


def _single(
    table: DynamoTable, request: dict[str, Any], key_names: Sequence[str], limit: int, position: Any
) -> tuple[list[Item], Resume]:
    items, last = table.page("query", {**request, "Limit": limit}, position)

    def resume(taken: int) -> Any:
        return last if taken >= len(items) else key_of(items[taken - 1], key_names) if taken else position

    return items, resume


def valid_position(value: Any, shard_values: Sequence[str], is_key: Callable[[Any, str], bool]) -> bool:
    """A cursor's position for these shards: what DynamoDB would refuse is refused here (a 400)."""
    if value is None:
        return True
    if len(shard_values) == 1:
        return is_key(value, shard_values[0])
    if not isinstance(value, dict) or set(value) != {MERGED} or not isinstance(value[MERGED], dict):
        return False
    positions = value[MERGED]
    return set(positions) <= set(shard_values) and all(
        found is None or found == DONE or is_key(found, shard) for shard, found in positions.items()
    )
