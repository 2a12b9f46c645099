"""The reasoning controls of a ChatRequest in the Converse body: thinking (a budget or
adaptive) and an effort in the field the model takes it, with its beta."""

from __future__ import annotations

import pytest

from fmgate.bedrock.converse import build_converse_request
from fmgate.core.model_request import ChatMessage, ChatRequest, Effort, EffortField, TextBlock

ASK = (ChatMessage("user", (TextBlock("think"),)),)


def body_of(**fields: object) -> dict[str, object]:
    request = ChatRequest(model_id="m", messages=ASK, **fields)  # type: ignore[arg-type]
    return build_converse_request(request)


def test_adaptive_thinking_sends_no_budget_and_leaves_sampling_to_the_model() -> None:
    body = body_of(adaptive_thinking=True, temperature=0.3, top_p=0.8, max_tokens=2000)
    assert body["additionalModelRequestFields"] == {"thinking": {"type": "adaptive"}}
    assert body["inferenceConfig"] == {"maxTokens": 2000}


@pytest.mark.parametrize(
    ("field", "members"),
    [
        ("output_config", {"output_config": {"effort": "high"}}),
        ("reasoning_effort", {"reasoning_effort": "high"}),
        (
            "reasoning_config",
            {"reasoningConfig": {"type": "enabled", "maxReasoningEffort": "high"}},
        ),
    ],
)
def test_an_effort_goes_in_the_models_own_field(
    field: EffortField, members: dict[str, object]
) -> None:
    body = body_of(effort=Effort("high", field), temperature=0.3)
    assert body["additionalModelRequestFields"] == members
    assert body["inferenceConfig"] == {"temperature": 0.3}  # an effort alone is no thinking


def test_anthropic_effort_keeps_configured_output_config_and_brings_its_beta() -> None:
    body = body_of(
        reasoning_budget=2048,
        effort=Effort("low", "output_config", beta="effort-2025-11-24"),
        anthropic_betas=("interleaved-thinking-2025-05-14",),
        additional_fields={"output_config": {"format": {"type": "json_schema"}}},
    )
    assert body["additionalModelRequestFields"] == {
        "thinking": {"type": "enabled", "budget_tokens": 2048},
        "output_config": {"format": {"type": "json_schema"}, "effort": "low"},
        "anthropic_beta": ["interleaved-thinking-2025-05-14", "effort-2025-11-24"],
    }


def test_the_requests_own_controls_win_over_configured_ones() -> None:
    body = body_of(
        effort=Effort("medium", "reasoning_effort"),
        additional_fields={"reasoning_effort": "low", "top_k": 5},
    )
    assert body["additionalModelRequestFields"] == {"reasoning_effort": "medium", "top_k": 5}
