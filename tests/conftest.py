"""Fixtures shared by every test package."""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator

import pytest

from fmgate.observability.logging import SecretRedactionFilter
from tests.harness.api_gateway import TEST_API_KEY
from tests.harness.credentials import TEST_SECRET_ACCESS_KEY
from tests.harness.poe_client import TEST_POE_KEY
from tests.harness.postgres_server import TEST_POSTGRES_PASSWORD
from tests.harness.redis_server import TEST_REDIS_PASSWORD
from tests.harness.servers import moto_server

#: The shared harness: fixtures every test folder uses by name (one concept per module).
pytest_plugins = [
    "tests.harness.emulator",
    "tests.harness.poe_gateway",
    "tests.harness.api_gateway",
    "tests.harness.catalog_files",
    "tests.harness.attachment_files",
    "tests.harness.postgres_server",
]

# Tests never reach AWS: make sure no ambient credentials or profile are picked up by accident.
for _name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_BEARER_TOKEN_BEDROCK"):
    os.environ.pop(_name, None)
os.environ["AWS_EC2_METADATA_DISABLED"] = "true"

#: Secrets the test configuration hands the gateway; none may appear in anything it logs.
WATCHED_SECRETS = (
    TEST_SECRET_ACCESS_KEY,
    TEST_POE_KEY,
    TEST_API_KEY,
    TEST_POSTGRES_PASSWORD,
    TEST_REDIS_PASSWORD,
)


class EmittedLog(logging.Handler):
    """Every log line of the run, formatted as the gateway's own handlers would (redacted)."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.addFilter(SecretRedactionFilter())
        self.setFormatter(logging.Formatter("%(name)s %(levelname)s %(message)s"))
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))


@pytest.fixture(scope="session", autouse=True)
def no_secret_in_any_log_line() -> Iterator[None]:
    """Across the whole test run, no configured secret reaches a log line (issue 6)."""
    handler = EmittedLog()
    root = logging.getLogger()
    fmgate_logger = logging.getLogger("fmgate")
    previous = fmgate_logger.level
    fmgate_logger.setLevel(logging.DEBUG)
    root.addHandler(handler)
    yield
    root.removeHandler(handler)
    fmgate_logger.setLevel(previous)
    emitted = "\n".join(handler.lines)
    leaked = [secret for secret in WATCHED_SECRETS if secret in emitted]
    assert not leaked, f"{len(leaked)} configured secret(s) appeared in log output"


@pytest.fixture(scope="session")
def moto_url() -> Iterator[str]:
    """URL of a real moto_server (S3 + Secrets Manager) for the whole test session."""
    with moto_server() as url:
        yield url


@pytest.fixture
def restored_logging() -> Iterator[None]:
    """Put the root logger back (level and handlers) after a test that configures logging."""
    root = logging.getLogger()
    level, handlers = root.level, list(root.handlers)
    yield
    for handler in list(root.handlers):
        if handler not in handlers:
            root.removeHandler(handler)
    root.setLevel(level)
