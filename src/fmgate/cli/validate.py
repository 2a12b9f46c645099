"""``fmgate validate``: check a catalog file without serving."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from fmgate.cli.options import Subparsers


def register(subparsers: Subparsers) -> None:
    validate = subparsers.add_parser("validate", help="check a catalog file without serving")
    validate.add_argument("catalog", type=Path)
    validate.set_defaults(run=run_validate)


def run_validate(args: argparse.Namespace) -> int:
    from fmgate.config.loader import validate_catalog_file

    ok, report = validate_catalog_file(args.catalog)
    print(report, file=sys.stdout if ok else sys.stderr)
    return 0 if ok else 1
