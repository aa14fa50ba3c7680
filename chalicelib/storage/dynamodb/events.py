"""The event log on DynamoDB: new events, each a conditional put (the put is the deduplication),
with their identity claims, in transactions: stored apart from the card (`store`), or with a new
lead's first card (`create`) or the card folded from them (`append`)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from chalicelib.domain.events import LeadEvent, as_utc, to_us
from chalicelib.storage import event_cursor
from chalicelib.storage.items import LEAD_SK, event_sk, lead_pk, n, s
from chalicelib.storage.listing import NAME_ROTATIONS, NAME_SK, active_keys
from chalicelib.storage.ports import (
    DuplicateEvents,
    EventPage,
    IdentityConflict,
    LeadMerged,
    LeadSave,
    NewLead,
    StoredEvent,
    StoreResult,
    VersionConflict,
)
from chalicelib.storage.schema import FEED, FEED_AT, FEED_INDEX, TTL_ATTRIBUTE
from chalicelib.storage.table import TRANSACTION_LIMIT, ConditionFailed, DynamoTable, Item

from .lead_item import claim_writes, event_feed, name_writes, rescore_mark, save_writes, tier_feed


class DynamoEvents:
    def __init__(self, table: DynamoTable) -> None:
        self.table = table

    def store(self, lead_id: str, events: Sequence[StoredEvent], claim_keys: Sequence[str]) -> StoreResult:
        """Write new events and claim identity keys for the lead, atomically per chunk.

        The conditional put is the deduplication: an event already stored fails its condition, is
        reported as a duplicate and the rest of the chunk is written again without it.
        """
        claims = [write for key in claim_keys for write in claim_writes(self.table.name, lead_id, key)]
        # Every chunk also checks that the lead was not merged away meanwhile (an event written into
        # a merged lead's partition after the merge copied it would be lost), and sets the lead's
        # rescore mark until a full rescore has seen these events: should that rescore never happen
        # (a crash), the next delivery rescores instead of folding into a basis that lacks them.
        not_merged = {"Update": rescore_mark(self.table.name, lead_id)}
        pending = list(events)
        stored: list[str] = []
        duplicates: list[str] = []
        # Claims go first, as many a chunk as fit (two items each: the identity and its mirror).
        claim_room = (TRANSACTION_LIMIT - 1) // 2 * 2
        while pending or claims:
            head = [not_merged, *claims[:claim_room]]
            room = TRANSACTION_LIMIT - len(head)
            chunk, rest = pending[:room], pending[room:]
            failed = self.table.transact(head + [self._event_put(lead_id, item) for item in chunk])
            if failed is None:
                stored.extend(item.event.event_id for item in chunk)
                pending, claims = rest, claims[claim_room:]
                continue
            if 0 in failed:
                raise LeadMerged(lead_id)
            offset = len(head)
            if any(index < offset for index in failed):
                raise IdentityConflict(lead_id)
            dropped = {index - offset for index in failed}
            duplicates.extend(chunk[index].event.event_id for index in sorted(dropped))
            pending = [item for index, item in enumerate(chunk) if index not in dropped] + rest
        return StoreResult(stored, duplicates)

    def create(
        self, lead_id: str, events: Sequence[StoredEvent], claim_keys: Sequence[str], change: LeadSave
    ) -> int | None:
        """A lead seen for the first time: its identity claims, events and first card in one
        transaction (one request for a new lead instead of four). None when that does not fit in
        one transaction: store and rescore it the usual way. Raises IdentityConflict (nothing
        written) when a key was claimed meanwhile."""
        writes, claims = self._create_writes(lead_id, events, claim_keys, change)
        if len(writes) > TRANSACTION_LIMIT:
            return None
        failed = self.table.transact(writes)
        if failed is None:
            return change.expected_version + 1
        if any(index < claims for index in failed):
            raise IdentityConflict(lead_id)
        return None  # a fresh lead id cannot hold events or a card: let the usual path sort it out

    def _create_writes(
        self, lead_id: str, events: Sequence[StoredEvent], claim_keys: Sequence[str], change: LeadSave
    ) -> tuple[list[Item], int]:
        """A new lead's transaction items, its claims first (how many: the second value)."""
        claims = [write for key in claim_keys for write in claim_writes(self.table.name, lead_id, key)]
        writes = [*claims, *(self._event_put(lead_id, item) for item in events), *save_writes(self.table.name, change)]
        return writes, len(claims)

    def create_many(self, leads: Sequence[NewLead]) -> list[int | None]:
        """New leads packed into as few transactions as hold them (a batch of 2,500 new visitors in
        a few hundred requests, not 2,500); a transaction that fails is done again lead by lead, so
        each answer is what `create` would have said."""
        answers: list[int | None] = [None] * len(leads)
        chunk: list[int] = []
        writes: list[Item] = []
        for index, (lead_id, events, keys, change) in enumerate(leads):
            own, _ = self._create_writes(lead_id, events, keys, change)
            if len(own) > TRANSACTION_LIMIT:
                continue  # too big for any transaction: the usual path stores it
            if len(writes) + len(own) > TRANSACTION_LIMIT:
                self._create_chunk(leads, chunk, writes, answers)
                chunk, writes = [], []
            chunk.append(index)
            writes += own
        self._create_chunk(leads, chunk, writes, answers)
        return answers

    def _create_chunk(self, leads: Sequence[NewLead], chunk: list[int], writes: list[Item],
                      answers: list[int | None]) -> None:  # fmt: skip
        if not chunk:
            return
        if len(chunk) > 1 and self.table.transact(writes) is None:
            for index in chunk:
                answers[index] = leads[index][3].expected_version + 1
            return
        for index in chunk:
            try:
                answers[index] = self.create(*leads[index])
            except IdentityConflict:
                answers[index] = None

    def append(self, lead_id: str, events: Sequence[StoredEvent], claim_keys: Sequence[str], change: LeadSave) -> int:
        """Events, claims and the folded card in one transaction (see the port). The lead item's
        conditional update comes first, so its failure is index 0."""
        lead_writes = save_writes(self.table.name, change)
        claims = [write for key in claim_keys for write in claim_writes(self.table.name, lead_id, key)]
        puts = [self._event_put(lead_id, item) for item in events]
        writes = [*lead_writes, *claims, *puts]
        if len(writes) > TRANSACTION_LIMIT:
            raise ValueError(f"an append holds at most {self.append_room(len(claim_keys))} events")
        failed = self.table.transact(writes)
        if failed is None:
            return change.expected_version + 1
        first_claim, first_put = len(lead_writes), len(lead_writes) + len(claims)
        if any(first_claim <= index < first_put for index in failed):
            raise IdentityConflict(lead_id)
        if 0 in failed:
            raise VersionConflict(lead_id)
        raise DuplicateEvents([events[index - first_put].event.event_id for index in failed if index >= first_put])

    def append_room(self, claims: int) -> int:
        # The lead's update and tier change, its name's search items (when it changes), its fold
        # memory, the claims.
        return TRANSACTION_LIMIT - 3 - NAME_ROTATIONS - 2 * claims

    def page(self, lead_id: str, limit: int, cursor: str | None, now: datetime) -> EventPage:
        """One Query of the feed index, newest first."""
        pk = lead_pk(lead_id)
        request = {
            "IndexName": FEED_INDEX,
            "KeyConditionExpression": "#feed = :pk",
            "ExpressionAttributeNames": {"#feed": FEED},
            "ExpressionAttributeValues": {":pk": s(pk)},
            "ScanIndexForward": False,
            "Limit": limit,
        }
        start = None
        if cursor:
            event_us, sort_key = event_cursor.decode(cursor)
            start = {"pk": s(pk), "sk": s(sort_key), FEED: s(pk), FEED_AT: n(event_us)}
        items, last = self.table.page("query", request, start)
        now_epoch = int(as_utc(now).timestamp())
        events = [
            LeadEvent.model_validate_json(item["data"]["S"])
            for item in items
            if not (TTL_ATTRIBUTE in item and int(item[TTL_ATTRIBUTE]["N"]) <= now_epoch)
        ]
        following = event_cursor.encode(int(last[FEED_AT]["N"]), last["sk"]["S"]) if last else None
        return EventPage(events, following)

    def add_feed_keys(self, lead_id: str) -> int:
        """Events, tier changes and the lead item written before their indexes: given their `feed`
        keys (the lead item its last activity's), and the lead's name its search items."""
        # A Query's filter cannot name the sort key: items are told apart here. Events and tier
        # changes come only while they lack `feed`; the lead item (`version`) and NAME items
        # (`company_key`) always, to see what they lack.
        request = {
            "KeyConditionExpression": "pk = :pk",
            "FilterExpression": "attribute_not_exists(#feed) OR attribute_exists(version)"
            " OR attribute_exists(company_key)",
            "ProjectionExpression": "pk, sk, #data, #at, #feed, #name, last_active_at, merged_into",
            "ExpressionAttributeNames": {"#feed": FEED, "#data": "data", "#at": "at", "#name": "name"},
            "ExpressionAttributeValues": {":pk": s(lead_pk(lead_id))},
        }
        items = list(self.table.pages("query", request))
        added = 0
        for item in items:
            sk = item["sk"]["S"]
            if sk.startswith("EVT#") and FEED not in item:
                keys = event_feed(lead_id, LeadEvent.model_validate_json(item["data"]["S"]).occurred_at)
            elif sk.startswith("TIER#") and FEED not in item:
                keys = tier_feed(item["at"]["S"], lead_id)
            elif sk == LEAD_SK and FEED not in item and "last_active_at" in item and "merged_into" not in item:
                keys = active_keys(to_us(datetime.fromisoformat(item["last_active_at"]["S"])), lead_id)
            else:
                continue
            added += self._set_feed(item, keys)
        lead = next((item for item in items if item["sk"]["S"] == LEAD_SK), None)
        named = any(item["sk"]["S"].startswith(NAME_SK) for item in items)
        if lead is not None and "merged_into" not in lead and lead.get("name", {}).get("S") and not named:
            puts = [write["Put"]["Item"] for write in name_writes(self.table.name, lead_id, lead["name"]["S"])
                    if "Put" in write]  # fmt: skip
            self.table.batch_write([{"PutRequest": {"Item": item}} for item in puts])
            added += len(puts)
        return added

    def _set_feed(self, item: Item, keys: Item) -> int:
        try:
            self.table.call(
                "update_item",
                TableName=self.table.name,
                Key={"pk": item["pk"], "sk": item["sk"]},
                UpdateExpression="SET #feed = :feed, #at = :at",
                ConditionExpression="attribute_exists(pk)",  # merged or deleted meanwhile: leave it gone
                ExpressionAttributeNames={"#feed": FEED, "#at": FEED_AT},
                ExpressionAttributeValues={":feed": keys[FEED], ":at": keys[FEED_AT]},
            )
        except ConditionFailed:
            return 0
        return 1

    def _event_put(self, lead_id: str, item: StoredEvent) -> Item:
        attributes = {
            "pk": s(lead_pk(lead_id)),
            "sk": s(event_sk(item.event)),
            "data": s(item.event.model_dump_json()),
            **event_feed(lead_id, item.event.occurred_at),
        }
        if item.expires_at is not None:
            attributes[TTL_ATTRIBUTE] = n(int(item.expires_at.timestamp()))
        return {
            "Put": {"TableName": self.table.name, "Item": attributes, "ConditionExpression": "attribute_not_exists(pk)"}
        }
