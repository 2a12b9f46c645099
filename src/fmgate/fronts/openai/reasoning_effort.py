"""OpenAI's reasoning effort -> the bot's own reasoning controls, for both OpenAI APIs
(``reasoning_effort`` on Chat Completions, ``reasoning.effort`` on Responses).

A bot whose model takes an effort of its own (``reasoning_controls.efforts``: gpt-oss's
``reasoning_effort``, Claude's ``output_config.effort``, Nova 2's ``maxReasoningEffort``) gets
that level: one the model takes goes as it is, ``minimal`` as the model's lowest; ``none`` and
the levels it does not take are refused, naming those it takes.

Otherwise bots with ``enable_reasoning`` think within a token budget (Converse ``thinking``):
``minimal`` and ``low`` ask Bedrock's smallest (1,024 tokens), ``medium`` the bot's own
``reasoning_budget``, ``high`` and above twice that (the bot clamps it below its output limit);
``none`` is refused, since such a bot always thinks. Other bots take no effort but ``none``, as
OpenAI's non-reasoning models refuse one.
"""

from __future__ import annotations

from typing import Final

from fmgate.config.bot_config import BotConfig, ChatBotConfig
from fmgate.core import parameters as p
from fmgate.core.model_request import ReasoningEffort
from fmgate.fronts.openai.schema import ReasoningEffort as OpenAIEffort
from fmgate.fronts.pipeline import Refusal

#: Bedrock's smallest thinking budget (tokens).
MIN_REASONING_BUDGET: Final = 1024


def effort_refused(message: str, param: str) -> Refusal:
    return Refusal(400, message, "unsupported_value", param=param)


def effort_parameters(
    effort: OpenAIEffort | None, config: BotConfig, param: str
) -> dict[str, object]:
    """The bot parameters ``effort`` asks of this bot: the model's own effort where it takes
    one, else a thinking budget; nothing for no effort. ``param`` names the field in the refusal
    of an effort the bot cannot take."""
    if effort is None:
        return {}
    if isinstance(config, ChatBotConfig) and config.reasoning_controls.takes_effort:
        return {p.REASONING_EFFORT: native_effort(effort, config, param)}
    budget = thinking_budget(effort, config, param)
    return {p.REASONING_BUDGET: budget} if budget is not None else {}


def native_effort(effort: OpenAIEffort, config: ChatBotConfig, param: str) -> ReasoningEffort:
    """The model's own level for ``effort``."""
    taken = config.reasoning_controls.efforts
    if effort == "minimal":
        return taken[0]
    level = next((level for level in taken if level == effort), None)
    if level is None:
        offered = ", ".join(repr(level) for level in ("minimal", *taken))
        raise effort_refused(
            f"{param} {effort!r} is not supported by `{config.bot_name}`: it takes {offered}.",
            param,
        )
    return level


def thinking_budget(effort: OpenAIEffort, config: BotConfig, param: str) -> int | None:
    """The thinking budget ``effort`` asks of a bot without an effort of its own (None: none)."""
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
