"""An emulator for the whole emulator test package, and SDK clients pointed at it."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import boto3
import pytest
from aiobotocore.config import AioConfig
from aiobotocore.session import get_session
from botocore.config import Config

from fmgate_emulator import AsyncEmulatorClient, Emulator, EmulatorClient
from tests.conftest import TEST_ACCESS_KEY_ID, TEST_SECRET_ACCESS_KEY
from tests.emulators import running_emulator

REGION = "us-east-1"
VIDEO_BUCKET = "emulator-test-videos"
MOTO_CREDENTIALS = {"aws_access_key_id": "moto", "aws_secret_access_key": "moto"}
#: One attempt, no retries (botocore's ``max_attempts`` counts retries, ``total_max_attempts`` all).
NO_RETRIES = Config(retries={"mode": "standard", "total_max_attempts": 1})
#: The SDK's standard retry mode with three retries.
STANDARD_RETRIES = Config(retries={"mode": "standard", "max_attempts": 3})


@pytest.fixture(scope="session")
def emulator(moto_url: str) -> Iterator[Emulator]:
    with running_emulator(moto_url, VIDEO_BUCKET, REGION) as emu:
        yield emu


def s3_client(moto_url: str) -> Any:
    return boto3.client("s3", endpoint_url=moto_url, region_name=REGION, **MOTO_CREDENTIALS)


@pytest.fixture
def control(emulator: Emulator) -> Iterator[EmulatorClient]:
    """The control API, reset before and after each test."""
    client = EmulatorClient(emulator.url)
    client.reset()
    yield client
    client.reset()


@pytest.fixture
def async_control(emulator: Emulator, control: EmulatorClient) -> AsyncEmulatorClient:
    return AsyncEmulatorClient(emulator.url)


BedrockFactory = Callable[..., Any]


@pytest.fixture
def make_bedrock(emulator: Emulator, control: EmulatorClient) -> BedrockFactory:
    """boto3 bedrock-runtime clients on the emulator (no retries unless a config is given)."""

    def make(
        config: Config = NO_RETRIES,
        secret: str = TEST_SECRET_ACCESS_KEY,
        access_key_id: str = TEST_ACCESS_KEY_ID,
    ) -> Any:
        return boto3.client(
            "bedrock-runtime",
            endpoint_url=emulator.url,
            region_name=REGION,
            aws_access_key_id=access_key_id,
            aws_secret_access_key=secret,
            config=config,
        )

    return make


@pytest.fixture
def bedrock(make_bedrock: BedrockFactory) -> Any:
    return make_bedrock()


@pytest.fixture
async def aio_bedrock(emulator: Emulator, control: EmulatorClient) -> AsyncIterator[Any]:
    """An aiobotocore bedrock-runtime client on the emulator."""
    async with get_session().create_client(
        "bedrock-runtime",
        endpoint_url=emulator.url,
        region_name=REGION,
        aws_access_key_id=TEST_ACCESS_KEY_ID,
        aws_secret_access_key=TEST_SECRET_ACCESS_KEY,
        config=AioConfig(retries={"mode": "standard", "total_max_attempts": 1}),
    ) as client:
        yield client


def user(text: str, *extra: dict[str, Any]) -> dict[str, Any]:
    """A user message with one text block (plus any extra blocks)."""
    return {"role": "user", "content": [{"text": text}, *extra]}
