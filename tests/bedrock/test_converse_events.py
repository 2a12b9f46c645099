"""convert_stream_event / convert_converse_response on Bedrock-shaped answers."""

from __future__ import annotations

from collections.abc import Mapping

import pytest

from fmgate.bedrock.converse import (
    StreamState,
    convert_converse_response,
    convert_stream_event,
    finish_stream,
    join_text_pieces,
)
from fmgate.core.errors import ContextTooLong, ModelStreamFailed
from fmgate.core.events import (
    Done,
    Event,
    ReasoningDelta,
    ReasoningSignature,
    RedactedReasoning,
    TextDelta,
    ToolCall,
    ToolCallStart,
    ToolInputDelta,
    Usage,
)


def run(events: list[Mapping[str, object]]) -> list[Event]:
    state = StreamState()
    out: list[Event] = []
    for event in events:
        out.extend(convert_stream_event(event, state))
    return out + finish_stream(state)


def block_delta(index: int, delta: Mapping[str, object]) -> Mapping[str, object]:
    return {"contentBlockDelta": {"contentBlockIndex": index, "delta": delta}}


METADATA = {
    "metadata": {
        "usage": {
            "inputTokens": 12,
            "outputTokens": 7,
            "totalTokens": 19,
            "cacheReadInputTokens": 3,
            "cacheWriteInputTokens": 2,
        },
        "metrics": {"latencyMs": 321},
    }
}


def test_text_stream_ends_with_usage_then_done() -> None:
    events = run(
        [
            {"messageStart": {"role": "assistant"}},
            block_delta(0, {"text": "Hel"}),
            block_delta(0, {"text": "lo"}),
            {"contentBlockStop": {"contentBlockIndex": 0}},
            {"messageStop": {"stopReason": "end_turn"}},
            METADATA,
        ]
    )

    assert events == [
        TextDelta("Hel"),
        TextDelta("lo"),
        Usage(input_tokens=12, output_tokens=7, cache_read_tokens=3, cache_write_tokens=2),
        Done(stop_reason="end_turn", latency_ms=321),
    ]


def test_cache_writes_with_the_one_hour_ttl_are_kept_apart() -> None:
    usage = {
        "inputTokens": 2,
        "outputTokens": 5,
        "totalTokens": 1829,
        "cacheReadInputTokens": 500,
        "cacheWriteInputTokens": 1322,
        "cacheDetails": [{"ttl": "1h", "inputTokens": 1200}, {"ttl": "5m", "inputTokens": 122}],
    }
    events = run([{"messageStop": {"stopReason": "end_turn"}}, {"metadata": {"usage": usage}}])
    assert events[0] == Usage(
        input_tokens=2,
        output_tokens=5,
        cache_read_tokens=500,
        cache_write_tokens=1322,
        cache_write_1h_tokens=1200,
    )
    whole = convert_converse_response(
        {"output": {"message": {"content": []}}, "stopReason": "end_turn", "usage": usage}
    )
    assert whole[0] == events[0]


def test_reasoning_its_signature_and_redacted_reasoning_become_their_events() -> None:
    events = run(
        [
            block_delta(0, {"reasoningContent": {"text": "hmm"}}),
            block_delta(0, {"reasoningContent": {"signature": "sig"}}),
            block_delta(1, {"reasoningContent": {"redactedContent": "AAE="}}),  # base64 in JSON
            block_delta(2, {"text": "answer"}),
            {"messageStop": {"stopReason": "max_tokens"}},
        ]
    )

    assert events == [
        ReasoningDelta("hmm"),
        ReasoningSignature("sig"),
        RedactedReasoning(b"\x00\x01"),
        TextDelta("answer"),
        Done(stop_reason="max_tokens"),
    ]


def test_redacted_reasoning_that_is_not_base64_breaks_the_stream() -> None:
    with pytest.raises(ModelStreamFailed):
        run([block_delta(0, {"reasoningContent": {"redactedContent": "not base64!"}})])


def test_whole_answer_redacted_reasoning_is_the_bytes_botocore_decoded() -> None:
    response = {
        "output": {"message": {"content": [{"reasoningContent": {"redactedContent": b"\x07"}}]}},
        "stopReason": "end_turn",
    }
    assert convert_converse_response(response) == [RedactedReasoning(b"\x07"), Done()]


