"""The capacity model: for a stated workload, the write rate of the hottest partition key of the
table and of each index, against DynamoDB's per-partition limit, and what follows from it for the
Lambda functions and the queue (`make bench` prints it; the README's "Scale and cost" quotes it).

DynamoDB serves at most 1,000 write request units a second on one partition key, in the table and
in each global secondary index (an index whose partition throttles throttles the table's writes
too). An item under 1 KB written once is one unit. Target: no key above 10% of that at the stated
workload, so a burst of ten times the workload on one key is still served.

Each lead save (an event that changes the lead, or its decay) writes the lead item, which feeds
these index partitions: `by_tier` (tier + shard: the leaderboard), `moved` (day + shard: today's
movers), `feed` (ACTIVE#month + shard: the leads by last activity; a lead's own events; TIERS#day
+ shard: the day's tier changes), `due` and `sync` (shards: decay and write-back), `by_account`
(one account's contacts). The unscored report's counters are items of their own, sharded too.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from chalicelib.storage.schema import SHARDS

PARTITION_WRITES_PER_SECOND = 1000.0
TARGET_SHARE = 0.10


@dataclass(frozen=True)
class Workload:
    """Internet scale, as the scale issue states it; every share is of events a second."""

    events_per_second: float = 10_000
    leads: int = 10_000_000
    changing_share: float = 0.6  # events that change their lead's score (the rest: capped, ignored, duplicates)
    # Where the changing leads are (active leads skew warm; most leads are cold).
    tier_mix: dict[str, float] = field(
        default_factory=lambda: {"cold": 0.55, "warm": 0.25, "hot": 0.15, "super_hot": 0.05}
    )
    tier_change_share: float = 0.02  # events that move their lead to another tier
    unscored_share: float = 0.30  # events no rule scores (the report counts them, by day and name)
    account_share: float = 0.8  # saves of leads that belong to an account (each rolls it up)
    largest_account_share: float = 0.002  # the busiest company's share of events (a 20,000-person customer)
    hottest_lead_per_second: float = 1.0  # one lead's events a second (the speed limit keeps a bot to this)
    # Write units of an index row (1 KB each): the decay index projects the lead's basis (the heavy
    # lead bench's realistic mix: about 2.5 KB without the fold's memory, kept apart); the others
    # project a few small attributes. The lead item of that mix: about 4.4 KB.
    due_row_units: float = 3.0
    lead_item_units: float = 5.0
    decay_changes_per_lead_per_day: float = 1.0


@dataclass(frozen=True)
class KeyRate:
    where: str  # the table or the index
    key: str  # the partition key's pattern
    per_second: float  # write units a second on its hottest key
    shards: int

    @property
    def share(self) -> float:
        return self.per_second / PARTITION_WRITES_PER_SECOND


def saves_per_second(load: Workload) -> float:
    """Lead saves: the events that change a score, and the decay job's rescoring of due leads."""
    return load.events_per_second * load.changing_share + load.leads * load.decay_changes_per_lead_per_day / 86_400


def key_rates(load: Workload | None = None) -> list[KeyRate]:
    load = load or Workload()
    saves = saves_per_second(load)
    hottest_tier = max(load.tier_mix.values())
    rows = [
        KeyRate("table", "LEAD#<id> (one lead's item and events)",
                load.hottest_lead_per_second * (load.lead_item_units + 1), 1),
        KeyRate("table", "UNSCORED#<day>~<shard> (the unscored report's counters)",
                load.events_per_second * load.unscored_share / SHARDS["unscored"], SHARDS["unscored"]),
        KeyRate("by_tier", "<tier>~<shard> (the leaderboard)", saves * hottest_tier / SHARDS["tier"], SHARDS["tier"]),
        KeyRate("by_tier", "ACCOUNT#<tier>~<shard> (the accounts' leaderboard)",
                saves * load.account_share * hottest_tier / SHARDS["tier"], SHARDS["tier"]),
        KeyRate("moved", "<day>~<shard> (today's movers)", saves / SHARDS["moved"], SHARDS["moved"]),
        KeyRate("feed", "ACTIVE#<month>~<shard> (leads by last activity)",
                load.events_per_second * load.changing_share / SHARDS["active"], SHARDS["active"]),
        KeyRate("feed", "TIERS#<day>~<shard> (the day's tier changes)",
                load.events_per_second * load.tier_change_share / SHARDS["tier_day"], SHARDS["tier_day"]),
        KeyRate("feed", "LEAD#<id> (one lead's events)", load.hottest_lead_per_second, 1),
        KeyRate("due", "due#<shard> (decay; rows carry the basis)", saves * load.due_row_units / SHARDS["due"],
                SHARDS["due"]),
        # Marked at the change, cleared at the write-back: two writes a save.
        KeyRate("sync", "sync#<shard> (write-back outbox)", 2 * saves / SHARDS["sync"], SHARDS["sync"]),
        KeyRate("by_account", "ACCT#<key> (the busiest account)",
                load.events_per_second * load.changing_share * load.largest_account_share, 1),
    ]  # fmt: skip
    return rows


def hottest(load: Workload | None = None) -> KeyRate:
    return max(key_rates(load), key=lambda row: row.per_second)


# ------------------------------------------------------------------------ Lambda and the queue
TASK_CONSUMERS = 2  # task-queue consumers at once: resources.yaml MaximumConcurrency, config.json reserved_concurrency
CRM_CALLERS = TASK_CONSUMERS + 1  # and the CRM sync: each paces itself to this share of a CRM's limit (CRM_CALLERS)
TASK_BATCH = 1000  # messages an invocation takes (app.py), within TASK_BATCH_WINDOW_SECONDS
TASK_BATCH_WINDOW_SECONDS = 20


@dataclass(frozen=True)
class Sizing:
    """What one stage needs at the workload, from the same figures."""

    api_concurrency_batched: float  # Segment/RudderStack batches of 100 events
    api_concurrency_single: float  # one event per webhook delivery (HubSpot, forms)
    table_write_units: float  # a second, the table and its indexes together
    writebacks_per_second: float  # visible changes the CRM must eventually show
    hubspot_contacts_per_second: float  # what HubSpot's rate limit lets through (100 a batch call)


def sizing(
    load: Workload | None = None,
    seconds_per_delivery: float = 0.15,
    write_units_per_event: float = 21.3,
    hubspot_requests_per_10s: int = 100,
) -> Sizing:
    """`seconds_per_delivery`: the webhook's p99 (make bench); `write_units_per_event`: the heavy-lead
    bench's request units an event for the realistic mix (the event, the 4.4 KB lead item twice in
    its transaction, its index rows, and for emails the fold's memory item)."""
    load = load or Workload()
    return Sizing(
        api_concurrency_batched=load.events_per_second / 100 * seconds_per_delivery,
        api_concurrency_single=load.events_per_second * seconds_per_delivery,
        table_write_units=load.events_per_second * write_units_per_event,
        writebacks_per_second=load.events_per_second * load.changing_share,
        hubspot_contacts_per_second=hubspot_requests_per_10s / 10 * 100,
    )
