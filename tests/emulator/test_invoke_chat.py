"""InvokeModel / InvokeModelWithResponseStream for chat models (Anthropic Messages bodies)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from botocore.exceptions import EventStreamError

from fmgate_emulator import EmulatorClient
from fmgate_emulator.content import reply_text

CLAUDE_HAIKU = "anthropic.claude-3-haiku-20240307-v1:0"
BODY = {
    "anthropic_version": "bedrock-2023-05-31",
    "max_tokens": 200,
    "system": "Be brief.",
    "messages": [{"role": "user", "content": "Tell me a fact"}],
}


def test_invoke_model_for_a_chat_model(bedrock: Any) -> None:
    response = bedrock.invoke_model(modelId=CLAUDE_HAIKU, body=json.dumps(BODY))
    result = json.loads(response["body"].read())
    assert result["content"] == [{"type": "text", "text": reply_text("Tell me a fact", 200)[0]}]
    assert result["stop_reason"] == "end_turn"
    assert result["usage"]["input_tokens"] > 0


def chunks(response: dict[str, Any]) -> list[dict[str, Any]]:
    return [json.loads(event["chunk"]["bytes"]) for event in response["body"]]


def test_invoke_model_with_response_stream(bedrock: Any) -> None:
    events = chunks(
        bedrock.invoke_model_with_response_stream(modelId=CLAUDE_HAIKU, body=json.dumps(BODY))
    )
    types = [e["type"] for e in events]
    assert types[0] == "message_start"
    assert types[-1] == "message_stop"
    text = "".join(e["delta"]["text"] for e in events if e["type"] == "content_block_delta")
    assert text == reply_text("Tell me a fact", 200)[0]
    assert events[-1]["amazon-bedrock-invocationMetrics"]["outputTokenCount"] > 0


def test_invoke_stream_mid_stream_exception(bedrock: Any, control: EmulatorClient) -> None:
    control.inject("mid_stream_exception", after_tokens=1, exception="modelStreamErrorException")
    response = bedrock.invoke_model_with_response_stream(
        modelId=CLAUDE_HAIKU, body=json.dumps(BODY)
    )
    with pytest.raises(EventStreamError) as excinfo:
        chunks(response)
    assert excinfo.value.response["Error"]["Code"] == "modelStreamErrorException"
