"""What the prompt-caching phase measured: each turn of each conversation as billed, and totals.

One conversation per caching mode (``off``, ``auto``), the same turns. A turn's token counts and
cost are the gateway's ledger row (what Bedrock's usage said, priced at the bot's catalog rates;
costs in Poe's unit, US milli-cents); its TTFT is the client's (request sent -> first text).
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

#: The two conversations, in the table's column order.
MODES = ("off", "auto")


@dataclass(frozen=True, slots=True)
class TurnBill:
    """One turn of one conversation: the ledger row's tokens and cost, the client's TTFT."""

    turn: int
    #: Input tokens billed at the input price (not read from or written to the cache).
    input_tokens: int
    cache_read_tokens: int
    cache_write_tokens: int
    output_tokens: int
    cost_milli_cents: int
    ttft_ms: float

    @property
    def prompt_tokens(self) -> int:
        """Every input token of the prompt, however it was billed."""
        return self.input_tokens + self.cache_read_tokens + self.cache_write_tokens


@dataclass(frozen=True, slots=True)
class ConversationTotals:
    """Sums over a conversation's turns, and its mean TTFT from the second turn on (the turns
    that can read what an earlier one wrote)."""

    turns: int
    input_tokens: int
    cache_read_tokens: int
    cache_write_tokens: int
    output_tokens: int
    cost_milli_cents: int
    mean_ttft_ms_from_turn_2: float | None


def conversation_totals(bills: Sequence[TurnBill]) -> ConversationTotals:
    later = [bill.ttft_ms for bill in bills if bill.turn >= 2]
    return ConversationTotals(
        turns=len(bills),
        input_tokens=sum(bill.input_tokens for bill in bills),
        cache_read_tokens=sum(bill.cache_read_tokens for bill in bills),
        cache_write_tokens=sum(bill.cache_write_tokens for bill in bills),
        output_tokens=sum(bill.output_tokens for bill in bills),
        cost_milli_cents=sum(bill.cost_milli_cents for bill in bills),
        mean_ttft_ms_from_turn_2=statistics.fmean(later) if later else None,
    )


def ratio(value: float | None, base: float | None) -> float | None:
    """``value / base``; None when either is missing or ``base`` is not positive."""
    if value is None or base is None or base <= 0:
        return None
    return value / base


@dataclass(slots=True)
class CachingOutcome:
    """The phase's conversations side by side, or why there are none."""

    status: Literal["ok", "failed"]
    #: The bundled catalog's bot whose model, prices and caching section both bots copy.
    source_bot: str = ""
    model_id: str = ""
    #: The prices the ledger used (milli-cents per token), the non-zero ones.
    pricing: dict[str, float] = field(default_factory=dict)
    #: The emulator's timing during the phase (its realistic profile).
    emulator_timing: dict[str, float | None] = field(default_factory=dict)
    #: Mode ("off", "auto") -> its turns, in order.
    turns: dict[str, list[TurnBill]] = field(default_factory=dict)
    reason: str | None = None

    def totals(self, mode: str) -> ConversationTotals:
        return conversation_totals(self.turns.get(mode, []))

    @property
    def cost_ratio(self) -> float | None:
        """Total cost with caching ``auto`` over the total with caching ``off``."""
        return ratio(self.totals("auto").cost_milli_cents, self.totals("off").cost_milli_cents)

    @property
    def ttft_ratio(self) -> float | None:
        """Mean TTFT from turn 2 with caching ``auto`` over the same with caching ``off``."""
        return ratio(
            self.totals("auto").mean_ttft_ms_from_turn_2,
            self.totals("off").mean_ttft_ms_from_turn_2,
        )

    def side_by_side(self) -> list[tuple[TurnBill, TurnBill]]:
        """(off, auto) for each turn both conversations have."""
        return list(zip(self.turns.get("off", []), self.turns.get("auto", []), strict=False))
