"""What a catalog asks of its models that the model table says they do not take.

``fmgate validate`` runs :func:`capability_problems` on a catalog that is valid on its own: a
guardrail on a bot whose model (or a fallback's) takes none, a service tier a model does not
offer, structured outputs (``structured_output``, ``response_schema``) on a model without them,
citations on a model that does not cite. Each problem names the bot, the field and the model.
A model the table does not hold (a new id, a custom model's ARN) is not judged: the table cannot
say what it takes.
"""

from __future__ import annotations

from collections.abc import Iterator

from fmgate.config.bot_config import ChatBotConfig
from fmgate.config.catalog import Catalog
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
    return [
        problem
        for bot in catalog.bots
        if isinstance(bot, ChatBotConfig)
        for problem in bot_problems(bot, table)
    ]
