"""The LiteLLM peer's own virtual environment: ``bench/.venv-litellm`` with a pinned LiteLLM.

Created once (``python -m bench.litellm_env``, or by ``bench.run`` on first use) from PyPI with
pip; later runs reuse it when the pinned version is installed. LiteLLM never enters fmgate's own
environment. When the install fails, :func:`ensure_litellm` says why and the benchmark goes on
without the LiteLLM path (it never invents numbers for it).
"""

from __future__ import annotations

import sys
from pathlib import Path

from bench.peer_install import PeerInstall, ensure_pip_package

#: The newest ``litellm[proxy]`` whose dependencies all resolve from PyPI here (1.108+ pin
#: ``litellm-proxy-extras`` builds that pip could not find when this was written).
LITELLM_VERSION = "1.106.12"
VENV_DIR = Path(__file__).resolve().parent / ".venv-litellm"


def ensure_litellm(venv: Path = VENV_DIR, version: str = LITELLM_VERSION) -> PeerInstall:
    """Create ``venv`` and install ``litellm[proxy]==version`` unless it is already there; the
    install's ``program`` is the ``litellm`` proxy command."""
    return ensure_pip_package(
        venv, f"litellm[proxy]=={version}", "litellm", version, venv / "bin" / "litellm"
    )


def main() -> int:
    install = ensure_litellm()
    if install.program is None:
        print(f"litellm: not installed ({install.reason})", file=sys.stderr)
        return 1
    print(f"litellm {install.version}: {install.program}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
