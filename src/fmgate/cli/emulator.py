"""``fmgate emulator``: the Bedrock Runtime emulator on its own (package ``fmgate-emulator``)."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from fmgate.cli.options import Subparsers

NOT_INSTALLED = (
    "the Bedrock emulator is not installed (it is the package fmgate-emulator, for development "
    "and tests): pip install -e ./emulator (from a checkout)"
)


def register(subparsers: Subparsers) -> None:
    emulator = subparsers.add_parser("emulator", help="run the Bedrock Runtime emulator")
    emulator.add_argument("--host", default="127.0.0.1")
    emulator.add_argument("--port", type=int, default=8900)
    emulator.add_argument("--profile", choices=["fast", "realistic"], default="realistic")
    emulator.add_argument("--access-key-id", default="AKIDEMULATOR")
    emulator.add_argument(
        "--secret-access-key",
        default=os.environ.get("FMGATE_EMULATOR_SECRET", "emulator-secret"),
        help="secret the emulator verifies SigV4 with (env FMGATE_EMULATOR_SECRET)",
    )
    emulator.add_argument("--s3-endpoint-url", help="S3 endpoint for video results")
    emulator.set_defaults(run=run_emulator)


def run_emulator(args: argparse.Namespace) -> int:
    try:
        from fmgate_emulator import Emulator, EmulatorConfig
    except ModuleNotFoundError as exc:
        if exc.name != "fmgate_emulator":
            raise
        print(f"fmgate: {NOT_INSTALLED}", file=sys.stderr)
        return 1
    config = EmulatorConfig(
        access_key_id=args.access_key_id,
        secret_access_key=args.secret_access_key,
        profile=args.profile,
        s3_endpoint_url=args.s3_endpoint_url,
    )
    print(f"fmgate emulator: http://{args.host}:{args.port} (profile {args.profile})", flush=True)
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(Emulator.serve_forever(config, args.host, args.port))
    return 0
