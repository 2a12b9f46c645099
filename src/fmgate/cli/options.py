"""Options several commands share, and reading the catalog they name."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, TypeAlias

if TYPE_CHECKING:
    from fmgate.config.catalog import Catalog

    #: What ``ArgumentParser.add_subparsers`` returns; each command module's ``register`` takes it.
    Subparsers: TypeAlias = argparse._SubParsersAction[argparse.ArgumentParser]


def add_config_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--config",
        type=Path,
        default=Path(os.environ["FMGATE_CONFIG"]) if os.environ.get("FMGATE_CONFIG") else None,
        help="catalog YAML (default: env FMGATE_CONFIG, else the bundled catalog)",
    )


def add_table_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--table",
        type=Path,
        help="model table file (default: var/model_table.yaml when `models refresh` wrote "
        "one, else the bundled table)",
    )


def load_or_exit(path: Path | None) -> Catalog:
    """The catalog at ``path`` (None: the bundled one); exit 2 with its errors when invalid."""
    from fmgate.config.loader import CatalogError, load_catalog

    try:
        return load_catalog(path)
    except CatalogError as exc:
        print(f"fmgate: invalid catalog:\n{exc}", file=sys.stderr)
        raise SystemExit(2) from None
