"""SDK clients pointed at the session's emulator (``tests.harness.emulator``)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import boto3
import pytest
from aiobotocore.config import AioConfig
from aiobotocore.session import get_session
from botocore.config import Config

from fmgate_emulator import AsyncEmulatorClient, Emulator, EmulatorClient
from tests.emulator.sdk import NO_RETRIES
from tests.harness.credentials import TEST_ACCESS_KEY_ID, TEST_SECRET_ACCESS_KEY
from tests.harness.emulator import REGION


@pytest.fixture
def async_control(emulator: Emulator, control: EmulatorClient) -> AsyncEmulatorClient:
    """The async control client (``control`` resets the emulator around the test)."""
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
