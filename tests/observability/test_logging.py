"""Logs carry the request's ids, come as JSON or plain text, and never show a secret."""

from __future__ import annotations

import asyncio
import logging
import re

import orjson
import pytest

from fmgate.observability.logging import (
    HANDLER_NAME,
    SecretRedactionFilter,
    bind_request,
    bind_request_context,
    configure_logging,
    current_request,
    new_request_id,
    register_secret,
)
from tests.harness.credentials import TEST_SECRET_ACCESS_KEY

POE_KEY = "poe-key-0f9e8d7c6b5a4f3e2d1c0b9a"
AWS_LOOKALIKE = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"  # 40 characters, never registered

logger = logging.getLogger("fmgate.test")


def err_lines(capsys: pytest.CaptureFixture[str]) -> list[str]:
    return capsys.readouterr().err.splitlines()


@pytest.mark.usefixtures("restored_logging")
def test_json_lines_carry_request_fields(capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging(json=True, level="debug")
    with bind_request("req-1", "claude", "user-9"):
        logger.info("answered %d tokens", 42, extra={"stop_reason": "end_turn"})
    logger.debug("between requests")
    first, second = (orjson.loads(line) for line in err_lines(capsys))
    assert first["message"] == "answered 42 tokens"
    assert (first["request_id"], first["bot"], first["user_id"]) == ("req-1", "claude", "user-9")
    assert first["level"] == "INFO"
    assert first["logger"] == "fmgate.test"
    assert first["stop_reason"] == "end_turn"
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", first["ts"])
    assert (second["request_id"], second["bot"], second["user_id"]) == ("-", "-", "-")


@pytest.mark.usefixtures("restored_logging")
def test_plain_lines_carry_request_fields(capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging(json=False)
    configure_logging(json=False)  # idempotent: still one handler
    with bind_request("req-2", "nova", "user-3"):
        logger.warning("slow first token")
    [line] = err_lines(capsys)
    assert " WARNING fmgate.test [request_id=req-2 bot=nova user=user-3] slow first token" in line
    names = [h.name for h in logging.getLogger().handlers]
    assert names.count(HANDLER_NAME) == 1


@pytest.mark.usefixtures("restored_logging")
@pytest.mark.parametrize("as_json", [True, False])
def test_secrets_are_redacted_everywhere(as_json: bool, capsys: pytest.CaptureFixture[str]) -> None:
    register_secret(POE_KEY)
    register_secret(TEST_SECRET_ACCESS_KEY)
    configure_logging(json=as_json)
    logger.info("access key %s", POE_KEY)
    logger.info("env aws_secret_access_key=%s", AWS_LOOKALIKE)
    logger.info("config", extra={"credentials": {"secret": TEST_SECRET_ACCESS_KEY}})
    try:
        raise RuntimeError(f"signing with {TEST_SECRET_ACCESS_KEY} failed")
    except RuntimeError:
        logger.exception("upstream call failed")
    output = capsys.readouterr().err
    for secret in (POE_KEY, TEST_SECRET_ACCESS_KEY, AWS_LOOKALIKE):
        assert secret not in output
    assert "access key ***" in output
    assert "aws_secret_access_key=***" in output
    assert "signing with *** failed" in output
    assert "RuntimeError" in output  # the traceback is kept, only the secret is gone


def test_short_values_are_not_treated_as_secrets() -> None:
    register_secret("abc")
    record = logging.LogRecord("x", logging.INFO, "", 0, "abc %s", ("def",), None)
    SecretRedactionFilter().filter(record)
    assert record.getMessage() == "abc def"


async def test_context_follows_tasks_and_does_not_leak() -> None:
    async def inside_task() -> str | None:
        bind_request_context("req-task", "bot-a", "u")
        await asyncio.sleep(0)
        context = current_request()
        return context.request_id if context else None

    with bind_request("req-outer", "bot-b", "v"):
        inherited = await asyncio.create_task(asyncio.sleep(0, result=current_request()))
        assert await asyncio.create_task(inside_task()) == "req-task"
        context = current_request()
        assert context is not None
        assert context.request_id == "req-outer"  # the task's binding stayed in the task
    assert inherited is not None
    assert inherited.request_id == "req-outer"
    assert current_request() is None


def test_request_ids_are_short_unique_and_url_safe() -> None:
    ids = {new_request_id() for _ in range(1000)}
    assert len(ids) == 1000
    assert all(re.fullmatch(r"[A-Za-z0-9_-]{16}", request_id) for request_id in ids)
