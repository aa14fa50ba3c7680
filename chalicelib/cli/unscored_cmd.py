"""`unscored [--days N] (--stage NAME | --local) [--json]`: the event names that earned nothing
in the window, and why (what GET /reports/unscored answers)."""

from __future__ import annotations

import argparse
import json
from datetime import UTC, datetime
from typing import Any

from chalicelib.cli.target import add_json_argument, add_target_arguments, target_container
from chalicelib.domain.unscored import REPORT_RETENTION_DAYS

REASONS = {
    "unmapped_name": "no event type has this name",
    "no_rule": "no rule scores its type",
    "recorded_only": "recorded only (on purpose)",
    "no_rule_matched": "no rule matched its properties",
    "missing_identity:email": "no email (or other identity) to attribute it to",
}


def register(commands: Any) -> None:
    unscored = commands.add_parser("unscored", help="list the event names that earned nothing, and why")
    unscored.add_argument("--days", type=int, default=30, help=f"window in UTC days, 1-{REPORT_RETENTION_DAYS}")
    add_target_arguments(unscored)
    add_json_argument(unscored)
    unscored.set_defaults(handler=unscored_command)


def unscored_command(args: argparse.Namespace) -> int:
    if not 1 <= args.days <= REPORT_RETENTION_DAYS:
        raise SystemExit(f"--days: between 1 and {REPORT_RETENTION_DAYS}")
    report = target_container(args).reports.unscored_report(datetime.now(UTC), args.days)
    if args.json:
        print(json.dumps(report, indent=2))
        return 0
    for line in describe(report):
        print(line)
    return 0


def reason_text(reason: str) -> str:
    if reason.startswith("filtered:"):
        return f"ignored by the {reason.removeprefix('filtered:')} filter"
    return REASONS.get(reason, reason)


def describe(report: dict[str, Any]) -> list[str]:
    lines = report["unscored"]
    head = f"Events that earned nothing, {report['since']} to {report['until']} (UTC days):"
    if not lines:
        return [head, "  none: every event that arrived was scored"]
    width = max(len(line["name"]) for line in lines)
    rows = [
        head,
        f"  {'events':>7}  {'source':<10} {'name':<{width}}  {'type':<20} {'why':<32} {'last seen':<21} example lead",
    ]
    for line in lines:
        rows.append(
            f"  {line['count']:>7,}  {line['source']:<10} {line['name']:<{width}}  {line['type']:<20} "
            f"{reason_text(line['reason']):<32} {line['last_seen']:<21} {line['example_lead']}"
        )
    rows.append("Map a name under engagement.event_types, add a rule for its type, or list the type under")
    rows.append("engagement.recorded_only; then `rules validate` and deploy (stored events are rescored).")
    return rows
