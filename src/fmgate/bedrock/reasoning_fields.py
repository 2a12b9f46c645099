"""A request's reasoning controls as the model takes them in ``additionalModelRequestFields``.

Extended thinking is Anthropic's ``thinking`` member: ``{"type": "enabled", "budget_tokens":
N}`` within a budget, ``{"type": "adaptive"}`` when the model decides. An effort goes in the
field the model table declares for the model (never guessed from its id)::

    output_config      {"output_config": {"effort": "medium"}}        Anthropic Claude
    reasoning_effort   {"reasoning_effort": "medium"}                  OpenAI gpt-oss
    reasoning_config   {"reasoningConfig": {"type": "enabled",         Amazon Nova 2
                                            "maxReasoningEffort": "medium"}}

An effort's Anthropic beta (Claude Opus 4.5's ``effort-2025-11-24``) joins the request's
``anthropic_beta`` flags in :func:`fmgate.bedrock.converse.build_additional_fields`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from fmgate.core.model_request import ChatRequest, Effort, EffortField


def build_thinking(req: ChatRequest) -> dict[str, object] | None:
    """The ``thinking`` member: within the budget, adaptive, or none."""
    if req.reasoning_budget is not None:
        return {"type": "enabled", "budget_tokens": req.reasoning_budget}
    if req.adaptive_thinking:
        return {"type": "adaptive"}
    return None


def build_output_config_effort(effort: Effort, fields: Mapping[str, object]) -> dict[str, object]:
    """Anthropic's ``output_config.effort``, next to any configured ``output_config`` members."""
    configured = fields.get("output_config")
    members = dict(configured) if isinstance(configured, dict) else {}
    return {"output_config": {**members, "effort": effort.level}}


def build_reasoning_effort(effort: Effort, fields: Mapping[str, object]) -> dict[str, object]:
    """The OpenAI-style ``reasoning_effort`` (gpt-oss)."""
    return {"reasoning_effort": effort.level}


def build_reasoning_config(effort: Effort, fields: Mapping[str, object]) -> dict[str, object]:
    """Nova 2's ``reasoningConfig``: an effort turns its extended thinking on."""
    return {"reasoningConfig": {"type": "enabled", "maxReasoningEffort": effort.level}}


EffortBuilder = Callable[[Effort, Mapping[str, object]], dict[str, object]]

#: Each effort field's members (the model table declares which field a model takes).
EFFORT_BUILDERS: Mapping[EffortField, EffortBuilder] = {
    "output_config": build_output_config_effort,
    "reasoning_effort": build_reasoning_effort,
    "reasoning_config": build_reasoning_config,
}


def build_reasoning_fields(req: ChatRequest, configured: Mapping[str, object]) -> dict[str, object]:
    """The members ``req``'s thinking and effort add to the ``configured`` extra fields (they
    replace configured members of the same name)."""
    fields: dict[str, object] = {}
    thinking = build_thinking(req)
    if thinking is not None:
        fields["thinking"] = thinking
    if req.effort is not None:
        fields.update(EFFORT_BUILDERS[req.effort.field](req.effort, configured))
    return fields
