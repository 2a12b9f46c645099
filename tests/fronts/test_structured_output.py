"""Structured output end to end: OpenAI Chat Completions (``response_format``) and Responses
(``text.format``) through the openai SDK, Anthropic Messages (``output_config.format``) through
the anthropic SDK, strict tools on each, and a Poe bot's own ``response_schema`` through
fastapi_poe's client. A model with structured outputs answers JSON that validates against the
schema (Bedrock's outputConfig, emulated); one without is asked in the system prompt, and the
answer says so (``X-Structured-Output: instructed``)."""

from __future__ import annotations

import json
from typing import Any, Literal

import httpx
import httpx2
import jsonschema
import openai
import pytest
from anthropic import AsyncAnthropic
from openai import AsyncOpenAI
from openai.types.shared_params import ResponseFormatJSONSchema
from pydantic import BaseModel

from fmgate.config.catalog import Catalog
from fmgate.config.loader import parse_catalog
from fmgate_emulator import AsyncEmulatorClient
from tests.fakes.poe_api import FakePoeApi
from tests.harness.api_gateway import GATEWAY_URL, TEST_API_KEY
from tests.harness.poe_client import TEST_POE_KEY, ask
from tests.harness.poe_gateway import pointed_at

HAIKU = "anthropic.claude-haiku-4-5-20251001-v1:0"
NOVA_LITE = "amazon.nova-lite-v1:0"
QWEN = "qwen.qwen3-32b-v1:0"

#: The Poe bot's schema, as the catalog writes it (and the answer's shape).
TRIAGE_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "title": {"type": "string"},
        "priority": {"type": "string", "enum": ["low", "normal", "urgent"]},
        "labels": {"type": "array", "items": {"type": "string"}},
    },
    "required": ["title", "priority", "labels"],
    "additionalProperties": False,
}

CATALOG = f"""
version: 1
gateway:
  api_keys: [{{caller: alice, key: env:FMGATE_TEST_API_KEY}}]
defaults:
  access_key: env:FMGATE_TEST_POE_KEY
bots:
  - bot_name: haiku
    model_id: us.{HAIKU}
    structured_output: true
    forced_tool_choices: [any, tool]
  - bot_name: haiku-whole
    model_id: us.{HAIKU}
    structured_output: true
    streaming: false
  - bot_name: qwen
    model_id: {QWEN}
    structured_output: true
    tool_use: whole
  - bot_name: nova-lite
    model_id: {NOVA_LITE}
  - bot_name: triage
    model_id: us.{HAIKU}
    structured_output: true
    system_prompt: Triage the user's message into a ticket.
    response_schema:
      name: ticket
      description: A support ticket.
      json_schema: {json.dumps(TRIAGE_SCHEMA)}
"""

pytestmark = pytest.mark.usefixtures("emu")  # the emulator reset around each test


@pytest.fixture
def catalog(monkeypatch: pytest.MonkeyPatch, poe_api: FakePoeApi) -> Catalog:
    """This module's catalog in place of the harness's: its ``poe`` and ``api_http`` serve
    it."""
    monkeypatch.setenv("FMGATE_TEST_POE_KEY", TEST_POE_KEY)
    monkeypatch.setenv("FMGATE_TEST_API_KEY", TEST_API_KEY)
    return pointed_at(parse_catalog(CATALOG, "structured.yaml"), poe_api)


@pytest.fixture
def openai_client(api_http: httpx2.AsyncClient) -> AsyncOpenAI:
    return AsyncOpenAI(
        api_key=TEST_API_KEY, base_url=f"{GATEWAY_URL}/v1", http_client=api_http, max_retries=0
    )


@pytest.fixture
def anthropic_client(api_http: httpx2.AsyncClient) -> AsyncAnthropic:
    return AsyncAnthropic(
        api_key=TEST_API_KEY, base_url=GATEWAY_URL, http_client=api_http, max_retries=0
    )


class Person(BaseModel):
    name: str
    email: str | None


class Ticket(BaseModel):
    title: str
    priority: Literal["low", "normal", "urgent"]
    attempts: int
    resolved: bool
    reporter: Person
    labels: list[str]


