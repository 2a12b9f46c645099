"""How many Bedrock calls are running: each holds one pooled connection while it runs.

Read by the ``fmgate_upstream_pool_connections`` gauge at scrape time.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager


class InFlightCalls:
    __slots__ = ("count",)

    def __init__(self) -> None:
        self.count = 0

    @contextmanager
    def track(self) -> Iterator[None]:
        self.count += 1
        try:
            yield
        finally:
            self.count -= 1
