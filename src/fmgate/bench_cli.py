"""``fmgate bench``: run the performance benchmark of the source checkout (``bench/``).

The benchmark lives beside the package, not inside it (it starts LiteLLM from its own venv and
is only meaningful in a checkout), so this entry point finds ``bench/`` next to ``src/`` and
runs ``bench.run.main``. From an installed wheel it explains where the benchmark is instead.
"""

from __future__ import annotations

import importlib
import sys
from pathlib import Path

#: ``src/fmgate/bench_cli.py`` -> the repository root holding ``bench/``.
CHECKOUT_ROOT = Path(__file__).resolve().parents[2]


def run_bench(argv: list[str]) -> int:
    """Run ``python -m bench.run`` with ``argv`` (``--quick``, ``--out``, ``--skip-litellm``...)."""
    if not (CHECKOUT_ROOT / "bench" / "run.py").is_file():
        print(
            "fmgate bench: the benchmark is part of the source checkout; run it from there with "
            "`python -m bench.run` (see bench/README.md)",
            file=sys.stderr,
        )
        return 2
    if str(CHECKOUT_ROOT) not in sys.path:
        sys.path.insert(0, str(CHECKOUT_ROOT))
    bench_run = importlib.import_module("bench.run")
    result: int = bench_run.main(argv)
    return result
