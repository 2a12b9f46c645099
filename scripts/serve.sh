#!/usr/bin/env bash
# Set up (first run only) and start the gateway. Without AWS credentials it serves every bot in
# the bundled catalog against the embedded Bedrock emulator. Extra arguments go to `fmgate serve`.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh
exec .venv/bin/fmgate serve "$@"
