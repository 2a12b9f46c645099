"""``stop``, ``max_completion_tokens`` and ``max_tokens`` through the OpenAI SDK, as Bedrock
receives them and as the answer shows them."""

from __future__ import annotations

from typing import Any

import pytest
from openai import AsyncOpenAI, omit
from openai.types.chat import ChatCompletionMessageParam

from fmgate_emulator import AsyncEmulatorClient
from fmgate_emulator.content import reply_text

NOVA_LITE = "amazon.nova-lite-v1:0"
PROMPT = "Tell me about the sea"
MESSAGES: list[ChatCompletionMessageParam] = [{"role": "user", "content": PROMPT}]


async def inference_config(emu: AsyncEmulatorClient) -> dict[str, Any]:
    [record] = await emu.requests(model_id=NOVA_LITE)
    config: dict[str, Any] = record["body"]["inferenceConfig"]
    return config


async def test_a_stop_string_ends_the_answer_before_it(
    openai_client: AsyncOpenAI, emu: AsyncEmulatorClient
) -> None:
    completion = await openai_client.chat.completions.create(
        model="nova-lite", messages=MESSAGES, stop="deterministic"
    )
    [choice] = completion.choices
    assert choice.message.content == reply_text(PROMPT, None, ["deterministic"])[0]
    assert "deterministic" not in (choice.message.content or "")
    assert choice.finish_reason == "stop"
    assert (await inference_config(emu))["stopSequences"] == ["deterministic"]


async def test_a_stop_list_is_honoured_when_streamed(
    openai_client: AsyncOpenAI, emu: AsyncEmulatorClient
) -> None:
    stream = await openai_client.chat.completions.create(
        model="nova-lite", messages=MESSAGES, stop=["zzz", "sea", ""], stream=True
    )
    chunks = [chunk async for chunk in stream]
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == reply_text(PROMPT, None, ["sea"])[0] == "Echo: Tell me about the"
    assert [c.choices[0].finish_reason for c in chunks if c.choices][-1] == "stop"
    assert (await inference_config(emu))["stopSequences"] == ["zzz", "sea"]


@pytest.mark.parametrize(
    ("max_completion_tokens", "max_tokens", "sent"),
    [
        (5, None, 5),
        (None, 7, 7),
        (5, 7, 5),  # max_completion_tokens wins
        (100_000, None, 4096),  # the bot's max_tokens_limit
        (None, None, 512),  # the bot's max_tokens
    ],
)
async def test_the_output_cap_reaches_bedrock_within_the_bots_limit(
    openai_client: AsyncOpenAI,
    emu: AsyncEmulatorClient,
    max_completion_tokens: int | None,
    max_tokens: int | None,
    sent: int,
) -> None:
    completion = await openai_client.chat.completions.create(
        model="nova-lite",
        messages=MESSAGES,
        max_completion_tokens=omit if max_completion_tokens is None else max_completion_tokens,
        max_tokens=omit if max_tokens is None else max_tokens,
    )
    assert (await inference_config(emu))["maxTokens"] == sent
    expected, reason = reply_text(PROMPT, sent)
    assert completion.choices[0].message.content == expected
    assert completion.choices[0].finish_reason == ("length" if reason == "max_tokens" else "stop")
    assert completion.usage is not None
    assert completion.usage.completion_tokens <= sent
