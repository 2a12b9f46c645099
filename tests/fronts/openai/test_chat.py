"""Chat completions through the official OpenAI SDK, against the emulator."""

from __future__ import annotations

import base64
import io

import openai
import pytest
from openai import AsyncOpenAI
from openai.types.chat import ChatCompletionMessageParam
from PIL import Image

from fmgate.server.gateway import Gateway
from fmgate_emulator import AsyncEmulatorClient
from tests.harness.api_gateway import TEST_CALLER, ledger_row


async def test_whole_completion_answers_and_records_usage_in_the_ledger(
    openai_client: AsyncOpenAI, api_gateway: Gateway
) -> None:
    raw = await openai_client.chat.completions.with_raw_response.create(
        model="nova-lite",
        messages=[
            {"role": "system", "content": "You are terse."},
            {"role": "user", "content": "Hello there"},
        ],
    )
    completion = raw.parse()
    [choice] = completion.choices
    assert choice.message.role == "assistant"
    assert choice.message.content
    assert choice.finish_reason == "stop"
    assert completion.model == "nova-lite"
    assert completion.usage is not None
    assert completion.usage.prompt_tokens > 0
    assert completion.usage.completion_tokens > 0
    row = await ledger_row(api_gateway, raw.headers["x-request-id"])
    assert row.front == "openai"
    assert row.user_id == TEST_CALLER
    assert row.outcome == "ok"
    assert (row.input_tokens, row.output_tokens) == (
        completion.usage.prompt_tokens,
        completion.usage.completion_tokens,
    )
    assert row.cost_milli_cents > 0


async def test_stream_sends_usage_once_after_the_last_content_chunk_without_choices(
    openai_client: AsyncOpenAI,
) -> None:
    messages: list[ChatCompletionMessageParam] = [
        {"role": "user", "content": "Tell me about streams"}
    ]
    whole = await openai_client.chat.completions.create(model="nova-lite", messages=messages)
    stream = await openai_client.chat.completions.create(
        model="nova-lite",
        messages=messages,
        stream=True,
        stream_options={"include_usage": True},
    )
    chunks = [chunk async for chunk in stream]
    *answer_chunks, usage_chunk = chunks
    assert answer_chunks[0].choices[0].delta.role == "assistant"
    assert all(chunk.usage is None and len(chunk.choices) == 1 for chunk in answer_chunks)
    assert [c.choices[0].finish_reason for c in answer_chunks if c.choices[0].finish_reason] == [
        "stop"
    ]
    assert answer_chunks[-1].choices[0].finish_reason == "stop"
    text = "".join(c.choices[0].delta.content or "" for c in answer_chunks)
    assert text == whole.choices[0].message.content
    assert usage_chunk.choices == []
    assert usage_chunk.usage is not None
    assert whole.usage is not None
    assert usage_chunk.usage.completion_tokens == whole.usage.completion_tokens
    assert usage_chunk.usage.total_tokens == whole.usage.total_tokens


async def test_stream_without_include_usage_has_no_usage_chunk(openai_client: AsyncOpenAI) -> None:
    stream = await openai_client.chat.completions.create(
        model="nova-micro-whole",
        messages=[{"role": "user", "content": "Hi"}],
        stream=True,
    )
    chunks = [chunk async for chunk in stream]
    assert all(len(chunk.choices) == 1 and chunk.usage is None for chunk in chunks)
    assert chunks[-1].choices[0].finish_reason == "stop"


async def test_reasoning_arrives_as_reasoning_content(openai_client: AsyncOpenAI) -> None:
    stream = await openai_client.chat.completions.create(
        model="deepseek-r1",
        messages=[{"role": "user", "content": "Why is the sky blue?"}],
        stream=True,
    )
    reasoning = ""
    content = ""
    async for chunk in stream:
        if chunk.choices:
            delta = chunk.choices[0].delta
            reasoning += (delta.model_extra or {}).get("reasoning_content") or ""
            content += delta.content or ""
    assert reasoning
    assert content
    whole = await openai_client.chat.completions.create(
        model="deepseek-r1", messages=[{"role": "user", "content": "Why is the sky blue?"}]
    )
    assert (whole.choices[0].message.model_extra or {}).get("reasoning_content") == reasoning


def png_bytes() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (64, 48), (200, 30, 30)).save(buffer, format="PNG")
    return buffer.getvalue()


async def test_data_url_image_reaches_the_model_as_an_image_block(
    openai_client: AsyncOpenAI, emu: AsyncEmulatorClient
) -> None:
    png = png_bytes()
    url = "data:image/png;base64," + base64.b64encode(png).decode()
    completion = await openai_client.chat.completions.create(
        model="nova-lite",
        messages=[
            {
                "role": "user",
                "content": [
                    {"type": "text", "text": "What is in this picture?"},
                    {"type": "image_url", "image_url": {"url": url}},
                ],
            }
        ],
    )
    assert completion.choices[0].message.content
    [record] = await emu.requests(model_id="amazon.nova-lite-v1:0")
    [user] = record["body"]["messages"]
    [image] = [block["image"] for block in user["content"] if "image" in block]
    assert image["format"] == "png"
    assert base64.b64decode(image["source"]["bytes"]) == png
    assert any(block.get("text") == "What is in this picture?" for block in user["content"])


async def test_stop_at_max_tokens_is_length(openai_client: AsyncOpenAI) -> None:
    completion = await openai_client.chat.completions.create(
        model="nova-lite",
        messages=[{"role": "user", "content": "Write a long story about the sea"}],
        max_completion_tokens=3,
    )
    assert completion.choices[0].finish_reason == "length"


async def test_models_lists_every_bot_by_name(
    openai_client: AsyncOpenAI, api_gateway: Gateway
) -> None:
    models = [model.id async for model in openai_client.models.list()]
    assert models == [deployed.config.bot_name for deployed in api_gateway.registry]
    model = await openai_client.models.retrieve("nova-lite")
    assert model.id == "nova-lite"


async def test_the_callers_user_is_recorded_after_the_key_caller_in_the_ledger(
    openai_client: AsyncOpenAI, api_gateway: Gateway
) -> None:
    hello: list[ChatCompletionMessageParam] = [{"role": "user", "content": "Hello"}]
    whole = await openai_client.chat.completions.with_raw_response.create(
        model="nova-lite", messages=hello, user="end-user-42"
    )
    row = await ledger_row(api_gateway, whole.headers["x-request-id"])
    assert row.user_id == f"{TEST_CALLER}/end-user-42"

    streamed = await openai_client.chat.completions.with_raw_response.create(
        model="nova-lite", messages=hello, safety_identifier="hashed-7f3a", stream=True
    )
    async for _ in streamed.parse():
        pass
    row = await ledger_row(api_gateway, streamed.headers["x-request-id"])
    assert row.user_id == f"{TEST_CALLER}/hashed-7f3a"
    assert row.outcome == "ok"


@pytest.mark.parametrize("user", ["u" * 257, "alice\nforged log line"])
async def test_a_user_the_ledger_cannot_keep_is_400(openai_client: AsyncOpenAI, user: str) -> None:
    with pytest.raises(openai.BadRequestError) as caught:
        await openai_client.chat.completions.create(
            model="nova-lite", messages=[{"role": "user", "content": "Hi"}], user=user
        )
    assert caught.value.param == "user"
