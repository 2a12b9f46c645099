"""System prompts' token counts, for the billing split of each request's input.

The end-of-request line and the ledger give the input *excluding the system prompt*: the
prompt's tokens minus the system prompt's. Bedrock's usage does not split them, so the system
prompt is counted with CountTokens, once per distinct prompt and model, and the count is kept
here: a bounded LRU keyed by :class:`~fmgate.core.events.SystemPrompt` (foundation model id,
digest of the prompt's text).

- **Off the hot path.** A bot asks for a count (:meth:`SystemPromptCounts.request`) after its
  answer's first output, and the count runs in a background task of its own; the finisher,
  which runs after the stream, waits for it a bounded time (:meth:`SystemPromptCounts.wait`).
  The first request with a new system prompt is therefore split too, unless CountTokens takes
  longer than that wait.
- **Once per prompt.** Requests that ask while a count is under way share it (one call for
  any number of concurrent requests with the same uncounted prompt).
- **Never fails a request.** A count that fails (throttled, timed out, refused) is logged once,
  the requests waiting for it are recorded without a split, and it is tried again by the first
  request after ``retry_after_seconds``.
"""

from __future__ import annotations

import asyncio
import contextvars
import logging
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from fmgate.core.errors import GatewayError
from fmgate.core.events import SystemPrompt

logger = logging.getLogger("fmgate.accounting.system_prompts")

#: Counts the tokens of one system prompt (Bedrock's CountTokens, through a bot).
Count = Callable[[], Awaitable[int]]

#: Distinct (model, system prompt) counts kept; the least recently used go first.
DEFAULT_CAPACITY = 4096
#: Longest one count may take.
COUNT_TIMEOUT_SECONDS = 10.0
#: How long a prompt whose count failed is left alone before a request tries again.
RETRY_AFTER_SECONDS = 60.0


@dataclass(frozen=True, slots=True)
class CountFailed:
    """The last count of a prompt failed; not tried again before ``retry_at`` (monotonic)."""

    retry_at: float


class SystemPromptCounts:
    """Token counts of system prompts by (foundation model, prompt digest), bounded."""

    def __init__(
        self,
        *,
        capacity: int = DEFAULT_CAPACITY,
        count_timeout_seconds: float = COUNT_TIMEOUT_SECONDS,
        retry_after_seconds: float = RETRY_AFTER_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._capacity = capacity
        self._count_timeout = count_timeout_seconds
        self._retry_after = retry_after_seconds
        self._clock = clock
        self._known: OrderedDict[SystemPrompt, int | CountFailed] = OrderedDict()
        self._counting: dict[SystemPrompt, asyncio.Task[int | None]] = {}

    @property
    def size(self) -> int:
        """Prompts remembered (counted, or failed recently)."""
        return len(self._known)

    def tokens(self, prompt: SystemPrompt) -> int | None:
        """The prompt's tokens if known now (0 for no system prompt), else None."""
        if prompt.digest is None:
            return 0
        entry = self._known.get(prompt)
        if not isinstance(entry, int):
            return None
        self._known.move_to_end(prompt)
        return entry

    def request(self, prompt: SystemPrompt, count: Count) -> None:
        """Start counting ``prompt`` with ``count`` in the background, unless it is known,
        being counted, or its last count failed less than ``retry_after_seconds`` ago.

        The task runs in a context of its own: it belongs to no request (its Bedrock calls are
        not the asking request's, its log lines name no request)."""
        if self.tokens(prompt) is not None or prompt in self._counting:
            return
        entry = self._known.get(prompt)
        if isinstance(entry, CountFailed) and self._clock() < entry.retry_at:
            return
        task = asyncio.get_running_loop().create_task(
            self._count(prompt, count), context=contextvars.Context()
        )
        self._counting[prompt] = task

    async def wait(self, prompt: SystemPrompt, seconds: float) -> int | None:
        """The prompt's tokens: known, or once its count under way ends within ``seconds``;
        None when it is not known by then (not asked for, failed, still counting)."""
        known = self.tokens(prompt)
        if known is not None:
            return known
        task = self._counting.get(prompt)
        if task is None:
            return None
        await asyncio.wait({task}, timeout=seconds)  # never raises for the task's outcome
        if task.done() and not task.cancelled():
            return task.result()
        return None

    async def aclose(self) -> None:
        """Stop the counts under way (the gateway is closing)."""
        tasks = list(self._counting.values())
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.wait(tasks)

    async def _count(self, prompt: SystemPrompt, count: Count) -> int | None:
        try:
            async with asyncio.timeout(self._count_timeout):
                tokens = await count()
        except (GatewayError, TimeoutError) as error:
            reason = error.code if isinstance(error, GatewayError) else "timed out"
            logger.warning(
                "CountTokens failed for a system prompt on %s (%s): requests with it are "
                "recorded without the system prompt split; counted again after %gs",
                prompt.model_id,
                reason,
                self._retry_after,
            )
            self._remember(prompt, CountFailed(self._clock() + self._retry_after))
            return None
        except Exception:
            logger.exception("counting a system prompt on %s failed", prompt.model_id)
            self._remember(prompt, CountFailed(self._clock() + self._retry_after))
            return None
        finally:
            self._counting.pop(prompt, None)
        self._remember(prompt, tokens)
        return tokens

    def _remember(self, prompt: SystemPrompt, entry: int | CountFailed) -> None:
        self._known[prompt] = entry
        self._known.move_to_end(prompt)
        while len(self._known) > self._capacity:
            self._known.popitem(last=False)
