"""Stored responses (``store``, ``previous_response_id``, ``GET`` and ``DELETE``) through the
official OpenAI SDK: kept in the ledger's database for the caller that made them, invisible to
any other caller, gone with ``store: false``, after ``DELETE`` and past the retention."""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx2
import openai
import pytest
from openai import AsyncOpenAI

from fmgate.config.catalog import Catalog
from fmgate.config.gateway_settings import ApiKeyRef, StoredResponsesSettings
from fmgate.server.app import build_app
from fmgate.server.gateway import Gateway, GatewayOptions
from fmgate_emulator import Emulator
from tests.harness.api_gateway import GATEWAY_URL, TEST_API_KEY, TEST_CALLER, ledger_row
from tests.harness.emulator import aws_for

SECOND_KEY = "sk-fmgate-test-second-caller-0000"


@pytest.fixture
def api_catalog(catalog: Catalog, monkeypatch: pytest.MonkeyPatch) -> Catalog:
    """The API catalog with a second caller (bob) beside alice."""
    monkeypatch.setenv("FMGATE_TEST_API_KEY", TEST_API_KEY)
    monkeypatch.setenv("FMGATE_TEST_SECOND_KEY", SECOND_KEY)
    keys = (
        ApiKeyRef(caller=TEST_CALLER, key="env:FMGATE_TEST_API_KEY"),
        ApiKeyRef(caller="bob", key="env:FMGATE_TEST_SECOND_KEY"),
    )
    settings = catalog.gateway.model_copy(update={"api_keys": keys})
    return catalog.model_copy(update={"gateway": settings})


def client_for(http: httpx2.AsyncClient, key: str) -> AsyncOpenAI:
    return AsyncOpenAI(api_key=key, base_url=f"{GATEWAY_URL}/v1", http_client=http, max_retries=0)


@pytest.fixture
def bob(api_http: httpx2.AsyncClient) -> AsyncOpenAI:
    return client_for(api_http, SECOND_KEY)


async def test_get_returns_the_stored_response_and_delete_removes_it(
    openai_client: AsyncOpenAI,
) -> None:
    created = await openai_client.responses.create(
        model="nova-lite", input="Hello there", metadata={"k": "v"}
    )
    fetched = await openai_client.responses.retrieve(created.id)
    assert fetched.model_dump() == created.model_dump()
    await openai_client.responses.delete(created.id)
    with pytest.raises(openai.NotFoundError):
        await openai_client.responses.retrieve(created.id)
    with pytest.raises(openai.NotFoundError):
        await openai_client.responses.delete(created.id)
    with pytest.raises(openai.NotFoundError) as continued:
        await openai_client.responses.create(
            model="nova-lite", input="More", previous_response_id=created.id
        )
    assert continued.value.code == "previous_response_not_found"
    assert continued.value.param == "previous_response_id"


async def test_the_delete_answer_is_the_deleted_object(
    openai_client: AsyncOpenAI, api_http: httpx2.AsyncClient
) -> None:
    created = await openai_client.responses.create(model="nova-lite", input="Hello")
    headers = {"Authorization": f"Bearer {TEST_API_KEY}"}
    deleted = await api_http.delete(f"/v1/responses/{created.id}", headers=headers)
    assert deleted.status_code == 200
    assert deleted.json() == {"id": created.id, "object": "response", "deleted": True}


async def test_a_streamed_response_is_stored_as_it_ended(openai_client: AsyncOpenAI) -> None:
    async with openai_client.responses.stream(model="nova-lite", input="Hello there") as stream:
        final = await stream.get_final_response()
    fetched = await openai_client.responses.retrieve(final.id)
    assert fetched.status == "completed"
    assert fetched.output_text == final.output_text
    assert fetched.usage == final.usage


async def test_another_caller_can_neither_read_continue_nor_delete(
    openai_client: AsyncOpenAI, bob: AsyncOpenAI
) -> None:
    created = await openai_client.responses.create(model="nova-lite", input="Alice's secret")
    with pytest.raises(openai.NotFoundError) as read:
        await bob.responses.retrieve(created.id)
    assert read.value.status_code == 404
    with pytest.raises(openai.NotFoundError) as continued:
        await bob.responses.create(
            model="nova-lite", input="Tell me more", previous_response_id=created.id
        )
    assert continued.value.code == "previous_response_not_found"
    with pytest.raises(openai.NotFoundError):
        await bob.responses.delete(created.id)
    # Still alice's, untouched.
    assert (await openai_client.responses.retrieve(created.id)).output_text == created.output_text


