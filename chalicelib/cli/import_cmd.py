"""`import hubspot|salesforce|pipedrive [--since DATE] [--dry-run] [--restart]`: score every record
the CRM already has, resumably, and print the API calls it used."""

from __future__ import annotations

import argparse
import json
import sys
from datetime import UTC, datetime
from typing import Any

from chalicelib.cli.target import add_json_argument, add_target_arguments, target_container
from chalicelib.domain.events import parse_instant


def register(commands: Any) -> None:
    command = commands.add_parser("import", help="import and score every contact / lead the CRM already has")
    command.add_argument("crm", choices=["hubspot", "salesforce", "pipedrive"])
    command.add_argument("--since", help="only records modified since this date (ISO 8601)")
    command.add_argument("--dry-run", action="store_true", help="read and score; store and write back nothing")
    command.add_argument("--restart", action="store_true", help="start again instead of resuming a stopped import")
    add_target_arguments(command)
    add_json_argument(command)
    command.set_defaults(handler=import_command)


def import_command(args: argparse.Namespace) -> int:
    from chalicelib.errors import CrmUnavailable

    parts = target_container(args)
    reader = parts.record_readers.get(args.crm)
    if reader is None:
        needs = {
            "hubspot": "HUBSPOT_ACCESS_TOKEN (a private app token with crm.objects.contacts.read)",
            "salesforce": "SALESFORCE_INSTANCE_URL and SALESFORCE_ACCESS_TOKEN (or a client id and secret)",
            "pipedrive": "PIPEDRIVE_API_TOKEN (Personal preferences → API) and PIPEDRIVE_COMPANY_DOMAIN",
        }
        print(f"set {needs[args.crm]}", file=sys.stderr)
        return 2
    since = None
    if args.since:
        instant = parse_instant(args.since)
        since = instant.isoformat() if instant else None
    try:
        total = reader.total(since)
        with _progress(total, args.crm) as bar:
            report = parts.crm_import.run(
                reader,
                datetime.now(UTC),
                since=since,
                dry_run=args.dry_run,
                restart=args.restart,
                progress=bar.update,
            )
    except CrmUnavailable as exc:
        print(f"{args.crm} did not answer: {exc}; run the same command again to resume", file=sys.stderr)
        return 1
    if args.json:
        summary = report.summary() | {
            "dry_run": args.dry_run,
            "tiers": dict(report.tiers),
            "api_calls": reader.calls_made,
        }
        print(json.dumps(summary, indent=2))
        return 3 if report.stopped else 0
    verb = "would score" if args.dry_run else "imported"
    print(
        f"{verb} {report.records} records in {report.pages} pages"
        + ("" if args.dry_run else f": {report.accepted} new events, {report.changed} write-backs queued")
        + (" (resumed)" if report.resumed else "")
    )
    if args.dry_run:
        print("tiers: " + ", ".join(f"{tier} {count}" for tier, count in sorted(report.tiers.items())))
    print(f"{args.crm} API calls: {reader.calls_made}")  # the import's, and the count for the ETA
    if report.stopped:
        print(f"stopped early: {report.stopped}", file=sys.stderr)
        return 3
    return 0


def _progress(total: int | None, name: str) -> Any:
    """A progress bar on stderr with count, rate and ETA (tqdm: a dev tool, as the import runs
    from a checkout's .venv, never in Lambda)."""
    from tqdm import tqdm

    return tqdm(total=total, unit=" records", desc=f"import {name}", file=sys.stderr, smoothing=0.1)
