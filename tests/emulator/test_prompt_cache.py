"""Prompt caching through the real SDK: checkpoints, prefixes, TTLs, usage and Bedrock's refusals.

Prefixes are made of numbered words, one emulator token each, so every count is predictable.
"""

from __future__ import annotations

import json
from typing import Any

import boto3
import httpx
import pytest
from botocore.exceptions import ClientError

from fmgate_emulator import EmulatorClient
from fmgate_emulator.config import EmulatorConfig, Timing
from fmgate_emulator.content import count_tokens, reply_text
from fmgate_emulator.pacing import Pacer
from fmgate_emulator.prompt_cache import UNSUPPORTED_MODEL
from tests.emulator.sdk import NO_RETRIES, user
from tests.harness.credentials import TEST_ACCESS_KEY_ID, TEST_SECRET_ACCESS_KEY

CLAUDE_37 = "us.anthropic.claude-3-7-sonnet-20250219-v1:0"  # min 1,024 tokens, 5m only
SONNET_45 = "us.anthropic.claude-sonnet-4-5-20250929-v1:0"  # min 1,024 tokens, 5m and 1h
NOVA_PRO = "amazon.nova-pro-v1:0"  # min 1,000 tokens, no checkpoint in tools
LLAMA = "meta.llama3-8b-instruct-v1:0"  # no prompt caching
POINT = {"cachePoint": {"type": "default"}}
POINT_1H = {"cachePoint": {"type": "default", "ttl": "1h"}}
TOOLS = [{"toolSpec": {"name": "clock", "inputSchema": {"json": {"type": "object"}}}}]


def words(count: int, tag: str = "w") -> str:
    """``count`` emulator tokens: ``w0 w1 ...``."""
    return " ".join(f"{tag}{i}" for i in range(count))


SYSTEM = words(1200, "s")  # above every minimum but Haiku 4.5's


def usage_of(response: dict[str, Any]) -> dict[str, Any]:
    return dict(response["usage"])


def error_of(excinfo: pytest.ExceptionInfo[ClientError]) -> tuple[str, str, int]:
    error = excinfo.value.response
    return (
        error["Error"]["Code"],
        error["Error"]["Message"],
        error["ResponseMetadata"]["HTTPStatusCode"],
    )


def assistant(text: str) -> dict[str, Any]:
    return {"role": "assistant", "content": [{"text": text}]}


def test_a_prefix_is_written_then_read(bedrock: Any) -> None:
    question = user("What is this about?", POINT)
    first = usage_of(
        bedrock.converse(
            modelId=CLAUDE_37,
            system=[{"text": SYSTEM}, POINT],
            messages=[user("What is this about?")],
        )
    )
    assert first["cacheWriteInputTokens"] == 1200
    assert first["cacheReadInputTokens"] == 0
    assert first["cacheDetails"] == [{"ttl": "5m", "inputTokens": 1200}]
    assert first["inputTokens"] == count_tokens("What is this about?")
    second = usage_of(
        bedrock.converse(modelId=CLAUDE_37, system=[{"text": SYSTEM}, POINT], messages=[question])
    )
    # The system prefix is read; the question's checkpoint (1,205 tokens) writes the rest.
    assert second["cacheReadInputTokens"] == 1200
    assert second["cacheWriteInputTokens"] == count_tokens("What is this about?")
    assert second["inputTokens"] == 0
    for usage in (first, second):
        answer = count_tokens(reply_text("What is this about?", None)[0])
        assert usage["outputTokens"] == answer
        assert usage["totalTokens"] == (
            usage["inputTokens"]
            + usage["outputTokens"]
            + usage["cacheReadInputTokens"]
            + usage["cacheWriteInputTokens"]
        )


def test_the_conversation_grows_and_reads_what_the_last_turn_wrote(bedrock: Any) -> None:
    system = [{"text": SYSTEM}, POINT]
    turn1 = [user("first question", POINT)]
    bedrock.converse(modelId=CLAUDE_37, system=system, messages=turn1)
    turn2 = [user("first question", POINT), assistant("first answer"), user("second one", POINT)]
    usage = usage_of(bedrock.converse(modelId=CLAUDE_37, system=system, messages=turn2))
    assert usage["cacheReadInputTokens"] == 1200 + count_tokens("first question")
    assert usage["cacheWriteInputTokens"] == count_tokens("first answer second one")
    assert usage["inputTokens"] == 0
    # Moving the checkpoint on keeps the prefixes before it: the turn-1 checkpoint may go.
    turn3 = [
        user("first question"),
        assistant("first answer"),
        user("second one", POINT),
        assistant("second answer"),
        user("third", POINT),
    ]
    usage = usage_of(bedrock.converse(modelId=CLAUDE_37, system=system, messages=turn3))
    assert usage["cacheReadInputTokens"] == 1200 + count_tokens(
        "first question first answer second one"
    )
    assert usage["cacheWriteInputTokens"] == count_tokens("second answer third")


