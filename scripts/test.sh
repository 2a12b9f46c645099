#!/usr/bin/env bash
# Set up (first run only) and run everything CI runs: ruff, mypy --strict, the import-layer
# contract (lint-imports), the test suite.
# Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh
bash scripts/system-packages.sh
echo "== ruff"
.venv/bin/ruff check
.venv/bin/ruff format --check
echo "== mypy --strict (src, emulator/src, tests, bench: [tool.mypy] packages in pyproject.toml)"
.venv/bin/mypy
echo "== import layers (lint-imports)"
.venv/bin/lint-imports --no-cache
echo "== pytest"
.venv/bin/python -m pytest "$@"
