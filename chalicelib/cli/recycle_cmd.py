"""`recycle KEY [--undo] (--stage NAME | --local) [--json]`: recycle a lead (what it earned before
no longer counts; its fit stays), or undo its latest recycle; print its score before and after."""

from __future__ import annotations

import argparse
import json
import sys
from datetime import UTC, datetime
from typing import Any

from chalicelib.cli.target import add_json_argument, add_target_arguments, target_container


def register(commands: Any) -> None:
    recycle = commands.add_parser("recycle", help="recycle a lead (earlier engagement stops counting), or --undo it")
    recycle.add_argument("key", help="the lead: hubspot:ID, salesforce:ID, email:ADDR, user:ID or its lead id")
    recycle.add_argument("--undo", action="store_true", help="take the lead's latest recycle back")
    add_target_arguments(recycle)
    add_json_argument(recycle)
    recycle.set_defaults(handler=recycle_command)


def recycle_command(args: argparse.Namespace) -> int:
    from chalicelib.service_layer.errors import ClientError

    try:
        done = target_container(args).recycling.recycle(args.key, datetime.now(UTC), undo=args.undo)
    except ClientError as exc:
        print(f"leadscore recycle: {exc.message}", file=sys.stderr)
        return 2
    if done is None:
        print(f"leadscore recycle: no lead is known as {args.key}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps(done, indent=2))
    else:
        before = done["before"]
        what = "recycled" if done["recycled"] else "recycle undone"
        moved = f"score {before['score']} ({before['tier']}) -> {done['score']} ({done['tier']})"
        print(f"{done['lead_id']} {what}: {moved}; engagement {before['engagement']} -> {done['engagement']}, "
              f"fit {done['fit']}")  # fmt: skip
    return 0
