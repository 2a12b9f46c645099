"""Content filters and cut-off answers: the user is told, in words, what happened."""

from __future__ import annotations

import fastapi_poe as fp
import httpx
import pytest

from fmgate_emulator.content import FILTER_MARKER
from tests.harness.poe_client import ask, query


async def test_chat_stopped_by_content_filter_says_so(poe: httpx.AsyncClient) -> None:
    reply = await ask(poe, "nova-lite", f"something {FILTER_MARKER}")
    assert reply.error is None
    assert reply.text.endswith("_The model's content filters stopped this answer._")


async def test_answer_cut_at_max_tokens_says_so(poe: httpx.AsyncClient) -> None:
    message = fp.ProtocolMessage(
        role="user", content="a question " * 50, parameters={"max_tokens": 5}
    )
    reply = await ask(poe, "nova-lite", query(message))
    assert reply.error is None
    assert reply.text.endswith("_The answer reached this bot's length limit and was cut off._")


@pytest.mark.parametrize("bot", ["sd35", "titan-image"])
async def test_filtered_image_gives_a_clear_message(poe: httpx.AsyncClient, bot: str) -> None:
    reply = await ask(poe, bot, f"a picture {FILTER_MARKER}")
    assert reply.error is not None
    assert "content filters" in str(reply.error["text"])
    assert reply.error["allow_retry"] is False
    assert reply.files == []
