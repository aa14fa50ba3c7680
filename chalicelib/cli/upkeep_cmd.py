"""`upkeep [--now ISO] [--dry-run] (--stage NAME | --local) [--json]`: run the hourly upkeep once
(decay, the rescore after a rules change, the outbox sweep), from here, against a stage or make
run, and print what changed."""

from __future__ import annotations

import argparse
import json
from datetime import UTC, datetime
from typing import Any

from chalicelib.cli.target import add_json_argument, add_target_arguments, target_container
from chalicelib.domain.events import parse_instant


def register(commands: Any) -> None:
    upkeep = commands.add_parser(
        "upkeep", help="run the upkeep once (decay, rules sweep, outbox sweep) and print what changed"
    )
    upkeep.add_argument("--now", help="ISO instant to decay to (default: the current time)")
    upkeep.add_argument("--dry-run", action="store_true", help="compute and print, save and queue nothing")
    add_target_arguments(upkeep)
    add_json_argument(upkeep)
    upkeep.set_defaults(handler=upkeep_command)


def upkeep_command(args: argparse.Namespace) -> int:
    from chalicelib.service_layer.upkeep import as_json, describe

    now = (parse_instant(args.now) if args.now else None) or datetime.now(UTC)
    report = target_container(args).upkeep.run(now, dry_run=args.dry_run)
    if args.json:
        print(json.dumps(as_json(report), indent=2))
    else:
        for line in describe(report):
            print(line)
    return 0
