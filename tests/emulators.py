"""The Bedrock emulator as the test packages run it (one per package, each with its bucket)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import boto3

from fmgate_emulator import Emulator, EmulatorConfig
from tests.conftest import TEST_ACCESS_KEY_ID, TEST_SECRET_ACCESS_KEY

#: moto_server accepts any credentials; these are the ones the tests use for it.
MOTO_KEY = "moto"


@contextmanager
def running_emulator(
    moto_url: str,
    video_bucket: str,
    region: str = "us-east-1",
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
