"""After a request ends: price it, count it, run the front's hooks, record it — once, off the
hot path.

Fronts call :meth:`RequestFinisher.finish` exactly once per request (also when the caller went
away), with the hooks their protocol adds (Poe's cost capture, bound to the bot that served the
request). The work runs in a tracked background task, so a cancelled stream still gets its
ledger row and its hooks; :meth:`drain` waits for what is pending at shutdown.

The billing split (the system prompt's tokens and the rest, :mod:`fmgate.accounting.billing_split`)
needs the system prompt's count, which the bot asked for after its first output: the finisher
waits for it at most :data:`SYSTEM_PROMPT_WAIT_SECONDS` (after the hooks, so Poe's cost capture
never waits), then writes the end-of-request line and the ledger row with it, or without it
(``n/a``, NULL) when it is not known by then.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence

from fmgate.accounting.billing_split import BillingSplit, billing_split
from fmgate.accounting.estimates import estimate_output_tokens
from fmgate.accounting.ledger import UsageLedger, UsageRecord
from fmgate.accounting.pricing import Cost, price
from fmgate.accounting.system_prompt_counts import SystemPromptCounts
from fmgate.accounting.tracker import RequestTracker
from fmgate.config.bot_config import ChatBotConfig
from fmgate.core.events import Usage
from fmgate.observability.logging import bind_request_context
from fmgate.observability.metrics import GatewayMetrics
from fmgate.observability.request_metrics import request_summary_line

logger = logging.getLogger("fmgate.requests")

#: Work a front adds to the end of its requests, given the request and its price; runs before
#: the ledger row is written. A hook that raises is logged and does not stop the others.
FinishHook = Callable[[RequestTracker, Cost], Awaitable[None]]

#: Longest the finisher waits for a system prompt's count still under way (the request has
#: been answered; only its line and its ledger row wait).
SYSTEM_PROMPT_WAIT_SECONDS = 5.0


def delivered_usage(tracker: RequestTracker) -> Usage | None:
    """Bedrock's usage (or the bot's estimate), else an estimate of the text delivered.

    The last case is a stream cut by the caller going away: no bot code runs after that.
    """
    summary = tracker.summary
    if summary.usage is not None:
        return summary.usage
    output_tokens = estimate_output_tokens(summary.reasoning + summary.text)
    if output_tokens == 0:
        return None
    return Usage(output_tokens=output_tokens, estimated=True)


def media_units(tracker: RequestTracker) -> tuple[int, float]:
    """(images generated, seconds of video generated)."""
    images = 0
    seconds = 0.0
    for media in tracker.summary.media:
        if media.content_type.startswith("video/"):
            seconds += media.units
        else:
            images += int(media.units)
    return images, seconds


class RequestFinisher:
    def __init__(
        self,
        *,
        metrics: GatewayMetrics,
        ledger: UsageLedger | None,
        system_prompts: SystemPromptCounts | None = None,
    ) -> None:
        self._metrics = metrics
        self._ledger = ledger
        self._system_prompts = SystemPromptCounts() if system_prompts is None else system_prompts
        self._pending: set[asyncio.Task[None]] = set()

    def finish(self, tracker: RequestTracker, hooks: Sequence[FinishHook] = ()) -> None:
        task = asyncio.get_running_loop().create_task(self._finish(tracker, hooks))
        self._pending.add(task)
        task.add_done_callback(self._pending.discard)

    async def drain(self, wait_seconds: float = 30.0) -> None:
        """Wait for pending bookkeeping (graceful shutdown)."""
        if self._pending:
            await asyncio.wait(set(self._pending), timeout=wait_seconds)

    async def _finish(self, tracker: RequestTracker, hooks: Sequence[FinishHook]) -> None:
        bind_request_context(tracker.request_id, tracker.bot.bot_name, tracker.user_id)
        usage = delivered_usage(tracker)
        cost = request_cost(tracker, usage)
        self._count(tracker, usage, cost)
        for hook in hooks:
            try:
                await hook(tracker, cost)
            except Exception:
                logger.exception("a finish hook failed for request %s", tracker.request_id)
        split = await self._billing_split(tracker, usage)
        if split is not None:
            self._metrics.system_prompt_tokens(tracker.bot.bot_name, split.system_tokens)
        logger.info(summary_line(tracker, usage, split))
        if self._ledger is not None:
            try:
                await self._ledger.record(usage_record(tracker, usage, cost, split))
                self._metrics.ledger_recorded()
            except Exception:
                logger.exception("could not record usage for request %s", tracker.request_id)

    async def _billing_split(
        self, tracker: RequestTracker, usage: Usage | None
    ) -> BillingSplit | None:
        """The request's prompt split, when its usage and its system prompt's count are
        known (the count waited for a bounded time)."""
        system = tracker.summary.system_prompt
        if usage is None or system is None:
            return None
        tokens = await self._system_prompts.wait(system, SYSTEM_PROMPT_WAIT_SECONDS)
        return billing_split(usage, tokens)

    def _count(self, tracker: RequestTracker, usage: Usage | None, cost: Cost) -> None:
        name = tracker.bot.bot_name
        self._metrics.request_finished(
            name,
            tracker.front,
            tracker.outcome,
            None if tracker.ttft_ms is None else tracker.ttft_ms / 1000,
            tracker.latency_ms / 1000,
            usage.input_tokens if usage else 0,
            usage.output_tokens if usage else 0,
            cost.total_rounded,
            cache_read_tokens=usage.cache_read_tokens if usage else 0,
            cache_write_tokens=usage.cache_write_tokens if usage else 0,
        )
        if tracker.error is not None:
            self._metrics.error(name, tracker.error.code)
        overhead = tracker.overhead
        if overhead is not None:
            self._metrics.gateway_overhead(tracker.front, *overhead)


def answering_model(tracker: RequestTracker) -> str:
    """The model that answered: a fallback's, or the bot's own."""
    return tracker.summary.answering_model_id or tracker.bot.model_id


def request_cost(tracker: RequestTracker, usage: Usage | None) -> Cost:
    """The request's price, at the prices of the service tier Bedrock served it on."""
    images, seconds = media_units(tracker)
    return price(
        tracker.bot.pricing.for_tier(tracker.summary.service_tier),
        usage=usage,
        images_out=images,
        video_seconds=seconds,
        succeeded=tracker.outcome == "ok",
    )


