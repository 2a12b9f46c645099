"""The anthropic-beta header through the Anthropic SDK: flags Bedrock takes for the bot's model
become additionalModelRequestFields.anthropic_beta; every other flag is dropped (logged once),
never a 400."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from anthropic import AsyncAnthropic
from anthropic.types import MessageParam

from fmgate_emulator import AsyncEmulatorClient

HELLO: list[MessageParam] = [{"role": "user", "content": "Hello"}]
#: What Claude Code sends, give or take: one flag Claude 3.7 Sonnet takes on Bedrock, the rest not.
CLAUDE_CODE_BETAS = (
    "claude-code-20250219,interleaved-thinking-2025-05-14,token-efficient-tools-2025-02-19,"
    "fine-grained-tool-streaming-2025-05-14"
)


async def additional_fields(emu: AsyncEmulatorClient) -> dict[str, Any]:
    [record] = await emu.requests()
    fields: dict[str, Any] = record["body"].get("additionalModelRequestFields", {})
    return fields


async def test_only_the_flags_the_model_takes_reach_bedrock(
    anthropic_client: AsyncAnthropic, emu: AsyncEmulatorClient
) -> None:
    message = await anthropic_client.beta.messages.create(
        model="claude-thinking",
        max_tokens=4096,
        messages=HELLO,  # type: ignore[arg-type]
        betas=CLAUDE_CODE_BETAS.split(","),
    )
    assert message.stop_reason == "end_turn"
    assert (await additional_fields(emu))["anthropic_beta"] == ["token-efficient-tools-2025-02-19"]


async def test_an_unknown_flag_is_accepted_and_logged_once_at_info(
    anthropic_client: AsyncAnthropic, emu: AsyncEmulatorClient, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger="fmgate.bots.betas"):
        for _ in range(2):
            message = await anthropic_client.messages.create(
                model="nova-lite",
                max_tokens=64,
                messages=HELLO,
                extra_headers={"anthropic-beta": "made-up-beta-2099-01-01"},
            )
            assert message.content
    dropped = [r for r in caplog.records if "made-up-beta-2099-01-01" in r.getMessage()]
    assert [r.levelno for r in dropped] == [logging.INFO]
    for record in await emu.requests():
        assert "anthropic_beta" not in record["body"].get("additionalModelRequestFields", {})


async def test_count_tokens_takes_the_header_too(anthropic_client: AsyncAnthropic) -> None:
    counted = await anthropic_client.beta.messages.count_tokens(
        model="claude-thinking",
        messages=[{"role": "user", "content": "Hello"}],
        betas=["made-up-beta-2099-01-01"],
    )
    assert counted.input_tokens > 0
