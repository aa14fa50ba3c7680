"""The unscored-events report's counters (domain/unscored.py), in the one table.

Item: pk `UNSCORED#<UTC day>~<shard>`, sk `<source>#<reason>#<event name>`; attributes count,
first_seen, last_seen, example_lead, type, and a `ttl` after REPORT_RETENTION_DAYS.

Time buckets and shards: every event of one name writes to that name's item of the day in its
lead's shard (storage/items.py `spread`), so no item grows or takes writes for longer than a day,
no partition takes every unscored event of the internet-scale workload (infra/capacity.py), and one
delivery adds to each of its lines with one UpdateItem whatever the number of events it carried.
The report reads one Query per shard and day of its window, and adds a name's shards up:
O(names x shards x days) items, never a Scan.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import datetime, timedelta
from typing import Any

from chalicelib.domain.unscored import REPORT_RETENTION_DAYS, UnscoredCount, seen_at
from chalicelib.storage.items import n, s, spread, spreads
from chalicelib.storage.table import DynamoTable

PREFIX = "UNSCORED#"
_NAMES = {"#count": "count", "#source": "source", "#name": "name", "#type": "type", "#reason": "reason", "#ttl": "ttl"}


def day_pk(day: str) -> str:
    return f"{PREFIX}{day}"


def line_sk(line: UnscoredCount) -> str:
    # source and reason never contain "#": the rest is the name, whatever it contains
    return f"{line.key.source}#{line.key.reason}#{line.key.name}"


class DynamoEventCounts:
    def __init__(self, table: DynamoTable) -> None:
        self.table = table

    def count_unscored(self, lines: Sequence[UnscoredCount], now: datetime) -> None:
        day, at = seen_at(now)
        expires = int((now + timedelta(days=REPORT_RETENTION_DAYS)).timestamp())
        for line in lines:
            self.table.call(
                "update_item",
                TableName=self.table.name,
                Key={"pk": s(spread(day_pk(day), line.example_lead, "unscored")), "sk": s(line_sk(line))},
                UpdateExpression=(
                    "ADD #count :count SET #source = :source, #reason = :reason, #name = :name, #type = :type,"
                    " first_seen = if_not_exists(first_seen, :at), last_seen = :at, example_lead = :lead,"
                    " #ttl = if_not_exists(#ttl, :ttl)"
                ),
                ExpressionAttributeNames=_NAMES,
                ExpressionAttributeValues={
                    ":count": n(line.count),
                    ":source": s(line.key.source),
                    ":reason": s(line.key.reason),
                    ":name": s(line.key.name),
                    ":type": s(line.key.type),
                    ":at": s(at),
                    ":lead": s(line.example_lead),
                    ":ttl": n(expires),
                },
            )

    def unscored_lines(self, days: Sequence[str]) -> Iterator[dict[str, Any]]:
        for day in days:
            lines: dict[tuple[str, str, str], dict[str, Any]] = {}
            for shard in spreads(day_pk(day), "unscored"):
                request = {"KeyConditionExpression": "pk = :pk", "ExpressionAttributeValues": {":pk": s(shard)}}
                for item in self.table.pages("query", request):
                    _add(lines, {
                        "source": item["source"]["S"],
                        "reason": item["reason"]["S"],
                        "name": item["name"]["S"],
                        "type": item["type"]["S"],
                        "count": int(item["count"]["N"]),
                        "first_seen": item["first_seen"]["S"],
                        "last_seen": item["last_seen"]["S"],
                        "example_lead": item["example_lead"]["S"],
                    })  # fmt: skip
            yield from lines.values()


def _add(lines: dict[tuple[str, str, str], dict[str, Any]], line: dict[str, Any]) -> None:
    """A name's line of one shard added to the day's: counts summed, the first and last seen widened."""
    key = (line["source"], line["reason"], line["name"])
    found = lines.get(key)
    if found is None:
        lines[key] = line
        return
    found["count"] += line["count"]
    found["first_seen"] = min(found["first_seen"], line["first_seen"])
    if line["last_seen"] > found["last_seen"]:
        found.update(last_seen=line["last_seen"], example_lead=line["example_lead"])
