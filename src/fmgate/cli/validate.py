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
    validate.add_argument(
        "--model-table",
        type=Path,
        default=None,
        help="model table to check capabilities against (default: the refreshed table if "
        "present, else the bundled one)",
    )
    validate.set_defaults(run=run_validate)


def run_validate(args: argparse.Namespace) -> int:
    """The catalog on its own, then what it asks of its models against the model table
    (guardrails, service tiers, citations)."""
    from fmgate.config.loader import load_catalog, validate_catalog_file
    from fmgate.model_table.capabilities import capability_problems
    from fmgate.model_table.table import ModelTableError, load_table

    ok, report = validate_catalog_file(args.catalog)
    if ok:
        try:
            problems = capability_problems(load_catalog(args.catalog), load_table(args.model_table))
        except ModelTableError as exc:
            problems = [str(exc)]
        if problems:
            ok = False
            count = len(problems)
            header = f"{args.catalog}: {count} problem{'s' if count != 1 else ''}"
            report = "\n".join([header, *(f"{args.catalog}: {p}" for p in problems)])
    print(report, file=sys.stdout if ok else sys.stderr)
    return 0 if ok else 1
