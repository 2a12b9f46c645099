"""The ``fmgate`` command: one module per command group, each registering its sub-parser.

Command modules import only the standard library at import time; what a command needs is
imported when it runs, so ``fmgate --help`` stays fast.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

from fmgate.cli import chat, emulator, models, poe, serve, usage, validate

DESCRIPTION = "The ``fmgate`` command line: serve, emulator, chat, models, validate, usage."
#: The command groups, in the order ``fmgate --help`` lists them.
COMMANDS = (serve, emulator, chat, models, poe, validate, usage)


def main(argv: Sequence[str] | None = None) -> int:
    arguments = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser()
    args = parser.parse_args(arguments)
    if args.run is None:  # no sub-command given
        parser.print_help()
        return 2
    try:
        result: int = args.run(args)
    except BrokenPipeError:  # output piped into `head` and the like: stop quietly
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 1
    return result


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="fmgate", description=DESCRIPTION)
    parser.set_defaults(run=None)
    subparsers = parser.add_subparsers(title="commands")
    for command in COMMANDS:
        command.register(subparsers)
    return parser


__all__ = ["build_parser", "main"]
