"""The capacity model at the stated workload (infra/capacity.py): the write rate of the hottest
partition key of the table and of each index against DynamoDB's 1,000 writes a second per
partition. Target: no key above 10%."""

from __future__ import annotations

from infra.capacity import PARTITION_WRITES_PER_SECOND, TARGET_SHARE, Workload, key_rates, saves_per_second


def run() -> None:
    load = Workload()
    print(f"\ncapacity model: {load.events_per_second:,.0f} events/s over {load.leads:,} leads, "
          f"{load.changing_share:.0%} change a score ({saves_per_second(load):,.0f} lead saves/s), tier mix "
          + ", ".join(f"{tier} {share:.0%}" for tier, share in load.tier_mix.items()))  # fmt: skip
    print(
        f"{'where':<11} {'hottest key':<56} {'shards':>6} {'writes/s':>9} {'of limit':>9}  target <= {TARGET_SHARE:.0%}"
    )
    for row in key_rates(load):
        verdict = "ok" if row.share <= TARGET_SHARE else "OVER"
        print(f"{row.where:<11} {row.key:<56} {row.shards:>6} {row.per_second:>9,.1f} {row.share:>8.1%}  {verdict}")
    worst = max(key_rates(load), key=lambda row: row.share)
    print(f"  hottest: {worst.where} {worst.key}: {worst.per_second:,.0f} writes/s, "
          f"{worst.share:.0%} of a partition's {PARTITION_WRITES_PER_SECOND:,.0f}")  # fmt: skip


if __name__ == "__main__":
    run()
