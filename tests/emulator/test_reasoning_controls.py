"""Reasoning controls in additionalModelRequestFields: each model takes its own (thinking types,
an effort in its field), an effort shows in the reasoning, others are refused as Bedrock refuses
them. Through boto3, and on the parsed request for the checks that need no answer."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError

from fmgate_emulator.answer_blocks import ReasoningBlock
from fmgate_emulator.content import reasoning_text
from fmgate_emulator.conversation import parse_converse, plan_answer
from fmgate_emulator.errors import BedrockError
from fmgate_emulator.models import MODELS_BY_ID, ModelSpec
from tests.emulator.sdk import user

GPT_OSS = "openai.gpt-oss-120b-1:0"
SONNET_45 = "us.anthropic.claude-sonnet-4-5-20250929-v1:0"
CLAUDE_37 = "us.anthropic.claude-3-7-sonnet-20250219-v1:0"
NOVA_LITE = "amazon.nova-lite-v1:0"
MODEL_ERRORS = "The model returned the following errors: "
OPUS_45 = MODELS_BY_ID["anthropic.claude-opus-4-5-20251101-v1:0"]
OPUS_46 = MODELS_BY_ID["anthropic.claude-opus-4-6-v1"]
NOVA_2 = MODELS_BY_ID["amazon.nova-2-lite-v1:0"]


def refusal(bedrock: Any, model_id: str, fields: dict[str, Any], **kwargs: Any) -> str:
    with pytest.raises(ClientError) as caught:
        bedrock.converse(
            modelId=model_id,
            messages=[user("think")],
            additionalModelRequestFields=fields,
            **kwargs,
        )
    error = caught.value.response["Error"]
    assert error["Code"] == "ValidationException"
    return str(error["Message"])


def reasoning_of(response: dict[str, Any]) -> str:
    first = response["output"]["message"]["content"][0]
    return str(first["reasoningContent"]["reasoningText"]["text"])


def test_gpt_oss_reasons_at_the_effort_asked(bedrock: Any) -> None:
    answers = {
        effort: bedrock.converse(
            modelId=GPT_OSS,
            messages=[user("Is 17 prime?")],
            additionalModelRequestFields={"reasoning_effort": effort},
        )
        for effort in ("low", "high")
    }
    low, high = (reasoning_of(answers[effort]) for effort in ("low", "high"))
    assert low == reasoning_text("Is 17 prime?", "low")
    assert "Reasoning at low effort." in low
    assert "Reasoning at high effort." in high
    assert len(high) > len(low)
    usage = {effort: answer["usage"]["outputTokens"] for effort, answer in answers.items()}
    assert usage["high"] > usage["low"]
    unasked = bedrock.converse(modelId=GPT_OSS, messages=[user("Is 17 prime?")])
    assert reasoning_of(unasked) == reasoning_text("Is 17 prime?")


def test_a_streamed_answer_carries_the_effort_too(bedrock: Any) -> None:
    response = bedrock.converse_stream(
        modelId=GPT_OSS,
        messages=[user("Is 17 prime?")],
        additionalModelRequestFields={"reasoning_effort": "medium"},
    )
    reasoning = "".join(
        event["contentBlockDelta"]["delta"]["reasoningContent"].get("text", "")
        for event in response["stream"]
        if "reasoningContent" in event.get("contentBlockDelta", {}).get("delta", {})
    )
    assert reasoning == reasoning_text("Is 17 prime?", "medium")


def test_gpt_oss_refuses_a_level_it_lacks_and_anthropic_fields(bedrock: Any) -> None:
    assert refusal(bedrock, GPT_OSS, {"reasoning_effort": "max"}) == (
        f"{MODEL_ERRORS}Failed to deserialize the JSON body into the target type: "
        "reasoning_effort: unknown variant `max`, expected one of `low`, `medium`, `high`"
    )
    thinking = refusal(bedrock, GPT_OSS, {"thinking": {"type": "enabled", "budget_tokens": 1024}})
    assert thinking.startswith(
        f"{MODEL_ERRORS}Failed to deserialize the JSON body into the target type: thinking: "
        "unknown field thinking, expected one of messages, model, store, reasoning_effort,"
    )
    assert "output_config" in refusal(bedrock, GPT_OSS, {"output_config": {"effort": "low"}})


def test_claude_before_4_6_refuses_adaptive_thinking_and_an_effort(bedrock: Any) -> None:
    assert refusal(bedrock, SONNET_45, {"thinking": {"type": "adaptive"}}) == (
        f"{MODEL_ERRORS}thinking: Input tag 'adaptive' found using 'type' does not match any of "
        "the expected tags: 'disabled', 'enabled'"
    )
    assert refusal(bedrock, SONNET_45, {"output_config": {"effort": "high"}}) == (
        f"{MODEL_ERRORS}output_config.effort: Extra inputs are not permitted"
    )
    assert refusal(bedrock, SONNET_45, {"reasoning_effort": "high"}) == (
        f"{MODEL_ERRORS}reasoning_effort: Extra inputs are not permitted"
    )


def test_thinking_disabled_is_no_thinking(bedrock: Any) -> None:
    response = bedrock.converse(
        modelId=CLAUDE_37,
        messages=[user("plain")],
        inferenceConfig={"temperature": 0.2},
        additionalModelRequestFields={"thinking": {"type": "disabled"}},
    )
    assert [list(block) for block in response["output"]["message"]["content"]] == [["text"]]


def test_models_without_reasoning_controls_refuse_them(bedrock: Any) -> None:
    config = {"reasoningConfig": {"type": "enabled", "maxReasoningEffort": "low"}}
    assert refusal(bedrock, NOVA_LITE, config) == (
        f"{MODEL_ERRORS}extraneous key [reasoningConfig] is not permitted"
    )
    assert "thinking" in refusal(bedrock, NOVA_LITE, {"thinking": {"type": "adaptive"}})


def call(spec: ModelSpec, fields: dict[str, Any], **body: Any) -> Any:
    return parse_converse(
        {"messages": [user("Why?")], "additionalModelRequestFields": fields, **body}, spec
    )


def refused(spec: ModelSpec, fields: dict[str, Any], **body: Any) -> str:
    with pytest.raises(BedrockError) as caught:
        call(spec, fields, **body)
    assert caught.value.code == "ValidationException"
    return caught.value.message


def test_adaptive_thinking_signs_its_reasoning_at_the_effort_asked(bedrock: Any) -> None:
    response = bedrock.converse(
        modelId="us.anthropic.claude-opus-4-6-v1",
        messages=[user("Why?")],
        additionalModelRequestFields={
            "thinking": {"type": "adaptive"},
            "output_config": {"effort": "max"},
        },
    )
    assert reasoning_of(response) == reasoning_text("Why?", "max")
    first = response["output"]["message"]["content"][0]
    assert first["reasoningContent"]["reasoningText"]["signature"]
    effort_only = call(OPUS_46, {"output_config": {"effort": "low"}})
    assert (effort_only.thinking, effort_only.effort) == (False, "low")


def test_adaptive_thinking_is_checked_as_claude_checks_it() -> None:
    adaptive = {"thinking": {"type": "adaptive"}}
    assert "top_p must be unset" in refused(OPUS_46, adaptive, inferenceConfig={"topP": 0.5})
    budget = {"thinking": {"type": "adaptive", "budget_tokens": 2048}}
    assert "thinking.adaptive.budget_tokens" in refused(OPUS_46, budget)
    assert refused(OPUS_46, {"thinking": {"type": "sometimes"}}) == (
        f"{MODEL_ERRORS}thinking: Input tag 'sometimes' found using 'type' does not match any of "
        "the expected tags: 'adaptive', 'disabled', 'enabled'"
    )


def test_anthropic_effort_takes_the_models_levels_and_its_beta() -> None:
    assert refused(OPUS_46, {"output_config": {"effort": "xhigh"}}) == (
        f"{MODEL_ERRORS}output_config.effort: Input should be 'low', 'medium', 'high' or 'max'"
    )
    beta = {"anthropic_beta": ["effort-2025-11-24"]}
    assert call(OPUS_45, {"output_config": {"effort": "high"}, **beta}).effort == "high"
    assert refused(OPUS_45, {"output_config": {"effort": "max"}, **beta}) == (
        f"{MODEL_ERRORS}output_config.effort: Input should be 'low', 'medium' or 'high'"
    )
    assert refused(OPUS_45, {"output_config": {"effort": "low"}}) == (
        f"{MODEL_ERRORS}output_config.effort: Extra inputs are not permitted"
    )


def test_nova_2_thinks_when_an_effort_is_set() -> None:
    enabled = {"reasoningConfig": {"type": "enabled", "maxReasoningEffort": "high"}}
    asked = call(NOVA_2, enabled)
    reasoning, _ = plan_answer(asked, NOVA_2).blocks
    assert isinstance(reasoning, ReasoningBlock)
    assert (reasoning.text, reasoning.signature) == (reasoning_text("Why?", "high"), None)
    off = call(NOVA_2, {"reasoningConfig": {"type": "disabled"}})
    assert len(plan_answer(off, NOVA_2).blocks) == 1
    wrong = {"reasoningConfig": {"type": "enabled", "maxReasoningEffort": "max"}}
    assert "maxReasoningEffort" in refused(NOVA_2, wrong)
