#!/usr/bin/env bash
# Create .venv and install fmgate with pinned dependencies. Idempotent: re-runs only when
# pyproject.toml or constraints.txt changed. Needs only python3 (3.11+) with venv and pip.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
if ! "$PY" -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
  echo "fmgate needs Python 3.11 or newer; $PY is $("$PY" --version 2>&1)" >&2
  exit 1
fi
if [ ! -x .venv/bin/python ]; then
  "$PY" -m venv .venv
fi
stamp=.venv/.fmgate-installed
want=$(cat pyproject.toml emulator/pyproject.toml constraints.txt | sha256sum | cut -d' ' -f1)
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
  .venv/bin/python -m pip install --quiet --disable-pip-version-check --upgrade "pip==25.3" 2>&1 \
    | grep -v '^WARNING: Location' || true
  .venv/bin/python -m pip install --quiet --disable-pip-version-check \
    -c constraints.txt -e '.[dev]' -e ./emulator 2>&1 | grep -v '^WARNING: Location' || true
  .venv/bin/python -c 'import fmgate, fmgate_emulator, fastapi_poe, aiobotocore, moto' # fail loudly if install failed
  echo "$want" > "$stamp"
fi
