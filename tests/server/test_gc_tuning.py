"""The collector tuned once ``fmgate serve`` is serving (in a child interpreter: the tuning is
process-wide, and the test process keeps the defaults)."""

from __future__ import annotations

import subprocess
import sys

from fmgate.server.gc_tuning import YOUNG_THRESHOLD

PROGRAM = """
import gc
from fmgate.server.gateway_process import started_serving

before = gc.get_threshold()
calls = []
started_serving(lambda: calls.append(gc.get_freeze_count()))()
print(before[0], gc.get_threshold()[0], before[1:] == gc.get_threshold()[1:], calls[0] > 0)
"""


def test_serving_freezes_startup_objects_and_collects_young_objects_less_often() -> None:
    done = subprocess.run(
        [sys.executable, "-c", PROGRAM], capture_output=True, text=True, check=True, timeout=60
    )
    default, tuned, older_kept, frozen_before_callback = done.stdout.split()
    assert (default, tuned) == ("700", str(YOUNG_THRESHOLD))
    assert older_kept == "True"
    assert frozen_before_callback == "True"
