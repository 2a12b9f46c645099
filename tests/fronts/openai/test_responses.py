"""``POST /v1/responses`` through the official OpenAI SDK on the emulator: whole and streamed
answers, the event sequence, incomplete and failed responses, reasoning, sampling and the
refusals of what the gateway cannot honour."""

from __future__ import annotations

import base64
import json

import httpx2
import openai
import pytest
from openai import AsyncOpenAI

from fmgate.server.gateway import Gateway
from fmgate_emulator import AsyncEmulatorClient
from tests.harness.api_gateway import TEST_API_KEY, TEST_CALLER, ledger_row
from tests.harness.attachment_files import PNG

NOVA_LITE = "amazon.nova-lite-v1:0"


async def test_whole_response_for_a_string_input(
    openai_client: AsyncOpenAI, api_gateway: Gateway
) -> None:
    response = await openai_client.responses.create(model="nova-lite", input="Hello there")
    assert response.id.startswith("resp_")
    assert response.object == "response"
    assert response.status == "completed"
    assert response.model == "nova-lite"
    [message] = response.output
    assert message.type == "message"
    assert message.role == "assistant"
    assert message.status == "completed"
    assert message.id.startswith("msg_")
    assert "Hello there" in response.output_text
    usage = response.usage
    assert usage is not None
    assert usage.input_tokens > 0
    assert usage.output_tokens > 0
    assert usage.total_tokens == usage.input_tokens + usage.output_tokens
    assert usage.input_tokens_details.cached_tokens == 0
    assert usage.output_tokens_details.reasoning_tokens == 0

    row = await ledger_row(api_gateway, response.id.removeprefix("resp_"))
    assert (row.front, row.user_id, row.bot, row.outcome) == (
        "openai-responses",
        TEST_CALLER,
        "nova-lite",
        "ok",
    )
    assert (row.input_tokens, row.output_tokens) == (usage.input_tokens, usage.output_tokens)
    assert row.conversation_id == response.id  # a response starts its conversation


async def test_items_instructions_and_sampling_reach_converse(
    openai_client: AsyncOpenAI, emu: AsyncEmulatorClient
) -> None:
    await openai_client.responses.create(
        model="nova-lite",
        instructions="Answer briefly.",
        input=[
            {"role": "developer", "content": "Be polite."},
            {"role": "user", "content": [{"type": "input_text", "text": "First question"}]},
            {"role": "assistant", "content": "An earlier answer."},
            {"type": "message", "role": "user", "content": "Second question"},
        ],
        temperature=0.3,
        top_p=0.8,
        max_output_tokens=100,
    )
    [call] = await emu.requests(model_id=NOVA_LITE)
    body = call["body"]
    assert [block["text"] for block in body["system"]] == ["Answer briefly.", "Be polite."]
    assert [m["role"] for m in body["messages"]] == ["user", "assistant", "user"]
    assert body["messages"][2]["content"] == [{"text": "Second question"}]
    assert body["inferenceConfig"] == {"maxTokens": 100, "temperature": 0.3, "topP": 0.8}


async def test_an_input_image_goes_to_the_model(
    openai_client: AsyncOpenAI, emu: AsyncEmulatorClient
) -> None:
    image = base64.b64encode(PNG).decode()
    await openai_client.responses.create(
        model="nova-lite",
        input=[
            {
                "role": "user",
                "content": [
                    {"type": "input_text", "text": "What is this?"},
                    {
                        "type": "input_image",
                        "image_url": f"data:image/png;base64,{image}",
                        "detail": "auto",
                    },
                ],
            }
        ],
    )
    [call] = await emu.requests(model_id=NOVA_LITE)
    [user] = call["body"]["messages"]
    assert [next(iter(block)) for block in user["content"]] == ["text", "image"]


async def test_an_input_file_goes_to_the_model(
    openai_client: AsyncOpenAI, emu: AsyncEmulatorClient
) -> None:
    notes = base64.b64encode(b"The launch code is 1234.").decode()
    await openai_client.responses.create(
        model="nova-lite",
        input=[
            {
                "role": "user",
                "content": [
                    {"type": "input_text", "text": "Summarise the file."},
                    {
                        "type": "input_file",
                        "filename": "notes.txt",
                        "file_data": f"data:text/plain;base64,{notes}",
                    },
                ],
            }
        ],
    )
    [call] = await emu.requests(model_id=NOVA_LITE)
    [user] = call["body"]["messages"]
    texts = "\n".join(block.get("text", "") for block in user["content"])
    assert "The launch code is 1234." in texts
    assert "notes.txt" in texts


