"""Converse through boto3 and aiobotocore: answers, usage, validation, model ids."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError

from fmgate_emulator.content import DOCUMENT_TOKENS, IMAGE_TOKENS, count_tokens, reply_text
from tests.emulator.sdk import user

NOVA_LITE = "amazon.nova-lite-v1:0"
CLAUDE_37 = "anthropic.claude-3-7-sonnet-20250219-v1:0"
PNG_1PX = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082"
)


def answer_text(response: dict[str, Any]) -> str:
    return "".join(b.get("text", "") for b in response["output"]["message"]["content"])


def error_of(excinfo: pytest.ExceptionInfo[ClientError]) -> tuple[str, str, int]:
    error = excinfo.value.response
    return (
        error["Error"]["Code"],
        error["Error"]["Message"],
        error["ResponseMetadata"]["HTTPStatusCode"],
    )


def test_converse_answer_is_derived_from_the_prompt(bedrock: Any) -> None:
    response = bedrock.converse(modelId=NOVA_LITE, messages=[user("Tell me about otters")])
    expected, reason = reply_text("Tell me about otters", None)
    assert answer_text(response) == expected
    assert "Tell me about otters" in expected
    assert response["stopReason"] == reason == "end_turn"
    usage = response["usage"]
    assert usage["inputTokens"] == count_tokens("Tell me about otters")
    assert usage["outputTokens"] == count_tokens(expected)
    assert usage["totalTokens"] == usage["inputTokens"] + usage["outputTokens"]
    assert response["metrics"]["latencyMs"] >= 0


async def test_converse_with_aiobotocore(aio_bedrock: Any) -> None:
    response = await aio_bedrock.converse(
        modelId=NOVA_LITE, messages=[user("async hello")], inferenceConfig={"maxTokens": 100}
    )
    assert answer_text(response) == reply_text("async hello", 100)[0]


def test_max_tokens_cuts_the_answer(bedrock: Any) -> None:
    response = bedrock.converse(
        modelId=NOVA_LITE, messages=[user("count the words")], inferenceConfig={"maxTokens": 3}
    )
    assert response["stopReason"] == "max_tokens"
    assert response["usage"]["outputTokens"] == 3
    assert answer_text(response) == reply_text("count the words", 3)[0] == "Echo: count"


def test_stop_sequence_cuts_the_answer(bedrock: Any) -> None:
    response = bedrock.converse(
        modelId=NOVA_LITE,
        messages=[user("alpha beta STOP gamma")],
        inferenceConfig={"stopSequences": ["STOP"]},
    )
    assert response["stopReason"] == "stop_sequence"
    assert answer_text(response) == "Echo: alpha beta"


def test_system_images_and_documents_count_into_usage(bedrock: Any) -> None:
    image = {"image": {"format": "png", "source": {"bytes": PNG_1PX}}}
    document = {"document": {"format": "txt", "name": "notes", "source": {"bytes": b"hi"}}}
    messages = [
        user("first question"),
        {"role": "assistant", "content": [{"text": "an answer"}]},
        user("look at these", image, document),
    ]
    response = bedrock.converse(
        modelId=f"us.{CLAUDE_37}", system=[{"text": "Be brief."}], messages=messages
    )
    text_tokens = sum(
        count_tokens(t) for t in ("Be brief.", "first question", "an answer", "look at these")
    )
    assert response["usage"]["inputTokens"] == text_tokens + IMAGE_TOKENS + DOCUMENT_TOKENS
    assert answer_text(response) == reply_text("look at these", None)[0]
    counted = bedrock.count_tokens(  # by the foundation-model id, as CountTokens takes it
        modelId=CLAUDE_37,
        input={"converse": {"system": [{"text": "Be brief."}], "messages": messages}},
    )
    assert counted["inputTokens"] == response["usage"]["inputTokens"]


def test_count_tokens_for_an_invoke_model_body(bedrock: Any) -> None:
    body = b'{"prompt": "three little words"}'
    counted = bedrock.count_tokens(modelId=CLAUDE_37, input={"invokeModel": {"body": body}})
    assert counted["inputTokens"] == count_tokens(body.decode())


@pytest.mark.parametrize("model_id", [NOVA_LITE, f"us.{CLAUDE_37}", "luma.ray-v2:0"])
def test_count_tokens_is_refused_for_models_that_do_not_count_and_for_profiles(
    bedrock: Any, model_id: str
) -> None:
    with pytest.raises(ClientError) as excinfo:
        bedrock.count_tokens(modelId=model_id, input={"converse": {"messages": [user("hi")]}})
    assert error_of(excinfo) == (
        "ValidationException",
        "The provided model doesn't support counting tokens.",
        400,
    )


def test_count_tokens_validates_the_conversation_as_converse_does(bedrock: Any) -> None:
    blank = {"role": "user", "content": [{"text": " "}]}
    with pytest.raises(ClientError) as excinfo:
        bedrock.count_tokens(modelId=CLAUDE_37, input={"converse": {"messages": [blank]}})
    assert "is blank" in error_of(excinfo)[1]


def test_thinking_emits_reasoning_then_answer(bedrock: Any) -> None:
    response = bedrock.converse(
        modelId=f"us.{CLAUDE_37}",
        messages=[user("Why is the sky blue?")],
        inferenceConfig={"maxTokens": 4000},
        additionalModelRequestFields={"thinking": {"type": "enabled", "budget_tokens": 1024}},
    )
    reasoning, text = response["output"]["message"]["content"]
    assert reasoning["reasoningContent"]["reasoningText"]["text"]
    assert reasoning["reasoningContent"]["reasoningText"]["signature"]
    assert text["text"] == reply_text("Why is the sky blue?", 4000)[0]


def test_always_reasoning_model_reasons_unasked(bedrock: Any) -> None:
    response = bedrock.converse(modelId="us.deepseek.r1-v1:0", messages=[user("Is 17 prime?")])
    reasoning, text = response["output"]["message"]["content"]
    assert "signature" not in reasoning["reasoningContent"]["reasoningText"]
    assert text["text"] == reply_text("Is 17 prime?", None)[0]


TOOLS = {
    "tools": [
        {"toolSpec": {"name": "weather", "inputSchema": {"json": {"type": "object"}}}},
        {"toolSpec": {"name": "clock", "inputSchema": {"json": {"type": "object"}}}},
    ]
}


def test_tool_use_when_asked_then_answer_from_tool_result(bedrock: Any) -> None:
    first = bedrock.converse(
        modelId=NOVA_LITE, messages=[user("please use tool clock now")], toolConfig=TOOLS
    )
    assert first["stopReason"] == "tool_use"
    [block] = first["output"]["message"]["content"]
    tool_use = block["toolUse"]
    assert tool_use["name"] == "clock"
    assert tool_use["input"] == {"request": "please use tool clock now"}
    result = {"toolResult": {"toolUseId": tool_use["toolUseId"], "content": [{"text": "12:00"}]}}
    second = bedrock.converse(
        modelId=NOVA_LITE,
        messages=[
            user("please use tool clock now"),
            first["output"]["message"],
            {"role": "user", "content": [result]},
        ],
        toolConfig=TOOLS,
    )
    assert second["stopReason"] == "end_turn"
    assert answer_text(second) == reply_text("12:00", None)[0]


def test_several_tools_asked_for_are_called_in_one_turn(bedrock: Any) -> None:
    prompt = "use tool weather, then use tool clock, and use tool weather again"
    response = bedrock.converse(modelId=NOVA_LITE, messages=[user(prompt)], toolConfig=TOOLS)
    assert response["stopReason"] == "tool_use"
    uses = [block["toolUse"] for block in response["output"]["message"]["content"]]
    assert [use["name"] for use in uses] == ["weather", "clock"]
    assert len({use["toolUseId"] for use in uses}) == 2


def test_forced_tool_choice(bedrock: Any) -> None:
    config = {**TOOLS, "toolChoice": {"tool": {"name": "weather"}}}
    response = bedrock.converse(modelId=NOVA_LITE, messages=[user("hi")], toolConfig=config)
    assert response["output"]["message"]["content"][0]["toolUse"]["name"] == "weather"


@pytest.mark.parametrize(
    ("model_id", "choice"),
    [
        # Llama 3.1 takes tools (in Converse), not forced choices; Llama 3 takes no tools at all.
        ("us.meta.llama3-1-70b-instruct-v1:0", {"any": {}}),
        ("us.meta.llama3-1-70b-instruct-v1:0", {"tool": {"name": "weather"}}),
        ("mistral.mistral-large-2402-v1:0", {"tool": {"name": "weather"}}),
    ],
)
def test_forced_tool_choice_is_refused_for_models_without_it(
    bedrock: Any, model_id: str, choice: dict[str, Any]
) -> None:
    [member] = choice
    with pytest.raises(ClientError) as excinfo:
        bedrock.converse(
            modelId=model_id, messages=[user("hi")], toolConfig={**TOOLS, "toolChoice": choice}
        )
    assert error_of(excinfo) == (
        "ValidationException",
        f"This model doesn't support the toolConfig.toolChoice.{member} field. Remove "
        f"toolConfig.toolChoice.{member} and try again.",
        400,
    )


def test_a_forced_tool_choice_with_thinking_is_refused(bedrock: Any) -> None:
    with pytest.raises(ClientError) as excinfo:
        bedrock.converse(
            modelId=f"us.{CLAUDE_37}",
            messages=[user("hi")],
            inferenceConfig={"maxTokens": 4000},
            additionalModelRequestFields={"thinking": {"type": "enabled", "budget_tokens": 1024}},
            toolConfig={**TOOLS, "toolChoice": {"any": {}}},
        )
    assert "Thinking may not be enabled when tool_choice forces tool use." in error_of(excinfo)[1]


def test_mistral_large_takes_any(bedrock: Any) -> None:
    config = {**TOOLS, "toolChoice": {"any": {}}}
    response = bedrock.converse(
        modelId="mistral.mistral-large-2402-v1:0", messages=[user("hi")], toolConfig=config
    )
    assert response["stopReason"] == "tool_use"


def test_known_anthropic_betas_are_taken_by_their_claude_model(bedrock: Any) -> None:
    response = bedrock.converse(
        modelId="us.anthropic.claude-sonnet-4-20250514-v1:0",
        messages=[user("hi")],
        additionalModelRequestFields={"anthropic_beta": ["context-1m-2025-08-07"]},
    )
    assert response["stopReason"] == "end_turn"


def test_performance_config_is_accepted_and_echoed(bedrock: Any) -> None:
    response = bedrock.converse(
        modelId=NOVA_LITE, messages=[user("quick")], performanceConfig={"latency": "optimized"}
    )
    assert response["performanceConfig"] == {"latency": "optimized"}


@pytest.mark.parametrize(
    ("model_id", "kwargs", "message_part"),
    [
        (
            NOVA_LITE,
            {"messages": [{"role": "assistant", "content": [{"text": "x"}]}]},
            "must start with a user message",
        ),
        (NOVA_LITE, {"messages": [user("a"), user("b")]}, "must alternate"),
        (
            "mistral.mistral-7b-instruct-v0:2",
            {"messages": [user("a")], "system": [{"text": "s"}]},
            "system messages",
        ),
        (
            "amazon.nova-micro-v1:0",
            {"messages": [user("a", {"image": {"format": "png", "source": {"bytes": PNG_1PX}}})]},
            "image content block",
        ),
        (
            NOVA_LITE,
            {"messages": [user("a")], "inferenceConfig": {"maxTokens": 10001}},
            "exceeds the model limit of 10000",
        ),
        (
            NOVA_LITE,
            {
                "messages": [user("a")],
                "additionalModelRequestFields": {
                    "thinking": {"type": "enabled", "budget_tokens": 2000}
                },
            },
            "thinking",
        ),
        (
            f"us.{CLAUDE_37}",
            {
                "messages": [user("a")],
                "inferenceConfig": {"maxTokens": 4000},
                "additionalModelRequestFields": {
                    "thinking": {"type": "enabled", "budget_tokens": 500}
                },
            },
            "greater than or equal to 1024",
        ),
        (
            f"us.{CLAUDE_37}",
            {
                "messages": [user("a")],
                "inferenceConfig": {"maxTokens": 4000, "topP": 0.9},
                "additionalModelRequestFields": {
                    "thinking": {"type": "enabled", "budget_tokens": 1024}
                },
            },
            "top_p",
        ),
        (
            f"us.{CLAUDE_37}",
            {
                "messages": [user("a")],
                "inferenceConfig": {"maxTokens": 4000, "temperature": 0.5},
                "additionalModelRequestFields": {
                    "thinking": {"type": "enabled", "budget_tokens": 1024}
                },
            },
            "temperature",
        ),
        (
            "amazon.no-such-model-v9:0",
            {"messages": [user("a")]},
            "The provided model identifier is invalid.",
        ),
        (
            CLAUDE_37,
            {"messages": [user("a")]},
            f"Invocation of model ID {CLAUDE_37} with on-demand throughput isn't supported",
        ),
        ("amazon.titan-image-generator-v2:0", {"messages": [user("a")]}, "doesn't support"),
        (
            NOVA_LITE,
            {"messages": [user("a"), {"role": "assistant", "content": [{"text": " \n"}]}]},
            "The text field in the ContentBlock object at messages.1.content.0 is blank. Add "
            "text to the text field, and try again.",
        ),
        (
            NOVA_LITE,
            {"messages": [{"role": "user", "content": [{"text": "a"}, {"text": ""}]}]},
            "ContentBlock object at messages.0.content.1 is blank",
        ),
        (
            NOVA_LITE,
            {"messages": [user("a")], "system": [{"text": "  "}]},
            "SystemContentBlock object at system.0 is blank",
        ),
        (
            f"us.{CLAUDE_37}",
            {
                "messages": [user("a")],
                "additionalModelRequestFields": {"anthropic_beta": ["context-1m-2025-08-07"]},
            },
            "invalid beta flag",
        ),
        (
            "anthropic.claude-3-haiku-20240307-v1:0",
            {
                "messages": [user("a")],
                "additionalModelRequestFields": {"anthropic_beta": ["no-such-beta-2099-01-01"]},
            },
            "invalid beta flag",
        ),
        (
            NOVA_LITE,
            {
                "messages": [user("a")],
                "additionalModelRequestFields": {"anthropic_beta": ["context-1m-2025-08-07"]},
            },
            "anthropic_beta",
        ),
    ],
)
def test_invalid_requests_get_validation_exception(
    bedrock: Any, model_id: str, kwargs: dict[str, Any], message_part: str
) -> None:
    with pytest.raises(ClientError) as excinfo:
        bedrock.converse(modelId=model_id, **kwargs)
    code, message, status = error_of(excinfo)
    assert (code, status) == ("ValidationException", 400)
    assert message_part in message


@pytest.mark.parametrize(
    "model_id",
    [
        "amazon.nova-pro-v1:0",
        "us.anthropic.claude-3-7-sonnet-20250219-v1:0",
        "eu.meta.llama3-2-11b-instruct-v1:0",
        "apac.amazon.nova-premier-v1:0",
        "global.anthropic.claude-sonnet-4-5-20250929-v1:0",
        "arn:aws:bedrock:us-east-1::foundation-model/amazon.nova-pro-v1:0",
        "arn:aws:bedrock:us-east-1:123456789012:inference-profile/"
        "us.anthropic.claude-sonnet-4-20250514-v1:0",
    ],
)
def test_model_ids_profiles_and_arns_are_accepted(bedrock: Any, model_id: str) -> None:
    response = bedrock.converse(modelId=model_id, messages=[user("id check")])
    assert answer_text(response) == reply_text("id check", None)[0]


def test_model_id_arrives_percent_encoded_and_is_recorded_decoded(
    bedrock: Any, control: Any
) -> None:
    arn = "arn:aws:bedrock:us-east-1::foundation-model/amazon.nova-pro-v1:0"
    bedrock.converse(modelId=arn, messages=[user("encoded")])
    [record] = control.requests(model_id="amazon.nova-pro-v1:0")
    # The ARN's '/' must have travelled percent-encoded: the route has one path segment for it.
    assert record["model_id"] == arn
    assert "authorization" not in {h.lower() for h in record["headers"]}


def test_a_system_prompt_adds_its_own_tokens_to_both_counts(bedrock: Any) -> None:
    """What the billing split relies on: CountTokens and Converse count a system prompt alike,
    so counting one turn with and without it gives the system prompt's share of a request."""
    system = [{"text": "You are a terse assistant. Never use lists."}]
    turn = [user("Hello")]
    with_system = bedrock.count_tokens(
        modelId=CLAUDE_37, input={"converse": {"system": system, "messages": turn}}
    )["inputTokens"]
    without = bedrock.count_tokens(modelId=CLAUDE_37, input={"converse": {"messages": turn}})
    assert with_system - without["inputTokens"] == count_tokens(system[0]["text"])
    answered = bedrock.converse(modelId=f"us.{CLAUDE_37}", system=system, messages=turn)
    assert answered["usage"]["inputTokens"] == with_system


def test_count_tokens_of_a_system_prompt_alone_is_refused_as_converse_refuses_it(
    bedrock: Any,
) -> None:
    system = [{"text": "You are a terse assistant."}]
    with pytest.raises(ClientError) as excinfo:
        bedrock.count_tokens(modelId=CLAUDE_37, input={"converse": {"system": system}})
    code, message, status = error_of(excinfo)
    assert (code, status) == ("ValidationException", 400)
    assert message.startswith("A conversation must start with a user message.")
