"""Fixtures for the Bedrock layer: the emulator (with moto S3 for video) and pooled clients."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest

from fmgate.bedrock.client import BedrockClients
from fmgate_emulator import Emulator, EmulatorClient
from tests.conftest import TEST_ACCESS_KEY_ID, TEST_SECRET_ACCESS_KEY
from tests.emulators import running_emulator

#: Bucket the emulator writes video results to (in the session's moto S3).
VIDEO_BUCKET = "fmgate-bedrock-tests"
MOTO_KEY = "moto"
REGION = "us-east-1"


@pytest.fixture(scope="session")
def bedrock_emulator(moto_url: str) -> Iterator[Emulator]:
    """A Bedrock Runtime emulator on loopback for the session, writing videos to moto S3."""
    with running_emulator(moto_url, VIDEO_BUCKET, REGION) as emulator:
        yield emulator


@pytest.fixture
def emulator_url(bedrock_emulator: Emulator) -> str:
    return bedrock_emulator.url


@pytest.fixture
def control(emulator_url: str) -> Iterator[EmulatorClient]:
    """The emulator's control client, reset before and after each test."""
    client = EmulatorClient(emulator_url)
    client.reset()
    yield client
    client.reset()


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
