"""build_converse_request: neutral ChatRequest -> Converse keyword arguments."""

from __future__ import annotations

import json

from fmgate.bedrock.converse import build_converse_request
from fmgate.core.model_request import (
    CachePoint,
    ChatMessage,
    ChatRequest,
    DocumentBlock,
    ImageBlock,
    OutputSchema,
    ReasoningBlock,
    RedactedReasoningBlock,
    TextBlock,
    ToolChoice,
    ToolSpec,
    UseTool,
)

PNG = b"\x89PNG\r\n\x1a\nfake"


def user(*blocks: TextBlock | ImageBlock | DocumentBlock) -> ChatMessage:
    return ChatMessage("user", blocks)


def test_minimal_request_has_only_model_and_messages() -> None:
    req = ChatRequest(model_id="amazon.nova-lite-v1:0", messages=(user(TextBlock("hi")),))

    assert build_converse_request(req) == {
        "modelId": "amazon.nova-lite-v1:0",
        "messages": [{"role": "user", "content": [{"text": "hi"}]}],
    }


def test_full_request_maps_every_field() -> None:
    req = ChatRequest(
        model_id="amazon.nova-pro-v1:0",
        messages=(
            user(
                TextBlock("look"), ImageBlock("png", PNG), DocumentBlock("pdf", "report", b"%PDF")
            ),
            ChatMessage("assistant", (TextBlock("seen"),)),
            user(TextBlock("and?")),
        ),
        system=("be brief", "be kind"),
        max_tokens=300,
        temperature=0.4,
        top_p=0.9,
        stop_sequences=("END",),
        optimize_latency=True,
        tools=(ToolSpec("clock", "tells the time", {"type": "object"}),),
        additional_fields={"top_k": 50},
    )

    body = build_converse_request(req)

    assert body["messages"] == [
        {
            "role": "user",
            "content": [
                {"text": "look"},
                {"image": {"format": "png", "source": {"bytes": PNG}}},
                {"document": {"format": "pdf", "name": "report", "source": {"bytes": b"%PDF"}}},
            ],
        },
        {"role": "assistant", "content": [{"text": "seen"}]},
        {"role": "user", "content": [{"text": "and?"}]},
    ]
    assert body["system"] == [{"text": "be brief"}, {"text": "be kind"}]
    assert body["inferenceConfig"] == {
        "maxTokens": 300,
        "temperature": 0.4,
        "topP": 0.9,
        "stopSequences": ["END"],
    }
    assert body["additionalModelRequestFields"] == {"top_k": 50}
    assert body["performanceConfig"] == {"latency": "optimized"}
    assert body["toolConfig"] == {
        "tools": [
            {
                "toolSpec": {
                    "name": "clock",
                    "description": "tells the time",
                    "inputSchema": {"json": {"type": "object"}},
                }
            }
        ]
    }


def test_thinking_sets_budget_and_leaves_sampling_to_the_model() -> None:
    req = ChatRequest(
        model_id="us.anthropic.claude-3-7-sonnet-20250219-v1:0",
        messages=(user(TextBlock("think")),),
        max_tokens=4096,
        temperature=0.3,
        top_p=0.8,
        reasoning_budget=2048,
        additional_fields={"anthropic_beta": ["x"]},
    )

    body = build_converse_request(req)

    assert body["additionalModelRequestFields"] == {
        "anthropic_beta": ["x"],
        "thinking": {"type": "enabled", "budget_tokens": 2048},
    }
    assert body["inferenceConfig"] == {"maxTokens": 4096}


def test_blank_text_is_dropped_next_to_an_attachment_only() -> None:
    with_image = ChatRequest(
        model_id="amazon.nova-lite-v1:0",
        messages=(user(TextBlock("  "), ImageBlock("jpeg", b"j")),),
    )
    text_only = ChatRequest(model_id="amazon.nova-lite-v1:0", messages=(user(TextBlock("")),))

    assert build_converse_request(with_image)["messages"] == [
        {"role": "user", "content": [{"image": {"format": "jpeg", "source": {"bytes": b"j"}}}]}
    ]
    assert build_converse_request(text_only)["messages"] == [
        {"role": "user", "content": [{"text": ""}]}
    ]