async def test_the_stream_is_the_responses_event_sequence(api_http: httpx2.AsyncClient) -> None:
    response = await api_http.post(
        "/v1/responses",
        json={"model": "nova-lite", "input": "Hello there", "stream": True},
        headers={"Authorization": f"Bearer {TEST_API_KEY}"},
    )
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/event-stream")
    blocks = [block for block in response.text.split("\n\n") if block]
    kinds = [block.split("\n")[0].removeprefix("event: ") for block in blocks]
    events = [json.loads(block.split("\n")[1].removeprefix("data: ")) for block in blocks]
    assert [event["type"] for event in events] == kinds
    assert [event["sequence_number"] for event in events] == list(range(len(events)))
    # One delta per read of Bedrock's stream (pieces that arrived together are joined).
    deltas = kinds.count("response.output_text.delta")
    assert deltas >= 1
    assert kinds == [
        "response.created",
        "response.in_progress",
        "response.output_item.added",
        "response.content_part.added",
        *["response.output_text.delta"] * deltas,
        "response.output_text.done",
        "response.content_part.done",
        "response.output_item.done",
        "response.completed",
    ]
    created, completed = events[0]["response"], events[-1]["response"]
    assert created["status"] == "in_progress"
    assert created["id"] == completed["id"] == f"resp_{response.headers['x-request-id']}"
    text = "".join(e["delta"] for e in events if e["type"] == "response.output_text.delta")
    assert events[-4]["text"] == text
    assert completed["output"][0]["content"][0]["text"] == text
    assert completed["usage"]["output_tokens"] > 0


async def test_the_sdk_stream_accumulates_the_final_response(openai_client: AsyncOpenAI) -> None:
    async with openai_client.responses.stream(model="nova-lite", input="Hello there") as stream:
        deltas = [
            event.delta async for event in stream if event.type == "response.output_text.delta"
        ]
        final = await stream.get_final_response()
    assert final.status == "completed"
    assert final.output_text == "".join(deltas)
    assert "Hello there" in final.output_text
    assert final.usage is not None
    assert final.usage.output_tokens > 0


@pytest.mark.parametrize("stream", [False, True], ids=["whole", "streamed"])
async def test_the_length_limit_leaves_the_response_incomplete(
    openai_client: AsyncOpenAI, api_http: httpx2.AsyncClient, stream: bool
) -> None:
    ask = {
        "model": "nova-lite",
        "input": "please write a long answer with very many words in it " * 4,
        "max_output_tokens": 16,
    }
    if not stream:
        response = await openai_client.responses.create(**ask)  # type: ignore[call-overload]
        body = response.model_dump()
    else:
        sent = await api_http.post(
            "/v1/responses",
            json={**ask, "stream": True},
            headers={"Authorization": f"Bearer {TEST_API_KEY}"},
        )
        last = sent.text.strip().split("\n\n")[-1]
        assert last.startswith("event: response.incomplete\n")
        body = json.loads(last.split("\n")[1].removeprefix("data: "))["response"]
    assert body["status"] == "incomplete"
    assert body["incomplete_details"] == {"reason": "max_output_tokens"}
    assert body["output"][-1]["status"] == "incomplete"
    assert body["usage"]["output_tokens"] <= 16


async def test_reasoning_comes_as_a_reasoning_item_and_effort_sets_the_budget(
    openai_client: AsyncOpenAI, emu: AsyncEmulatorClient
) -> None:
    response = await openai_client.responses.create(
        model="claude-thinking", input="Think about this", reasoning={"effort": "low"}
    )
    reasoning, message = response.output
    assert reasoning.type == "reasoning"
    assert reasoning.content is not None
    assert reasoning.content[0].text
    assert message.type == "message"
    assert response.usage is not None
    assert 0 < response.usage.output_tokens_details.reasoning_tokens < response.usage.output_tokens
    [call] = await emu.requests(model_id="us.anthropic.claude-3-7-sonnet-20250219-v1:0")
    thinking = call["body"]["additionalModelRequestFields"]["thinking"]
    assert thinking == {"type": "enabled", "budget_tokens": 1024}


async def test_the_sdk_stream_carries_reasoning_deltas(openai_client: AsyncOpenAI) -> None:
    async with openai_client.responses.stream(
        model="claude-thinking", input="Think about this"
    ) as stream:
        kinds = [event.type async for event in stream]
        final = await stream.get_final_response()
    assert "response.reasoning_text.delta" in kinds
    assert kinds.index("response.reasoning_text.delta") < kinds.index("response.output_text.delta")
    assert [item.type for item in final.output] == ["reasoning", "message"]


