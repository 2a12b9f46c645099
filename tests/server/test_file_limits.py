"""fmgate serve lifts its open-file soft limit to the hard limit, never above it."""

from __future__ import annotations

import resource
import subprocess
import sys

SCRIPT = """
import resource
from fmgate.server.file_limits import raise_open_file_limit
soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
resource.setrlimit(resource.RLIMIT_NOFILE, (256, hard))
now = raise_open_file_limit()
print(now, resource.getrlimit(resource.RLIMIT_NOFILE)[0], hard)
"""


def test_the_soft_limit_rises_to_the_hard_one() -> None:
    # In a child process: the test run's own limits stay as they are.
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT], capture_output=True, text=True, check=True, timeout=30
    )
    now, soft, hard = (int(part) for part in done.stdout.split())
    expected = hard if hard != resource.RLIM_INFINITY else max(256, 1_048_576)
    assert now == soft == expected