def strict_schema(model: type[BaseModel]) -> dict[str, Any]:
    """The schema the openai SDK sends for ``model`` (strict: every object closed, every
    property required), as its public ``pydantic_function_tool`` shows it."""
    parameters = openai.pydantic_function_tool(model)["function"].get("parameters")
    assert isinstance(parameters, dict)
    return dict(parameters)


#: The schema the openai SDK sends for Ticket.
TICKET_SCHEMA = strict_schema(Ticket)
PROMPT = "The printer is on fire"


def ticket_format(schema: dict[str, Any] = TICKET_SCHEMA) -> ResponseFormatJSONSchema:
    return {"type": "json_schema", "json_schema": {"name": "ticket", "schema": schema}}


def sent_schema(record: dict[str, Any]) -> dict[str, Any]:
    """The schema a recorded Converse request carried in outputConfig."""
    definition = record["body"]["outputConfig"]["textFormat"]["structure"]["jsonSchema"]
    schema = json.loads(definition["schema"])
    assert isinstance(schema, dict)
    return schema


# --- OpenAI Chat Completions ------------------------------------------------------------------


async def test_chat_parse_gets_a_ticket_that_validates(
    openai_client: AsyncOpenAI, emu: AsyncEmulatorClient
) -> None:
    completion = await openai_client.chat.completions.parse(
        model="haiku", messages=[{"role": "user", "content": PROMPT}], response_format=Ticket
    )
    message = completion.choices[0].message
    assert message.parsed is not None
    assert message.parsed.title == PROMPT
    assert message.content is not None
    jsonschema.validate(json.loads(message.content), TICKET_SCHEMA)
    [record] = await emu.requests(model_id=HAIKU)
    assert sent_schema(record) == TICKET_SCHEMA
    assert record["body"]["outputConfig"]["textFormat"]["structure"]["jsonSchema"]["name"] == (
        "Ticket"
    )


@pytest.mark.parametrize("bot", ["haiku", "haiku-whole", "qwen"])
async def test_chat_stream_carries_the_json_and_says_native(
    openai_client: AsyncOpenAI, bot: str
) -> None:
    raw = await openai_client.chat.completions.with_raw_response.create(
        model=bot,
        messages=[{"role": "user", "content": PROMPT}],
        response_format=ticket_format(),
        stream=True,
    )
    assert raw.headers["x-structured-output"] == "native"
    pieces = [c.choices[0].delta.content or "" async for c in raw.parse() if c.choices]
    jsonschema.validate(json.loads("".join(pieces)), TICKET_SCHEMA)


async def test_an_open_schema_is_closed_for_bedrock_and_the_answer_still_validates(
    openai_client: AsyncOpenAI, emu: AsyncEmulatorClient
) -> None:
    schema = {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}
    completion = await openai_client.chat.completions.create(
        model="haiku",
        messages=[{"role": "user", "content": "Oslo"}],
        response_format=ticket_format(schema),
    )
    content = completion.choices[0].message.content
    assert content is not None
    jsonschema.validate(json.loads(content), schema)
    [record] = await emu.requests(model_id=HAIKU)
    assert sent_schema(record) == {**schema, "additionalProperties": False}


async def test_a_model_without_structured_outputs_is_asked_in_the_system_prompt(
    openai_client: AsyncOpenAI, emu: AsyncEmulatorClient
) -> None:
    raw = await openai_client.chat.completions.with_raw_response.create(
        model="nova-lite",
        messages=[{"role": "system", "content": "Be brief."}, {"role": "user", "content": PROMPT}],
        response_format=ticket_format(),
    )
    assert raw.headers["x-structured-output"] == "instructed"
    [record] = await emu.requests(model_id=NOVA_LITE)
    body = record["body"]
    assert "outputConfig" not in body
    first, instruction = (block["text"] for block in body["system"])
    assert first == "Be brief."
    assert instruction.startswith("Answer with JSON only")
    assert json.dumps(TICKET_SCHEMA, separators=(",", ":")) in instruction