def summary_line(
    tracker: RequestTracker, usage: Usage | None, split: BillingSplit | None = None
) -> str:
    bot = tracker.bot
    return request_summary_line(
        bot=bot.bot_name,
        model=answering_model(tracker),
        ttft_ms=tracker.ttft_ms,
        usage=usage,
        latency_ms=tracker.latency_ms,
        latency_optimized=isinstance(bot, ChatBotConfig) and bot.optimize_latency,
        outcome=tracker.outcome,
        system_tokens=None if split is None else split.system_tokens,
        excl_system=None if split is None else split.excl_system,
    )


def usage_record(
    tracker: RequestTracker, usage: Usage | None, cost: Cost, split: BillingSplit | None = None
) -> UsageRecord:
    return UsageRecord(
        request_id=tracker.request_id,
        bot=tracker.bot.bot_name,
        model_id=answering_model(tracker),
        user_id=tracker.user_id,
        conversation_id=tracker.conversation_id,
        started_at=tracker.started_at,
        input_tokens=usage.input_tokens if usage else 0,
        output_tokens=usage.output_tokens if usage else 0,
        cache_read_tokens=usage.cache_read_tokens if usage else 0,
        cache_write_tokens=usage.cache_write_tokens if usage else 0,
        estimated=usage.estimated if usage else False,
        cost_milli_cents=cost.total_rounded,
        latency_ms=tracker.latency_ms,
        ttft_ms=tracker.ttft_ms,
        outcome=tracker.outcome,
        front=tracker.front,
        cache_write_1h_tokens=usage.cache_write_1h_tokens if usage else 0,
        cache_saving_milli_cents=cost.cache_saving,
        service_tier=tracker.summary.service_tier,
        system_tokens=None if split is None else split.system_tokens,
        input_tokens_excl_system=None if split is None else split.excl_system,
    )
