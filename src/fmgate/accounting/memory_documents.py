"""Caller documents in this process's memory: the store of a gateway that keeps no ledger.

Bounded like the database stores (age, total size), but lost when the process stops and not
shared with other workers or replicas: a document stored by one is unknown to the others.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from fmgate.accounting.caller_documents import DocumentLimits, SweepSchedule


@dataclass(frozen=True, slots=True)
class _Stored:
    created_at: float
    size_bytes: int
    body: str


class MemoryDocuments:
    """A :class:`~fmgate.accounting.caller_documents.CallerDocuments` in memory."""

    def __init__(self, limits: DocumentLimits, clock: Callable[[], float] = time.time) -> None:
        self._limits = limits
        self._clock = clock
        self._sweeps = SweepSchedule(limits.sweep_interval_seconds)
        #: Oldest first (insertion order; a replaced document moves to the end).
        self._documents: dict[tuple[str, str], _Stored] = {}
        self._total_bytes = 0

    @property
    def limits(self) -> DocumentLimits:
        return self._limits

    async def put(self, caller: str, document_id: str, body: str) -> None:
        now = self._clock()
        self._discard((caller, document_id))
        stored = _Stored(now, len(body.encode()), body)
        self._documents[caller, document_id] = stored
        self._total_bytes += stored.size_bytes
        if self._sweeps.due(now):
            self._sweep(now)

    async def get(self, caller: str, document_id: str) -> str | None:
        stored = self._documents.get((caller, document_id))
        if stored is None or self._expired(stored, self._clock()):
            return None
        return stored.body

    async def delete(self, caller: str, document_id: str) -> bool:
        stored = self._documents.get((caller, document_id))
        if stored is None:
            return False
        self._discard((caller, document_id))
        return not self._expired(stored, self._clock())

    def _expired(self, stored: _Stored, now: float) -> bool:
        return stored.created_at <= now - self._limits.retention_seconds

    def _discard(self, key: tuple[str, str]) -> None:
        stored = self._documents.pop(key, None)
        if stored is not None:
            self._total_bytes -= stored.size_bytes

    def _sweep(self, now: float) -> None:
        """Drop expired documents, then the oldest while the rest are over the cap."""
        for key, stored in list(self._documents.items()):
            if self._expired(stored, now) or self._total_bytes > self._limits.max_total_bytes:
                self._discard(key)
