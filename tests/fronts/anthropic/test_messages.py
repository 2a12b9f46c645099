"""The Messages API through the official Anthropic SDK, against the emulator."""

from __future__ import annotations

import httpx2
import pytest
from anthropic import AsyncAnthropic
from anthropic.types import Message, MessageParam, TextBlock, ThinkingBlock

from fmgate.server.gateway import Gateway
from fmgate_emulator import AsyncEmulatorClient
from fmgate_emulator.content import reply_text
from tests.harness.api_gateway import TEST_CALLER, ledger_row


async def test_whole_message_answers_and_records_usage(
    anthropic_client: AsyncAnthropic, api_gateway: Gateway
) -> None:
    raw = await anthropic_client.messages.with_raw_response.create(
        model="nova-lite",
        max_tokens=256,
        system="You are terse.",
        messages=[{"role": "user", "content": "Hello there"}],
    )
    message = await raw.parse()
    assert message.type == "message"
    assert message.role == "assistant"
    [block] = message.content
    assert isinstance(block, TextBlock)
    assert block.text
    assert message.stop_reason == "end_turn"
    assert message.usage.input_tokens > 0
    assert message.usage.output_tokens > 0
    row = await ledger_row(api_gateway, raw.headers["request-id"])
    assert (row.front, row.user_id, row.outcome) == ("anthropic", TEST_CALLER, "ok")
    assert (row.input_tokens, row.output_tokens) == (
        message.usage.input_tokens,
        message.usage.output_tokens,
    )


async def test_stream_events_in_order_and_final_message_matches(
    anthropic_client: AsyncAnthropic,
) -> None:
    messages = [{"role": "user", "content": "Tell me about streams"}]
    whole = await anthropic_client.messages.create(
        model="nova-lite",
        max_tokens=256,
        messages=messages,  # type: ignore[arg-type]
    )
    async with anthropic_client.messages.stream(
        model="nova-lite",
        max_tokens=256,
        messages=messages,  # type: ignore[arg-type]
    ) as stream:
        kinds = [event.type async for event in stream]
        final = await stream.get_final_message()
    raw_kinds = [k for k in kinds if k not in ("text",)]
    assert raw_kinds[0] == "message_start"
    assert raw_kinds[1] == "content_block_start"
    assert raw_kinds[-3:] == ["content_block_stop", "message_delta", "message_stop"]
    assert [b.model_dump(include={"type", "text"}) for b in final.content] == [
        b.model_dump(include={"type", "text"}) for b in whole.content
    ]
    assert final.stop_reason == "end_turn"
    assert final.usage.output_tokens == whole.usage.output_tokens
    assert final.usage.input_tokens == whole.usage.input_tokens


async def test_thinking_streams_as_a_thinking_block(anthropic_client: AsyncAnthropic) -> None:
    async with anthropic_client.messages.stream(
        model="claude-thinking",
        max_tokens=4096,
        messages=[{"role": "user", "content": "Why is the sky blue?"}],
    ) as stream:
        final = await stream.get_final_message()
    thinking, text = final.content
    assert isinstance(thinking, ThinkingBlock)
    assert thinking.thinking
    assert isinstance(text, TextBlock)
    assert text.text


async def test_max_tokens_stop_reason(anthropic_client: AsyncAnthropic) -> None:
    message = await anthropic_client.messages.create(
        model="nova-lite",
        max_tokens=3,
        messages=[{"role": "user", "content": "Write a long story about the sea"}],
    )
    assert message.stop_reason == "max_tokens"


async def test_bearer_auth_token_works_too(api_http: httpx2.AsyncClient) -> None:
    from tests.harness.api_gateway import GATEWAY_URL, TEST_API_KEY

    client = AsyncAnthropic(
        auth_token=TEST_API_KEY, base_url=GATEWAY_URL, http_client=api_http, max_retries=0
    )
    message = await client.messages.create(
        model="nova-lite", max_tokens=64, messages=[{"role": "user", "content": "Hi"}]
    )
    assert message.content


async def answer_with_stop(client: AsyncAnthropic, question: str, *, stream: bool) -> Message:
    """The answer to ``question`` with the stop sequence "sky", whole or streamed."""
    messages: list[MessageParam] = [{"role": "user", "content": question}]
    if not stream:
        return await client.messages.create(
            model="nova-lite", max_tokens=256, stop_sequences=["sky"], messages=messages
        )
    async with client.messages.stream(
        model="nova-lite", max_tokens=256, stop_sequences=["sky"], messages=messages
    ) as streamed:
        return await streamed.get_final_message()


@pytest.mark.parametrize("stream", [False, True])
async def test_stop_sequences_reach_converse_and_cut_the_answer(
    anthropic_client: AsyncAnthropic, emu: AsyncEmulatorClient, stream: bool
) -> None:
    question = "Tell me about the sea and the sky"
    expected, reason = reply_text(question, None, ["sky"])
    assert reason == "stop_sequence"
    message = await answer_with_stop(anthropic_client, question, stream=stream)
    assert message.stop_reason == "stop_sequence"
    [block] = message.content
    assert isinstance(block, TextBlock)
    assert block.text == expected
    [record] = await emu.requests()
    assert record["body"]["inferenceConfig"]["stopSequences"] == ["sky"]


async def test_metadata_user_id_is_the_callers_user_in_the_ledger(
    anthropic_client: AsyncAnthropic, api_gateway: Gateway
) -> None:
    raw = await anthropic_client.messages.with_raw_response.create(
        model="nova-lite",
        max_tokens=64,
        metadata={"user_id": "end-user-42"},
        messages=[{"role": "user", "content": "Hi"}],
    )
    row = await ledger_row(api_gateway, raw.headers["request-id"])
    assert row.user_id == f"{TEST_CALLER}/end-user-42"
