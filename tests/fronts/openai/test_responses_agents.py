"""The OpenAI Agents SDK runs an agent with one function tool against ``/v1/responses`` on the
emulator, to completion: the model calls the tool, the SDK runs it and sends its output back,
the model answers (tracing off: nothing leaves the machine)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from agents import (
    Agent,
    ModelSettings,
    OpenAIResponsesModel,
    Runner,
    function_tool,
    set_tracing_disabled,
)
from openai import AsyncOpenAI

from fmgate_emulator import AsyncEmulatorClient

ORDER_STATUS = "order 42 shipped on Monday"


@pytest.fixture(autouse=True)
def no_tracing() -> Iterator[None]:
    set_tracing_disabled(True)
    yield
    set_tracing_disabled(False)


def order_agent(client: AsyncOpenAI, calls: list[str], **settings: object) -> Agent[None]:
    @function_tool
    def lookup_order(request: str) -> str:
        """Look up the status of an order.

        Args:
            request: what the user asked about the order.
        """
        calls.append(request)
        return ORDER_STATUS

    return Agent(
        name="orders",
        instructions="You answer questions about orders; look them up first.",
        tools=[lookup_order],
        model=OpenAIResponsesModel(model="nova-lite", openai_client=client),
        model_settings=ModelSettings(**settings),  # type: ignore[arg-type]
    )


async def test_an_agent_runs_its_function_tool_to_completion(
    openai_client: AsyncOpenAI, emu: AsyncEmulatorClient
) -> None:
    calls: list[str] = []
    agent = order_agent(openai_client, calls)
    result = await Runner.run(agent, "Please use tool lookup_order for order 42", max_turns=4)
    assert calls == ["Please use tool lookup_order for order 42"]
    assert ORDER_STATUS in result.final_output
    requests = await emu.requests(model_id="amazon.nova-lite-v1:0")
    assert len(requests) == 2  # the tool call, then the answer
    [spec] = requests[0]["body"]["toolConfig"]["tools"]
    assert spec["toolSpec"]["name"] == "lookup_order"


async def test_a_streamed_agent_run_with_previous_response_id(openai_client: AsyncOpenAI) -> None:
    calls: list[str] = []
    agent = order_agent(openai_client, calls, store=True)
    run = Runner.run_streamed(
        agent,
        "Please use tool lookup_order for order 42",
        max_turns=4,
        auto_previous_response_id=True,
    )
    kinds = [event.type async for event in run.stream_events()]
    assert "raw_response_event" in kinds
    assert calls == ["Please use tool lookup_order for order 42"]
    assert ORDER_STATUS in str(run.final_output)
    first, second = (raw.response_id for raw in run.raw_responses)
    assert first is not None
    assert second is not None
    stored = await openai_client.responses.retrieve(second)
    assert stored.previous_response_id == first  # the SDK continued the stored response
