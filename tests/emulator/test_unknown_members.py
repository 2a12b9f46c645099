"""The ``unknown_members`` fault: answers with members no Bedrock client models yet, as botocore
sees them (it drops members its service model lacks and names an unknown content block)."""

from __future__ import annotations

from typing import Any

from fmgate_emulator import EmulatorClient
from fmgate_emulator.content import reply_text
from fmgate_emulator.unknown_members import UNKNOWN_BLOCK, UNKNOWN_STOP_REASON
from tests.emulator.sdk import user

NOVA_LITE = "amazon.nova-lite-v1:0"


def test_converse_carries_an_unknown_block_and_stop_reason(
    bedrock: Any, control: EmulatorClient
) -> None:
    control.inject("unknown_members")
    response = bedrock.converse(modelId=NOVA_LITE, messages=[user("news")])
    content = response["output"]["message"]["content"]
    assert content[0] == {"SDK_UNKNOWN_MEMBER": {"name": UNKNOWN_BLOCK}}
    assert content[1] == {"text": reply_text("news", None)[0]}
    assert response["stopReason"] == UNKNOWN_STOP_REASON
    # Members botocore's model does not list are dropped by its parser.
    assert "futureTokens" not in response["usage"]
    assert "futureMember" not in response
    [record] = control.requests()
    assert record["operation"] == "Converse"


def test_converse_stream_carries_an_unknown_block_before_the_answer(
    bedrock: Any, control: EmulatorClient
) -> None:
    control.inject("unknown_members")
    events = list(bedrock.converse_stream(modelId=NOVA_LITE, messages=[user("news")])["stream"])
    unknown = {"SDK_UNKNOWN_MEMBER": {"name": UNKNOWN_BLOCK}}
    # botocore skips the event type it does not know (futureEvent) and names the block kind.
    assert events[:4] == [
        {"messageStart": {"role": "assistant"}},
        {"contentBlockStart": {"start": unknown, "contentBlockIndex": 0}},
        {"contentBlockDelta": {"delta": unknown, "contentBlockIndex": 0}},
        {"contentBlockStop": {"contentBlockIndex": 0}},
    ]
    deltas = [e["contentBlockDelta"] for e in events[4:] if "contentBlockDelta" in e]
    assert {delta["contentBlockIndex"] for delta in deltas} == {1}
    assert "".join(delta["delta"]["text"] for delta in deltas) == reply_text("news", None)[0]
    assert {"messageStop": {"stopReason": UNKNOWN_STOP_REASON}} in events
    assert "futureTokens" not in events[-1]["metadata"]["usage"]


def test_the_fault_waits_for_a_converse_call(bedrock: Any, control: EmulatorClient) -> None:
    control.inject("unknown_members")
    bedrock.count_tokens(
        modelId="anthropic.claude-haiku-4-5-20251001-v1:0",
        input={"converse": {"messages": [user("count")]}},
    )
    [pending] = control.faults()
    assert pending["kind"] == "unknown_members"
    response = bedrock.converse(modelId=NOVA_LITE, messages=[user("now")])
    assert response["stopReason"] == UNKNOWN_STOP_REASON
    assert control.faults() == []
