"""Operator commands: `python -m chalicelib.cli --help`."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING

from . import backtest_cmd, crm_cmd, decay_cmd, import_cmd, rules_cmd

if TYPE_CHECKING:
    from chalicelib.bootstrap import Container


def main(argv: Sequence[str] | None = None, parts: Container | None = None) -> int:
    """`parts`: the container commands that reach AWS or a CRM use (default: built from the
    environment, as in a Lambda)."""
    parser = argparse.ArgumentParser(prog="python -m chalicelib.cli", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    rules_cmd.register(commands)
    crm_cmd.register(commands)
    decay_cmd.register(commands)
    import_cmd.register(commands)
    backtest_cmd.register(commands)
    args = parser.parse_args(argv)
    args.parts = parts
    return int(args.handler(args))


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
