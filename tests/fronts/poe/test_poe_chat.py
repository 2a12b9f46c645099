"""Chat bots end to end: fastapi_poe client -> gateway -> aiobotocore -> emulator."""

from __future__ import annotations

from typing import Any

import fastapi_poe as fp
import httpx
import pytest

from fmgate.config.loader import parse_catalog
from fmgate_emulator import AsyncEmulatorClient
from fmgate_emulator.content import reply_text
from tests.fakes.poe_api import FakePoeApi
from tests.harness.poe_client import TEST_POE_KEY, ask, query, raw_events
from tests.harness.poe_gateway import CATALOG, GatewaySession, pointed_at


def converse_bodies(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The JSON bodies of the Converse calls the emulator recorded."""
    return [r["body"] for r in records if r["operation"] in ("Converse", "ConverseStream")]


async def test_streamed_reply_equals_emulator_reply(poe: httpx.AsyncClient) -> None:
    reply = await ask(poe, "nova-lite", "Tell me about otters")
    assert reply.error is None
    expected, _ = reply_text("Tell me about otters", 512)
    assert reply.text == expected
    assert len(reply.partials) > 1  # streamed in pieces, not one blob


async def test_multi_turn_conversation_reaches_bedrock_translated(
    poe: httpx.AsyncClient, emu: AsyncEmulatorClient
) -> None:
    request = query(
        ("system", "You are terse."),
        (
            "bot",
            "Hi, I am Nova Lite.",
        ),  # the bot's introduction: dropped, Converse starts with user
        ("user", "First question"),
        ("user", "and a follow-up"),  # consecutive user turns are merged
        ("bot", "An answer"),
        ("user", "Last question"),
        temperature=0.3,
        stop_sequences=["STOP"],
    )
    reply = await ask(poe, "nova-lite", request)
    assert reply.error is None
    [body] = converse_bodies(await emu.requests(model_id="amazon.nova-lite-v1:0"))
    assert body["system"] == [{"text": "You are terse."}]
    assert body["messages"] == [
        {"role": "user", "content": [{"text": "First question\n\nand a follow-up"}]},
        {"role": "assistant", "content": [{"text": "An answer"}]},
        {"role": "user", "content": [{"text": "Last question"}]},
    ]
    config = body["inferenceConfig"]
    assert config["temperature"] == 0.3
    assert config["maxTokens"] == 512
    assert config["stopSequences"] == ["STOP"]


async def test_system_prompt_folded_for_bot_without_system_support(
    poe: httpx.AsyncClient, emu: AsyncEmulatorClient
) -> None:
    reply = await ask(poe, "mistral-7b", query(("system", "Answer in French."), ("user", "Hello")))
    assert reply.error is None
    [body] = converse_bodies(await emu.requests(model_id="mistral.mistral-7b-instruct-v0:2"))
    assert "system" not in body or not body["system"]
    [message] = body["messages"]
    text = message["content"][0]["text"]
    assert "Answer in French." in text
    assert text.endswith("Hello")


async def test_parameter_controls_override_defaults_within_limits(
    poe: httpx.AsyncClient, emu: AsyncEmulatorClient
) -> None:
    message = fp.ProtocolMessage(
        role="user", content="Hi", parameters={"temperature": 5, "max_tokens": 100000}
    )
    reply = await ask(poe, "nova-lite", query(message))
    assert reply.error is None
    [body] = converse_bodies(await emu.requests(model_id="amazon.nova-lite-v1:0"))
    assert body["inferenceConfig"]["temperature"] == 1.0  # model's limit
    assert body["inferenceConfig"]["maxTokens"] == 4096  # max_tokens_limit


async def test_non_streaming_bot_yields_one_text(
    poe: httpx.AsyncClient, emu: AsyncEmulatorClient
) -> None:
    reply = await ask(poe, "nova-micro-whole", "Whole answer please")
    assert reply.error is None
    assert reply.text == reply_text("Whole answer please", 512)[0]
    assert len([p for p in reply.partials if p.text]) == 1
    [record] = await emu.requests(model_id="amazon.nova-micro-v1:0")
    assert record["operation"] == "Converse"


async def test_latency_optimized_bot_sends_performance_config(
    poe: httpx.AsyncClient, emu: AsyncEmulatorClient
) -> None:
    await ask(poe, "fast-nova", "quick")
    [body] = converse_bodies(await emu.requests(model_id="amazon.nova-pro-v1:0"))
    assert body["performanceConfig"] == {"latency": "optimized"}


async def test_event_sequence_meta_first_done_last(poe: httpx.AsyncClient) -> None:
    events = await raw_events(poe, "nova-lite", query(("user", "hello")).model_dump())
    names = [name for name, _ in events]
    assert names[0] == "meta"
    assert names[-1] == "done"
    assert set(names[1:-1]) == {"text"}


async def test_settings_response(poe: httpx.AsyncClient) -> None:
    response = await poe.post(
        "/bot/nova-lite",
        json={"version": "1.2", "type": "settings"},
        headers={"Authorization": f"Bearer {TEST_POE_KEY}"},
    )
    assert response.status_code == 200
    settings = fp.SettingsResponse.model_validate(response.json())
    assert settings.introduction_message == "Hi, I am Nova Lite."
    assert settings.allow_attachments is True
    assert settings.expand_text_attachments is True
    assert settings.enable_image_comprehension is False
    assert settings.rate_card is not None
    assert "usd_milli_cents" in settings.rate_card
    assert settings.parameter_controls is not None
    names = {
        control.parameter_name  # type: ignore[union-attr]
        for section in settings.parameter_controls.sections
        for control in section.controls or []
    }
    assert names == {"temperature", "max_tokens"}


async def test_report_requests_are_acknowledged(poe: httpx.AsyncClient) -> None:
    headers = {"Authorization": f"Bearer {TEST_POE_KEY}"}
    for body in (
        {
            "version": "1.2",
            "type": "report_feedback",
            "message_id": "m",
            "user_id": "u",
            "conversation_id": "c",
            "feedback_type": "like",
        },
        {"version": "1.2", "type": "report_error", "message": "oops", "metadata": {}},
    ):
        response = await poe.post("/bot/nova-lite", json=body, headers=headers)
        assert response.status_code == 200
        assert response.json() == {}


async def test_auth_and_malformed_requests_get_clear_4xx(poe: httpx.AsyncClient) -> None:
    good = {"Authorization": f"Bearer {TEST_POE_KEY}"}
    settings = {"version": "1.2", "type": "settings"}
    assert (await poe.post("/bot/nova-lite", json=settings)).status_code == 401
    wrong = {"Authorization": "Bearer not-the-key"}
    response = await poe.post("/bot/nova-lite", json=settings, headers=wrong)
    assert response.status_code == 401
    assert response.json() == {"detail": "Invalid access key"}
    assert (await poe.post("/bot/no-such-bot", json=settings, headers=good)).status_code == 404
    response = await poe.post("/bot/nova-lite", content=b"{not json", headers=good)
    assert response.status_code == 400
    response = await poe.post("/bot/nova-lite", json={"version": "1.2", "type": "x"}, headers=good)
    assert response.status_code == 501
    response = await poe.post("/bot/nova-lite", json={"type": "query"}, headers=good)
    assert response.status_code == 400
    assert "query" in response.json()["detail"]


NEW_ENTRY = """
  - bot_name: my-new-llama
    model_id: us.meta.llama3-3-70b-instruct-v1:0
    max_tokens: 300
"""


async def test_new_catalog_entry_becomes_a_working_bot_without_code(
    monkeypatch: pytest.MonkeyPatch, gateway_session: GatewaySession, poe_api: FakePoeApi
) -> None:
    monkeypatch.setenv("FMGATE_TEST_POE_KEY", TEST_POE_KEY)
    catalog = pointed_at(parse_catalog(CATALOG + NEW_ENTRY, "catalog.yaml"), poe_api)
    async with gateway_session(catalog) as session:
        reply = await ask(session, "my-new-llama", "Hello new bot")
    assert reply.error is None
    assert reply.text == reply_text("Hello new bot", 300)[0]
