"""What the emulator tests call it with: botocore retry settings, messages, an S3 client."""

from __future__ import annotations

from typing import Any

import boto3
from botocore.config import Config

from tests.harness.credentials import MOTO_KEY
from tests.harness.emulator import REGION

MOTO_CREDENTIALS = {"aws_access_key_id": MOTO_KEY, "aws_secret_access_key": MOTO_KEY}
#: One attempt, no retries (botocore's ``max_attempts`` counts retries, ``total_max_attempts`` all).
NO_RETRIES = Config(retries={"mode": "standard", "total_max_attempts": 1})
#: The SDK's standard retry mode with three retries.
STANDARD_RETRIES = Config(retries={"mode": "standard", "max_attempts": 3})


def s3_client(moto_url: str) -> Any:
    """A boto3 S3 client of the session's moto_server."""
    return boto3.client("s3", endpoint_url=moto_url, region_name=REGION, **MOTO_CREDENTIALS)


def user(text: str, *extra: dict[str, Any]) -> dict[str, Any]:
    """A user message with one text block (plus any extra blocks)."""
    return {"role": "user", "content": [{"text": text}, *extra]}
