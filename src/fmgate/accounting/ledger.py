"""The usage ledger: one row per request, and the totals operators read back.

:class:`UsageLedger` is the interface; :class:`fmgate.accounting.sqlite_ledger.SqliteLedger` is
the default implementation. Everything crossing the interface is plain data (strings, ints,
floats, bools, unix timestamps), so a Postgres implementation can satisfy it unchanged.
Recording is idempotent per ``request_id``: a second record with the same id is ignored, which
makes "recorded exactly once" safe to retry.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True, slots=True)
class UsageRecord:
    """One finished request, as billed."""

    request_id: str
    bot: str
    model_id: str
    user_id: str
    conversation_id: str
    #: When the request arrived (unix seconds).
    started_at: float
    input_tokens: int
    output_tokens: int
    cache_read_tokens: int
    cache_write_tokens: int
    #: Token counts are an estimate (the stream ended before Bedrock reported usage).
    estimated: bool
    cost_milli_cents: int
    latency_ms: float
    #: Time to the first output reaching the caller; None when nothing was delivered.
    ttft_ms: float | None
    #: "ok", "cancelled" (the caller went away), or the error's code (``GatewayError.code``).
    outcome: str
    #: Which front served it ("poe", later "openai").
    front: str = "poe"
    #: Of ``cache_write_tokens``, those written with the 1-hour TTL (priced apart).
    cache_write_1h_tokens: int = 0


#: Outcomes that are not errors.
NON_ERROR_OUTCOMES = frozenset({"ok", "cancelled"})


@dataclass(frozen=True, slots=True)
class UsageTotals:
    """Sums over one bot's requests on one UTC day."""

    #: UTC date, ISO format (2025-01-31).
    day: str
    bot: str
    requests: int
    #: Requests whose outcome was an error (not "ok", not "cancelled").
    errors: int
    input_tokens: int
    output_tokens: int
    cost_milli_cents: int


class UsageLedger(Protocol):
    """Where usage records go. Implementations must be safe to call from many tasks at once."""

    async def record(self, rec: UsageRecord) -> None:
        """Store ``rec`` durably; return only once it is stored. A known request_id is ignored."""

    async def totals_by_bot_day(self, since: float | None = None) -> list[UsageTotals]:
        """Totals per (UTC day, bot) for requests started at or after ``since``; oldest first."""
        ...

    async def get(self, request_id: str) -> UsageRecord | None:
        """The record of one request, if stored."""
        ...

    async def aclose(self) -> None:
        """Finish pending writes and release the store."""


#: Milli-cents in one US dollar.
MILLI_CENTS_PER_USD = 100_000

USAGE_TABLE_HEADERS = ("day", "bot", "requests", "errors", "input tokens", "output tokens", "cost")


def format_usage_table(rows: list[UsageTotals]) -> str:
    """An aligned plain-text table for ``fmgate usage``: one line per bot and day, then a total."""
    if not rows:
        return "no usage recorded"
    body = [
        (
            row.day,
            row.bot,
            f"{row.requests:,}",
            f"{row.errors:,}",
            f"{row.input_tokens:,}",
            f"{row.output_tokens:,}",
            usd(row.cost_milli_cents),
        )
        for row in rows
    ]
    total = (
        "total",
        "",
        f"{sum(r.requests for r in rows):,}",
        f"{sum(r.errors for r in rows):,}",
        f"{sum(r.input_tokens for r in rows):,}",
        f"{sum(r.output_tokens for r in rows):,}",
        usd(sum(r.cost_milli_cents for r in rows)),
    )
    table = [USAGE_TABLE_HEADERS, *body, total]
    widths = [max(len(line[col]) for line in table) for col in range(len(USAGE_TABLE_HEADERS))]
    text_columns = 2  # day and bot are left-aligned; numbers are right-aligned

    def render(line: tuple[str, ...]) -> str:
        cells = [
            cell.ljust(width) if col < text_columns else cell.rjust(width)
            for col, (cell, width) in enumerate(zip(line, widths, strict=True))
        ]
        return "  ".join(cells).rstrip()

    rule = "  ".join("-" * width for width in widths)
    return "\n".join([render(table[0]), rule, *map(render, body), rule, render(total)])


def usd(milli_cents: int) -> str:
    """Milli-cents as dollars with five decimals (milli-cent precision): 123456 -> $1.23456."""
    dollars, rest = divmod(milli_cents, MILLI_CENTS_PER_USD)
    return f"${dollars:,}.{rest:05d}"
