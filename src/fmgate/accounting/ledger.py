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
    #: "ok", "cancelled" (the caller went away), "guardrail" (a guardrail intervened: the
    #: answer was its blocked message), or the error's code (``GatewayError.code``).
    outcome: str
    #: Which front served it ("poe", later "openai").
    front: str = "poe"
    #: Of ``cache_write_tokens``, those written with the 1-hour TTL (priced apart).
    cache_write_1h_tokens: int = 0
    #: Milli-cents the prompt cache saved against the plain input price, at the prices the
    #: request was billed with (:attr:`fmgate.accounting.pricing.Cost.cache_saving`; negative
    #: when writes were not read back). None: recorded before the ledger kept it (schema 3) by
    #: a request that read or wrote the cache, so not known.
    cache_saving_milli_cents: float | None = 0.0
    #: The service tier Bedrock reports it served the request on (``default``, ``priority``,
    #: ``flex``; it was priced at that tier's prices). None: Bedrock reported none (no tier
    #: asked for, no answer, or a row from before schema 5).
    service_tier: str | None = None
    #: Of the prompt's tokens (input, cache reads and cache writes), those of the system
    #: prompt, counted with CountTokens (:mod:`fmgate.accounting.billing_split`). None: not
    #: known (a model that does not count tokens, a count that failed, no usage, or a row from
    #: before schema 6).
    system_tokens: int | None = None
    #: The prompt's other tokens: the input excluding the system prompt (what the caller
    #: sent). None when ``system_tokens`` is.
    input_tokens_excl_system: int | None = None


#: Outcomes that are not errors.
NON_ERROR_OUTCOMES = frozenset({"ok", "cancelled", "guardrail"})


@dataclass(frozen=True, slots=True)
class UsageTotals:
    """Sums over one bot's requests on one UTC day."""

    #: UTC date, ISO format (2025-01-31).
    day: str
    bot: str
    requests: int
    #: Requests whose outcome was an error (not "ok", "cancelled" or "guardrail").
    errors: int
    input_tokens: int
    output_tokens: int
    cost_milli_cents: int
    cache_read_tokens: int = 0
    cache_write_tokens: int = 0
    #: The sum of the known savings (:attr:`UsageRecord.cache_saving_milli_cents`).
    cache_saving_milli_cents: float = 0.0
    #: Requests whose saving is not known (recorded before schema 3, with cache tokens).
    unknown_saving_requests: int = 0

    @property
    def prompt_tokens(self) -> int:
        """Every prompt token: uncached input, cache reads and cache writes."""
        return self.input_tokens + self.cache_read_tokens + self.cache_write_tokens

    @property
    def cache_hit_ratio(self) -> float | None:
        """The share of the prompt tokens read from the cache (see :func:`cache_hit_ratio`)."""
        return cache_hit_ratio(self.input_tokens, self.cache_read_tokens, self.cache_write_tokens)


def cache_hit_ratio(
    input_tokens: float, cache_read_tokens: float, cache_write_tokens: float
) -> float | None:
    """Cache reads over every prompt token (input + reads + writes); None without prompt
    tokens."""
    prompt_tokens = input_tokens + cache_read_tokens + cache_write_tokens
    return cache_read_tokens / prompt_tokens if prompt_tokens > 0 else None


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

USAGE_TABLE_HEADERS = (
    "day",
    "bot",
    "requests",
    "errors",
    "input tokens",
    "output tokens",
    "cache read",
    "cache write",
    "hit",
    "cost",
    "saved",
)

#: Shown for a figure that does not exist (a hit ratio where the cache was not used).
NO_FIGURE = "–"
#: Marks a saving that leaves out requests whose saving is not known.
UNKNOWN_SAVING_MARK = "*"


def format_usage_table(rows: list[UsageTotals]) -> str:
    """An aligned plain-text table for ``fmgate usage``: one line per bot and day, then a total.

    Besides tokens and cost, each line shows the prompt cache: tokens read and written, the hit
    ratio (reads over all prompt tokens; :data:`NO_FIGURE` where the cache was neither read
    nor written) and what it saved against the plain input price (signed: writes that are not
    read back cost more than plain input). A saving marked :data:`UNKNOWN_SAVING_MARK` leaves
    out requests recorded before the ledger kept savings; a note under the table counts them.
    """
    if not rows:
        return "no usage recorded"
    total = UsageTotals(
        day="total",
        bot="",
        requests=sum(r.requests for r in rows),
        errors=sum(r.errors for r in rows),
        input_tokens=sum(r.input_tokens for r in rows),
        output_tokens=sum(r.output_tokens for r in rows),
        cost_milli_cents=sum(r.cost_milli_cents for r in rows),
        cache_read_tokens=sum(r.cache_read_tokens for r in rows),
        cache_write_tokens=sum(r.cache_write_tokens for r in rows),
        cache_saving_milli_cents=sum(r.cache_saving_milli_cents for r in rows),
        unknown_saving_requests=sum(r.unknown_saving_requests for r in rows),
    )
    marked = total.unknown_saving_requests > 0
    headers = (*USAGE_TABLE_HEADERS[:-1], USAGE_TABLE_HEADERS[-1] + " " * marked)
    body = [usage_cells(row, marked) for row in rows]
    table = [headers, *body, usage_cells(total, marked)]
    widths = [max(len(line[col]) for line in table) for col in range(len(USAGE_TABLE_HEADERS))]
    text_columns = 2  # day and bot are left-aligned; numbers are right-aligned

    def render(line: tuple[str, ...]) -> str:
        cells = [
            cell.ljust(width) if col < text_columns else cell.rjust(width)
            for col, (cell, width) in enumerate(zip(line, widths, strict=True))
        ]
        return "  ".join(cells).rstrip()

    rule = "  ".join("-" * width for width in widths)
    lines = [render(table[0]), rule, *map(render, body), rule, render(table[-1])]
    if marked:
        lines.append(
            f"{UNKNOWN_SAVING_MARK} the saving of {total.unknown_saving_requests:,} requests that "
            "used the cache is not known (recorded before the ledger kept savings, schema 3) and "
            "is left out"
        )
    return "\n".join(lines)


def usage_cells(row: UsageTotals, marked: bool = False) -> tuple[str, ...]:
    """One line of :func:`format_usage_table`, in the order of :data:`USAGE_TABLE_HEADERS`;
    ``marked``: the table marks savings that leave requests out (the others get a space)."""
    used_cache = row.cache_read_tokens > 0 or row.cache_write_tokens > 0
    ratio = row.cache_hit_ratio
    mark = (UNKNOWN_SAVING_MARK if row.unknown_saving_requests else " ") if marked else ""
    return (
        row.day,
        row.bot,
        f"{row.requests:,}",
        f"{row.errors:,}",
        f"{row.input_tokens:,}",
        f"{row.output_tokens:,}",
        f"{row.cache_read_tokens:,}",
        f"{row.cache_write_tokens:,}",
        f"{ratio:.1%}" if used_cache and ratio is not None else NO_FIGURE,
        usd(row.cost_milli_cents),
        signed_usd(round(row.cache_saving_milli_cents)) + mark,
    )


def signed_usd(milli_cents: int) -> str:
    """Like :func:`usd`, with a minus sign before the dollar sign when negative."""
    return f"-{usd(-milli_cents)}" if milli_cents < 0 else usd(milli_cents)


def usd(milli_cents: int) -> str:
    """Milli-cents as dollars with five decimals (milli-cent precision): 123456 -> $1.23456."""
    dollars, rest = divmod(milli_cents, MILLI_CENTS_PER_USD)
    return f"${dollars:,}.{rest:05d}"
