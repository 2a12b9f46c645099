"""How each peer gateway is launched: LiteLLM, Portkey, TensorZero, from their own environments.

Each binds 127.0.0.1 only, talks to the run's emulator with the run's throw-away key pair, and
is stopped when its context exits; each can be pinned to the CPUs of the server under test, like
fmgate. What each client sends to it (model name, headers) is in ``bench.paths``.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from pathlib import Path

from bench.portkey_env import portkey_argv
from bench.processes import ServerProcess, free_port, running_server
from bench.servers import MODEL_ID, REGION, BenchCredentials, base_env
from bench.tensorzero_env import tensorzero_argv, tensorzero_config

LITELLM_MODEL = "bench-model"


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
async def portkey_server(
    entry: Path,
    log_dir: Path,
    credentials: BenchCredentials,
    cpus: frozenset[int] | None = None,
) -> AsyncIterator[ServerProcess]:
    """Portkey's gateway on Node.js, headless, on a free loopback port. It holds no provider
    configuration: every request names the provider, the emulator and the keys in headers."""
    port = free_port()
    async with running_server(
        "portkey",
        portkey_argv(entry, port),
        url=f"http://127.0.0.1:{port}",
        ready_path="/",
        log_dir=log_dir,
        env=base_env(credentials),
        cpus=cpus,
        start_timeout=60.0,
    ) as server:
        yield server


@asynccontextmanager
async def tensorzero_server(
    python: Path,
    log_dir: Path,
    emulator_url: str,
    credentials: BenchCredentials,
    cpus: frozenset[int] | None = None,
) -> AsyncIterator[ServerProcess]:
    """TensorZero's gateway in a Python process of its venv: config with the emulator as AWS
    Bedrock's endpoint (credentials from the environment, as the AWS SDK reads them),
    observability off; it picks its loopback port and writes its URL to a file."""
    config = log_dir / "tensorzero.toml"
    config.write_text(tensorzero_config(emulator_url, MODEL_ID, REGION))
    url_file = log_dir / "tensorzero.url"
    url_file.unlink(missing_ok=True)
    env = base_env(credentials) | {"AWS_REGION": REGION}
    async with running_server(
        "tensorzero",
        tensorzero_argv(python, config, url_file),
        url_file=url_file,
        ready_path="/",  # any answer will do (this gateway has no health route)
        log_dir=log_dir,
        env=env,
        cpus=cpus,
        start_timeout=60.0,
    ) as server:
        yield server
