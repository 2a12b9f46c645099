"""Profile fmgate's hot path under load: ``python -m bench.profile [--seconds 15]``.

Starts the emulator (zero latency) and ``fmgate serve``, samples the gateway with py-spy
(installed once into ``bench/.venv-tools``) while the load generator keeps ``--concurrency``
streams going, then prints where the gateway's CPU time goes: the functions with the most
samples on top of the stack (self) and on the stack at all (inclusive). The collapsed stacks
are kept in ``bench/results/profile-fmgate.collapsed.txt`` for flame-graph tools.
Only samples of the thread holding the GIL count (``--gil``): waiting threads (the ledger's
SQLite thread blocked in ``fsync``, idle executor workers) would otherwise look busy.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import sys
import tempfile
from collections import Counter
from pathlib import Path

import uvloop

from bench.emulator_control import EmulatorControl
from bench.loadgen import run_load
from bench.run import RESULTS_DIR, cpu_placement
from bench.servers import BOT_NAME, BenchCredentials, emulator_server, fmgate_server
from bench.streams import PoeStream

PY_SPY_VERSION = "0.4.3"
TOOLS_VENV = Path(__file__).resolve().parent / ".venv-tools"


def ensure_py_spy() -> Path:
    """``py-spy`` from PyPI in its own venv (once)."""
    executable = TOOLS_VENV / "bin" / "py-spy"
    if not executable.exists():
        subprocess.run([sys.executable, "-m", "venv", str(TOOLS_VENV)], check=True)
        subprocess.run(
            [str(TOOLS_VENV / "bin" / "pip"), "install", "--quiet", f"py-spy=={PY_SPY_VERSION}"],
            check=True,
        )
    return executable


def frame_name(frame: str) -> str:
    """``handle (fmgate/fronts/poe/stream.py:42)`` -> ``fmgate/fronts/poe/stream.py:handle``."""
    name, _, where = frame.partition(" (")
    path = where.rstrip(")").rsplit(":", 1)[0]
    for marker in ("site-packages/", "/src/", "python3.11/"):
        if marker in path:
            path = path.split(marker, 1)[1]
            break
    return f"{path}:{name}"


def summarize(collapsed: str, top: int = 25) -> str:
    """Self and inclusive sample shares per function, from py-spy's collapsed (raw) output."""
    own: Counter[str] = Counter()
    inclusive: Counter[str] = Counter()
    total = 0
    for line in collapsed.splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack or not count_text.isdigit():
            continue
        count = int(count_text)
        frames = [frame_name(f) for f in stack.split(";") if f and not f.startswith("process ")]
        if not frames:
            continue
        total += count
        own[frames[-1]] += count
        for name in set(frames):
            inclusive[name] += count
    lines = [f"{total} samples"]
    for title, counter in (("self", own), ("inclusive", inclusive)):
        lines.append(f"\ntop {top} by {title} time:")
        for name, count in counter.most_common(top):
            lines.append(f"  {100 * count / max(total, 1):5.1f}%  {name}")
    return "\n".join(lines)


async def profile(seconds: float, concurrency: int, log_dir: Path, py_spy: Path) -> str:
    credentials = BenchCredentials()
    load_cpus, server_cpus = cpu_placement(True)
    raw = log_dir / "fmgate.collapsed.txt"
    async with (
        emulator_server(log_dir, credentials, load_cpus) as emulator,
        fmgate_server(log_dir, emulator.url, credentials, 32, server_cpus) as gateway,
    ):
        await EmulatorControl(emulator.url).set_timing(0.0, 0.0)
        client = PoeStream(gateway.url, BOT_NAME, credentials.poe_access_key, 4096)
        try:
            await run_load(client, concurrency=8, max_requests=50, max_seconds=10)
            recorder = await asyncio.create_subprocess_exec(
                str(py_spy),
                "record",
                "--pid",
                str(gateway.pid),
                "--duration",
                str(int(seconds)),
                "--rate",
                "250",
                "--gil",  # only the thread holding the GIL: Python CPU, not waits
                "--format",
                "raw",
                "--output",
                str(raw),
                stdout=asyncio.subprocess.DEVNULL,
                stderr=asyncio.subprocess.PIPE,
            )
            load = asyncio.create_task(
                run_load(
                    client,
                    concurrency=concurrency,
                    max_requests=10_000_000,
                    max_seconds=seconds + 2,
                )
            )
            _, errors = await recorder.communicate()
            result = await load
        finally:
            await client.aclose()
    if recorder.returncode != 0:
        raise RuntimeError(f"py-spy failed: {errors.decode(errors='replace')[-500:]}")
    header = (
        f"fmgate under load: c={concurrency}, {result.completed} streams in "
        f"{result.wall_seconds:.1f} s ({result.throughput:.0f}/s), zero-latency emulator"
    )
    collapsed = raw.read_text()
    (RESULTS_DIR / "profile-fmgate.collapsed.txt").write_text(collapsed)
    return header + "\n" + summarize(collapsed)


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.profile", description=__doc__)
    parser.add_argument("--seconds", type=float, default=15.0)
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--out", type=Path, default=RESULTS_DIR / "profile-fmgate.txt")
    args = parser.parse_args()
    py_spy = ensure_py_spy()
    load_cpus, _ = cpu_placement(True)
    if load_cpus:
        os.sched_setaffinity(0, load_cpus)
    with tempfile.TemporaryDirectory(prefix="fmgate-profile-") as tmp:
        text = uvloop.run(profile(args.seconds, args.concurrency, Path(tmp), py_spy))
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(text + "\n")
    print(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