def test_a_change_before_the_checkpoint_is_a_miss(bedrock: Any) -> None:
    bedrock.converse(modelId=CLAUDE_37, system=[{"text": SYSTEM}, POINT], messages=[user("hi")])
    changed = [{"text": SYSTEM + " extra"}, POINT]
    usage = usage_of(bedrock.converse(modelId=CLAUDE_37, system=changed, messages=[user("hi")]))
    assert (usage["cacheReadInputTokens"], usage["cacheWriteInputTokens"]) == (0, 1201)


def test_below_the_minimum_nothing_is_cached_and_nothing_fails(bedrock: Any) -> None:
    for _ in range(2):
        usage = usage_of(
            bedrock.converse(
                modelId=CLAUDE_37, system=[{"text": words(1000)}, POINT], messages=[user("hi")]
            )
        )
        assert (usage["cacheReadInputTokens"], usage["cacheWriteInputTokens"]) == (0, 0)
        assert "cacheDetails" not in usage
        assert usage["inputTokens"] == 1000 + 1
    # Nova's minimum is its own (1,000): the same prompt is cached there.
    nova = usage_of(
        bedrock.converse(
            modelId=NOVA_PRO, system=[{"text": words(1000)}, POINT], messages=[user("hi")]
        )
    )
    assert nova["cacheWriteInputTokens"] == 1000


def test_without_checkpoints_the_usage_has_no_cache_fields(bedrock: Any) -> None:
    usage = usage_of(bedrock.converse(modelId=CLAUDE_37, messages=[user(SYSTEM)]))
    assert set(usage) == {"inputTokens", "outputTokens", "totalTokens"}


def test_entries_expire_after_their_ttl_and_a_hit_extends_it(
    bedrock: Any, control: EmulatorClient
) -> None:
    request = {"modelId": CLAUDE_37, "system": [{"text": SYSTEM}, POINT], "messages": [user("x")]}
    bedrock.converse(**request)
    control.advance_clock(200)
    assert usage_of(bedrock.converse(**request))["cacheReadInputTokens"] == 1200
    control.advance_clock(200)  # 400 s after the write, 200 s after the hit that slid it
    assert usage_of(bedrock.converse(**request))["cacheReadInputTokens"] == 1200
    control.advance_clock(301)
    usage = usage_of(bedrock.converse(**request))
    assert (usage["cacheReadInputTokens"], usage["cacheWriteInputTokens"]) == (0, 1200)


def test_one_hour_entries_outlive_five_minute_ones(bedrock: Any, control: EmulatorClient) -> None:
    messages = [user(words(300, "q"), POINT)]
    system = [{"text": SYSTEM}, POINT_1H]
    usage = usage_of(bedrock.converse(modelId=SONNET_45, system=system, messages=messages))
    assert usage["cacheDetails"] == [  # 1h before 5m, as Bedrock sorts them
        {"ttl": "1h", "inputTokens": 1200},
        {"ttl": "5m", "inputTokens": 300},
    ]
    control.advance_clock(600)
    usage = usage_of(bedrock.converse(modelId=SONNET_45, system=system, messages=messages))
    assert (usage["cacheReadInputTokens"], usage["cacheWriteInputTokens"]) == (1200, 300)
    control.advance_clock(3601)
    usage = usage_of(bedrock.converse(modelId=SONNET_45, system=system, messages=messages))
    assert (usage["cacheReadInputTokens"], usage["cacheWriteInputTokens"]) == (0, 1500)


def test_the_stream_metadata_carries_the_same_usage(bedrock: Any) -> None:
    request = {"modelId": NOVA_PRO, "system": [{"text": SYSTEM}, POINT], "messages": [user("x")]}
    bedrock.converse(**request)
    events = list(bedrock.converse_stream(**request)["stream"])
    usage = events[-1]["metadata"]["usage"]
    assert usage["cacheReadInputTokens"] == 1200
    assert usage["cacheWriteInputTokens"] == 0
    assert usage["totalTokens"] == 1200 + 1 + usage["outputTokens"]


def test_caches_are_per_region(bedrock: Any, emulator: Any) -> None:
    request = {"modelId": NOVA_PRO, "system": [{"text": SYSTEM}, POINT], "messages": [user("x")]}
    bedrock.converse(**request)
    elsewhere = boto3.client(
        "bedrock-runtime",
        endpoint_url=emulator.url,
        region_name="us-west-2",
        aws_access_key_id=TEST_ACCESS_KEY_ID,
        aws_secret_access_key=TEST_SECRET_ACCESS_KEY,
        config=NO_RETRIES,
    )
    usage = usage_of(elsewhere.converse(**request))
    assert (usage["cacheReadInputTokens"], usage["cacheWriteInputTokens"]) == (0, 1200)


def test_tools_come_first_in_the_prefix(bedrock: Any) -> None:
    config = {"tools": [*TOOLS, POINT]}
    tool_tokens = count_tokens(json.dumps(TOOLS[0]))
    request = {
        "modelId": CLAUDE_37,
        "toolConfig": config,
        "system": [{"text": SYSTEM}, POINT],
        "messages": [user("x")],
    }
    first = usage_of(bedrock.converse(**request))
    # The tools alone are below the minimum: only the system checkpoint (tools + system) writes.
    assert first["cacheWriteInputTokens"] == 1200 + tool_tokens
    assert usage_of(bedrock.converse(**request))["cacheReadInputTokens"] == 1200 + tool_tokens


