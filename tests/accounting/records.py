"""Usage records for ledger tests."""

from __future__ import annotations

from fmgate.accounting.ledger import UsageRecord

#: 2025-03-01 12:00:00 UTC
DAY_ONE = 1_740_830_400.0
DAY_SECONDS = 86_400.0


def usage_record(request_id: str, **changes: object) -> UsageRecord:
    values: dict[str, object] = {
        "request_id": request_id,
        "bot": "claude",
        "model_id": "us.anthropic.claude-sonnet-4-20250514-v1:0",
        "user_id": "u-1",
        "conversation_id": "c-1",
        "started_at": DAY_ONE,
        "input_tokens": 1000,
        "output_tokens": 200,
        "cache_read_tokens": 0,
        "cache_write_tokens": 0,
        "estimated": False,
        "cost_milli_cents": 600,
        "latency_ms": 1234.5,
        "ttft_ms": 321.0,
        "outcome": "ok",
        "front": "poe",
    }
    values.update(changes)
    return UsageRecord(**values)  # type: ignore[arg-type]


#: The usage table of schema version 1 (before 1-hour cache writes were counted apart).
VERSION_1_TABLE = """CREATE TABLE usage (
    request_id TEXT PRIMARY KEY, bot TEXT NOT NULL, model_id TEXT NOT NULL,
    user_id TEXT NOT NULL, conversation_id TEXT NOT NULL, started_at DOUBLE PRECISION NOT NULL,
    input_tokens BIGINT NOT NULL, output_tokens BIGINT NOT NULL,
    cache_read_tokens BIGINT NOT NULL, cache_write_tokens BIGINT NOT NULL,
    estimated BOOLEAN NOT NULL, cost_milli_cents BIGINT NOT NULL,
    latency_ms DOUBLE PRECISION NOT NULL, ttft_ms DOUBLE PRECISION, outcome TEXT NOT NULL,
    front TEXT NOT NULL)"""

#: The usage table of schema version 2 (before the cache saving was recorded).
VERSION_2_TABLE = VERSION_1_TABLE.removesuffix(")") + (
    ", cache_write_1h_tokens BIGINT NOT NULL DEFAULT 0)"
)

#: The usage table of schema version 4 (before the service tier was recorded).
VERSION_4_TABLE = VERSION_2_TABLE.removesuffix(")") + ", cache_saving_milli_cents DOUBLE PRECISION)"

#: The usage table of schema version 5 (before the billing split was recorded).
VERSION_5_TABLE = VERSION_4_TABLE.removesuffix(")") + ", service_tier TEXT)"
