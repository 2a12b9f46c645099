"""OpenAI's reasoning effort on a model with an effort of its own (gpt-oss), through the OpenAI
SDK: the level Bedrock receives in the model's field, on both APIs, and the levels it refuses;
and redacted reasoning, which neither API shows."""

from __future__ import annotations

import base64

import openai
import pytest
from openai import AsyncOpenAI
from openai.types.chat import ChatCompletionMessageParam
from openai.types.shared import ReasoningEffort

from fmgate.config.catalog import Catalog
from fmgate_emulator import AsyncEmulatorClient
from fmgate_emulator.content import REDACT_MARKER, reasoning_text, redacted_reasoning
from tests.fakes.poe_api import FakePoeApi
from tests.harness.reasoning_catalog import (
    CLAUDE_37,
    GPT_OSS,
    additional_fields,
    reasoning_catalog,
)

MESSAGES: list[ChatCompletionMessageParam] = [{"role": "user", "content": "Is 17 prime?"}]


@pytest.fixture
def catalog(monkeypatch: pytest.MonkeyPatch, poe_api: FakePoeApi) -> Catalog:
    monkeypatch.setenv("FMGATE_TEST_POE_KEY", "unused-poe-key-0123456789")
    return reasoning_catalog(poe_api)


@pytest.mark.parametrize(
    ("effort", "sent"), [("minimal", "low"), ("low", "low"), ("medium", "medium"), ("high", "high")]
)
async def test_the_effort_reaches_bedrock_as_the_models_own(
    openai_client: AsyncOpenAI, emu: AsyncEmulatorClient, effort: ReasoningEffort, sent: str
) -> None:
    completion = await openai_client.chat.completions.create(
        model="gpt-oss", messages=MESSAGES, reasoning_effort=effort
    )
    [call] = await emu.requests(model_id=GPT_OSS)
    assert additional_fields(call) == {"reasoning_effort": sent}
    reasoning = completion.choices[0].message.model_extra["reasoning_content"]  # type: ignore[index]
    assert reasoning == reasoning_text("Is 17 prime?", sent)


@pytest.mark.parametrize("effort", ["none", "xhigh"])
async def test_a_level_the_model_lacks_is_refused_before_bedrock(
    openai_client: AsyncOpenAI, emu: AsyncEmulatorClient, effort: ReasoningEffort
) -> None:
    with pytest.raises(openai.BadRequestError) as refused:
        await openai_client.chat.completions.create(
            model="gpt-oss", messages=MESSAGES, reasoning_effort=effort
        )
    assert refused.value.param == "reasoning_effort"
    assert refused.value.code == "unsupported_value"
    assert "it takes 'minimal', 'low', 'medium', 'high'" in refused.value.message
    assert await emu.requests() == []


async def test_the_responses_api_sends_its_effort_the_same_way(
    openai_client: AsyncOpenAI, emu: AsyncEmulatorClient
) -> None:
    response = await openai_client.responses.create(
        model="gpt-oss", input="Is 17 prime?", reasoning={"effort": "high"}
    )
    [call] = await emu.requests(model_id=GPT_OSS)
    assert additional_fields(call) == {"reasoning_effort": "high"}
    reasoning = response.output[0]
    assert reasoning.type == "reasoning"
    assert reasoning.content is not None
    assert "Reasoning at high effort." in reasoning.content[0].text
    with pytest.raises(openai.BadRequestError) as refused:
        await openai_client.responses.create(
            model="gpt-oss", input="Is 17 prime?", reasoning={"effort": "xhigh"}
        )
    assert refused.value.param == "reasoning.effort"


async def test_redacted_reasoning_is_never_shown(
    openai_client: AsyncOpenAI, emu: AsyncEmulatorClient
) -> None:
    ask: list[ChatCompletionMessageParam] = [
        {"role": "user", "content": f"Think in secret {REDACT_MARKER}"}
    ]
    whole = await openai_client.chat.completions.with_raw_response.create(
        model="claude-thinking", messages=ask
    )
    stream = await openai_client.chat.completions.create(
        model="claude-thinking", messages=ask, stream=True
    )
    chunks = [chunk async for chunk in stream]
    response = await openai_client.responses.with_raw_response.create(
        model="claude-thinking", input=f"Think in secret {REDACT_MARKER}"
    )
    calls = await emu.requests(model_id=CLAUDE_37)
    assert len(calls) == 3
    assert all("thinking" in additional_fields(call) for call in calls)
    hidden = redacted_reasoning(reasoning_text(f"Think in secret {REDACT_MARKER}"))
    for raw in (whole.text, response.text):
        assert base64.b64encode(hidden).decode() not in raw
        assert "reasoning_content" not in raw
    message = whole.parse().choices[0].message
    assert message.content
    assert not any(
        chunk.choices and (chunk.choices[0].delta.model_extra or {}).get("reasoning_content")
        for chunk in chunks
    )
    assert [item.type for item in response.parse().output] == ["message"]
