"""Operator commands: `python -m chalicelib.cli --help`."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from . import backtest_cmd, crm_cmd, decay_cmd, rules_cmd


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m chalicelib.cli", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    rules_cmd.register(commands)
    crm_cmd.register(commands)
    decay_cmd.register(commands)
    backtest_cmd.register(commands)
    args = parser.parse_args(argv)
    return int(args.handler(args))


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