def test_count_tokens_counts_cached_and_uncached_input(bedrock: Any) -> None:
    request = {"system": [{"text": SYSTEM}, POINT], "messages": [user("x")]}
    bedrock.converse(modelId=CLAUDE_37, **request)
    counted = bedrock.count_tokens(
        modelId=CLAUDE_37.removeprefix("us."), input={"converse": request}
    )
    assert counted["inputTokens"] == 1201


def test_recorded_requests_keep_the_usage_answered(bedrock: Any, control: EmulatorClient) -> None:
    bedrock.converse(modelId=NOVA_PRO, system=[{"text": SYSTEM}, POINT], messages=[user("x")])
    [record] = control.requests()
    assert record["usage"]["cacheWriteInputTokens"] == 1200


@pytest.mark.parametrize(
    ("request_fields", "code", "message"),
    [
        pytest.param(
            {"modelId": LLAMA, "messages": [user("hi", POINT)]},
            "AccessDeniedException",
            UNSUPPORTED_MODEL,
            id="model-without-caching",
        ),
        pytest.param(
            {
                "modelId": CLAUDE_37,
                "system": [{"text": "a"}, POINT] * 3,
                "messages": [user("b", POINT, POINT)],
            },
            "ValidationException",
            "A maximum of 4 blocks with cache_control may be provided. Found 5.",
            id="five-checkpoints",
        ),
        pytest.param(
            {
                "modelId": CLAUDE_37,
                "messages": [user("hi", {"cachePoint": {"type": "default", "ttl": "10m"}})],
            },
            "ValidationException",
            "Member must satisfy enum value set: [5m, 1h]",
            id="unknown-ttl",
        ),
        pytest.param(
            {"modelId": CLAUDE_37, "messages": [user("hi", POINT_1H)]},
            "ValidationException",
            "doesn't support the 1h cache TTL",
            id="1h-on-a-5m-model",
        ),
        pytest.param(
            {
                "modelId": SONNET_45,
                "system": [{"text": "a"}, POINT],
                "messages": [user("hi", POINT_1H)],
            },
            "ValidationException",
            "must not come after a cache point with ttl '5m'",
            id="longer-ttl-after-shorter",
        ),
        pytest.param(
            {
                "modelId": NOVA_PRO,
                "toolConfig": {"tools": [*TOOLS, POINT]},
                "messages": [user("hi")],
            },
            "ValidationException",
            "doesn't support a cache point in toolConfig.tools",
            id="tools-checkpoint-on-nova",
        ),
        pytest.param(
            {
                "modelId": CLAUDE_37,
                "messages": [
                    user("hi"),
                    {
                        "role": "assistant",
                        "content": [
                            {
                                "reasoningContent": {
                                    "reasoningText": {"text": "t", "signature": "s"}
                                }
                            },
                            POINT,
                            {"text": "answer"},
                        ],
                    },
                    user("more"),
                ],
            },
            "ValidationException",
            "Cache point cannot be inserted after reasoning block.",
            id="after-reasoning",
        ),
    ],
)
def test_refusals(bedrock: Any, request_fields: dict[str, Any], code: str, message: str) -> None:
    with pytest.raises(ClientError) as caught:
        bedrock.converse(**request_fields)
    got_code, got_message, status = error_of(caught)
    assert got_code == code
    assert message in got_message
    assert status == (403 if code == "AccessDeniedException" else 400)


def test_a_refused_stream_fails_before_any_event(bedrock: Any) -> None:
    with pytest.raises(ClientError) as caught:
        bedrock.converse_stream(modelId=LLAMA, messages=[user("hi", POINT)])
    assert error_of(caught)[0] == "AccessDeniedException"


def test_the_uncached_prompt_adds_to_the_time_to_first_token() -> None:
    timing = Timing(ttft_ms=300, tokens_per_second=60, uncached_tokens_per_second=5000)
    assert Pacer(timing, None, uncached_input_tokens=10_000).prompt_delay == 2.0
    assert Pacer(timing, None, uncached_input_tokens=0).prompt_delay == 0.0
    assert Pacer(Timing(), None, uncached_input_tokens=10_000).prompt_delay == 0.0


def test_realistic_profile_reads_prompts_at_5000_tokens_a_second() -> None:
    assert EmulatorConfig(profile="realistic").timing().uncached_tokens_per_second == 5000
    assert EmulatorConfig(profile="fast").timing().uncached_tokens_per_second is None


def test_the_clock_only_moves_forward(control: EmulatorClient) -> None:
    answer = httpx.post(control.url + "/_emulator/clock", json={"advance_seconds": -1})
    assert answer.status_code == 400
    before = httpx.get(control.url + "/_emulator/clock").json()["offset_seconds"]
    control.advance_clock(5)
    after = httpx.get(control.url + "/_emulator/clock").json()["offset_seconds"]
    assert after == before + 5
