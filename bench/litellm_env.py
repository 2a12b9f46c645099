"""The LiteLLM peer's own virtual environment: ``bench/.venv-litellm`` with a pinned LiteLLM.

Created once (``python -m bench.litellm_env``, or by ``bench.run`` on first use) from PyPI with
pip; later runs reuse it when the pinned version is installed. LiteLLM never enters fmgate's own
environment. When the install fails, :func:`ensure_litellm` says why and the benchmark goes on
without the LiteLLM path (it never invents numbers for it).
"""

from __future__ import annotations

import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

#: The newest ``litellm[proxy]`` whose dependencies all resolve from PyPI here (1.108+ pin
#: ``litellm-proxy-extras`` builds that pip could not find when this was written).
LITELLM_VERSION = "1.106.12"
VENV_DIR = Path(__file__).resolve().parent / ".venv-litellm"
INSTALL_TIMEOUT_SECONDS = 900


@dataclass(frozen=True, slots=True)
class LitellmInstall:
    """Where the ``litellm`` executable is, or why there is none."""

    executable: Path | None
    version: str | None
    reason: str | None = None


def installed_version(venv: Path) -> str | None:
    python = venv / "bin" / "python"
    if not (venv / "bin" / "litellm").exists() or not python.exists():
        return None
    probe = subprocess.run(
        [str(python), "-c", "import importlib.metadata as m; print(m.version('litellm'))"],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    return probe.stdout.strip() if probe.returncode == 0 else None


def ensure_litellm(venv: Path = VENV_DIR, version: str = LITELLM_VERSION) -> LitellmInstall:
    """Create ``venv`` and install ``litellm[proxy]==version`` unless it is already there."""
    if installed_version(venv) == version:
        return LitellmInstall(venv / "bin" / "litellm", version)
    print(f"bench: installing litellm[proxy]=={version} into {venv} (once)...", flush=True)
    steps = [
        [sys.executable, "-m", "venv", str(venv)],
        [str(venv / "bin" / "pip"), "install", "--quiet", f"litellm[proxy]=={version}"],
    ]
    for step in steps:
        try:
            done = subprocess.run(
                step, capture_output=True, text=True, check=False, timeout=INSTALL_TIMEOUT_SECONDS
            )
        except (OSError, subprocess.TimeoutExpired) as exc:
            return LitellmInstall(None, None, f"{step[0]}: {type(exc).__name__}")
        if done.returncode != 0:
            lines = (done.stderr or done.stdout).strip().splitlines()
            return LitellmInstall(None, None, lines[-1] if lines else f"exit {done.returncode}")
    if installed_version(venv) != version:
        return LitellmInstall(None, None, "litellm not importable after install")
    return LitellmInstall(venv / "bin" / "litellm", version)


def main() -> int:
    install = ensure_litellm()
    if install.executable is None:
        print(f"litellm: not installed ({install.reason})", file=sys.stderr)
        return 1
    print(f"litellm {install.version}: {install.executable}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
