"""Operator commands: `leadscore --help` (or `python -m chalicelib.cli --help`).

The commands that reach AWS or a CRM take `--stage NAME` or `--local` (see target.py); a failure
an operator can act on (no credentials, no region, a stage not deployed, make run not running)
is one line on stderr and exit status 2, never a traceback (`--debug` shows one)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING

from . import backtest_cmd, crm_cmd, dlq_cmd, import_cmd, recycle_cmd, rules_cmd, unscored_cmd, upkeep_cmd

if TYPE_CHECKING:
    from chalicelib.bootstrap import Container

PROG = "leadscore"


def main(argv: Sequence[str] | None = None, parts: Container | None = None) -> int:
    """`parts`: the container the commands use (default: built for the command's target)."""
    from chalicelib.cli.failures import explain
    from chalicelib.cli.target import TargetError, target_name

    parser = argparse.ArgumentParser(prog=PROG, description=__doc__)
    parser.add_argument("--debug", action="store_true", help="show the traceback of a failure")
    commands = parser.add_subparsers(dest="command", required=True)
    for command in (rules_cmd, crm_cmd, upkeep_cmd, import_cmd, dlq_cmd, unscored_cmd, backtest_cmd, recycle_cmd):
        command.register(commands)
    args = parser.parse_args(argv)
    args.parts = parts
    from chalicelib.observability import log_to_stderr

    log_to_stderr()  # stdout is the command's answer
    try:
        return int(args.handler(args))
    except TargetError as exc:
        print(f"{PROG}: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"{PROG}: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:
        if args.debug:
            raise
        line = explain(exc, target_name(args))
        if line is None:
            print(f"{PROG}: {type(exc).__name__}: {exc} (--debug shows the traceback)", file=sys.stderr)
            return 1
        print(f"{PROG}: {line}", file=sys.stderr)
        return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