def test_cache_points_are_rendered_exactly_where_they_stand() -> None:
    req = ChatRequest(
        model_id="us.anthropic.claude-sonnet-4-5-20250929-v1:0",
        messages=(
            ChatMessage("user", (TextBlock("earlier"), CachePoint())),
            ChatMessage("assistant", (TextBlock("answer"),)),
            ChatMessage("user", (TextBlock("now"), CachePoint("1h"))),
        ),
        system=("be brief", CachePoint("1h")),
        tools=(ToolSpec("clock", "tells the time", {"type": "object"}), CachePoint("1h")),
    )

    body = build_converse_request(req)

    one_hour = {"cachePoint": {"type": "default", "ttl": "1h"}}
    default = {"cachePoint": {"type": "default"}}  # 5m: Bedrock's default, no ttl member
    assert body["system"] == [{"text": "be brief"}, one_hour]
    assert body["toolConfig"] == {
        "tools": [
            {
                "toolSpec": {
                    "name": "clock",
                    "description": "tells the time",
                    "inputSchema": {"json": {"type": "object"}},
                }
            },
            one_hour,
        ]
    }
    assert body["messages"] == [
        {"role": "user", "content": [{"text": "earlier"}, default]},
        {"role": "assistant", "content": [{"text": "answer"}]},
        {"role": "user", "content": [{"text": "now"}, one_hour]},
    ]


def test_a_blank_text_before_a_cache_point_is_left_out() -> None:
    req = ChatRequest(
        model_id="amazon.nova-lite-v1:0",
        messages=(ChatMessage("user", (TextBlock("hi"), TextBlock("  "), CachePoint())),),
    )
    assert build_converse_request(req)["messages"] == [
        {"role": "user", "content": [{"text": "hi"}, {"cachePoint": {"type": "default"}}]}
    ]


def test_tool_choice_is_sent_except_for_bedrocks_default_auto() -> None:
    clock = ToolSpec("clock", "tells the time", {"type": "object"})

    def choice_sent(choice: ToolChoice) -> object:
        req = ChatRequest(
            model_id="m", messages=(user(TextBlock("hi")),), tools=(clock,), tool_choice=choice
        )
        tool_config = build_converse_request(req)["toolConfig"]
        assert isinstance(tool_config, dict)
        return tool_config.get("toolChoice")

    assert choice_sent("auto") is None
    assert choice_sent("any") == {"any": {}}
    assert choice_sent(UseTool("clock")) == {"tool": {"name": "clock"}}


def test_replayed_reasoning_is_sent_as_the_model_gave_it() -> None:
    claude = "us.anthropic.claude-3-7-sonnet-20250219-v1:0"
    turn = ChatMessage(
        "assistant",
        (
            ReasoningBlock("thought", "sig", claude),
            RedactedReasoningBlock(b"\x00secret", claude),
            TextBlock("answer"),
        ),
    )
    req = ChatRequest(model_id=claude, messages=(user(TextBlock("q")), turn, user(TextBlock("n"))))

    messages = build_converse_request(req)["messages"]
    assert isinstance(messages, list)
    assert messages[1]["content"] == [
        {"reasoningContent": {"reasoningText": {"text": "thought", "signature": "sig"}}},
        {"reasoningContent": {"redactedContent": b"\x00secret"}},
        {"text": "answer"},
    ]


def test_a_tool_without_description_is_sent_without_one() -> None:
    req = ChatRequest(
        model_id="amazon.nova-lite-v1:0",
        messages=(user(TextBlock("hi")),),
        tools=(ToolSpec("clock", "", {"type": "object"}),),
    )
    assert build_converse_request(req)["toolConfig"] == {
        "tools": [{"toolSpec": {"name": "clock", "inputSchema": {"json": {"type": "object"}}}}]
    }


