"""A peer's own environment under ``bench/``, installed once from its registry and pinned.

Each peer lives in its own directory (a Python venv, or a Node.js package directory), never in
fmgate's environment. :class:`PeerInstall` says where the installed program is, or why there is
none; the benchmark then reports the peer with that reason instead of figures (it never invents
numbers for a peer that is not there). ``bench.litellm_env``, ``bench.tensorzero_env`` (pip) and
``bench.portkey_env`` (npm) use the steps here.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

INSTALL_TIMEOUT_SECONDS = 900
#: pip's notes on this machine's extra (absent) local indexes: noise, not the reason of a failure.
NOISE_PREFIXES = ("WARNING: Location",)


@dataclass(frozen=True, slots=True)
class PeerInstall:
    """Where a peer's program is (``program``, pinned ``version``), or why there is none."""

    program: Path | None
    version: str | None
    reason: str | None = None

    @classmethod
    def missing(cls, reason: str) -> PeerInstall:
        return cls(None, None, reason)


def last_line(text: str) -> str | None:
    """The last line of a command's output worth quoting as its failure."""
    lines = [line for line in text.strip().splitlines() if not line.startswith(NOISE_PREFIXES)]
    return lines[-1].strip() if lines else None


def run_steps(
    steps: Sequence[Sequence[str]],
    cwd: Path | None = None,
    timeout: float = INSTALL_TIMEOUT_SECONDS,
) -> str | None:
    """Run each command in turn; why the first one that failed failed, or None if all passed."""
    for step in steps:
        try:
            done = subprocess.run(
                step, capture_output=True, text=True, check=False, timeout=timeout, cwd=cwd
            )
        except (OSError, subprocess.TimeoutExpired) as exc:
            return f"{Path(step[0]).name}: {type(exc).__name__}"
        if done.returncode != 0:
            why = last_line(done.stderr) or last_line(done.stdout)
            return f"{Path(step[0]).name} {step[1]}: {why or f'exit {done.returncode}'}"
    return None


def distribution_version(venv: Path, distribution: str) -> str | None:
    """The version of ``distribution`` installed in ``venv``, or None (no venv, not installed)."""
    python = venv / "bin" / "python"
    if not python.exists():
        return None
    probe = subprocess.run(
        [str(python), "-c", f"import importlib.metadata as m; print(m.version({distribution!r}))"],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    return probe.stdout.strip() if probe.returncode == 0 else None


def ensure_pip_package(
    venv: Path, requirement: str, distribution: str, version: str, program: Path
) -> PeerInstall:
    """``venv`` with ``requirement`` (pinned to ``version`` of ``distribution``) installed by pip,
    created on first use; ``program`` is what the benchmark runs from it."""
    if distribution_version(venv, distribution) == version and program.exists():
        return PeerInstall(program, version)
    print(f"bench: installing {requirement} into {venv} (once)...", file=sys.stderr, flush=True)
    failed = run_steps(
        [
            [sys.executable, "-m", "venv", str(venv)],
            [str(venv / "bin" / "pip"), "install", "--quiet", requirement],
        ]
    )
    if failed is not None:
        return PeerInstall.missing(failed)
    if distribution_version(venv, distribution) != version or not program.exists():
        return PeerInstall.missing(f"{distribution} {version} not importable after install")
    return PeerInstall(program, version)
