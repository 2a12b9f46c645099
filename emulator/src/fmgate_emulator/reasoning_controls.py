"""The reasoning controls of a Converse request (``additionalModelRequestFields``), checked the
way Bedrock's models check them, and what they ask for.

* ``thinking``: a model takes the ``type`` values its catalogue entry lists (``enabled`` with
  ``budget_tokens``, ``disabled``, ``adaptive``); an Anthropic model answers another with
  "thinking: Input tag 'adaptive' found using 'type' does not match any of the expected tags:
  'disabled', 'enabled'" (Bedrock's words for Claude Sonnet 4.5, reported 2026-03-11), a model
  without thinking refuses the field itself. With thinking on (a budget or adaptive), ``topP``
  and a temperature but 1 are refused, as Claude refuses them.
* The effort, in the model's own field: Anthropic's ``output_config.effort`` (a level outside
  the model's: "output_config.effort: Input should be 'low', 'medium' or 'high'", reported for
  Claude Opus 4.5 on 2026-05-14; on a Claude model without effort, or without the effort's
  beta: "output_config.effort: Extra inputs are not permitted", reported for Sonnet 4.5 on
  2026-03-04), gpt-oss's ``reasoning_effort``, Nova 2's ``reasoningConfig``.
* A reasoning field the model does not know is refused as its body's validator refuses unknown
  fields: Anthropic's "<field>: Extra inputs are not permitted", gpt-oss's "Failed to
  deserialize the JSON body into the target type: <field>: unknown field <field>, expected one
  of ..." (reported 2025-08-26; the " at line 1 column N" that follows is not reproduced),
  others' "extraneous key [<field>] is not permitted" (not confirmed).

Messages come wrapped in Bedrock's "The model returned the following errors: ". The wording of
a gpt-oss or Nova 2 effort outside their levels is not confirmed.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from fmgate_emulator.errors import BedrockError, validation
from fmgate_emulator.models import ModelSpec, RequestBody

MODEL_ERRORS = "The model returned the following errors: "
MIN_THINKING_BUDGET = 1024
#: The fields of the Chat Completions body Bedrock's gpt-oss validator lists when it refuses one.
OPENAI_CHAT_FIELDS = (
    "messages, model, store, reasoning_effort, metadata, frequency_penalty, logit_bias, "
    "logprobs, top_logprobs, max_tokens, max_completion_tokens, n, modalities, prediction, "
    "audio, presence_penalty, response_format, seed, service_tier, stop, stream, "
    "stream_options, temperature, top_p, tools, tool_choice, parallel_tool_calls, user, "
    "function_call, functions"
)


@dataclass(frozen=True, slots=True)
class ReasoningAsked:
    """What a request's reasoning controls ask of the model."""

    #: Anthropic extended thinking (within a budget or adaptive): signed reasoning first.
    thinking: bool = False
    #: Adaptive thinking (no budget).
    adaptive: bool = False
    #: The effort level asked for; None: the model's default.
    effort: str | None = None
    #: Reasoning turned on by the effort itself (Nova 2's ``reasoningConfig``).
    effort_thinking: bool = False


def unknown_field(spec: ModelSpec, name: str) -> BedrockError:
    """The model's refusal of an additional field it does not know."""
    match spec.request_body:
        case RequestBody.ANTHROPIC:
            return validation(f"{MODEL_ERRORS}{name}: Extra inputs are not permitted")
        case RequestBody.OPENAI_CHAT:
            field = name.split(".", 1)[0]
            return validation(
                f"{MODEL_ERRORS}Failed to deserialize the JSON body into the target type: "
                f"{field}: unknown field {field}, expected one of {OPENAI_CHAT_FIELDS}"
            )
        case RequestBody.OTHER:
            return validation(f"{MODEL_ERRORS}extraneous key [{name}] is not permitted")


def one_of(values: tuple[str, ...] | list[str]) -> str:
    """``'a', 'b' or 'c'`` (pydantic's way of listing what it expected)."""
    quoted = [f"'{value}'" for value in values]
    return quoted[0] if len(quoted) == 1 else f"{', '.join(quoted[:-1])} or {quoted[-1]}"


