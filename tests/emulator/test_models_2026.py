"""The 2026 models in the emulator: ids seen in real Bedrock traffic are answered, profile-only
models refuse their plain id with Bedrock's on-demand message, and a profile prefix a model has
no profile for is an invalid model id (the models declaring their profiles)."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError

from fmgate_emulator.content import reply_text
from fmgate_emulator.models import MODELS_BY_ID, Reasoning
from tests.emulator.sdk import user

INVALID_ID = "The provided model identifier is invalid."


@pytest.mark.parametrize(
    "model_id",
    [
        "us.anthropic.claude-sonnet-4-6",
        "global.anthropic.claude-sonnet-4-6",
        "us.anthropic.claude-opus-4-5-20251101-v1:0",
        "apac.anthropic.claude-opus-4-6-v1",
        "us.amazon.nova-2-lite-v1:0",
        "global.amazon.nova-2-lite-v1:0",
        "moonshot.kimi-k2-thinking",
        "zai.glm-4.7-flash",
        "qwen.qwen3-32b-v1:0",
        "openai.gpt-oss-120b-1:0",
        "us.writer.palmyra-x4-v1:0",
        "deepseek.v3.2",
        "mistral.mistral-large-3-675b-instruct",
    ],
)
def test_2026_ids_are_answered(bedrock: Any, model_id: str) -> None:
    response = bedrock.converse(modelId=model_id, messages=[user("hello 2026")])
    texts = [b["text"] for b in response["output"]["message"]["content"] if "text" in b]
    assert texts == [reply_text("hello 2026", None)[0]]


@pytest.mark.parametrize(
    ("model_id", "message"),
    [
        (
            "anthropic.claude-sonnet-4-6",
            "Invocation of model ID anthropic.claude-sonnet-4-6 with on-demand throughput isn't "
            "supported",
        ),
        (
            "writer.palmyra-x4-v1:0",
            "Invocation of model ID writer.palmyra-x4-v1:0 with on-demand throughput",
        ),
        ("us.moonshot.kimi-k2-thinking", INVALID_ID),  # on demand only: no profile
        ("apac.anthropic.claude-sonnet-4-6", INVALID_ID),  # no apac profile
        ("eu.writer.palmyra-x5-v1:0", INVALID_ID),
        ("global.deepseek.v3.2", INVALID_ID),
    ],
)
def test_ids_bedrock_refuses_are_refused(bedrock: Any, model_id: str, message: str) -> None:
    with pytest.raises(ClientError) as caught:
        bedrock.converse(modelId=model_id, messages=[user("x")])
    error = caught.value.response["Error"]
    assert error["Code"] == "ValidationException"
    assert message in error["Message"]


def test_models_that_always_reason_answer_with_their_reasoning(bedrock: Any) -> None:
    assert MODELS_BY_ID["moonshot.kimi-k2-thinking"].reasoning is Reasoning.ALWAYS
    response = bedrock.converse(modelId="moonshot.kimi-k2-thinking", messages=[user("why")])
    content = response["output"]["message"]["content"]
    assert "reasoningContent" in content[0]
    assert content[-1] == {"text": reply_text("why", None)[0]}


def test_claude_4_6_thinks_on_request_and_caches_from_its_minimum(bedrock: Any) -> None:
    response = bedrock.converse(
        modelId="us.anthropic.claude-sonnet-4-6",
        messages=[user("think")],
        inferenceConfig={"maxTokens": 4000},
        additionalModelRequestFields={"thinking": {"type": "enabled", "budget_tokens": 1024}},
    )
    assert "reasoningContent" in response["output"]["message"]["content"][0]
    short = " ".join(f"w{i}" for i in range(1500))  # below Sonnet 4.6's 2,048 kept here
    response = bedrock.converse(
        modelId="us.anthropic.claude-sonnet-4-6",
        system=[{"text": short}, {"cachePoint": {"type": "default", "ttl": "1h"}}],
        messages=[user("cache")],
    )
    assert response["usage"].get("cacheWriteInputTokens", 0) == 0
