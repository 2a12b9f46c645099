"""Fixtures shared by every test package."""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator

import pytest

from fmgate.observability.logging import SecretRedactionFilter
from tests.servers import moto_server

#: Shared fixtures, available to every test folder.
pytest_plugins = ["tests.harness.catalog_files"]

# Tests never reach AWS: make sure no ambient credentials or profile are picked up by accident.
for _name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_BEARER_TOKEN_BEDROCK"):
    os.environ.pop(_name, None)
os.environ["AWS_EC2_METADATA_DISABLED"] = "true"

TEST_ACCESS_KEY_ID = "AKIDFMGATETEST000001"
TEST_SECRET_ACCESS_KEY = "fmgate-test-secret-do-not-leak-8b1f"


#: Secrets the test configuration hands the gateway; none may appear in anything it logs.
WATCHED_SECRETS = (
    TEST_SECRET_ACCESS_KEY,
    "poe-test-access-key-0123456789ab",  # tests.fronts.poe.harness.TEST_POE_KEY
    "sk-fmgate-test-0123456789abcdef",  # tests.fronts.openai.api_harness.TEST_API_KEY
    "fmgate-pg-test-password-do-not-leak-4d9a",  # tests.postgres_server
    "fmgate-redis-test-pass-5e2c9a71",  # tests.redis_server
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