def test_tool_use_streams_its_fragments_then_one_tool_call_at_block_stop() -> None:
    events = run(
        [
            block_delta(0, {"text": "Let me check."}),
            {
                "contentBlockStart": {
                    "contentBlockIndex": 1,
                    "start": {"toolUse": {"toolUseId": "t-1", "name": "clock"}},
                }
            },
            block_delta(1, {"toolUse": {"input": '{"tz": '}}),
            block_delta(1, {"toolUse": {"input": '"UTC"}'}}),
            {"contentBlockStop": {"contentBlockIndex": 1}},
            {"messageStop": {"stopReason": "tool_use"}},
            METADATA,
        ]
    )

    assert events[:5] == [
        TextDelta("Let me check."),
        ToolCallStart(id="t-1", name="clock"),
        ToolInputDelta(id="t-1", json='{"tz": '),
        ToolInputDelta(id="t-1", json='"UTC"}'),
        ToolCall(id="t-1", name="clock", input_json='{"tz": "UTC"}'),
    ]
    assert events[-1] == Done(stop_reason="tool_use", latency_ms=321)


@pytest.mark.parametrize(
    ("bedrock", "neutral"),
    [
        ("end_turn", "end_turn"),
        ("max_tokens", "max_tokens"),
        ("stop_sequence", "stop_sequence"),
        ("tool_use", "tool_use"),
        ("content_filtered", "content_filtered"),
        ("guardrail_intervened", "guardrail_intervened"),
        ("malformed_model_output", "other"),
        ("malformed_tool_use", "other"),
        ("something_new", "other"),
    ],
)
def test_stop_reasons_map(bedrock: str, neutral: str) -> None:
    assert run([{"messageStop": {"stopReason": bedrock}}]) == [Done(stop_reason=neutral)]  # type: ignore[arg-type]


def test_context_window_stop_reason_is_context_too_long() -> None:
    state = StreamState()
    convert_stream_event(block_delta(0, {"text": "partial"}), state)

    with pytest.raises(ContextTooLong):
        convert_stream_event(
            {"messageStop": {"stopReason": "model_context_window_exceeded"}}, state
        )


def test_stream_without_message_stop_is_a_failed_stream() -> None:
    with pytest.raises(ModelStreamFailed):
        run([block_delta(0, {"text": "cut off"})])


def test_unknown_members_are_ignored() -> None:
    assert run([{"somethingNew": {"x": 1}}, {"messageStop": {"stopReason": "end_turn"}}]) == [
        Done()
    ]


def test_converse_response_in_stream_order() -> None:
    response = {
        "output": {
            "message": {
                "role": "assistant",
                "content": [
                    {"reasoningContent": {"reasoningText": {"text": "thinking", "signature": "s"}}},
                    {"text": "Hello"},
                    {"toolUse": {"toolUseId": "t", "name": "clock", "input": {"tz": "UTC"}}},
                ],
            }
        },
        "stopReason": "tool_use",
        "usage": {"inputTokens": 5, "outputTokens": 6, "totalTokens": 11},
        "metrics": {"latencyMs": 40},
    }

    assert convert_converse_response(response) == [
        ReasoningDelta("thinking"),
        ReasoningSignature("s"),
        TextDelta("Hello"),
        ToolCallStart(id="t", name="clock"),
        ToolInputDelta(id="t", json='{"tz":"UTC"}'),
        ToolCall(id="t", name="clock", input_json='{"tz":"UTC"}'),
        Usage(input_tokens=5, output_tokens=6),
        Done(stop_reason="tool_use", latency_ms=40),
    ]


def test_converse_response_context_overflow() -> None:
    with pytest.raises(ContextTooLong):
        convert_converse_response(
            {"output": {"message": {"content": []}}, "stopReason": "model_context_window_exceeded"}
        )


def test_pieces_that_arrived_together_are_joined_and_nothing_else_moves() -> None:
    call = ToolCall(id="t", name="clock", input_json="{}")
    events: list[Event] = [
        ReasoningDelta("thin"),
        ReasoningDelta("king"),
        TextDelta("Hel"),
        TextDelta("lo"),
        ToolCallStart(id="t", name="clock"),
        ToolInputDelta(id="t", json="{"),
        ToolInputDelta(id="t", json="}"),
        call,
        TextDelta("!"),
        Usage(input_tokens=1),
    ]

    assert join_text_pieces(events) == [
        ReasoningDelta("thinking"),
        TextDelta("Hello"),
        ToolCallStart(id="t", name="clock"),
        ToolInputDelta(id="t", json="{"),
        ToolInputDelta(id="t", json="}"),
        call,
        TextDelta("!"),
        Usage(input_tokens=1),
    ]
    assert join_text_pieces([TextDelta("a")]) == [TextDelta("a")]
