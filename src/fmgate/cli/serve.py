"""``fmgate serve``: run the gateway, on AWS Bedrock or the embedded emulator (and its dev key)."""

from __future__ import annotations

import argparse
import os
import secrets
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from fmgate.cli.options import add_config_option, load_or_exit

if TYPE_CHECKING:
    from fmgate.cli.options import Subparsers
    from fmgate.config.catalog import Catalog
    from fmgate.server.bedrock_target import Backend

DEFAULT_PORT = 8080
DEV_KEY_FILE = Path("var/dev-access-key")


def register(subparsers: Subparsers) -> None:
    serve = subparsers.add_parser("serve", help="run the gateway")
    add_config_option(serve)
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=DEFAULT_PORT)
    serve.add_argument(
        "--emulator",
        choices=["auto", "always", "never"],
        help="use the embedded Bedrock emulator (default: the catalog's setting, 'auto' = "
        "when no AWS credentials or endpoint are configured)",
    )
    serve.add_argument("--ledger", type=Path, default=Path("var/usage.sqlite3"))
    serve.add_argument("--log-json", action="store_true", help="JSON log lines")
    serve.add_argument("--log-level", default="INFO")
    serve.add_argument(
        "--reload-interval",
        type=float,
        default=2.0,
        help="with --config: seconds between checks of the catalog file for changes "
        "(0: only on SIGHUP)",
    )
    serve.add_argument(
        "--allow-without-key",
        action="store_true",
        help="DEV ONLY: serve bots whose access key cannot be resolved without any key",
    )
    serve.set_defaults(run=run_serve)


def dev_access_key() -> str:
    """A per-machine development key for the embedded emulator, kept in var/ (mode 0600)."""
    if DEV_KEY_FILE.exists():
        return DEV_KEY_FILE.read_text().strip()
    DEV_KEY_FILE.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_hex(16)
    fd = os.open(DEV_KEY_FILE, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(key + "\n")
    return key


def read_dev_key() -> str:
    """The development key ``fmgate serve`` wrote, or "" when there is none."""
    return DEV_KEY_FILE.read_text().strip() if DEV_KEY_FILE.exists() else ""


def run_serve(args: argparse.Namespace) -> int:
    from fmgate.observability.logging import configure_logging
    from fmgate.server.bedrock_target import EmulatorNotInstalled, choose_backend

    configure_logging(json=args.log_json, level=args.log_level)
    catalog = load_or_exit(args.config)
    try:
        with choose_backend(catalog, args.emulator) as backend:
            serve_on(catalog, backend, args)
    except EmulatorNotInstalled as exc:
        print(
            f"fmgate: {exc}; or configure AWS credentials (or gateway.bedrock_endpoint_url) "
            "to call Bedrock",
            file=sys.stderr,
        )
        return 1
    return 0


def serve_on(catalog: Catalog, backend: Backend, args: argparse.Namespace) -> None:
    """Serve ``catalog`` on ``backend`` until shut down."""
    from fmgate.core.shutdown import ShutdownSignal
    from fmgate.server.app import create_app
    from fmgate.server.gateway import GatewayOptions
    from fmgate.server.serving import serve

    dev_key = None
    if backend.embedded and not os.environ.get("POE_ACCESS_KEY"):
        dev_key = dev_access_key()
    announce(backend, dev_key is not None, len(catalog.bots), args)
    options = GatewayOptions(
        aws=backend.aws,
        ledger_path=args.ledger,
        dev_access_key=dev_key,
        allow_without_key=args.allow_without_key,
        local_media_url=f"http://{args.host}:{args.port}" if backend.embedded else None,
    )
    shutdown = ShutdownSignal()
    app = create_app(
        catalog,
        options,
        catalog_path=args.config,
        reload_interval=args.reload_interval,
        shutdown=shutdown,
    )
    print(f"fmgate: serving Poe bots at http://{args.host}:{args.port}/bot/<name>", flush=True)
    serve(
        app,
        shutdown,
        host=args.host,
        port=args.port,
        log_level=args.log_level,
        grace_seconds=catalog.gateway.shutdown_grace_seconds,
    )


def announce(backend: Backend, dev_key: bool, bots: int, args: argparse.Namespace) -> None:
    """The start-up lines: which Bedrock, and whether replies are synthetic / need the dev key."""
    print(f"fmgate: {bots} bots, Bedrock: {backend.description}", flush=True)
    if backend.embedded:
        print(
            "fmgate: no AWS credentials configured -> serving on the EMBEDDED EMULATOR "
            "(synthetic replies). Configure AWS credentials to call real Bedrock.",
            flush=True,
        )
    if dev_key:
        print(
            f"fmgate: POE_ACCESS_KEY not set -> bots accept the development key in "
            f"{DEV_KEY_FILE} (try: fmgate chat nova-micro 'hello' --url "
            f"http://{args.host}:{args.port})",
            flush=True,
        )
