"""The Bedrock emulator the tests run: one for the session, and control clients reset per test.

Fixtures: ``emulator`` (session-scoped, on loopback), ``control`` (its synchronous control
client) and ``emu`` (the async one); both clients reset the emulator (faults, counters, recorded
requests, timing) before and after the test that uses them.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from typing import Final

import boto3
import pytest

from fmgate.bedrock.access import AwsAccess
from fmgate_emulator import AsyncEmulatorClient, Emulator, EmulatorClient, EmulatorConfig
from tests.harness.credentials import MOTO_KEY, TEST_ACCESS_KEY_ID, TEST_SECRET_ACCESS_KEY

#: The region the emulator answers as.
REGION: Final = "us-east-1"
#: The bucket (in the session's moto S3) video jobs write to.
VIDEO_BUCKET: Final = "fmgate-test-videos"


@contextmanager
def running_emulator(
    moto_url: str,
    video_bucket: str,
    region: str = REGION,
    *,
    video_delay_seconds: float = 0.2,
) -> Iterator[Emulator]:
    """An emulator on loopback with the tests' credentials, fast pacing and videos written to
    ``video_bucket`` (created) in the session's moto S3, each ready after
    ``video_delay_seconds``; stopped afterwards."""
    s3 = boto3.client(
        "s3",
        endpoint_url=moto_url,
        region_name=region,
        aws_access_key_id=MOTO_KEY,
        aws_secret_access_key=MOTO_KEY,
    )
    s3.create_bucket(Bucket=video_bucket)
    config = EmulatorConfig(
        access_key_id=TEST_ACCESS_KEY_ID,
        secret_access_key=TEST_SECRET_ACCESS_KEY,
        profile="fast",
        video_delay_seconds=video_delay_seconds,
        s3_endpoint_url=moto_url,
        s3_access_key_id=MOTO_KEY,
        s3_secret_access_key=MOTO_KEY,
        region=region,
    )
    with Emulator.running(config) as emulator:
        yield emulator


def aws_for(emulator: Emulator, moto_url: str) -> AwsAccess:
    """The gateway's AWS access: Bedrock on the emulator, S3 on moto, the tests' credentials."""
    return AwsAccess(
        endpoint_url=emulator.url,
        access_key_id=TEST_ACCESS_KEY_ID,
        secret_access_key=TEST_SECRET_ACCESS_KEY,
        s3_endpoint_url=moto_url,
        s3_access_key_id=MOTO_KEY,
        s3_secret_access_key=MOTO_KEY,
    )


@pytest.fixture(scope="session")
def emulator(moto_url: str) -> Iterator[Emulator]:
    """The session's Bedrock Runtime emulator, writing videos to ``VIDEO_BUCKET``."""
    with running_emulator(moto_url, VIDEO_BUCKET) as running:
        yield running


@pytest.fixture
def control(emulator: Emulator) -> Iterator[EmulatorClient]:
    """The emulator's control client (synchronous), reset before and after the test."""
    client = EmulatorClient(emulator.url)
    client.reset()
    yield client
    client.reset()


@pytest.fixture
async def emu(emulator: Emulator) -> AsyncIterator[AsyncEmulatorClient]:
    """The emulator's control client (async), reset before and after the test."""
    client = AsyncEmulatorClient(emulator.url)
    await client.reset()
    yield client
    await client.reset()
