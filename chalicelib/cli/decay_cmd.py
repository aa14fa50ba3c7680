"""`decay --now ISO [--dry-run]`: run the scheduled job once, here, and print what changed."""

from __future__ import annotations

import argparse
from datetime import UTC, datetime
from typing import Any

from chalicelib.domain.events import parse_instant


def register(commands: Any) -> None:
    decay = commands.add_parser("decay", help="run the decay job once and print what changed")
    decay.add_argument("--now", help="ISO instant to decay to (default: the current time)")
    decay.add_argument("--dry-run", action="store_true", help="compute and print, save and queue nothing")
    decay.set_defaults(handler=decay_command)


def decay_command(args: argparse.Namespace) -> int:
    from chalicelib.bootstrap import container
    from chalicelib.scheduled_job import describe

    now = (parse_instant(args.now) if args.now else None) or datetime.now(UTC)
    report = (args.parts or container()).scheduled_job.run(now, dry_run=args.dry_run)
    for line in describe(report):
        print(line)
    return 0
