"""How each process of a run is launched: the emulator, fmgate, LiteLLM, the trivial SSE server.

Every server binds 127.0.0.1 on a free port and is stopped when its context exits. The servers
under test (fmgate, LiteLLM, the trivial SSE server) can be pinned to their own CPUs, away from
the emulator and the load generator, so "one core" means one core.
"""

from __future__ import annotations

import json
import os
import secrets
import sys
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path

from bench.processes import ServerProcess, free_port, running_server

MODEL_ID = "amazon.nova-micro-v1:0"
BOT_NAME = "bench-chat"
LITELLM_MODEL = "bench-model"
REGION = "us-east-1"
PYTHON = sys.executable
#: Every bench bot's Poe access key, from the environment fmgate is started with.
POE_KEY_ENV = "FMGATE_BENCH_POE_KEY"
POE_KEY_REFERENCE = f"env:{POE_KEY_ENV}"


@dataclass(frozen=True, slots=True)
class BenchCredentials:
    """Throw-away credentials of one run: the emulator's SigV4 pair, the servers' keys."""

    access_key_id: str = "AKIDEMULATOR"
    secret_access_key: str = field(default_factory=lambda: secrets.token_urlsafe(24))
    poe_access_key: str = field(default_factory=lambda: secrets.token_hex(16))
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


@asynccontextmanager
async def emulator_server(
    log_dir: Path, credentials: BenchCredentials, cpus: frozenset[int] | None = None
) -> AsyncIterator[ServerProcess]:
    """``fmgate emulator`` with the zero-latency profile (phases switch its timing)."""
    port = free_port()
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
        url=f"http://127.0.0.1:{port}",
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
    per-user limits above the load) with ``bots`` (default: :func:`bench_bot`); everything else
    is the catalog's default."""
    return {
        "version": 1,
        "gateway": {
            "bedrock_endpoint_url": emulator_url,
            "max_pool_connections": 8192,
            "emulator": {"enabled": "never"},
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
) -> AsyncIterator[ServerProcess]:
    """``fmgate serve`` as production runs it (one worker unless ``workers``, uvloop,
    httptools), quiet logs; ready once every worker serves (their metrics on free ports).
    ``name`` names its log, catalog and ledger files; ``bots`` its catalog's bots (default: the
    one bench bot)."""
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
    env = base_env(credentials) | {POE_KEY_ENV: credentials.poe_access_key}
    async with running_server(
        name,
        argv,
        url=f"http://127.0.0.1:{port}",
        ready_path="/healthz",
        ready_line=f"all {workers} workers serving" if workers > 1 else None,
        log_dir=log_dir,
        env=env,
        cpus=cpus,
    ) as server:
        yield server


def ledger_path(log_dir: Path, name: str) -> Path:
    """The usage ledger (SQLite) of the fmgate server called ``name``."""
    return log_dir / f"{name}-usage.sqlite3"


def litellm_config(emulator_url: str) -> dict[str, object]:
    """LiteLLM proxy config: one Bedrock Converse model at the emulator; no DB, quiet."""
    return {
        "model_list": [
            {
                "model_name": LITELLM_MODEL,
                "litellm_params": {
                    "model": f"bedrock/converse/{MODEL_ID}",
                    "aws_bedrock_runtime_endpoint": emulator_url,
                    "aws_access_key_id": "os.environ/AWS_ACCESS_KEY_ID",
                    "aws_secret_access_key": "os.environ/AWS_SECRET_ACCESS_KEY",
                    "aws_region_name": REGION,
                },
            }
        ],
        "litellm_settings": {"telemetry": False, "drop_params": True},
        "general_settings": {"disable_spend_logs": True},
    }


def litellm_env(credentials: BenchCredentials) -> Mapping[str, str]:
    return base_env(credentials) | {
        "LITELLM_LOCAL_MODEL_COST_MAP": "True",
        "LITELLM_LOG": "ERROR",
        "LITELLM_TELEMETRY": "False",
        "LITELLM_MASTER_KEY": credentials.litellm_master_key,
    }


@asynccontextmanager
async def litellm_server(
    executable: Path,
    log_dir: Path,
    emulator_url: str,
    credentials: BenchCredentials,
    cpus: frozenset[int] | None = None,
) -> AsyncIterator[ServerProcess]:
    """The LiteLLM proxy from its own venv: single worker, model pointed at the emulator."""
    port = free_port()
    config = log_dir / "litellm-config.yaml"
    config.write_text(json.dumps(litellm_config(emulator_url), indent=2))
    argv = [
        str(executable),
        "--config",
        str(config),
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--num_workers",
        "1",
    ]
    async with running_server(
        "litellm",
        argv,
        url=f"http://127.0.0.1:{port}",
        ready_path="/health/liveliness",
        log_dir=log_dir,
        env=litellm_env(credentials),
        cpus=cpus,
        start_timeout=180.0,
    ) as server:
        yield server


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
