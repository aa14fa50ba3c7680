"""`decay [--now ISO] [--dry-run] (--stage NAME | --local) [--json]`: run the scheduled job once,
from here, against a stage or make run, and print what changed."""

from __future__ import annotations

import argparse
import json
from datetime import UTC, datetime
from typing import Any

from chalicelib.cli.target import add_json_argument, add_target_arguments, target_container
from chalicelib.domain.events import parse_instant


def register(commands: Any) -> None:
    decay = commands.add_parser("decay", help="run the decay job once and print what changed")
    decay.add_argument("--now", help="ISO instant to decay to (default: the current time)")
    decay.add_argument("--dry-run", action="store_true", help="compute and print, save and queue nothing")
    add_target_arguments(decay)
    add_json_argument(decay)
    decay.set_defaults(handler=decay_command)


def decay_command(args: argparse.Namespace) -> int:
    from chalicelib.service_layer.upkeep import as_json, describe

    now = (parse_instant(args.now) if args.now else None) or datetime.now(UTC)
    report = target_container(args).upkeep.run(now, dry_run=args.dry_run)
    if args.json:
        print(json.dumps(as_json(report), indent=2))
    else:
        for line in describe(report):
            print(line)
    return 0