async def test_json_mode_is_asked_for_on_every_model(
    openai_client: AsyncOpenAI, emu: AsyncEmulatorClient
) -> None:
    raw = await openai_client.chat.completions.with_raw_response.create(
        model="haiku",
        messages=[{"role": "user", "content": PROMPT}],
        response_format={"type": "json_object"},
    )
    assert raw.headers["x-structured-output"] == "instructed"
    [record] = await emu.requests(model_id=HAIKU)
    assert "outputConfig" not in record["body"]
    assert "The JSON is one object." in record["body"]["system"][-1]["text"]


async def test_a_schema_bedrock_refuses_is_a_400(openai_client: AsyncOpenAI) -> None:
    schema = {"type": "object", "additionalProperties": True}
    with pytest.raises(openai.BadRequestError):
        await openai_client.chat.completions.create(
            model="haiku",
            messages=[{"role": "user", "content": PROMPT}],
            response_format=ticket_format(schema),
        )


class GetWeather(BaseModel):
    city: str
    unit: Literal["celsius", "fahrenheit"]
    days: int


WEATHER_SCHEMA = strict_schema(GetWeather)
WEATHER_PROMPT = "Weather in Oslo? use tool GetWeather"


async def test_chat_strict_tools_are_enforced_where_the_model_takes_them(
    openai_client: AsyncOpenAI, emu: AsyncEmulatorClient
) -> None:
    raw = await openai_client.chat.completions.with_raw_response.create(
        model="haiku",
        messages=[{"role": "user", "content": WEATHER_PROMPT}],
        tools=[openai.pydantic_function_tool(GetWeather)],
    )
    assert raw.headers["x-strict-tools"] == "enforced"
    [call] = raw.parse().choices[0].message.tool_calls or []
    assert call.type == "function"
    jsonschema.validate(json.loads(call.function.arguments), WEATHER_SCHEMA)
    [record] = await emu.requests(model_id=HAIKU)
    assert record["body"]["toolConfig"]["tools"][0]["toolSpec"]["strict"] is True


async def test_chat_strict_tools_are_sent_loose_to_a_model_without_them(
    openai_client: AsyncOpenAI, emu: AsyncEmulatorClient
) -> None:
    raw = await openai_client.chat.completions.with_raw_response.create(
        model="nova-lite",
        messages=[{"role": "user", "content": WEATHER_PROMPT}],
        tools=[openai.pydantic_function_tool(GetWeather)],
    )
    assert raw.headers["x-strict-tools"] == "not-enforced"
    assert "x-structured-output" not in raw.headers
    [record] = await emu.requests(model_id=NOVA_LITE)
    assert "strict" not in record["body"]["toolConfig"]["tools"][0]["toolSpec"]


# --- OpenAI Responses -------------------------------------------------------------------------


async def test_responses_parse_gets_a_ticket_that_validates(openai_client: AsyncOpenAI) -> None:
    response = await openai_client.responses.parse(model="haiku", input=PROMPT, text_format=Ticket)
    assert response.output_parsed is not None
    assert response.output_parsed.reporter.name == PROMPT
    jsonschema.validate(json.loads(response.output_text), TICKET_SCHEMA)
    assert response.text is not None
    assert response.text.format is not None
    assert response.text.format.type == "json_schema"


async def test_responses_stream_carries_the_json(openai_client: AsyncOpenAI) -> None:
    async with openai_client.responses.stream(
        model="qwen", input=PROMPT, text_format=Ticket
    ) as stream:
        deltas = [
            event.delta async for event in stream if event.type == "response.output_text.delta"
        ]
        final = await stream.get_final_response()
    assert deltas  # the pieces as the stream had them (joined when they arrive together)
    assert final.output_parsed is not None
    jsonschema.validate(json.loads("".join(deltas)), TICKET_SCHEMA)


async def test_responses_strict_function_tool(
    openai_client: AsyncOpenAI, emu: AsyncEmulatorClient
) -> None:
    response = await openai_client.responses.create(
        model="haiku",
        input=WEATHER_PROMPT,
        tools=[
            {
                "type": "function",
                "name": "GetWeather",
                "parameters": WEATHER_SCHEMA,
                "strict": True,
            }
        ],
    )
    [call] = [item for item in response.output if item.type == "function_call"]
    jsonschema.validate(json.loads(call.arguments), WEATHER_SCHEMA)
    [record] = await emu.requests(model_id=HAIKU)
    assert record["body"]["toolConfig"]["tools"][0]["toolSpec"]["strict"] is True


