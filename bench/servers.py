"""How fmgate's side of a run is launched: the emulator, fmgate, the trivial SSE server.

Every server binds 127.0.0.1 on a free port (the emulator on a given one when a peer needs it)
and is stopped when its context exits. The servers under test (fmgate, the trivial SSE server,
the peers of ``bench.peer_servers``) can be pinned to their own CPUs, away from the emulator and
the load generator, so "one core" means one core.
"""

from __future__ import annotations

import json
import os
import secrets
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path

from bench.processes import REPO_ROOT, ServerProcess, free_port, running_server

MODEL_ID = "amazon.nova-micro-v1:0"
BOT_NAME = "bench-chat"
REGION = "us-east-1"
PYTHON = sys.executable
#: Every bench bot's Poe access key, from the environment fmgate is started with.
POE_KEY_ENV = "FMGATE_BENCH_POE_KEY"
POE_KEY_REFERENCE = f"env:{POE_KEY_ENV}"
#: The virtual API key of fmgate's ``/v1`` fronts (caller ``bench``), from the environment.
API_KEY_ENV = "FMGATE_BENCH_API_KEY"
API_CALLER = "bench"


@dataclass(frozen=True, slots=True)
class BenchCredentials:
    """Throw-away credentials of one run: the emulator's SigV4 pair, the servers' keys."""

    access_key_id: str = "AKIDEMULATOR"
    secret_access_key: str = field(default_factory=lambda: secrets.token_urlsafe(24))
    poe_access_key: str = field(default_factory=lambda: secrets.token_hex(16))
    #: fmgate's ``/v1/chat/completions`` key (a virtual API key of the catalog).
    api_key: str = field(default_factory=lambda: secrets.token_hex(16))
    #: LiteLLM refuses to start without a master key (``sk-`` + random); clients send it.
    litellm_master_key: str = field(default_factory=lambda: "sk-" + secrets.token_hex(32))


def base_env(credentials: BenchCredentials) -> dict[str, str]:
    """This environment minus anything that could send a peer elsewhere, plus the run's keys."""
    dropped = ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_BEARER_TOKEN_BEDROCK", "DATABASE_URL")
    env = {k: v for k, v in os.environ.items() if k not in dropped}
    env.update(
        AWS_ACCESS_KEY_ID=credentials.access_key_id,
        AWS_SECRET_ACCESS_KEY=credentials.secret_access_key,
        AWS_DEFAULT_REGION=REGION,
        AWS_EC2_METADATA_DISABLED="true",
        NO_PROXY="127.0.0.1,localhost",
    )
    return env


def source_env(tree: Path) -> dict[str, str]:
    """What makes ``python -m fmgate.cli`` import fmgate from the source tree ``tree`` (its
    ``src`` and ``emulator/src``) rather than from the venv's editable install: ``PYTHONPATH``
    comes before site-packages, and nothing else of the caller's ``PYTHONPATH`` is kept."""
    return {"PYTHONPATH": os.pathsep.join([str(tree / "src"), str(tree / "emulator" / "src")])}


def loopback_url(port: int) -> str:
    """``http://127.0.0.1:PORT``, without the port when it is HTTP's own (80)."""
    return "http://127.0.0.1" if port == 80 else f"http://127.0.0.1:{port}"


@asynccontextmanager
async def emulator_server(
    log_dir: Path,
    credentials: BenchCredentials,
    cpus: frozenset[int] | None = None,
    port: int | None = None,
) -> AsyncIterator[ServerProcess]:
    """``fmgate emulator`` with the zero-latency profile (phases switch its timing), on
    ``port`` (default: a free one)."""
    port = port or free_port()
    argv = [
        PYTHON,
        "-m",
        "fmgate.cli",
        "emulator",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--profile",
        "fast",
        "--access-key-id",
        credentials.access_key_id,
    ]
    # The secret goes through the environment, never the command line (visible in ps).
    env = base_env(credentials) | {"FMGATE_EMULATOR_SECRET": credentials.secret_access_key}
    async with running_server(
        "emulator",
        argv,
        url=loopback_url(port),
        ready_path="/_emulator/health",
        log_dir=log_dir,
        env=env,
        cpus=cpus,
    ) as server:
        yield server


