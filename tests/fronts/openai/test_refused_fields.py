"""Fields the gateway cannot honour are refused with a 400 in OpenAI's shape, never ignored."""

from __future__ import annotations

from typing import Any

import httpx2
import openai
import pytest
from openai import AsyncOpenAI
from openai.types.chat import ChatCompletionMessageParam

from fmgate_emulator import AsyncEmulatorClient
from tests.harness.api_gateway import TEST_API_KEY

NOVA_LITE = "amazon.nova-lite-v1:0"
HELLO: list[ChatCompletionMessageParam] = [{"role": "user", "content": "Hello"}]


def error_of(caught: pytest.ExceptionInfo[openai.BadRequestError]) -> dict[str, Any]:
    """The ``error`` object of a 400 (the SDK keeps the body's ``error`` as ``body``)."""
    assert caught.value.status_code == 400
    assert isinstance(caught.value.body, dict)
    return caught.value.body


@pytest.mark.parametrize("stream", [False, True])
async def test_n_other_than_1_is_400_n_must_be_1(
    openai_client: AsyncOpenAI, emu: AsyncEmulatorClient, stream: bool
) -> None:
    with pytest.raises(openai.BadRequestError) as caught:
        await openai_client.chat.completions.create(
            model="nova-lite", messages=HELLO, n=2, stream=stream
        )
    error = error_of(caught)
    assert error["message"] == "n must be 1"
    assert (error["param"], error["type"]) == ("n", "invalid_request_error")
    assert error["code"] == "unsupported_value"
    assert await emu.requests(model_id=NOVA_LITE) == []


async def test_n_0_is_refused_and_n_1_answers(
    openai_client: AsyncOpenAI, api_http: httpx2.AsyncClient
) -> None:
    response = await api_http.post(
        "/v1/chat/completions",
        json={"model": "nova-lite", "messages": HELLO, "n": 0},
        headers={"Authorization": f"Bearer {TEST_API_KEY}"},
    )
    assert response.status_code == 400
    assert response.json()["error"]["param"] == "n"
    completion = await openai_client.chat.completions.create(model="nova-lite", messages=HELLO, n=1)
    assert len(completion.choices) == 1


@pytest.mark.parametrize(
    "response_format",
    [{"type": "json_schema"}, {"type": "json_schema", "json_schema": {"name": "city"}}],
)
async def test_a_json_schema_format_without_its_schema_is_refused(
    openai_client: AsyncOpenAI, emu: AsyncEmulatorClient, response_format: Any
) -> None:
    with pytest.raises(openai.BadRequestError) as caught:
        await openai_client.chat.completions.create(
            model="nova-lite", messages=HELLO, response_format=response_format
        )
    error = error_of(caught)
    assert error["param"] == "response_format.json_schema"
    assert "needs json_schema.name and json_schema.schema" in error["message"]
    assert await emu.requests(model_id=NOVA_LITE) == []


async def test_text_response_format_answers_with_the_prompt_unchanged(
    openai_client: AsyncOpenAI, emu: AsyncEmulatorClient
) -> None:
    completion = await openai_client.chat.completions.create(
        model="nova-lite", messages=HELLO, response_format={"type": "text"}
    )
    assert completion.choices[0].message.content
    [record] = await emu.requests(model_id=NOVA_LITE)
    assert "system" not in record["body"]
    assert record["body"]["messages"] == [{"role": "user", "content": [{"text": "Hello"}]}]


async def test_the_retired_functions_fields_point_to_tools(
    openai_client: AsyncOpenAI,
) -> None:
    with pytest.raises(openai.BadRequestError) as caught:
        await openai_client.chat.completions.create(
            model="nova-lite",
            messages=HELLO,
            functions=[{"name": "get_weather", "parameters": {"type": "object"}}],
        )
    error = error_of(caught)
    assert error["param"] == "functions"
    assert "tools" in error["message"]
