"""The caller-document store of a gateway: in its ledger's database, or in memory without one."""

from __future__ import annotations

from fmgate.accounting.caller_documents import CallerDocuments, DocumentLimits
from fmgate.accounting.ledger import UsageLedger
from fmgate.accounting.memory_documents import MemoryDocuments
from fmgate.accounting.postgres_documents import PostgresDocuments
from fmgate.accounting.postgres_ledger import PostgresLedger
from fmgate.accounting.sqlite_documents import SqliteDocuments
from fmgate.accounting.sqlite_ledger import SqliteLedger


def caller_documents(ledger: UsageLedger | None, limits: DocumentLimits) -> CallerDocuments:
    """Documents beside ``ledger``'s usage rows (same database, same connections), or in this
    process's memory when the gateway keeps no ledger. The store lives as long as the ledger:
    closing the ledger closes it."""
    match ledger:
        case SqliteLedger():
            return SqliteDocuments(ledger, limits)
        case PostgresLedger():
            return PostgresDocuments(ledger, limits)
        case None:
            return MemoryDocuments(limits)
        case _:
            raise TypeError(f"no caller-document store for a {type(ledger).__name__}")