def parse_thinking(fields: dict[str, Any], inference: dict[str, Any], spec: ModelSpec) -> str:
    """The thinking type asked for (``""``: none), checked as Anthropic on Bedrock checks it."""
    thinking = fields.get("thinking")
    if thinking is None:
        return ""
    if not spec.thinking_types:
        raise unknown_field(spec, "thinking")
    kind = thinking.get("type") if isinstance(thinking, dict) else None
    if kind not in spec.thinking_types:
        expected = ", ".join(f"'{t}'" for t in sorted(spec.thinking_types))
        raise validation(
            f"{MODEL_ERRORS}thinking: Input tag '{kind}' found using 'type' does not match any "
            f"of the expected tags: {expected}"
        )
    if kind == "disabled":
        return ""
    if kind == "enabled":
        check_budget(thinking, inference, spec)
    elif "budget_tokens" in thinking:  # adaptive takes no budget (wording not confirmed)
        raise validation(
            f"{MODEL_ERRORS}thinking.adaptive.budget_tokens: Extra inputs are not permitted"
        )
    if "topP" in inference:
        raise validation(f"{MODEL_ERRORS}top_p must be unset when thinking is enabled.")
    if inference.get("temperature", 1) != 1:
        raise validation(
            f"{MODEL_ERRORS}temperature may only be set to 1 when thinking is enabled."
        )
    return str(kind)


def check_budget(thinking: dict[str, Any], inference: dict[str, Any], spec: ModelSpec) -> None:
    budget = thinking.get("budget_tokens")
    if not isinstance(budget, int) or budget < MIN_THINKING_BUDGET:
        raise validation(
            f"{MODEL_ERRORS}thinking.enabled.budget_tokens: Input should be greater than or "
            f"equal to {MIN_THINKING_BUDGET}"
        )
    max_tokens = inference.get("maxTokens", spec.max_output_tokens)
    if isinstance(max_tokens, int) and max_tokens <= budget:
        raise validation(f"{MODEL_ERRORS}max_tokens must be greater than thinking.budget_tokens.")


def output_config_effort(value: Any, spec: ModelSpec, betas: list[Any]) -> str | None:
    """``output_config.effort`` (other ``output_config`` members are not judged here)."""
    if not isinstance(value, dict) or "effort" not in value:
        return None
    taken = spec.effort_field == "output_config"
    if not taken or (spec.effort_beta is not None and spec.effort_beta not in betas):
        raise unknown_field(spec, "output_config.effort")
    effort = value["effort"]
    if effort not in spec.efforts:
        raise validation(
            f"{MODEL_ERRORS}output_config.effort: Input should be {one_of(spec.efforts)}"
        )
    return str(effort)


def reasoning_effort(value: Any, spec: ModelSpec) -> str:
    """gpt-oss's ``reasoning_effort`` (the refusal of another level: wording not confirmed)."""
    if spec.effort_field != "reasoning_effort":
        raise unknown_field(spec, "reasoning_effort")
    if value not in spec.efforts:
        expected = ", ".join(f"`{level}`" for level in spec.efforts)
        raise validation(
            f"{MODEL_ERRORS}Failed to deserialize the JSON body into the target type: "
            f"reasoning_effort: unknown variant `{value}`, expected one of {expected}"
        )
    return str(value)


def reasoning_config(value: Any, spec: ModelSpec) -> str | None:
    """Nova 2's ``reasoningConfig``: ``{type: enabled, maxReasoningEffort}`` turns its thinking
    on, ``{type: disabled}`` leaves it off (the refusals' wording: not confirmed)."""
    if spec.effort_field != "reasoning_config":
        raise unknown_field(spec, "reasoningConfig")
    kind = value.get("type") if isinstance(value, dict) else None
    if kind == "disabled":
        return None
    effort = value.get("maxReasoningEffort") if kind == "enabled" else None
    if effort not in spec.efforts:
        raise validation(
            f"{MODEL_ERRORS}reasoningConfig: type must be 'enabled' or 'disabled', and "
            f"maxReasoningEffort one of {', '.join(spec.efforts)} when enabled."
        )
    return str(effort)


def parse_reasoning(
    fields: dict[str, Any], inference: dict[str, Any], spec: ModelSpec
) -> ReasoningAsked:
    """The reasoning a Converse request's additional fields ask for, or Bedrock's refusal."""
    kind = parse_thinking(fields, inference, spec)
    betas = fields.get("anthropic_beta")
    effort = output_config_effort(
        fields.get("output_config"), spec, betas if isinstance(betas, list) else []
    )
    if "reasoning_effort" in fields:
        effort = reasoning_effort(fields["reasoning_effort"], spec)
    effort_thinking = False
    if "reasoningConfig" in fields:
        effort = reasoning_config(fields["reasoningConfig"], spec)
        effort_thinking = effort is not None
    return ReasoningAsked(
        thinking=bool(kind),
        adaptive=kind == "adaptive",
        effort=effort,
        effort_thinking=effort_thinking,
    )
