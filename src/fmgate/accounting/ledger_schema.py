"""The tables every ledger store creates, and the errors every store raises.

Plain SQL (standard column types) so SQLite (:mod:`fmgate.accounting.sqlite_ledger`) and
PostgreSQL (:mod:`fmgate.accounting.postgres_ledger`) create the same tables from it: ``usage``
(one row per request) and ``caller_documents`` (JSON kept for a caller, see
:mod:`fmgate.accounting.caller_documents`). A ledger an older fmgate wrote is brought up to
:data:`SCHEMA_VERSION` by :data:`MIGRATIONS` when opened.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import fields
from typing import Final

from fmgate.accounting.ledger import UsageRecord

SCHEMA_VERSION: Final = 6

COLUMNS: Final = tuple(f.name for f in fields(UsageRecord))

#: Caller-scoped JSON documents (stored responses); ``created_at`` in unix seconds bounds their
#: age, ``size_bytes`` (of ``body``, UTF-8) the store's total.
DOCUMENTS_SCHEMA: Final = (
    """CREATE TABLE IF NOT EXISTS caller_documents (
        caller TEXT NOT NULL,
        document_id TEXT NOT NULL,
        created_at DOUBLE PRECISION NOT NULL,
        size_bytes BIGINT NOT NULL,
        body TEXT NOT NULL,
        PRIMARY KEY (caller, document_id)
    )""",
    "CREATE INDEX IF NOT EXISTS caller_documents_created_at ON caller_documents (created_at)",
)

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
        front TEXT NOT NULL,
        cache_write_1h_tokens BIGINT NOT NULL DEFAULT 0,
        cache_saving_milli_cents DOUBLE PRECISION,
        service_tier TEXT,
        system_tokens BIGINT,
        input_tokens_excl_system BIGINT
    )""",
    "CREATE INDEX IF NOT EXISTS usage_started_at ON usage (started_at)",
    *DOCUMENTS_SCHEMA,
)

#: Version -> the statements that bring a ledger of that version to the next one.
MIGRATIONS: Final[Mapping[int, tuple[str, ...]]] = {
    # 2: cache writes with the 1-hour TTL are counted apart (they are priced apart).
    1: ("ALTER TABLE usage ADD COLUMN cache_write_1h_tokens BIGINT NOT NULL DEFAULT 0",),
    # 3: what the prompt cache saved, priced when the request was billed. The rows already
    # there with cache tokens were priced at prices that may have changed since: their saving
    # stays NULL (not known); a row without cache tokens saved exactly nothing.
    2: (
        "ALTER TABLE usage ADD COLUMN cache_saving_milli_cents DOUBLE PRECISION",
        "UPDATE usage SET cache_saving_milli_cents = 0 "
        "WHERE cache_read_tokens = 0 AND cache_write_tokens = 0",
    ),
    # 4: caller-scoped documents (the Responses API's stored responses).
    3: DOCUMENTS_SCHEMA,
    # 5: the service tier Bedrock served each request on (NULL for the rows already there).
    4: ("ALTER TABLE usage ADD COLUMN service_tier TEXT",),
    # 6: the billing split of the prompt, the system prompt's tokens and the rest (NULL, not
    # known, for the rows already there).
    5: (
        "ALTER TABLE usage ADD COLUMN system_tokens BIGINT",
        "ALTER TABLE usage ADD COLUMN input_tokens_excl_system BIGINT",
    ),
}


def migrations_from(version: int, where: str) -> list[str]:
    """The statements that bring a ledger at ``version`` to :data:`SCHEMA_VERSION`, in order;
    :class:`LedgerSchemaError` for a version this fmgate cannot bring there (a newer one)."""
    if version > SCHEMA_VERSION or any(v not in MIGRATIONS for v in range(version, SCHEMA_VERSION)):
        raise LedgerSchemaError(
            f"usage ledger {where} has schema version {version}, this fmgate uses {SCHEMA_VERSION}"
        )
    return [statement for v in range(version, SCHEMA_VERSION) for statement in MIGRATIONS[v]]


class LedgerSchemaError(RuntimeError):
    """The ledger was written by an incompatible fmgate version."""


class LedgerClosed(RuntimeError):
    """The ledger was used after ``aclose``."""
