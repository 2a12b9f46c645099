"""Fixtures shared by every test package."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from tests.servers import moto_server

# Tests never reach AWS: make sure no ambient credentials or profile are picked up by accident.
for _name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_BEARER_TOKEN_BEDROCK"):
    os.environ.pop(_name, None)
os.environ["AWS_EC2_METADATA_DISABLED"] = "true"

TEST_ACCESS_KEY_ID = "AKIDFMGATETEST000001"
TEST_SECRET_ACCESS_KEY = "fmgate-test-secret-do-not-leak-8b1f"


@pytest.fixture(scope="session")
def moto_url() -> Iterator[str]:
    """URL of a real moto_server (S3 + Secrets Manager) for the whole test session."""
    with moto_server() as url:
        yield url