# --- Anthropic Messages -----------------------------------------------------------------------


async def test_anthropic_parse_gets_a_ticket_that_validates(
    anthropic_client: AsyncAnthropic, emu: AsyncEmulatorClient
) -> None:
    message = await anthropic_client.messages.parse(
        model="haiku",
        max_tokens=1024,
        messages=[{"role": "user", "content": PROMPT}],
        output_format=Ticket,
    )
    assert message.parsed_output is not None
    assert message.parsed_output.priority == "low"
    [record] = await emu.requests(model_id=HAIKU)
    schema = sent_schema(record)
    text = "".join(block.text for block in message.content if block.type == "text")
    jsonschema.validate(json.loads(text), schema)


async def test_anthropic_output_config_stream(
    anthropic_client: AsyncAnthropic, api_http: httpx2.AsyncClient
) -> None:
    async with anthropic_client.messages.stream(
        model="haiku",
        max_tokens=1024,
        messages=[{"role": "user", "content": PROMPT}],
        output_config={"format": {"type": "json_schema", "schema": TICKET_SCHEMA}},
    ) as stream:
        text = "".join([piece async for piece in stream.text_stream])
    jsonschema.validate(json.loads(text), TICKET_SCHEMA)
    response = await api_http.post(
        "/v1/messages",
        json={
            "model": "nova-lite",
            "max_tokens": 256,
            "messages": [{"role": "user", "content": PROMPT}],
            "output_config": {"format": {"type": "json_schema", "schema": TICKET_SCHEMA}},
        },
        headers={"x-api-key": TEST_API_KEY, "anthropic-version": "2023-06-01"},
    )
    assert response.status_code == 200
    assert response.headers["x-structured-output"] == "instructed"


async def test_anthropic_strict_tool(
    anthropic_client: AsyncAnthropic, emu: AsyncEmulatorClient
) -> None:
    message = await anthropic_client.messages.create(
        model="haiku",
        max_tokens=1024,
        messages=[{"role": "user", "content": WEATHER_PROMPT}],
        tools=[{"name": "GetWeather", "input_schema": WEATHER_SCHEMA, "strict": True}],
    )
    [call] = [block for block in message.content if block.type == "tool_use"]
    jsonschema.validate(call.input, WEATHER_SCHEMA)
    [record] = await emu.requests(model_id=HAIKU)
    assert record["body"]["toolConfig"]["tools"][0]["toolSpec"]["strict"] is True


# --- Poe --------------------------------------------------------------------------------------


async def test_a_poe_bot_with_a_response_schema_answers_json(
    poe: httpx.AsyncClient, emu: AsyncEmulatorClient
) -> None:
    reply = await ask(poe, "triage", PROMPT)
    assert reply.error is None
    ticket = json.loads(reply.text)
    jsonschema.validate(ticket, TRIAGE_SCHEMA)
    assert ticket["title"] == PROMPT
    [record] = await emu.requests(model_id=HAIKU)
    definition = record["body"]["outputConfig"]["textFormat"]["structure"]["jsonSchema"]
    assert (definition["name"], definition["description"]) == ("ticket", "A support ticket.")
    assert json.loads(definition["schema"]) == TRIAGE_SCHEMA
    assert record["body"]["system"] == [{"text": "Triage the user's message into a ticket."}]


async def test_a_callers_own_format_replaces_the_bots_schema(
    openai_client: AsyncOpenAI, emu: AsyncEmulatorClient
) -> None:
    completion = await openai_client.chat.completions.parse(
        model="triage", messages=[{"role": "user", "content": PROMPT}], response_format=Ticket
    )
    assert completion.choices[0].message.parsed is not None
    [record] = await emu.requests(model_id=HAIKU)
    assert sent_schema(record) == TICKET_SCHEMA
