"""ApplyGuardrail through the real SDK: a guardrail on text alone, input and output rules, the
assessments and usage, the full output scope, and Bedrock's refusals."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError

from fmgate_emulator import EmulatorClient
from fmgate_emulator.guardrails import DEFAULT_GUARDRAIL, INVALID_IDENTIFIER, NO_SUCH_VERSION

GUARDRAIL_ID = DEFAULT_GUARDRAIL.guardrail_id


def apply(bedrock: Any, *texts: str, source: str = "INPUT", **extra: Any) -> dict[str, Any]:
    response: dict[str, Any] = bedrock.apply_guardrail(
        guardrailIdentifier=extra.pop("identifier", GUARDRAIL_ID),
        guardrailVersion=extra.pop("version", "1"),
        source=source,
        content=[{"text": {"text": text}} for text in texts],
        **extra,
    )
    return response


def refusal(excinfo: pytest.ExceptionInfo[ClientError]) -> tuple[str, str, int]:
    error = excinfo.value.response
    return (
        error["Error"]["Code"],
        error["Error"]["Message"],
        error["ResponseMetadata"]["HTTPStatusCode"],
    )


def test_clean_text_passes_with_its_usage(bedrock: Any) -> None:
    answer = apply(bedrock, "Otters hold hands while they sleep.")
    assert answer["action"] == "NONE"
    assert answer["outputs"] == []
    assert "actionReason" not in answer
    [assessment] = answer["assessments"]
    assert "wordPolicy" not in assessment
    assert "topicPolicy" not in assessment
    assert answer["usage"]["wordPolicyUnits"] == answer["usage"]["topicPolicyUnits"] == 1
    characters = len("Otters hold hands while they sleep.")
    assert answer["guardrailCoverage"]["textCharacters"] == {
        "guarded": characters,
        "total": characters,
    }


def test_a_denied_word_in_any_block_intervenes_with_the_blocked_input_message(
    bedrock: Any,
) -> None:
    answer = apply(bedrock, "A harmless first part.", "Then: how to enrich PLUTONIUM")
    assert answer["action"] == "GUARDRAIL_INTERVENED"
    assert answer["outputs"] == [{"text": DEFAULT_GUARDRAIL.blocked_input_messaging}]
    assert answer["actionReason"] == "Guardrail blocked."
    [assessment] = answer["assessments"]
    assert assessment["wordPolicy"]["customWords"] == [
        {"match": "plutonium", "action": "BLOCKED", "detected": True}
    ]


def test_the_source_chooses_the_rules_and_the_message(bedrock: Any) -> None:
    # "swordfish" is denied in output only; the topic in both.
    assert apply(bedrock, "the password is swordfish")["action"] == "NONE"
    output = apply(bedrock, "the password is swordfish", source="OUTPUT")
    assert output["action"] == "GUARDRAIL_INTERVENED"
    assert output["outputs"] == [{"text": DEFAULT_GUARDRAIL.blocked_outputs_messaging}]
    topic = apply(bedrock, "Any stock tips for today?")
    assert topic["assessments"][0]["topicPolicy"]["topics"] == [
        {"name": "Investment advice", "type": "DENY", "action": "BLOCKED", "detected": True}
    ]


def test_the_full_output_scope_lists_every_rule(bedrock: Any) -> None:
    [assessment] = apply(bedrock, "Otters.", outputScope="FULL")["assessments"]
    assert assessment["wordPolicy"]["customWords"] == [
        {"match": "plutonium", "action": "NONE", "detected": False}
    ]
    assert assessment["topicPolicy"]["topics"][0]["detected"] is False


def test_a_guardrail_made_through_the_control_api_applies(
    bedrock: Any, control: EmulatorClient
) -> None:
    control.put_guardrail(
        "docguard1",
        {
            "versions": ["DRAFT"],
            "blocked_input_messaging": "No secrets in files.",
            "words": [{"text": "top secret"}],
        },
    )
    answer = apply(bedrock, "This memo is TOP SECRET.", identifier="docguard1", version="DRAFT")
    assert answer["outputs"] == [{"text": "No secrets in files."}]


@pytest.mark.parametrize(
    ("identifier", "version", "message"),
    [
        ("nosuchguard", "1", INVALID_IDENTIFIER),
        ("arn:aws:bedrock:us-east-1:123456789012:guardrail/nosuchguard", "1", INVALID_IDENTIFIER),
        (GUARDRAIL_ID, "7", NO_SUCH_VERSION),
    ],
)
def test_an_unknown_guardrail_or_version_is_refused(
    bedrock: Any, identifier: str, version: str, message: str
) -> None:
    with pytest.raises(ClientError) as excinfo:
        apply(bedrock, "hello", identifier=identifier, version=version)
    assert refusal(excinfo) == ("ValidationException", message, 400)


def test_a_source_outside_its_enum_and_empty_content_are_refused(bedrock: Any) -> None:
    with pytest.raises(ClientError) as excinfo:
        apply(bedrock, "hello", source="BOTH")
    code, message, status = refusal(excinfo)
    assert (code, status) == ("ValidationException", 400)
    assert "'source' failed to satisfy constraint" in message
    with pytest.raises(ClientError) as excinfo:
        apply(bedrock)
    assert refusal(excinfo)[0] == "ValidationException"
