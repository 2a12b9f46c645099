"""The usage table every ledger store creates, and the errors every store raises.

Plain SQL (standard column types) so SQLite (:mod:`fmgate.accounting.sqlite_ledger`) and
PostgreSQL (:mod:`fmgate.accounting.postgres_ledger`) create the same table from it.
"""

from __future__ import annotations

from dataclasses import fields
from typing import Final

from fmgate.accounting.ledger import UsageRecord

SCHEMA_VERSION: Final = 1

COLUMNS: Final = tuple(f.name for f in fields(UsageRecord))

SCHEMA: Final = (
    "CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)",
    """CREATE TABLE IF NOT EXISTS usage (
        request_id TEXT PRIMARY KEY,
        bot TEXT NOT NULL,
        model_id TEXT NOT NULL,
        user_id TEXT NOT NULL,
        conversation_id TEXT NOT NULL,
        started_at DOUBLE PRECISION NOT NULL,
        input_tokens BIGINT NOT NULL,
        output_tokens BIGINT NOT NULL,
        cache_read_tokens BIGINT NOT NULL,
        cache_write_tokens BIGINT NOT NULL,
        estimated BOOLEAN NOT NULL,
        cost_milli_cents BIGINT NOT NULL,
        latency_ms DOUBLE PRECISION NOT NULL,
        ttft_ms DOUBLE PRECISION,
        outcome TEXT NOT NULL,
        front TEXT NOT NULL
    )""",
    "CREATE INDEX IF NOT EXISTS usage_started_at ON usage (started_at)",
)


class LedgerSchemaError(RuntimeError):
    """The ledger was written by an incompatible fmgate version."""


class LedgerClosed(RuntimeError):
    """The ledger was used after ``aclose``."""
