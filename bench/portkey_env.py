"""The Portkey peer: ``@portkey-ai/gateway`` from the npm registry in ``bench/.node-portkey``.

Installed once with npm, pinned (``--save-exact``, no install scripts: the package ships its
built gateway, ``build/start-server.js``, and its one script applies the repository's own
patches, which the package does not ship). It runs on the machine's Node.js as the package's
``start:node`` script does, ``node build/start-server.js --port=P --headless`` (no web UI),
with ``bench/portkey_loopback.mjs`` preloaded so it listens on 127.0.0.1 only.

Clients use its OpenAI-compatible ``POST /v1/chat/completions`` with the provider in headers:
``x-portkey-provider: bedrock``, ``x-portkey-custom-host`` (the emulator), the AWS key pair and
region in ``x-portkey-aws-*``. Its SigV4 signer signs the Host header without the port, so the
emulator must answer on port 80 for the signature to match (:data:`SIGNED_PORT`).

``python -m bench.portkey_env`` installs it alone; ``bench.run`` does it on first use.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

from bench.peer_install import PeerInstall, run_steps

PORTKEY_VERSION = "1.15.2"
PACKAGE = "@portkey-ai/gateway"
BENCH_DIR = Path(__file__).resolve().parent
NODE_DIR = BENCH_DIR / ".node-portkey"
LOOPBACK_PRELOAD = BENCH_DIR / "portkey_loopback.mjs"
#: The port the emulator must listen on: Portkey signs ``host: 127.0.0.1`` whatever the port.
SIGNED_PORT = 80
CHAT_COMPLETIONS_PATH = "/v1/chat/completions"


def package_dir(directory: Path) -> Path:
    return directory / "node_modules" / PACKAGE


def entry_point(directory: Path) -> Path:
    """The gateway's start script inside the installed package."""
    return package_dir(directory) / "build" / "start-server.js"


def installed_version(directory: Path) -> str | None:
    try:
        manifest = json.loads((package_dir(directory) / "package.json").read_text())
    except (OSError, ValueError):
        return None
    version = manifest.get("version")
    return version if isinstance(version, str) else None


def node_version() -> str | None:
    """``node --version`` (``v20.20.2``), or None without Node.js."""
    node = shutil.which("node")
    if node is None:
        return None
    probe = subprocess.run(
        [node, "--version"], capture_output=True, text=True, check=False, timeout=30
    )
    return probe.stdout.strip() if probe.returncode == 0 else None


def ensure_portkey(directory: Path = NODE_DIR, version: str = PORTKEY_VERSION) -> PeerInstall:
    """``PACKAGE@version`` installed in ``directory`` unless it is already there; the install's
    ``program`` is the gateway's start script (run with ``node``)."""
    for tool in ("node", "npm"):
        if shutil.which(tool) is None:
            return PeerInstall.missing(f"{tool} not found (Portkey runs on Node.js)")
    entry = entry_point(directory)
    if installed_version(directory) == version and entry.exists():
        return PeerInstall(entry, version)
    print(f"bench: installing {PACKAGE}@{version} into {directory} (once)...", file=sys.stderr)
    directory.mkdir(parents=True, exist_ok=True)
    manifest = directory / "package.json"
    if not manifest.exists():
        manifest.write_text(json.dumps({"private": True, "description": "bench peer"}) + "\n")
    npm = shutil.which("npm") or "npm"
    install = [
        npm,
        "install",
        "--no-audit",
        "--no-fund",
        "--ignore-scripts",
        "--save-exact",
        f"{PACKAGE}@{version}",
    ]
    failed = run_steps([install], cwd=directory)
    if failed is not None:
        return PeerInstall.missing(failed)
    if installed_version(directory) != version or not entry.exists():
        return PeerInstall.missing(f"{PACKAGE} {version} not found after npm install")
    return PeerInstall(entry, version)


def portkey_argv(entry: Path, port: int) -> list[str]:
    """The gateway's process: Node.js with the loopback preload, the start script, the port."""
    node = shutil.which("node") or "node"
    return [
        node,
        "--import",
        LOOPBACK_PRELOAD.as_uri(),
        str(entry),
        f"--port={port}",
        "--headless",
    ]


def portkey_headers(
    emulator_url: str, access_key_id: str, secret_access_key: str, region: str
) -> dict[str, str]:
    """What every request to Portkey carries: the provider, where it is, its credentials."""
    return {
        "x-portkey-provider": "bedrock",
        "x-portkey-custom-host": emulator_url,
        "x-portkey-aws-access-key-id": access_key_id,
        "x-portkey-aws-secret-access-key": secret_access_key,
        "x-portkey-aws-region": region,
    }


def main() -> int:
    install = ensure_portkey()
    if install.program is None:
        print(f"portkey: not installed ({install.reason})", file=sys.stderr)
        return 1
    print(f"portkey {install.version} on Node.js {node_version()}: {install.program}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
