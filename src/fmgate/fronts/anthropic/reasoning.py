"""A Messages request's ``thinking`` and ``output_config.effort`` -> the bot's reasoning
parameters, refused (400, in Anthropic's shape) where the bot's model does not take them.

``thinking``: ``adaptive`` for models that take adaptive thinking (their
``reasoning_controls``), refused for others; ``enabled`` with ``budget_tokens`` thinks within
that budget where the bot may (a model that takes no budget answers without thinking, as it
always has); ``disabled`` turns the bot's thinking off. ``output_config.effort``: a level the
model takes goes in the model's own effort field (Claude's ``output_config.effort``, gpt-oss's
``reasoning_effort``, ...); others are refused, naming the levels it takes.
"""

from __future__ import annotations

from fmgate.bots.reasoning import takes_thinking
from fmgate.config.bot_config import BotConfig, ChatBotConfig
from fmgate.core import parameters as p
from fmgate.fronts.anthropic.schema import CountTokensRequest, EffortIn, ThinkingConfig
from fmgate.fronts.pipeline import Refusal


class UnsupportedReasoning(Refusal):
    """A reasoning control the bot's model does not take (answered with 400)."""

    def __init__(self, message: str) -> None:
        super().__init__(400, message, "invalid_request")


def thinking_parameters(
    thinking: ThinkingConfig | None, config: ChatBotConfig
) -> dict[str, object]:
    match thinking:
        case None:
            return {}
        case ThinkingConfig(type="disabled"):
            return {p.THINKING: "off"}
        case ThinkingConfig(type="adaptive"):
            if not takes_thinking(config, "adaptive"):
                instead = (
                    "; use 'enabled' with budget_tokens or 'disabled'"
                    if takes_thinking(config, "budget")
                    else ""
                )
                raise UnsupportedReasoning(
                    f"thinking.type: 'adaptive' is not supported by `{config.bot_name}`: its "
                    f"model takes no adaptive thinking{instead}."
                )
            return {p.THINKING: "adaptive"}
        case ThinkingConfig(budget_tokens=None):
            raise UnsupportedReasoning("thinking.enabled.budget_tokens: Field required")
        case ThinkingConfig(budget_tokens=budget):
            if not takes_thinking(config, "budget"):
                return {}
            return {p.THINKING: "budget", p.REASONING_BUDGET: budget}


def effort_parameters(effort: EffortIn | None, config: ChatBotConfig) -> dict[str, object]:
    if effort is None:
        return {}
    taken = config.reasoning_controls.efforts
    if effort not in taken:
        levels = ", ".join(repr(level) for level in taken)
        reason = f"it takes {levels}" if taken else "its model takes no effort"
        raise UnsupportedReasoning(
            f"output_config.effort: {effort!r} is not supported by `{config.bot_name}`: {reason}."
        )
    return {p.REASONING_EFFORT: effort}


def reasoning_parameters(body: CountTokensRequest, config: BotConfig) -> dict[str, object]:
    """The bot parameters the request's ``thinking`` and ``output_config.effort`` ask for."""
    if not isinstance(config, ChatBotConfig):  # the endpoints serve chat bots only
        return {}
    effort = body.output_config.effort if body.output_config is not None else None
    return {**thinking_parameters(body.thinking, config), **effort_parameters(effort, config)}
