"""`dlq list|show|redrive (--stage NAME | --local)`: what the task dead-letter queue holds,
why, and sending chosen messages back once the cause is fixed (a CRM field created, a token
granted its scope). A task is a kind and a lead id (or record ids); a redriven one is handled as
new, and since a write-back writes the lead's current card, an old task never writes old scores."""

from __future__ import annotations

import argparse
import json
import sys
from typing import TYPE_CHECKING, Any

from chalicelib.cli.target import add_json_argument, add_target_arguments, target_container

if TYPE_CHECKING:
    from chalicelib.bootstrap import Container
    from chalicelib.task_queue import DeadLetter


def register(commands: Any) -> None:
    dlq = commands.add_parser("dlq", help="list, explain and redrive the task dead-letter queue")
    actions = dlq.add_subparsers(dest="dlq_action", required=True)
    listing = actions.add_parser("list", help="every dead letter: when, which lead, why")
    show = actions.add_parser("show", help="dead letters in full, with their lead's scores and write-back state")
    show.add_argument("ids", nargs="+", metavar="MESSAGE_ID", help="message ids from `dlq list`")
    redrive = actions.add_parser("redrive", help="send dead letters back to the task queue")
    chosen = redrive.add_mutually_exclusive_group(required=True)
    chosen.add_argument("ids", nargs="*", default=[], metavar="MESSAGE_ID")
    chosen.add_argument("--all", action="store_true", help="every dead letter")
    for parser in (listing, show, redrive):
        add_target_arguments(parser)
        add_json_argument(parser)
        parser.add_argument("--limit", type=int, default=1000, help="read at most this many (1000)")
    listing.set_defaults(handler=list_command)
    show.set_defaults(handler=show_command)
    redrive.set_defaults(handler=redrive_command)


def describe(letter: DeadLetter) -> dict[str, Any]:
    return {
        "message_id": letter.message_id,
        "sent_at": letter.sent_at,
        "kind": letter.kind,
        "lead_id": letter.lead_id,
        "reason": letter.reason,
        "receive_count": letter.receive_count,
    }


def list_command(args: argparse.Namespace) -> int:
    parts = target_container(args)
    letters = parts.queue.dead_letters(args.limit)
    parts.queue.release(letters)
    rows = [describe(letter) for letter in letters]
    if args.json:
        print(json.dumps(rows, indent=2))
        return 0
    if not rows:
        print("the dead-letter queue is empty")
        return 0
    for row in rows:
        print(f"{row['message_id']}  {row['sent_at']}  {row['kind']:<6}  {row['lead_id'] or '-'}  {row['reason']}")
    print(f"{len(rows)} dead letters; `dlq show ID` explains one, `dlq redrive ID ... | --all` sends them back")
    return 0


def show_command(args: argparse.Namespace) -> int:
    parts = target_container(args)
    letters = parts.queue.dead_letters(args.limit)
    parts.queue.release(letters)
    by_id = {letter.message_id: letter for letter in letters}
    missing = [message_id for message_id in args.ids if message_id not in by_id]
    shown = [_explained(parts, by_id[message_id]) for message_id in args.ids if message_id in by_id]
    if args.json:
        print(json.dumps(shown, indent=2))
    else:
        for item in shown:
            for key, value in item.items():
                text = json.dumps(value) if isinstance(value, dict | list) else value
                print(f"{key + ':':<16}{text}")
            print()
    return _not_found(missing)


def _not_found(message_ids: list[str]) -> int:
    """Each asked-for id the queue does not hold, on stderr; the exit status (1 if any)."""
    for message_id in message_ids:
        print(f"leadscore: no dead letter {message_id}", file=sys.stderr)
    return 1 if message_ids else 0


def _explained(parts: Container, letter: DeadLetter) -> dict[str, Any]:
    """The letter, and its lead as it is now: what a redrive would write, and the last attempt."""
    found = describe(letter) | {"message": letter.original()}
    record = parts.storage.leads.get_lead(letter.lead_id) if letter.lead_id else None
    if record is None:
        return found | {"lead": None}
    card = record.card
    return found | {
        "lead": {
            "keys": record.keys,
            "score": card.score if card else None,
            "tier": card.tier if card else None,
            "grade": card.grade if card else None,
            "last_written": record.crm,
            "last_failed_attempt": record.crm_attempt,
        }
    }


def redrive_command(args: argparse.Namespace) -> int:
    parts = target_container(args)
    letters = parts.queue.dead_letters(args.limit)
    wanted = set(args.ids)
    chosen = [letter for letter in letters if args.all or letter.message_id in wanted]
    parts.queue.release([letter for letter in letters if letter not in chosen])
    parts.queue.redrive(chosen)
    missing = sorted(wanted - {letter.message_id for letter in chosen})
    if args.json:
        print(json.dumps({"redriven": [letter.message_id for letter in chosen], "not_found": missing}, indent=2))
    else:
        print(f"sent {len(chosen)} dead letters back to the task queue")
    return _not_found(missing)
