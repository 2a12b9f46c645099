"""Documents kept for a caller: JSON a front stores and reads back later for the same caller
(the Responses API's stored responses), in the usage ledger's database.

A document is addressed by (caller, document id). A caller who names another caller's id finds
nothing, exactly as if the id did not exist: no store operation takes a document id alone.
Documents are bounded

- in age: a document older than ``retention_seconds`` is gone at once (no read finds it) and
  deleted by the next sweep;
- in size: the store holds about ``max_total_bytes`` of documents at most; a sweep deletes the
  oldest first until the rest fit.

A sweep runs with a write, at most once per ``sweep_interval_seconds`` (so the total may run
over the cap by what is written in between). ``max_document_bytes`` is the largest document a
front is to store: the front checks it, as only it knows what a document will hold before the
document is complete.

Implementations: :class:`~fmgate.accounting.sqlite_documents.SqliteDocuments` and
:class:`~fmgate.accounting.postgres_documents.PostgresDocuments` (the ledger's own database and
connections, the table of :mod:`fmgate.accounting.ledger_schema`), and
:class:`~fmgate.accounting.memory_documents.MemoryDocuments` for a gateway without a ledger (this
process only, lost at restart). Every failure of the database comes out as
:class:`DocumentStoreUnavailable`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

DAY_SECONDS = 86_400.0


@dataclass(frozen=True, slots=True)
class DocumentLimits:
    """How long documents live and how much the store holds."""

    retention_seconds: float = 30 * DAY_SECONDS
    max_total_bytes: int = 1024**3
    max_document_bytes: int = 8 * 1024**2
    sweep_interval_seconds: float = 60.0


class DocumentStoreUnavailable(RuntimeError):
    """The store's database failed (or is closed); nothing was read or written."""


class CallerDocuments(Protocol):
    """Caller-scoped JSON documents. Safe to call from many tasks at once."""

    @property
    def limits(self) -> DocumentLimits: ...

    async def put(self, caller: str, document_id: str, body: str) -> None:
        """Store ``body`` (JSON text) as ``caller``'s ``document_id``, replacing one there."""

    async def get(self, caller: str, document_id: str) -> str | None:
        """``caller``'s document, or None (unknown, another caller's, expired or deleted)."""

    async def delete(self, caller: str, document_id: str) -> bool:
        """Delete ``caller``'s document; whether there was one to delete."""


class SweepSchedule:
    """When a store's next sweep is due (expired and over-the-cap documents deleted)."""

    __slots__ = ("_interval", "_next")

    def __init__(self, interval_seconds: float) -> None:
        self._interval = interval_seconds
        self._next = float("-inf")

    def due(self, now: float) -> bool:
        """Whether a sweep is due at ``now``; if so, the following one is scheduled."""
        if now < self._next:
            return False
        self._next = now + self._interval
        return True
