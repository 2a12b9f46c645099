"""The ``fmgate`` command."""

from fmgate.cli.commands import main

__all__ = ["main"]
