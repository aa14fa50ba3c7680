"""The one DynamoDB table, defined once: used by local setup, tests and the deploy template.

Single-table layout (all keys are strings):

- lead: pk `LEAD#<id>`, sk `LEAD`. Profile, card, basis (bounded: domain/basis.py), version
  (optimistic lock); `tier`/`score` feed GSI by_tier; `due_shard`/`due_at` feed GSI due, only while
  a change is due (a sparse index); `company_prefix`/`company_key` feed GSI by_company (search);
  `feed`/`feed_at` (ACTIVE#<month>, the last activity) GSI feed; `moved_day`/`moved_by` GSI moved;
  `day_start#<day>` the score each of the last days started at (storage/score_moves.py).
  `name`, `email`, `company` and `last_active_at` are what the leads list shows. `unscored` marks
  events stored apart from the card, until a full rescore has seen them; new events are folded
  into the basis only while it is absent.
- name: pk `LEAD#<id>`, sk `NAME#<n>`: the lead's name in GSI by_company, one item per word order
  it is searched by ("ada lovelace", "lovelace ada").
- event: pk `LEAD#<id>`, sk `EVT#<source>#<event id>`. A conditional put is the idempotent write;
  `ttl` is set after the longest decay horizon; `feed` (the lead's pk) and `feed_at` (when it
  happened, µs) put it in GSI feed: the lead's events newest first.
- identity: pk `ID#<kind>:<value>`, sk `ID`. Which lead an email, HubSpot id, anonymousId ... is.
  Mirrored in the lead's partition as pk `LEAD#<id>`, sk `KEY#<kind>:<value>` (no attributes): the
  lead item lists only some of its keys, so a merge or a deletion finds them all there.
- tier change: pk `LEAD#<id>`, sk `TIER#<at>#<version>`: from, to, score, reason.
- account: pk `ACCT#<key>`, sk `ACCT`: the company's profile, card and last write-back (`account`,
  JSON); `acct`/`acct_rank` put it first in GSI by_account, `tier` (ACCOUNT#<tier>) and `score` in
  GSI by_tier (the accounts leaderboard). A lead item's `acct`/`acct_rank`/`firm` (its company
  facts) list it among its account's contacts.
- meta: pk `META`, sk `RULES`: the rules fingerprint every lead was last rescored with, and the
  progress of the full rescore a rules change starts.

The lead item's `sync_shard`/`sync_at` (GSI sync, sparse) mark a visible change not yet written
back to the CRM: the outbox that makes the queue lossless.

A new event for a scored lead costs one read of the lead item and one transaction (the event,
the lead's new card and basis); a full rescore (rules changed, merges, late events: see
domain/folding.py) is one Query on `pk = LEAD#<id>`, which returns the lead and all its events.
"""

from __future__ import annotations

import os
from typing import Any

TTL_ATTRIBUTE = "ttl"
BY_TIER_INDEX = "by_tier"
BY_COMPANY_INDEX = "by_company"
DUE_INDEX = "due"
SYNC_INDEX = "sync"
# One index, two uses (CloudFormation adds one index per stack update): an event's `feed` is its
# lead's pk (the lead's activity); a tier change's is TIERS#<day> (the tier changes of a day, for
# the new-MQLs view). `feed_at`: µs since the epoch.
FEED_INDEX = "feed"
FEED = "feed"
FEED_AT = "feed_at"
TIER_DAY_PREFIX = "TIERS#"
# A third use: a lead item's `feed` is ACTIVE#<yyyy-mm> of its last activity, `feed_at` that activity
# (µs): the leads list by last activity, a month's partition at a time.
ACTIVE_MONTH_PREFIX = "ACTIVE#"
# Today's movers (the leads list by change since yesterday): `moved_day` the UTC day of the lead's
# last save, `moved_by` its score then minus the score the day started at (storage/score_moves.py).
MOVED_INDEX = "moved"
MOVED_DAY = "moved_day"
MOVED_BY = "moved_by"
# An account's contacts by engagement (GET /accounts/{key}, the roll-up): a lead item's `acct` is
# ACCT#<account key>, `acct_rank` its engagement; the account item sits in the same partition with
# ACCOUNT_RANK, above any contact, so one Query reads the account and its most engaged contacts.
ACCOUNT_INDEX = "by_account"
ACCT = "acct"
ACCT_RANK = "acct_rank"
ACCOUNT_RANK = 10**15
ACCOUNT_PROJECTION = [
    *("lead_id", "name", "email", "score", "tier", "reasons", "last_active_at", "firm"),
    *("account", "version"),  # the account item's
]
# How many partitions each hot key is spread over (infra/capacity.py: the write rate each takes at
# the stated workload). A key's shard is its lead's (crc32 of the lead id), so a lead's index entry
# stays in one shard; readers query every shard (and merge them in order where order matters).
SHARDS = {"tier": 40, "moved": 80, "active": 64, "tier_day": 4, "due": 320, "sync": 128, "unscored": 32}
# `INDEX_SHARDS=1`: one shard each, for the embedded store of `make run` (and its CLI), which has
# no partitions to protect and answers each index Query by reading the whole table.
ONE_SHARD_ENV = "INDEX_SHARDS"


