"""Injected Bedrock faults -> what a Poe user sees. Every stream: meta first, done last."""

from __future__ import annotations

import json

import httpx
import pytest

from fmgate_emulator import AsyncEmulatorClient
from tests.harness.credentials import TEST_ACCESS_KEY_ID, TEST_SECRET_ACCESS_KEY
from tests.harness.poe_client import TEST_POE_KEY, query, raw_events

Events = list[tuple[str, dict[str, object]]]


async def run(poe: httpx.AsyncClient, bot: str = "nova-lite", text: str = "hello") -> Events:
    events = await raw_events(poe, bot, query(("user", text)).model_dump())
    assert events[0][0] == "meta"
    assert events[-1][0] == "done"
    dumped = json.dumps(events)
    for secret in (TEST_SECRET_ACCESS_KEY, TEST_POE_KEY, TEST_ACCESS_KEY_ID):
        assert secret not in dumped
    for internal in ("Traceback", "arn:aws", "botocore", "Exception"):
        assert internal not in dumped
    return events


def texts(events: Events) -> str:
    return "".join(str(data["text"]) for name, data in events if name == "text")


def the_error(events: Events) -> dict[str, object]:
    errors = [data for name, data in events if name == "error"]
    assert len(errors) == 1, events
    assert events[-2][0] == "error"  # the error is the last thing before done
    return errors[0]


async def calls(emu: AsyncEmulatorClient) -> int:
    """Model calls the emulator saw (CountTokens, used for usage estimates, not included)."""
    by_operation = (await emu.counters())["by_operation"]
    return int(by_operation.get("ConverseStream", 0)) + int(by_operation.get("Converse", 0))


async def test_throttle_then_success_is_retried_invisibly(
    poe: httpx.AsyncClient, emu: AsyncEmulatorClient
) -> None:
    await emu.inject("throttle", count=2)
    events = await run(poe)
    assert not [e for e in events if e[0] == "error"]
    assert texts(events)
    assert await calls(emu) == 3


async def test_throttle_forever_gives_retryable_high_demand_error(
    poe: httpx.AsyncClient, emu: AsyncEmulatorClient
) -> None:
    await emu.inject("throttle", count=-1)
    error = the_error(await run(poe))
    assert "high demand" in str(error["text"])
    assert error["allow_retry"] is True
    assert await calls(emu) == 3  # gateway.max_attempts


@pytest.mark.parametrize(
    "kind", ["server_error", "unavailable", "model_not_ready", "model_timeout"]
)
async def test_transient_upstream_failures_are_retryable(
    poe: httpx.AsyncClient, emu: AsyncEmulatorClient, kind: str
) -> None:
    await emu.inject(kind, count=-1)
    error = the_error(await run(poe))
    assert error["allow_retry"] is True
    assert "try again" in str(error["text"]).lower()
    assert await calls(emu) == 3


async def test_mid_stream_exception_keeps_text_and_ends_with_error(
    poe: httpx.AsyncClient, emu: AsyncEmulatorClient
) -> None:
    await emu.inject("mid_stream_exception", after_tokens=3)
    events = await run(poe, text="a fairly long question so the answer has many tokens")
    assert texts(events)  # what was delivered stays
    error = the_error(events)
    assert error["allow_retry"] is False  # text already reached the user: no blind retry
    assert await calls(emu) == 1  # never retried after the first token


async def test_access_denied_is_an_operator_problem_without_retry(
    poe: httpx.AsyncClient, emu: AsyncEmulatorClient
) -> None:
    await emu.inject("access_denied", count=-1)
    error = the_error(await run(poe))
    assert error["allow_retry"] is False
    assert "operator" in str(error["text"])
    assert await calls(emu) == 1


async def test_unknown_model_fails_clearly_without_retry(
    poe: httpx.AsyncClient, emu: AsyncEmulatorClient
) -> None:
    # Bedrock answers an unknown model id with a plain ValidationException (the only signal is
    # its message text, which we do not parse), so it surfaces as a request the model rejected.
    error = the_error(await run(poe, bot="missing-model"))
    assert error["allow_retry"] is False
    assert "could not process" in str(error["text"])
    assert await calls(emu) == 1


async def test_validation_error_is_users_to_fix(
    poe: httpx.AsyncClient, emu: AsyncEmulatorClient
) -> None:
    await emu.inject("validation", count=-1)
    error = the_error(await run(poe))
    assert error["allow_retry"] is False
    assert error["error_type"] == "user_caused_error"
