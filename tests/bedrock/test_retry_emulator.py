"""retry_before_first_output around a real ConverseStream against the emulator's faults."""

from __future__ import annotations

import pytest

from fmgate.bedrock.client import BedrockClients
from fmgate.bedrock.converse import converse_stream
from fmgate.core.errors import AccessDenied, GatewayError, ModelStreamFailed, Throttled
from fmgate.core.events import Done, Event, accumulate
from fmgate.core.model_request import ChatMessage, ChatRequest, TextBlock
from fmgate.resilience.retry import RetryPolicy, retry_before_first_output
from fmgate_emulator import EmulatorClient

NOVA = "amazon.nova-lite-v1:0"
REGION = "us-east-1"
POLICY = RetryPolicy(max_attempts=3, base_delay=0.001, max_delay=0.01)
REQUEST = ChatRequest(
    model_id=NOVA, messages=(ChatMessage("user", (TextBlock("Tell me a story"),)),)
)


async def run(
    clients: BedrockClients, retries: list[str], seen: list[Event] | None = None
) -> list[Event]:
    transport = await clients.streams(REGION)
    events = seen if seen is not None else []

    def on_retry(error: GatewayError, attempt: int, delay: float) -> None:
        retries.append(error.code)

    async for event in retry_before_first_output(
        lambda: converse_stream(transport, REQUEST), POLICY, on_retry=on_retry
    ):
        events.append(event)
    return events


def calls(control: EmulatorClient) -> int:
    """ConverseStream calls the emulator received for the model (faulted ones included)."""
    count = control.counters()["by_model"].get(NOVA, 0)
    assert isinstance(count, int)
    return count


async def test_throttled_twice_then_answered(
    clients: BedrockClients, control: EmulatorClient
) -> None:
    control.inject("throttle", model_id=NOVA, count=2)
    retries: list[str] = []

    events = await run(clients, retries)

    assert isinstance(events[-1], Done)
    assert accumulate(events).text
    assert retries == ["throttled", "throttled"]
    assert calls(control) == 3


async def test_throttled_forever_gives_up_after_max_attempts(
    clients: BedrockClients, control: EmulatorClient
) -> None:
    control.inject("throttle", model_id=NOVA, count=-1)
    retries: list[str] = []

    with pytest.raises(Throttled):
        await run(clients, retries)

    assert calls(control) == POLICY.max_attempts
    assert len(retries) == POLICY.max_attempts - 1


async def test_in_stream_throttling_before_any_text_is_retried(
    clients: BedrockClients, control: EmulatorClient
) -> None:
    control.inject("mid_stream_exception", model_id=NOVA, after_tokens=0, count=1)
    retries: list[str] = []

    events = await run(clients, retries)

    assert retries == ["throttled"]
    assert isinstance(events[-1], Done)
    assert calls(control) == 2


async def test_failure_after_text_is_not_retried(
    clients: BedrockClients, control: EmulatorClient
) -> None:
    control.inject(
        "mid_stream_exception",
        model_id=NOVA,
        after_tokens=3,
        count=-1,
        exception="modelStreamErrorException",
    )
    retries: list[str] = []
    seen: list[Event] = []

    with pytest.raises(ModelStreamFailed):
        await run(clients, retries, seen)

    assert accumulate(seen).text
    assert retries == []
    assert calls(control) == 1


async def test_access_denied_is_not_retried(
    clients: BedrockClients, control: EmulatorClient
) -> None:
    control.inject("access_denied", model_id=NOVA, count=-1)
    retries: list[str] = []

    with pytest.raises(AccessDenied):
        await run(clients, retries)

    assert retries == []
    assert calls(control) == 1