def test_anthropic_betas_join_the_configured_ones_in_additional_fields() -> None:
    hello = user(TextBlock("hi"))
    request = ChatRequest(
        model_id="m",
        messages=(hello,),
        additional_fields={"anthropic_beta": ["output-128k-2025-02-19"], "top_k": 5},
        anthropic_betas=("token-efficient-tools-2025-02-19", "output-128k-2025-02-19"),
    )
    assert build_converse_request(request)["additionalModelRequestFields"] == {
        "anthropic_beta": ["output-128k-2025-02-19", "token-efficient-tools-2025-02-19"],
        "top_k": 5,
    }
    assert "additionalModelRequestFields" not in build_converse_request(
        ChatRequest(model_id="m", messages=(hello,))
    )


NESTED: dict[str, object] = {
    "type": "object",
    "properties": {
        "city": {"type": "string"},
        "days": {"type": "array", "items": {"type": "object", "properties": {}}},
        "home": {"anyOf": [{"type": "null"}, {"$ref": "#/$defs/place"}]},
        "free": {"type": "object", "additionalProperties": {"type": "string"}},
    },
    "$defs": {"place": {"type": ["object", "null"], "properties": {"x": {"type": "number"}}}},
}
#: NESTED with every object that did not say closed (one that says is left as it says).
CLOSED: dict[str, object] = {
    "type": "object",
    "properties": {
        "city": {"type": "string"},
        "days": {
            "type": "array",
            "items": {"type": "object", "properties": {}, "additionalProperties": False},
        },
        "home": {"anyOf": [{"type": "null"}, {"$ref": "#/$defs/place"}]},
        "free": {"type": "object", "additionalProperties": {"type": "string"}},
    },
    "$defs": {
        "place": {
            "type": ["object", "null"],
            "properties": {"x": {"type": "number"}},
            "additionalProperties": False,
        }
    },
    "additionalProperties": False,
}


def test_an_output_schema_is_sent_closed_as_a_json_string_in_output_config() -> None:
    request = ChatRequest(
        model_id="m",
        messages=(user(TextBlock("hi")),),
        output_schema=OutputSchema(NESTED, name="forecast", description="A forecast."),
    )
    config = build_converse_request(request)["outputConfig"]
    assert isinstance(config, dict)
    definition = config["textFormat"]["structure"]["jsonSchema"]
    assert config["textFormat"]["type"] == "json_schema"
    assert (definition["name"], definition["description"]) == ("forecast", "A forecast.")
    assert json.loads(definition["schema"]) == CLOSED
    unnamed = ChatRequest(
        model_id="m",
        messages=(user(TextBlock("hi")),),
        output_schema=OutputSchema({"type": "string"}),
    )
    assert build_converse_request(unnamed)["outputConfig"] == {
        "textFormat": {
            "type": "json_schema",
            "structure": {"jsonSchema": {"schema": '{"type":"string"}'}},
        }
    }
    assert "outputConfig" not in build_converse_request(
        ChatRequest(model_id="m", messages=(user(TextBlock("hi")),))
    )


def test_a_strict_tool_is_sent_strict_with_its_schema_closed() -> None:
    request = ChatRequest(
        model_id="m",
        messages=(user(TextBlock("hi")),),
        tools=(ToolSpec("plan", "Plans.", NESTED, strict=True), ToolSpec("loose", "L.", NESTED)),
    )
    tool_config = build_converse_request(request)["toolConfig"]
    assert isinstance(tool_config, dict)
    strict, loose = (tool["toolSpec"] for tool in tool_config["tools"])
    assert strict == {
        "name": "plan",
        "inputSchema": {"json": CLOSED},
        "description": "Plans.",
        "strict": True,
    }
    assert "strict" not in loose
    assert loose["inputSchema"] == {"json": NESTED}