def shard_count(kind: str) -> int:
    return 1 if os.environ.get(ONE_SHARD_ENV) == "1" else SHARDS[kind]


# What the decay job needs to rescore a due lead without reading it again: its basis and card keys.
DUE_PROJECTION = ["lead_id", "version", "basis", "tier", "score", "grade"]

TABLE_DEFINITION: dict[str, Any] = {
    "AttributeDefinitions": [
        {"AttributeName": "pk", "AttributeType": "S"},
        {"AttributeName": "sk", "AttributeType": "S"},
        {"AttributeName": "tier", "AttributeType": "S"},
        {"AttributeName": "score", "AttributeType": "N"},
        {"AttributeName": "due_shard", "AttributeType": "S"},
        {"AttributeName": "due_at", "AttributeType": "S"},
        {"AttributeName": "sync_shard", "AttributeType": "S"},
        {"AttributeName": "sync_at", "AttributeType": "S"},
        {"AttributeName": "company_prefix", "AttributeType": "S"},
        {"AttributeName": "company_key", "AttributeType": "S"},
        {"AttributeName": FEED, "AttributeType": "S"},
        {"AttributeName": FEED_AT, "AttributeType": "N"},
        {"AttributeName": MOVED_DAY, "AttributeType": "S"},
        {"AttributeName": MOVED_BY, "AttributeType": "N"},
        {"AttributeName": ACCT, "AttributeType": "S"},
        {"AttributeName": ACCT_RANK, "AttributeType": "N"},
    ],
    "KeySchema": [
        {"AttributeName": "pk", "KeyType": "HASH"},
        {"AttributeName": "sk", "KeyType": "RANGE"},
    ],
    "GlobalSecondaryIndexes": [
        {
            "IndexName": BY_TIER_INDEX,
            "KeySchema": [
                {"AttributeName": "tier", "KeyType": "HASH"},
                {"AttributeName": "score", "KeyType": "RANGE"},
            ],
            "Projection": {
                "ProjectionType": "INCLUDE",
                "NonKeyAttributes": ["lead_id", "grade", "fit", "engagement", "reasons", "updated_at"],
            },
        },
        {
            "IndexName": DUE_INDEX,
            "KeySchema": [
                {"AttributeName": "due_shard", "KeyType": "HASH"},
                {"AttributeName": "due_at", "KeyType": "RANGE"},
            ],
            "Projection": {"ProjectionType": "INCLUDE", "NonKeyAttributes": DUE_PROJECTION},
        },
        {
            "IndexName": SYNC_INDEX,
            "KeySchema": [
                {"AttributeName": "sync_shard", "KeyType": "HASH"},
                {"AttributeName": "sync_at", "KeyType": "RANGE"},
            ],
            "Projection": {"ProjectionType": "KEYS_ONLY"},
        },
        {
            # Company search by prefix (storage/listing.py): sparse, only leads with a company.
            "IndexName": BY_COMPANY_INDEX,
            "KeySchema": [
                {"AttributeName": "company_prefix", "KeyType": "HASH"},
                {"AttributeName": "company_key", "KeyType": "RANGE"},
            ],
            "Projection": {"ProjectionType": "INCLUDE", "NonKeyAttributes": ["lead_id"]},
        },
        {
            # A lead's events newest first (GET /leads/{key}/activity), and each day's tier changes
            # (the new-MQLs view): sparse, only events and tier changes carry `feed`.
            "IndexName": FEED_INDEX,
            "KeySchema": [
                {"AttributeName": FEED, "KeyType": "HASH"},
                {"AttributeName": FEED_AT, "KeyType": "RANGE"},
            ],
            "Projection": {
                "ProjectionType": "INCLUDE",
                "NonKeyAttributes": ["data", TTL_ATTRIBUTE, "lead_id", "from", "to", "score"],
            },
        },
        {
            # Each day's movers by how far they moved (GET /leads?sort=change).
            "IndexName": MOVED_INDEX,
            "KeySchema": [
                {"AttributeName": MOVED_DAY, "KeyType": "HASH"},
                {"AttributeName": MOVED_BY, "KeyType": "RANGE"},
            ],
            "Projection": {"ProjectionType": "INCLUDE", "NonKeyAttributes": ["lead_id"]},
        },
        {
            # An account and its contacts, most engaged first (sparse: leads with an account).
            "IndexName": ACCOUNT_INDEX,
            "KeySchema": [
                {"AttributeName": ACCT, "KeyType": "HASH"},
                {"AttributeName": ACCT_RANK, "KeyType": "RANGE"},
            ],
            "Projection": {"ProjectionType": "INCLUDE", "NonKeyAttributes": ACCOUNT_PROJECTION},
        },
    ],
    "BillingMode": "PAY_PER_REQUEST",
}


def create_table(client: Any, table_name: str) -> None:
    """Create the table (and turn on TTL) if it does not exist yet."""
    existing = client.list_tables().get("TableNames", [])
    if table_name not in existing:
        client.create_table(TableName=table_name, **TABLE_DEFINITION)
        client.get_waiter("table_exists").wait(TableName=table_name)
    client.update_time_to_live(
        TableName=table_name, TimeToLiveSpecification={"Enabled": True, "AttributeName": TTL_ATTRIBUTE}
    )
