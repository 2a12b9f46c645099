"""The garbage collector tuned for a long-running gateway.

A streamed request allocates thousands of short-lived containers (JSON payloads, events, the
Converse request) and CPython's cyclic collector runs every 700 net allocations; with
``--native`` sampling it was about a sixth of the gateway's CPU under load
(``bench.profile``), most of it scanning objects that live as long as the process: imported
modules, pydantic schemas, the catalog, botocore's service models. Two settings, applied once the
gateway is open and serving (``fmgate serve``):

* :func:`gc.freeze` moves every object alive at that moment to the permanent generation, which
  no collection scans again (the objects a later reload builds are collected as usual);
* the youngest generation's threshold goes from 700 to :data:`YOUNG_THRESHOLD`, so young
  collections run less often, each over objects most of which are already garbage freed by
  reference counting. The older generations keep their thresholds.

Reference counting still frees almost everything at once; the collector is only for cycles,
which the gateway does not build on its hot path. Tests and embedders (``build_app``) keep the
interpreter's defaults.
"""

from __future__ import annotations

import gc
from typing import Final

#: Net allocations of container objects between two young-generation collections.
YOUNG_THRESHOLD: Final = 10_000


def tune_for_serving() -> None:
    """Freeze what exists now and collect the young generation less often."""
    gc.collect()
    gc.freeze()
    _, middle, old = gc.get_threshold()
    gc.set_threshold(YOUNG_THRESHOLD, middle, old)
