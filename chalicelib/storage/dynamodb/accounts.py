"""Accounts on DynamoDB: the account item, and GSI by_account, where the account item sorts above
its contacts (ranked by engagement). A roll-up is one Query of that partition with a Limit and one
conditional Put, whatever the account's size; the leaderboard Queries GSI by_tier's ACCOUNT#<tier>
partitions (no Scan)."""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any

from chalicelib.storage.account_ports import AccountPage, AccountState, RankedAccount
from chalicelib.storage.items import s
from chalicelib.storage.listing_order import Partition
from chalicelib.storage.ports import VersionConflict
from chalicelib.storage.schema import ACCOUNT_INDEX, ACCT, ACCT_RANK, BY_TIER_INDEX
from chalicelib.storage.table import ConditionFailed, DynamoTable, Item

from .account_item import ACCOUNT_SK, TIER_PREFIX, account_item, account_pk, account_state, contact_rank
from .shard_reads import shard_page, valid_position


class DynamoAccounts:
    def __init__(self, table: DynamoTable) -> None:
        self.table = table

    def ranked(self, key: str, limit: int) -> RankedAccount:
        # The account item, `limit` contacts, and one more to know whether there are others.
        items, _ = self.table.page("query", _partition(key, limit + 2))
        account = next((account_state(item) for item in items if item["sk"]["S"] == ACCOUNT_SK), None)
        contacts = [contact_rank(item) for item in items if item["sk"]["S"] != ACCOUNT_SK]
        return RankedAccount(account, contacts[:limit], len(contacts) > limit)

    def get(self, key: str) -> AccountState | None:
        item = self.table.call(
            "get_item", TableName=self.table.name, Key={"pk": s(account_pk(key)), "sk": s(ACCOUNT_SK)},
            ConsistentRead=True,
        ).get("Item")  # fmt: skip
        return account_state(item) if item else None

    def get_many(self, keys: list[str]) -> dict[str, AccountState]:
        wanted = [{"pk": s(account_pk(key)), "sk": s(ACCOUNT_SK)} for key in sorted(set(keys))]
        found = (account_state(item) for item in self.table.batch_get(wanted, {"ProjectionExpression": "account"}))
        return {state.key: state for state in found}

    def save(self, state: AccountState) -> int:
        try:
            self.table.call("put_item", **account_item(self.table.name, state))
        except ConditionFailed as exc:
            raise VersionConflict(state.key) from exc
        return state.version + 1

    def contacts(self, key: str, cursor: str | None, limit: int) -> tuple[list[Any], str | None]:
        # One more than asked (and the account item, on the first page): a full page says
        # whether another follows, and the cursor is the last contact shown.
        items, last = self.table.page("query", _partition(key, limit + 2), _decoded(cursor))
        contacts = [item for item in items if item["sk"]["S"] != ACCOUNT_SK]
        if len(contacts) > limit or (last is not None and len(contacts) == limit):
            shown = contacts[:limit]
            end = shown[-1]
            start = {name: end[name] for name in ("pk", "sk", ACCT, ACCT_RANK)}
            return [contact_rank(item) for item in shown], _encoded(start)
        return [contact_rank(item) for item in contacts], None

    def leaderboard(self, tiers: list[str], cursor: str | None, limit: int) -> AccountPage:
        position, start = _position(cursor, len(tiers))
        keys: list[Item] = []
        next_cursor = None
        while position < len(tiers) and len(keys) < limit:
            part = Partition(BY_TIER_INDEX, "tier", f"{TIER_PREFIX}{tiers[position]}", "score", "N", shards="tier")
            if not valid_position(start, part.values(), lambda value, shard: isinstance(value, dict)):
                raise ValueError("not a cursor this list handed out")
            key_names = ("pk", "sk", "tier", "score")
            items, resume = shard_page(self.table, part.requests(), key_names, part.range_key, limit - len(keys), start)
            last = resume(len(items))
            keys += [{"pk": item["pk"], "sk": item["sk"]} for item in items]
            if last is not None:
                start = last
                next_cursor = _encoded({"position": position, "start": last})
                if len(keys) >= limit:
                    break
            else:
                position, start = position + 1, None
                next_cursor = _encoded({"position": position, "start": None}) if position < len(tiers) else None
        found = {item["pk"]["S"]: account_state(item) for item in self.table.batch_get(keys)}
        accounts = [found[key["pk"]["S"]] for key in keys if key["pk"]["S"] in found]
        return AccountPage(accounts, next_cursor if len(keys) >= limit else None)


def _partition(key: str, limit: int) -> dict[str, Any]:
    return {
        "IndexName": ACCOUNT_INDEX,
        "KeyConditionExpression": f"{ACCT} = :account",
        "ExpressionAttributeValues": {":account": s(account_pk(key))},
        "ScanIndexForward": False,
        "Limit": limit,
    }


def _encoded(value: Any) -> str | None:
    if value is None:
        return None
    return base64.urlsafe_b64encode(json.dumps(value, separators=(",", ":")).encode()).decode().rstrip("=")


def _decoded(cursor: str | None) -> Any:
    if not cursor:
        return None
    try:
        return json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (binascii.Error, ValueError, UnicodeDecodeError) as exc:
        raise ValueError("not a cursor this list handed out") from exc


def _position(cursor: str | None, count: int) -> tuple[int, Any]:
    data = _decoded(cursor)
    if data is None:
        return 0, None
    if not isinstance(data, dict) or not isinstance(data.get("position"), int) or not 0 <= data["position"] <= count:
        raise ValueError("not a cursor this list handed out")
    return data["position"], data.get("start")