async def test_store_false_is_not_kept(openai_client: AsyncOpenAI) -> None:
    created = await openai_client.responses.create(model="nova-lite", input="Hi", store=False)
    assert created.model_dump()["store"] is False
    with pytest.raises(openai.NotFoundError):
        await openai_client.responses.retrieve(created.id)
    with pytest.raises(openai.NotFoundError):
        await openai_client.responses.create(
            model="nova-lite", input="Again", previous_response_id=created.id
        )


async def test_continuing_with_store_false_still_reads_the_earlier_response(
    openai_client: AsyncOpenAI, api_gateway: Gateway
) -> None:
    first = await openai_client.responses.create(model="nova-lite", input="Remember 7")
    second = await openai_client.responses.create(
        model="nova-lite", input="Which number?", previous_response_id=first.id, store=False
    )
    assert second.previous_response_id == first.id
    with pytest.raises(openai.NotFoundError):
        await openai_client.responses.retrieve(second.id)
    # The ledger groups the chain under its first response.
    row = await ledger_row(api_gateway, second.id.removeprefix("resp_"))
    assert row.conversation_id == first.id


async def test_stored_responses_live_in_the_ledger_file_and_survive_a_restart(
    api_catalog: Catalog, emulator: Emulator, moto_url: str, tmp_path: Path
) -> None:
    ledger = tmp_path / "usage.db"
    options = GatewayOptions(aws=aws_for(emulator, moto_url), ledger_path=ledger)
    async with serving(api_catalog, options) as client:
        first = await client.responses.create(model="nova-lite", input="Remember 7")
    with sqlite3.connect(ledger) as db:
        rows = db.execute("SELECT caller, document_id FROM caller_documents").fetchall()
    assert rows == [(TEST_CALLER, first.id)]
    async with serving(api_catalog, options) as client:
        assert (await client.responses.retrieve(first.id)).output_text == first.output_text
        second = await client.responses.create(
            model="nova-lite", input="Which number?", previous_response_id=first.id
        )
    assert second.status == "completed"


async def test_without_a_ledger_responses_are_kept_in_memory(
    api_catalog: Catalog, emulator: Emulator, moto_url: str
) -> None:
    options = GatewayOptions(aws=aws_for(emulator, moto_url), ledger_path=None)
    async with serving(api_catalog, options) as client:
        first = await client.responses.create(model="nova-lite", input="Remember 7")
        second = await client.responses.create(
            model="nova-lite", input="Which number?", previous_response_id=first.id
        )
        assert (await client.responses.retrieve(second.id)).previous_response_id == first.id


async def test_a_conversation_too_large_to_store_is_refused_before_the_model(
    api_catalog: Catalog, emulator: Emulator, moto_url: str, tmp_path: Path
) -> None:
    small = StoredResponsesSettings(max_response_bytes=2048)
    settings = api_catalog.gateway.model_copy(update={"stored_responses": small})
    catalog = api_catalog.model_copy(update={"gateway": settings})
    options = GatewayOptions(aws=aws_for(emulator, moto_url), ledger_path=tmp_path / "u.db")
    async with serving(catalog, options) as client:
        with pytest.raises(openai.BadRequestError) as refused:
            await client.responses.create(model="nova-lite", input="x" * 3000)
        assert refused.value.code == "stored_response_too_large"
        kept_out = await client.responses.create(model="nova-lite", input="x" * 3000, store=False)
        assert kept_out.status == "completed"


@asynccontextmanager
async def serving(catalog: Catalog, options: GatewayOptions) -> AsyncIterator[AsyncOpenAI]:
    """A gateway for ``catalog`` and an OpenAI client (alice's key) into it."""
    async with Gateway.open(catalog, options) as gateway:
        transport = httpx2.ASGITransport(app=build_app(gateway))
        async with httpx2.AsyncClient(transport=transport, base_url=GATEWAY_URL) as http:
            yield client_for(http, TEST_API_KEY)
