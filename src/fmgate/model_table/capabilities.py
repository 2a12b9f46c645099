"""What a catalog asks of its models that the model table says they do not take.

``fmgate validate`` runs :func:`capability_problems` on a catalog that is valid on its own: a
guardrail on a bot whose model (or a fallback's) takes none, a service tier a model does not
offer, structured outputs (``structured_output``, ``response_schema``) on a model without them,
citations on a model that does not cite, extended thinking (within a budget or adaptive) or a
reasoning effort a model does not take, reasoning controls the bot declares beyond the model's.
Each problem names the bot, the field and the model. A model the table does not hold (a new id,
a custom model's ARN) is not judged: the table cannot say what it takes.
"""

from __future__ import annotations

from collections.abc import Iterator

from fmgate.config.bot_config import ChatBotConfig
from fmgate.config.catalog import Catalog
from fmgate.config.reasoning import ReasoningControls
from fmgate.core.model_request import ServiceTier
from fmgate.model_table.table import ModelFacts, ModelTable, UnknownModel, find_model


def known_facts(model_id: str, table: ModelTable) -> ModelFacts | None:
    try:
        return find_model(model_id, table)
    except UnknownModel:
        return None


def calls(bot: ChatBotConfig) -> Iterator[tuple[str, str, ServiceTier | None]]:
    """Every call the bot may make: (field that sets its tier, model id, tier)."""
    yield "service_tier", bot.model_id, bot.service_tier
    for index, fallback in enumerate(bot.fallbacks):
        yield (
            f"fallbacks[{index}].service_tier",
            fallback.model_id or bot.model_id,
            (fallback.service_tier),
        )


def listed(values: tuple[str, ...]) -> str:
    return ", ".join(values) or "none"


def reasoning_problems(bot: ChatBotConfig, facts: ModelFacts) -> Iterator[tuple[str, str]]:
    """(field, what the model lacks) for each reasoning setting of ``bot`` the model does not
    take: its thinking, its effort, the controls it declares (which callers may use)."""
    taken = facts.reasoning_controls
    thinking = f"(the model table's reasoning_controls.thinking: {listed(taken.thinking)})"
    if bot.enable_reasoning and bot.thinking_mode not in taken.thinking:
        field = "enable_reasoning" if bot.thinking_mode == "budget" else "thinking_mode"
        kind = "thinking budget" if bot.thinking_mode == "budget" else "adaptive thinking"
        yield field, f"takes no {kind} {thinking}"
    effort = bot.reasoning_effort
    if effort is not None and effort not in taken.efforts:
        yield (
            "reasoning_effort",
            f"takes no reasoning effort {effort} (the model table's reasoning_controls.efforts: "
            f"{listed(taken.efforts)})",
        )
    beyond = controls_beyond(bot.reasoning_controls, taken)
    if beyond:
        yield "reasoning_controls", f"does not take {beyond} (see the model table)"


def controls_beyond(declared: ReasoningControls, taken: ReasoningControls) -> str:
    """What ``declared`` offers callers that the model does not take ("" when nothing)."""
    missing = [f"thinking {mode}" for mode in declared.thinking if mode not in taken.thinking]
    missing += [f"effort {level}" for level in declared.efforts if level not in taken.efforts]
    if declared.takes_effort and taken.takes_effort:
        if declared.effort_field != taken.effort_field:
            missing.append(f"an effort in {declared.effort_field} (it takes {taken.effort_field})")
        if declared.effort_beta != taken.effort_beta:
            missing.append(f"effort_beta {declared.effort_beta}")
    return ", ".join(missing)


def structured_output_field(bot: ChatBotConfig) -> str | None:
    """The field by which the bot asks its models for structured outputs, if it does: its
    response schema, else its claim that the model takes them."""
    if bot.response_schema is not None:
        return "response_schema"
    return "structured_output" if bot.structured_output else None


def bot_problems(bot: ChatBotConfig, table: ModelTable) -> Iterator[str]:
    place = f'bot "{bot.bot_name}"'
    for field, model_id, tier in calls(bot):
        facts = known_facts(model_id, table)
        if facts is None:
            continue
        for setting, lack in reasoning_problems(bot, facts):
            yield f'{place}: field "{setting}": model {model_id} {lack}'
        if bot.guardrail is not None and not facts.guardrails:
            yield (
                f'{place}: field "guardrail": model {model_id} takes no guardrail (the model '
                "table's guardrails: false)"
            )
        structured = structured_output_field(bot)
        if structured is not None and not facts.structured_output:
            yield (
                f'{place}: field "{structured}": model {model_id} takes no structured outputs '
                "(the model table's structured_output: false)"
            )
        if bot.citations and not facts.citations:
            yield (
                f'{place}: field "citations": model {model_id} does not cite documents (the '
                "model table's citations: false)"
            )
        if tier is not None and tier not in facts.service_tiers:
            offered = ", ".join(facts.service_tiers)
            yield (
                f'{place}: field "{field}": model {model_id} does not offer service tier {tier} '
                f"(the model table's service_tiers: {offered})"
            )


def capability_problems(catalog: Catalog, table: ModelTable) -> list[str]:
    """One line per setting the model table says its model does not take."""
    problems = (
        problem
        for bot in catalog.bots
        if isinstance(bot, ChatBotConfig)
        for problem in bot_problems(bot, table)
    )
    return list(dict.fromkeys(problems))  # a fallback to the same model repeats its problems