def bench_bot(max_tokens: int) -> dict[str, object]:
    """The bot every path's load goes through: Nova Micro, the catalog's defaults."""
    return {
        "bot_name": BOT_NAME,
        "model_id": MODEL_ID,
        "kind": "chat",
        "aws_region": REGION,
        "access_key": POE_KEY_REFERENCE,
        "max_tokens": max_tokens,
    }


def fmgate_catalog(
    emulator_url: str, max_tokens: int, bots: list[dict[str, object]] | None = None
) -> dict[str, object]:
    """A catalog pointed at the emulator (connection pool sized for the 5,000-stream hold,
    per-user limits above the load, one virtual API key for the ``/v1`` fronts) with ``bots``
    (default: :func:`bench_bot`); everything else is the catalog's default."""
    return {
        "version": 1,
        "gateway": {
            "bedrock_endpoint_url": emulator_url,
            "max_pool_connections": 8192,
            "emulator": {"enabled": "never"},
            "api_keys": [{"caller": API_CALLER, "key": f"env:{API_KEY_ENV}"}],
            # One bench user drives up to 5,000 streams at once: the per-user limits must not
            # be what is measured.
            "limits": {
                "max_concurrent_per_user": 1_000_000,
                "requests_per_minute_per_user": 1e9,
                "burst_per_user": 1_000_000,
            },
        },
        "bots": bots if bots is not None else [bench_bot(max_tokens)],
    }


@asynccontextmanager
async def fmgate_server(
    log_dir: Path,
    emulator_url: str,
    credentials: BenchCredentials,
    max_tokens: int,
    cpus: frozenset[int] | None = None,
    *,
    workers: int = 1,
    name: str = "fmgate",
    bots: list[dict[str, object]] | None = None,
    source: Path | None = None,
) -> AsyncIterator[ServerProcess]:
    """``fmgate serve`` as production runs it (one worker unless ``workers``, uvloop,
    httptools), quiet logs; ready once every worker serves (their metrics on free ports).
    ``name`` names its log, catalog and ledger files; ``bots`` its catalog's bots (default: the
    one bench bot). With ``source`` it runs the fmgate of that source tree (a checkout of
    another commit: ``bench.ab``), started there, in the same venv; without, the one this
    Python imports."""
    port = free_port()
    catalog = log_dir / f"{name}-catalog.yaml"
    catalog.write_text(json.dumps(fmgate_catalog(emulator_url, max_tokens, bots), indent=2))
    argv = [
        PYTHON,
        "-m",
        "fmgate.cli",
        "serve",
        "--config",
        str(catalog),
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--emulator",
        "never",
        "--ledger",
        str(ledger_path(log_dir, name)),
        "--log-level",
        "WARNING",
    ]
    if workers > 1:
        argv += ["--workers", str(workers), "--metrics-port", "0"]
    env = base_env(credentials) | {
        POE_KEY_ENV: credentials.poe_access_key,
        API_KEY_ENV: credentials.api_key,
    }
    if source is not None:
        env |= source_env(source)
    async with running_server(
        name,
        argv,
        url=f"http://127.0.0.1:{port}",
        ready_path="/healthz",
        ready_line=f"all {workers} workers serving" if workers > 1 else None,
        log_dir=log_dir,
        env=env,
        cpus=cpus,
        cwd=source or REPO_ROOT,
    ) as server:
        yield server


def ledger_path(log_dir: Path, name: str) -> Path:
    """The usage ledger (SQLite) of the fmgate server called ``name``."""
    return log_dir / f"{name}-usage.sqlite3"


@asynccontextmanager
async def trivial_sse_server(
    log_dir: Path, tokens: int, cpus: frozenset[int] | None = None
) -> AsyncIterator[ServerProcess]:
    """The fixed-answer SSE server that measures the load generator alone."""
    port = free_port()
    argv = [PYTHON, "-m", "bench.trivial_sse", "--port", str(port), "--tokens", str(tokens)]
    async with running_server(
        "trivial-sse",
        argv,
        url=f"http://127.0.0.1:{port}",
        ready_path="/",
        log_dir=log_dir,
        cpus=cpus,
    ) as server:
        yield server
