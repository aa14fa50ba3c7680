"""`rules validate FILE`: check a rules file before deploying it."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from chalicelib.domain import RulesError
from chalicelib.rules import load_rules_file


def register(commands: Any) -> None:
    rules = commands.add_parser("rules", help="work with scoring rules files")
    actions = rules.add_subparsers(dest="action", required=True)
    validate = actions.add_parser("validate", help="check a rules file; exit 0 when valid")
    validate.add_argument("file")
    validate.set_defaults(handler=validate_command)


def validate_command(args: argparse.Namespace) -> int:
    try:
        rules = load_rules_file(args.file)
    except OSError as exc:
        print(f"{args.file}: cannot read: {exc.strerror or exc}", file=sys.stderr)
        return 2
    except RulesError as exc:
        print(f"{args.file}: {len(exc.issues)} problem(s)", file=sys.stderr)
        for issue in exc.issues:
            print(f"  {issue}", file=sys.stderr)
        return 1
    from chalicelib.domain.rules_warnings import rules_warnings
    from chalicelib.rules.vocabulary import EMITTED_TYPES

    warnings = rules_warnings(rules, EMITTED_TYPES)
    for warning in warnings:
        print(f"warning: {warning}", file=sys.stderr)
    print(f"ok {args.file}: {rules.summary()}" + (f" ({len(warnings)} warnings)" if warnings else ""))
    return 0
