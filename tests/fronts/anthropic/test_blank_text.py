"""Blank text through the Anthropic SDK: blank or whitespace-only blocks and empty messages are
left out before Bedrock sees them (it refuses blank text); nothing left to answer is a 400."""

from __future__ import annotations

from typing import Any

import anthropic
import pytest
from anthropic import AsyncAnthropic
from anthropic.types import MessageParam, TextBlockParam

from fmgate_emulator import AsyncEmulatorClient
from fmgate_emulator.content import reply_text


def texts(body: dict[str, Any]) -> list[str]:
    return [b["text"] for m in body["messages"] for b in m["content"] if "text" in b]


async def test_blank_blocks_and_empty_messages_are_left_out(
    anthropic_client: AsyncAnthropic, emu: AsyncEmulatorClient
) -> None:
    messages: list[MessageParam] = [
        {"role": "user", "content": [{"type": "text", "text": "First question"}]},
        {"role": "assistant", "content": [{"type": "text", "text": "  \n"}]},
        {"role": "user", "content": [{"type": "text", "text": ""}]},
        {"role": "assistant", "content": "An answer"},
        {
            "role": "user",
            "content": [{"type": "text", "text": " "}, {"type": "text", "text": "Go on"}],
        },
    ]
    blank_system: list[TextBlockParam] = [{"type": "text", "text": "\t"}]
    message = await anthropic_client.messages.create(
        model="nova-lite", max_tokens=256, system=blank_system, messages=messages
    )
    assert message.stop_reason == "end_turn"
    [record] = await emu.requests()
    body = record["body"]
    assert "system" not in body
    assert [m["role"] for m in body["messages"]] == ["user", "assistant", "user"]
    assert all(text.strip() for text in texts(body))
    assert message.content[0].text == reply_text(texts(body)[-1], 256)[0]  # type: ignore[union-attr]


async def test_a_conversation_of_blank_messages_is_a_clear_400(
    anthropic_client: AsyncAnthropic, emu: AsyncEmulatorClient
) -> None:
    with pytest.raises(anthropic.BadRequestError) as refused:
        await anthropic_client.messages.create(
            model="nova-lite",
            max_tokens=256,
            messages=[
                {"role": "user", "content": " "},
                {"role": "assistant", "content": [{"type": "text", "text": ""}]},
                {"role": "user", "content": []},
            ],
        )
    assert refused.value.body == {
        "type": "error",
        "error": {
            "type": "invalid_request_error",
            "message": "Every message is empty or blank: there is nothing to answer.",
        },
    }
    assert await emu.requests() == []
