"""Guardrails through the real SDK: configured ids and versions, input and output intervention,
selective guarding with guardContent, sync and async streaming, the trace."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError

from fmgate_emulator import EmulatorClient
from fmgate_emulator.content import count_tokens, reply_text, split_tokens
from fmgate_emulator.guarded_answer import CHUNK_TOKENS
from fmgate_emulator.guardrails import DEFAULT_GUARDRAIL, INVALID_IDENTIFIER, NO_SUCH_VERSION
from tests.emulator.sdk import user

NOVA_LITE = "amazon.nova-lite-v1:0"
GUARDRAIL_ID = DEFAULT_GUARDRAIL.guardrail_id
BLOCKED_INPUT = DEFAULT_GUARDRAIL.blocked_input_messaging
BLOCKED_OUTPUT = DEFAULT_GUARDRAIL.blocked_outputs_messaging
#: A prompt whose answer (the echo) holds the output-only denied word "swordfish" after two
#: whole guardrail chunks of harmless text.
LATE_WORD = "one two three four five six seven eight nine ten eleven twelve thirteen swordfish"


def guardrail(trace: str = "enabled", **extra: str) -> dict[str, Any]:
    return {"guardrailIdentifier": GUARDRAIL_ID, "guardrailVersion": "1", "trace": trace, **extra}


def stream_text(events: list[dict[str, Any]]) -> str:
    return "".join(
        e["contentBlockDelta"]["delta"].get("text", "") for e in events if "contentBlockDelta" in e
    )


def metadata(events: list[dict[str, Any]]) -> dict[str, Any]:
    return dict(events[-1]["metadata"])


def test_clean_prompt_passes_with_an_assessment_in_the_trace(bedrock: Any) -> None:
    answer = bedrock.converse(
        modelId=NOVA_LITE, messages=[user("Tell me about otters")], guardrailConfig=guardrail()
    )
    assert answer["stopReason"] == "end_turn"
    assert (
        answer["output"]["message"]["content"][0]["text"]
        == reply_text("Tell me about otters", None)[0]
    )
    trace = answer["trace"]["guardrail"]
    assessment = trace["inputAssessment"][GUARDRAIL_ID]
    assert "topicPolicy" not in assessment
    assert "wordPolicy" not in assessment
    assert assessment["invocationMetrics"]["usage"]["wordPolicyUnits"] == 1
    assert "actionReason" not in trace


def test_denied_word_blocks_the_input_and_bills_no_inference(bedrock: Any) -> None:
    answer = bedrock.converse(
        modelId=NOVA_LITE,
        messages=[user("How is Plutonium made?")],
        guardrailConfig=guardrail(),
    )
    assert answer["stopReason"] == "guardrail_intervened"
    assert answer["output"]["message"]["content"] == [{"text": BLOCKED_INPUT}]
    assert answer["usage"] == {"inputTokens": 0, "outputTokens": 0, "totalTokens": 0}
    words = answer["trace"]["guardrail"]["inputAssessment"][GUARDRAIL_ID]["wordPolicy"]
    assert words["customWords"] == [{"match": "plutonium", "action": "BLOCKED", "detected": True}]


def test_denied_topic_blocks_the_input(bedrock: Any) -> None:
    answer = bedrock.converse(
        modelId=NOVA_LITE,
        messages=[user("Give me some stock tips for today")],
        guardrailConfig=guardrail(),
    )
    assert answer["stopReason"] == "guardrail_intervened"
    topics = answer["trace"]["guardrail"]["inputAssessment"][GUARDRAIL_ID]["topicPolicy"]
    assert topics["topics"] == [
        {"name": "Investment advice", "type": "DENY", "action": "BLOCKED", "detected": True}
    ]


def test_without_trace_there_is_none(bedrock: Any) -> None:
    answer = bedrock.converse(
        modelId=NOVA_LITE,
        messages=[user("plutonium")],
        guardrailConfig={"guardrailIdentifier": GUARDRAIL_ID, "guardrailVersion": "DRAFT"},
    )
    assert answer["stopReason"] == "guardrail_intervened"
    assert "trace" not in answer


def test_full_trace_lists_every_rule_and_the_model_output(bedrock: Any) -> None:
    answer = bedrock.converse(
        modelId=NOVA_LITE, messages=[user("a swordfish")], guardrailConfig=guardrail("enabled_full")
    )
    assert answer["stopReason"] == "guardrail_intervened"
    assert answer["output"]["message"]["content"] == [{"text": BLOCKED_OUTPUT}]
    trace = answer["trace"]["guardrail"]
    inputs = trace["inputAssessment"][GUARDRAIL_ID]
    assert [w["match"] for w in inputs["wordPolicy"]["customWords"]] == ["plutonium"]
    assert inputs["topicPolicy"]["topics"][0]["detected"] is False
    [outputs] = trace["outputAssessments"][GUARDRAIL_ID]
    detected = {w["match"]: w["detected"] for w in outputs["wordPolicy"]["customWords"]}
    assert detected == {"plutonium": False, "swordfish": True}
    assert trace["modelOutput"] == [reply_text("a swordfish", None)[0]]


def test_output_blocked_in_converse_bills_the_answer(bedrock: Any) -> None:
    answer = bedrock.converse(
        modelId=NOVA_LITE, messages=[user("a swordfish")], guardrailConfig=guardrail()
    )
    expected = reply_text("a swordfish", None)[0]
    assert answer["usage"]["outputTokens"] == count_tokens(expected)
    assert answer["usage"]["inputTokens"] == count_tokens("a swordfish")


def test_guard_content_limits_what_is_assessed(bedrock: Any) -> None:
    """Earlier turns are not assessed when the last turn is wrapped in guardContent."""
    messages = [
        user("plutonium, once"),
        {"role": "assistant", "content": [{"text": "Noted."}]},
        {"role": "user", "content": [{"guardContent": {"text": {"text": "and otters?"}}}]},
    ]
    answer = bedrock.converse(modelId=NOVA_LITE, messages=messages, guardrailConfig=guardrail())
    assert answer["stopReason"] == "end_turn"
    assert answer["output"]["message"]["content"][0]["text"] == reply_text("and otters?", None)[0]
    plain = [*messages[:2], user("and otters?")]
    unguarded = bedrock.converse(modelId=NOVA_LITE, messages=plain, guardrailConfig=guardrail())
    assert unguarded["stopReason"] == "guardrail_intervened"


def test_input_blocked_in_a_stream(bedrock: Any) -> None:
    response = bedrock.converse_stream(
        modelId=NOVA_LITE, messages=[user("plutonium")], guardrailConfig=guardrail()
    )
    events = list(response["stream"])
    assert stream_text(events) == BLOCKED_INPUT
    assert events[-2] == {"messageStop": {"stopReason": "guardrail_intervened"}}
    meta = metadata(events)
    assert meta["usage"]["outputTokens"] == 0
    assert "wordPolicy" in meta["trace"]["guardrail"]["inputAssessment"][GUARDRAIL_ID]


@pytest.mark.parametrize(
    ("mode", "leaks"), [("sync", False), ("async", True)], ids=["sync", "async"]
)
def test_output_blocked_mid_stream(bedrock: Any, mode: str, leaks: bool) -> None:
    """Sync mode sends only assessed chunks; async mode lets the offending chunk out first."""
    response = bedrock.converse_stream(
        modelId=NOVA_LITE,
        messages=[user(LATE_WORD)],
        guardrailConfig=guardrail(streamProcessingMode=mode),
    )
    events = list(response["stream"])
    text = stream_text(events)
    tokens = split_tokens(reply_text(LATE_WORD, None)[0])
    at = next(i for i, token in enumerate(tokens) if "swordfish" in token)
    chunk_start = at - at % CHUNK_TOKENS
    generated = tokens[: chunk_start + CHUNK_TOKENS]
    released = generated if leaks else tokens[:chunk_start]
    assert text == "".join(released) + BLOCKED_OUTPUT
    assert ("swordfish" in text) is leaks
    assert chunk_start > 0  # some text went out before the intervention
    assert events[-2] == {"messageStop": {"stopReason": "guardrail_intervened"}}
    meta = metadata(events)
    assert meta["usage"]["outputTokens"] == count_tokens("".join(generated))
    [outputs] = meta["trace"]["guardrail"]["outputAssessments"][GUARDRAIL_ID]
    assert outputs["wordPolicy"]["customWords"][0]["match"] == "swordfish"


def test_an_unknown_guardrail_id_is_refused(bedrock: Any) -> None:
    with pytest.raises(ClientError) as raised:
        bedrock.converse(
            modelId=NOVA_LITE,
            messages=[user("hi")],
            guardrailConfig={"guardrailIdentifier": "nosuchguard", "guardrailVersion": "1"},
        )
    error = raised.value.response
    assert error["Error"] == {"Code": "ValidationException", "Message": INVALID_IDENTIFIER}
    assert error["ResponseMetadata"]["HTTPStatusCode"] == 400


def test_an_unknown_version_is_refused(bedrock: Any) -> None:
    with pytest.raises(ClientError) as raised:
        bedrock.converse_stream(
            modelId=NOVA_LITE,
            messages=[user("hi")],
            guardrailConfig={"guardrailIdentifier": GUARDRAIL_ID, "guardrailVersion": "7"},
        )
    assert raised.value.response["Error"]["Message"] == NO_SUCH_VERSION


def test_a_guardrail_arn_names_the_guardrail(bedrock: Any) -> None:
    arn = f"arn:aws:bedrock:us-east-1:123456789012:guardrail/{GUARDRAIL_ID}"
    answer = bedrock.converse(
        modelId=NOVA_LITE,
        messages=[user("plutonium")],
        guardrailConfig={"guardrailIdentifier": arn, "guardrailVersion": "1", "trace": "enabled"},
    )
    assert answer["stopReason"] == "guardrail_intervened"
    assert arn in answer["trace"]["guardrail"]["inputAssessment"]


def test_guardrails_are_configured_through_the_control_api(
    bedrock: Any, control: EmulatorClient
) -> None:
    control.put_guardrail(
        "topicguard2",
        {
            "versions": ["DRAFT", "1", "2"],
            "blocked_input_messaging": "No cooking talk here.",
            "topics": [{"name": "Cooking", "phrases": ["recipe"], "output": False}],
        },
    )
    assert "topicguard2" in {g["guardrail_id"] for g in control.guardrails()}
    answer = bedrock.converse(
        modelId=NOVA_LITE,
        messages=[user("A recipe for soup")],
        guardrailConfig={"guardrailIdentifier": "topicguard2", "guardrailVersion": "2"},
    )
    assert answer["output"]["message"]["content"] == [{"text": "No cooking talk here."}]
    control.delete_guardrail("topicguard2")
    with pytest.raises(ClientError):
        bedrock.converse(
            modelId=NOVA_LITE,
            messages=[user("hi")],
            guardrailConfig={"guardrailIdentifier": "topicguard2", "guardrailVersion": "2"},
        )
