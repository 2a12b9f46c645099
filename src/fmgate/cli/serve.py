"""``fmgate serve``: run the gateway, on AWS Bedrock or the embedded emulator (and its dev key),
in one process or, with ``--workers N``, in N worker processes under a supervisor."""

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
    from fmgate.server.gateway_process import ServeSpec

DEFAULT_PORT = 8080
DEV_KEY_FILE = Path("var/dev-access-key")


def worker_count(text: str) -> int:
    """``--workers``: a number of processes, or ``auto``: the CPUs this process may run on."""
    if text == "auto":
        return len(os.sched_getaffinity(0))
    try:
        count = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of workers: {text!r}") from None
    if count < 1:
        raise argparse.ArgumentTypeError("at least 1 worker")
    return count


def register(subparsers: Subparsers) -> None:
    serve = subparsers.add_parser("serve", help="run the gateway")
    add_config_option(serve)
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=DEFAULT_PORT)
    serve.add_argument(
        "--workers",
        type=worker_count,
        default=1,
        metavar="N|auto",
        help="worker processes serving the port (default 1; auto: one per CPU this process may "
        "use); with 2 or more, each worker serves its own /metrics on its own port",
    )
    serve.add_argument(
        "--metrics-port",
        type=int,
        metavar="PORT",
        help="with --workers 2+: worker i serves /metrics on PORT+i-1 (default: --port + 1; "
        "0, or with --port 0: any free ports, printed at start-up)",
    )
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
    from fmgate.server.file_limits import raise_open_file_limit

    configure_logging(json=args.log_json, level=args.log_level)
    catalog = load_or_exit(args.config)
    raise_open_file_limit()  # before the emulator and the workers start: they inherit it
    try:
        with choose_backend(catalog, args.emulator) as backend:
            return serve_on(catalog, backend, args)
    except EmulatorNotInstalled as exc:
        print(
            f"fmgate: {exc}; or configure AWS credentials (or gateway.bedrock_endpoint_url) "
            "to call Bedrock",
            file=sys.stderr,
        )
        return 1


def serve_on(catalog: Catalog, backend: Backend, args: argparse.Namespace) -> int:
    """Serve ``catalog`` on ``backend`` until shut down; the exit code."""
    from fmgate.server.gateway import GatewayOptions
    from fmgate.server.gateway_process import ServeSpec, serve_gateway

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
    spec = ServeSpec(
        catalog=catalog,
        options=options,
        host=args.host,
        port=args.port,
        log_level=args.log_level,
        log_json=args.log_json,
        catalog_path=args.config,
        reload_interval=args.reload_interval,
    )
    if args.workers > 1:
        return supervise(spec, args)
    print(f"fmgate: serving Poe bots at http://{args.host}:{args.port}/bot/<name>", flush=True)
    serve_gateway(spec)
    return 0


def supervise(spec: ServeSpec, args: argparse.Namespace) -> int:
    """``--workers N`` (N > 1): bind, start the workers, run until they have all stopped."""
    from fmgate.server.supervisor import Supervisor

    metrics_port = args.metrics_port
    if metrics_port is None:
        metrics_port = spec.port + 1 if spec.port else 0  # --port 0: any free ports
    count = args.workers

    def all_serving() -> None:
        print(f"fmgate: all {count} workers serving", flush=True)

    try:
        supervisor = Supervisor(spec, count, metrics_port=metrics_port, on_all_serving=all_serving)
    except OSError as exc:
        print(f"fmgate: cannot listen on {spec.host}: {exc}", file=sys.stderr)
        return 1
    host = spec.host
    print(
        f"fmgate: serving Poe bots at http://{host}:{supervisor.port}/bot/<name> "
        f"with {count} worker processes",
        flush=True,
    )
    for number, port in enumerate(supervisor.metrics_ports, start=1):
        print(
            f"fmgate: worker {number} serves its metrics at http://{host}:{port}/metrics",
            flush=True,
        )
    if not spec.catalog.gateway.shared_state.redis_url:
        print(
            "fmgate: no gateway.shared_state: per-user limits and circuit breakers are kept "
            f"per worker (a user may get up to {count} times a per-user limit)",
            flush=True,
        )
    return supervisor.run()


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
