"""The TensorZero peer: ``tensorzero`` from PyPI in ``bench/.venv-tensorzero``, pinned.

The wheel's native extension (Rust) contains TensorZero's whole HTTP gateway; the benchmark runs
it in a Python process of that venv (``bench/tensorzero_gateway.py``), configured with one
model: AWS Bedrock's ``amazon.nova-micro-v1:0`` with ``endpoint_url`` at the emulator, and
observability off (no ClickHouse, no Postgres). Clients use its OpenAI-compatible endpoint,
``POST /openai/v1/chat/completions`` with model ``tensorzero::model_name::<name>``.

``python -m bench.tensorzero_env`` installs it alone; ``bench.run`` does it on first use.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from bench.peer_install import PeerInstall, ensure_pip_package

TENSORZERO_VERSION = "2026.6.0"
BENCH_DIR = Path(__file__).resolve().parent
VENV_DIR = BENCH_DIR / ".venv-tensorzero"
#: Runs in the TensorZero venv: starts the gateway, writes its URL, waits for SIGTERM.
GATEWAY_SCRIPT = BENCH_DIR / "tensorzero_gateway.py"
MODEL_NAME = "bench"
#: The model as the OpenAI-compatible endpoint names it: a model of the config, no function.
OPENAI_MODEL = f"tensorzero::model_name::{MODEL_NAME}"
CHAT_COMPLETIONS_PATH = "/openai/v1/chat/completions"


def ensure_tensorzero(venv: Path = VENV_DIR, version: str = TENSORZERO_VERSION) -> PeerInstall:
    """Create ``venv`` with ``tensorzero==version`` unless it is already there; the install's
    ``program`` is the venv's Python (it runs :data:`GATEWAY_SCRIPT`)."""
    return ensure_pip_package(
        venv, f"tensorzero=={version}", "tensorzero", version, venv / "bin" / "python"
    )


def toml_string(value: str) -> str:
    """A TOML basic string (JSON's escapes are TOML's for what the config holds)."""
    return json.dumps(value)


def tensorzero_config(emulator_url: str, model_id: str, region: str) -> str:
    """``tensorzero.toml``: observability off, one AWS Bedrock model at the emulator."""
    provider = f"models.{MODEL_NAME}.providers.emulator"
    return "\n".join(
        [
            "[gateway]",
            "observability.enabled = false",
            "",
            f"[models.{MODEL_NAME}]",
            'routing = ["emulator"]',
            "",
            f"[{provider}]",
            'type = "aws_bedrock"',
            f"model_id = {toml_string(model_id)}",
            f"region = {toml_string(region)}",
            f"endpoint_url = {toml_string(emulator_url)}",
            "",
        ]
    )


def tensorzero_argv(python: Path, config: Path, url_file: Path) -> list[str]:
    """The gateway's process: the venv's Python running :data:`GATEWAY_SCRIPT`."""
    return [
        str(python),
        str(GATEWAY_SCRIPT),
        "--config",
        str(config),
        "--url-file",
        str(url_file),
    ]


def main() -> int:
    install = ensure_tensorzero()
    if install.program is None:
        print(f"tensorzero: not installed ({install.reason})", file=sys.stderr)
        return 1
    print(f"tensorzero {install.version}: {install.program}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
