"""The capacity model at the stated workload (infra/capacity.py): the write rate of the hottest
partition key of the table and of each index against DynamoDB's 1,000 writes a second per
partition. Target: no key above 10%."""

from __future__ import annotations

from infra.capacity import (
    CRM_CALLERS,
    PARTITION_WRITES_PER_SECOND,
    TARGET_SHARE,
    TASK_BATCH,
    TASK_CONSUMERS,
    Workload,
    key_rates,
    saves_per_second,
    sizing,
)


def run() -> None:
    load = Workload()
    print(f"\ncapacity model: {load.events_per_second:,.0f} events/s over {load.leads:,} leads, "
          f"{load.changing_share:.0%} change a score ({saves_per_second(load):,.0f} lead saves/s), tier mix "
          + ", ".join(f"{tier} {share:.0%}" for tier, share in load.tier_mix.items()))  # fmt: skip
    print(
        f"{'where':<11} {'hottest key':<56} {'shards':>6} {'units/s':>9} {'of limit':>9}  target <= {TARGET_SHARE:.0%}"
    )
    for row in key_rates(load):
        verdict = "ok" if row.share <= TARGET_SHARE else "OVER"
        print(f"{row.where:<11} {row.key:<56} {row.shards:>6} {row.per_second:>9,.1f} {row.share:>8.1%}  {verdict}")
    worst = max(key_rates(load), key=lambda row: row.share)
    print(f"  hottest: {worst.where} {worst.key}: {worst.per_second:,.0f} units/s, "
          f"{worst.share:.0%} of a partition's {PARTITION_WRITES_PER_SECOND:,.0f}")  # fmt: skip
    size = sizing(load)
    print(
        f"  API concurrency: {size.api_concurrency_batched:,.0f} with batches of 100, "
        f"{size.api_concurrency_single:,.0f} with one event a delivery (an account's default limit is 1,000)"
    )
    print(
        f"  table: {size.table_write_units:,.0f} write units/s (on-demand's default table limit is 40,000: "
        "raise it for this workload)"
    )
    print(f"  write-back: {size.writebacks_per_second:,.0f} visible changes/s queued; {TASK_CONSUMERS} consumers "
          f"of up to {TASK_BATCH} messages write the latest card of each lead; HubSpot lets "
          f"{size.hubspot_contacts_per_second:,.0f} contacts/s through, shared by {CRM_CALLERS} callers")  # fmt: skip


if __name__ == "__main__":
    run()
