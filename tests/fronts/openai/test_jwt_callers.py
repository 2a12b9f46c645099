"""JWT bearer tokens on the /v1 fronts (``gateway.jwt``), through the official OpenAI SDK."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from pathlib import Path

import httpx2
import jwt
import openai
import pytest
from openai import AsyncOpenAI

from fmgate.config.catalog import Catalog
from fmgate.config.gateway_settings import JwtSettings
from fmgate.server.app import build_app
from fmgate.server.gateway import Gateway, GatewayOptions
from fmgate_emulator import Emulator
from tests.harness.api_gateway import GATEWAY_URL, ledger_row
from tests.harness.emulator import aws_for

SIGNING_SECRET = "jwt-signing-secret-for-tests-0123456789"
ISSUER = "https://issuer.example.test"
AUDIENCE = "fmgate"


def token(**overrides: object) -> str:
    claims: dict[str, object] = {
        "iss": ISSUER,
        "aud": AUDIENCE,
        "sub": "svc-reporting",
        "exp": int(time.time()) + 300,
    }
    claims.update(overrides)
    return jwt.encode(claims, SIGNING_SECRET, algorithm="HS256", headers={"kid": "main"})


@pytest.fixture
async def jwt_http(
    api_catalog: Catalog,
    emulator: Emulator,
    moto_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> AsyncIterator[tuple[Gateway, httpx2.AsyncClient]]:
    monkeypatch.setenv("FMGATE_TEST_JWT_SECRET", SIGNING_SECRET)
    settings = JwtSettings(
        issuer=ISSUER,
        audience=AUDIENCE,
        algorithms=("HS256",),
        keys={"main": "env:FMGATE_TEST_JWT_SECRET"},
    )
    catalog = api_catalog.model_copy(
        update={"gateway": api_catalog.gateway.model_copy(update={"jwt": settings})}
    )
    options = GatewayOptions(aws=aws_for(emulator, moto_url), ledger_path=tmp_path / "u.db")
    async with Gateway.open(catalog, options) as gateway:
        transport = httpx2.ASGITransport(app=build_app(gateway))
        async with httpx2.AsyncClient(transport=transport, base_url=GATEWAY_URL) as http:
            yield gateway, http


def client(http: httpx2.AsyncClient, key: str) -> AsyncOpenAI:
    return AsyncOpenAI(api_key=key, base_url=f"{GATEWAY_URL}/v1", http_client=http, max_retries=0)


async def test_a_valid_jwt_is_a_caller_recorded_by_subject(
    jwt_http: tuple[Gateway, httpx2.AsyncClient],
) -> None:
    gateway, http = jwt_http
    raw = await client(http, token()).chat.completions.with_raw_response.create(
        model="nova-lite", messages=[{"role": "user", "content": "hello"}]
    )
    completion = raw.parse()
    assert completion.choices[0].message.content
    row = await ledger_row(gateway, raw.headers["x-request-id"])
    assert row.user_id == "jwt:svc-reporting"
    assert row.front == "openai"


@pytest.mark.parametrize(
    "bad",
    [
        token(exp=int(time.time()) - 3600),  # expired
        token(aud="someone-else"),
        token(iss="https://evil.example.test"),
        jwt.encode(
            {"iss": ISSUER, "aud": AUDIENCE, "exp": 9999999999}, "wrong-secret-000000000000"
        ),
        "not.a.jwt",
    ],
)
async def test_bad_tokens_are_refused(
    jwt_http: tuple[Gateway, httpx2.AsyncClient], bad: str
) -> None:
    _, http = jwt_http
    with pytest.raises(openai.AuthenticationError):
        await client(http, bad).chat.completions.create(
            model="nova-lite", messages=[{"role": "user", "content": "hello"}]
        )
