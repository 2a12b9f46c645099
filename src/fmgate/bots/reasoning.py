"""A chat request's reasoning: the bot's extended thinking and effort, and the user's choices
within what the model takes (its ``reasoning_controls``, from the model table).

Thinking is the bot's (``enable_reasoning``, in its ``thinking_mode``) unless the request's
``thinking`` parameter chooses: ``off``; ``adaptive`` for a model that takes it; ``budget`` for a
bot that thinks within a budget or a model that takes one. A choice the model does not take
leaves the bot's (the compatible APIs refuse it before it gets here). Within a budget: the
user's ``reasoning_budget`` (else the bot's), at least Bedrock's 1,024 tokens and below the
output limit, the output cap raised so the answer has room beyond it. The effort is the user's
``reasoning_effort`` when the model takes that level, else the bot's own (None: the model's
default), in the field the model takes it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final

from fmgate.config.bot_config import ChatBotConfig
from fmgate.core import parameters as p
from fmgate.core.model_request import Effort, ReasoningEffort, ThinkingMode

#: Bedrock's smallest thinking budget (tokens).
MIN_THINKING_BUDGET: Final = 1024
#: Room the answer keeps beyond the thinking budget (Bedrock requires maxTokens > budget).
ANSWER_ROOM_TOKENS: Final = 1024


@dataclass(frozen=True, slots=True)
class RequestReasoning:
    """How one request reasons, and the output cap that leaves its answer room."""

    #: Thinking within this many tokens; None: not within a budget.
    budget: int | None
    #: Adaptive thinking.
    adaptive: bool
    #: The effort to ask for; None: the model's default.
    effort: Effort | None
    max_tokens: int


def bot_thinking(config: ChatBotConfig) -> ThinkingMode | None:
    """How the bot thinks when the request does not say (None: it does not)."""
    return config.thinking_mode if config.enable_reasoning else None


def takes_thinking(config: ChatBotConfig, mode: ThinkingMode) -> bool:
    """Whether the bot's model takes thinking in ``mode`` (a bot configured to think within a
    budget takes that, whatever its reasoning_controls say)."""
    return mode in config.reasoning_controls.thinking or mode == bot_thinking(config)


def request_thinking(
    parameters: Mapping[str, object], config: ChatBotConfig
) -> ThinkingMode | None:
    """How this request thinks (None: it does not)."""
    chosen = p.text(parameters, p.THINKING)
    if chosen == "off":
        return None
    if chosen == "budget" and takes_thinking(config, "budget"):
        return "budget"
    if chosen == "adaptive" and takes_thinking(config, "adaptive"):
        return "adaptive"
    return bot_thinking(config)


def request_effort(parameters: Mapping[str, object], config: ChatBotConfig) -> Effort | None:
    """The effort this request asks for, in the model's field (None: the model's default)."""
    controls = config.reasoning_controls
    if controls.effort_field is None:
        return None
    chosen = p.text(parameters, p.REASONING_EFFORT)
    level: ReasoningEffort | None = next(
        (taken for taken in controls.efforts if taken == chosen), config.reasoning_effort
    )
    if level is None:
        return None
    return Effort(level=level, field=controls.effort_field, beta=controls.effort_beta)


def request_reasoning(
    parameters: Mapping[str, object], config: ChatBotConfig, max_tokens: int
) -> RequestReasoning:
    """The request's thinking, effort and output cap (``max_tokens``: the cap asked for)."""
    thinking = request_thinking(parameters, config)
    effort = request_effort(parameters, config)
    if thinking != "budget":
        return RequestReasoning(None, thinking == "adaptive", effort, max_tokens)
    limit = config.max_tokens_limit
    chosen = p.number(parameters, p.REASONING_BUDGET)
    budget = int(chosen) if chosen is not None else config.reasoning_budget
    budget = int(p.clamp(budget, MIN_THINKING_BUDGET, limit - 1))
    max_tokens = min(limit, max(max_tokens, budget + ANSWER_ROOM_TOKENS))
    return RequestReasoning(min(budget, max_tokens - 1), False, effort, max_tokens)
