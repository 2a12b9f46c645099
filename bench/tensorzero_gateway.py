"""TensorZero's HTTP gateway in this process: ``tensorzero_gateway.py --config F --url-file U``.

Runs with the TensorZero venv's Python (``bench.tensorzero_env``), never fmgate's. The
``tensorzero`` wheel has no gateway command: its native extension starts the real gateway (the
Rust server, on its own threads) with ``_start_http_gateway`` — what the package's own
``patch_openai_client`` calls. It binds 127.0.0.1 on a port it picks; this script writes the
gateway's base URL to ``--url-file`` (whole, by a rename) and keeps the process alive until
SIGTERM or SIGINT. The one private name of the package is used here only; the bench's smoke
test starts this script, so a change of it shows there.
"""

from __future__ import annotations

import argparse
import importlib
import os
import signal
from pathlib import Path
from urllib.parse import urlsplit


def base_url(gateway_url: str) -> str:
    """``http://127.0.0.1:PORT/openai/v1`` (what the package reports) -> ``http://127.0.0.1:PORT``."""
    parts = urlsplit(gateway_url)
    return f"{parts.scheme}://{parts.netloc}"


def write_whole(path: Path, text: str) -> None:
    partial = path.with_name(path.name + ".partial")
    partial.write_text(text + "\n")
    os.replace(partial, path)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--config", required=True, type=Path)
    parser.add_argument("--url-file", required=True, type=Path)
    args = parser.parse_args()
    stop_signals = {signal.SIGTERM, signal.SIGINT}
    # Blocked before the gateway's threads start (they inherit the mask): only sigwait gets them.
    signal.pthread_sigmask(signal.SIG_BLOCK, stop_signals)
    tensorzero = importlib.import_module("tensorzero")
    gateway = tensorzero._start_http_gateway(
        config_file=str(args.config),
        clickhouse_url=None,
        postgres_url=None,
        valkey_url=None,
        async_setup=False,
    )
    write_whole(args.url_file, base_url(str(gateway.base_url)))
    signal.sigwait(stop_signals)
    gateway.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