async def test_a_failure_mid_stream_ends_with_response_failed(
    openai_client: AsyncOpenAI, emu: AsyncEmulatorClient, api_gateway: Gateway
) -> None:
    await emu.inject(
        "mid_stream_exception",
        model_id=NOVA_LITE,
        after_tokens=3,
        exception="modelStreamErrorException",
    )
    async with openai_client.responses.stream(
        model="nova-lite", input="Tell me a long story"
    ) as stream:
        events = [event async for event in stream]
        with pytest.raises(RuntimeError):
            await stream.get_final_response()  # there is no response.completed
    assert any(event.type == "response.output_text.delta" for event in events)
    last = events[-1]
    assert last.type == "response.failed"
    failed = last.response
    assert failed.status == "failed"
    assert failed.error is not None
    assert failed.error.code == "server_error"
    assert "modelStreamErrorException" not in failed.error.message
    [cut] = failed.output
    assert cut.type == "message"
    assert cut.status == "incomplete"
    row = await ledger_row(api_gateway, failed.id.removeprefix("resp_"))
    assert row.outcome == "stream_failed"


async def test_errors_before_the_answer_keep_their_status(
    openai_client: AsyncOpenAI, stranger: AsyncOpenAI, emu: AsyncEmulatorClient
) -> None:
    with pytest.raises(openai.AuthenticationError):
        await stranger.responses.create(model="nova-lite", input="Hi")
    with pytest.raises(openai.NotFoundError) as missing:
        await openai_client.responses.create(model="no-such-bot", input="Hi")
    assert missing.value.code == "model_not_found"
    with pytest.raises(openai.BadRequestError) as image_bot:
        await openai_client.responses.create(model="titan-image", input="Hi")
    assert image_bot.value.code == "unsupported_model"
    await emu.inject("throttle", model_id=NOVA_LITE, count=-1)
    with pytest.raises(openai.RateLimitError) as throttled:
        await openai_client.responses.create(model="nova-lite", input="Hi", stream=True)
    assert throttled.value.code == "throttled"


@pytest.mark.parametrize(
    ("extra", "param", "says"),
    [
        ({"frobnicate": 1}, "frobnicate", "Unknown parameter: 'frobnicate'."),
        ({"tools": [{"type": "web_search"}]}, "tools[0].type", "'web_search' tool"),
        (
            {"tools": [{"type": "file_search", "vector_store_ids": ["vs"]}]},
            "tools[0].type",
            "file_search",
        ),
        (
            {"tools": [{"type": "code_interpreter", "container": {"type": "auto"}}]},
            "tools[0].type",
            "code_interpreter",
        ),
        (
            {
                "tools": [
                    {
                        "type": "computer_use_preview",
                        "display_width": 1,
                        "display_height": 1,
                        "environment": "linux",
                    }
                ]
            },
            "tools[0].type",
            "computer_use_preview",
        ),
        (
            {"text": {"format": {"type": "json_schema", "name": "x"}}},
            "text.format",
            "needs a name and a schema",
        ),
        ({"reasoning": {"effort": "high"}}, "reasoning.effort", "does not reason on request"),
        ({"background": True}, "background", "Background"),
        ({"conversation": "conv_1"}, "conversation", "not supported"),
        ({"truncation": "auto"}, "truncation", "sent whole"),
        ({"top_logprobs": 3}, "top_logprobs", "Log probabilities"),
        ({"tool_choice": "required"}, "tool_choice", "needs tools"),
        ({"input": [{"type": "item_reference", "id": "msg_1"}]}, "input", "'item_reference'"),
        (
            {"input": [{"role": "user", "content": [{"type": "input_file", "file_id": "file-1"}]}]},
            "input",
            "File ids are not supported",
        ),
        ({"max_output_tokens": 4}, "max_output_tokens", "greater than or equal to 16"),
        ({"metadata": {str(n): "v" for n in range(17)}}, "metadata", "16 pairs"),
    ],
)
async def test_what_the_gateway_cannot_honour_is_a_400_naming_it(
    api_http: httpx2.AsyncClient, extra: dict[str, object], param: str, says: str
) -> None:
    response = await api_http.post(
        "/v1/responses",
        json={"model": "nova-lite", "input": "Hi", **extra},
        headers={"Authorization": f"Bearer {TEST_API_KEY}"},
    )
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["type"] == "invalid_request_error"
    assert error["param"] == param
    assert says in error["message"]


async def test_metadata_and_user_are_echoed(openai_client: AsyncOpenAI) -> None:
    response = await openai_client.responses.create(
        model="nova-lite", input="Hi", metadata={"ticket": "42"}, user="end-user-7"
    )
    assert response.metadata == {"ticket": "42"}
    assert response.user == "end-user-7"
    assert response.tool_choice == "auto"
    assert response.parallel_tool_calls is True


async def test_the_callers_user_is_recorded_after_the_key_caller_in_the_ledger(
    openai_client: AsyncOpenAI, api_gateway: Gateway
) -> None:
    named = await openai_client.responses.create(
        model="nova-lite", input="Hello there", user="user-42", store=False
    )
    row = await ledger_row(api_gateway, named.id.removeprefix("resp_"))
    assert row.user_id == f"{TEST_CALLER}/user-42"

    with pytest.raises(openai.BadRequestError):
        await openai_client.responses.create(
            model="nova-lite", input="Hello there", safety_identifier="a\nb"
        )
