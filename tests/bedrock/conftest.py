"""Pooled Bedrock clients on the session's emulator (``tests.harness.emulator``) and moto S3."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from fmgate.bedrock.client import BedrockClients
from fmgate_emulator import Emulator
from tests.harness.credentials import MOTO_KEY, TEST_ACCESS_KEY_ID, TEST_SECRET_ACCESS_KEY


@pytest.fixture
def emulator_url(emulator: Emulator) -> str:
    return emulator.url


@pytest.fixture
async def clients(emulator_url: str, moto_url: str) -> AsyncIterator[BedrockClients]:
    """Pooled clients pointed at the emulator (Bedrock) and moto (S3), closed after the test."""
    pool = BedrockClients(
        endpoint_url=emulator_url,
        access_key_id=TEST_ACCESS_KEY_ID,
        secret_access_key=TEST_SECRET_ACCESS_KEY,
        connect_timeout=5.0,
        read_timeout=10.0,
        s3_endpoint_url=moto_url,
        s3_access_key_id=MOTO_KEY,
        s3_secret_access_key=MOTO_KEY,
    )
    try:
        yield pool
    finally:
        await pool.aclose()
