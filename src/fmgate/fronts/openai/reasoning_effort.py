"""OpenAI's reasoning effort -> the bot's extended-thinking budget, for both OpenAI APIs
(``reasoning_effort`` on Chat Completions, ``reasoning.effort`` on Responses).

Bots with ``enable_reasoning`` think within a token budget (Converse ``thinking``): ``minimal``
and ``low`` ask Bedrock's smallest (1,024 tokens), ``medium`` the bot's own
``reasoning_budget``, ``high`` and above twice that (the bot clamps it below its output limit);
``none`` is refused, since such a bot always thinks. Other bots take no effort but ``none``, as
OpenAI's non-reasoning models refuse one.
"""

from __future__ import annotations

from typing import Final

from fmgate.config.bot_config import BotConfig, ChatBotConfig
from fmgate.fronts.openai.schema import ReasoningEffort
from fmgate.fronts.pipeline import Refusal

#: Bedrock's smallest thinking budget (tokens).
MIN_REASONING_BUDGET: Final = 1024


def effort_refused(message: str, param: str) -> Refusal:
    return Refusal(400, message, "unsupported_value", param=param)


def thinking_budget(effort: ReasoningEffort | None, config: BotConfig, param: str) -> int | None:
    """The thinking budget ``effort`` asks of this bot (None: the bot's own); ``param`` names
    the field in the refusal of an effort the bot cannot take."""
    if effort is None:
        return None
    if not (isinstance(config, ChatBotConfig) and config.enable_reasoning):
        if effort == "none":
            return None
        raise effort_refused(
            f"{param} is not supported by `{config.bot_name}`: it does not reason on request.",
            param,
        )
    match effort:
        case "none":
            raise effort_refused(
                f"`{config.bot_name}` always reasons: the smallest effort is 'minimal'.", param
            )
        case "minimal" | "low":
            return MIN_REASONING_BUDGET
        case "medium":
            return config.reasoning_budget
        case "high" | "xhigh" | "max":
            return 2 * config.reasoning_budget
