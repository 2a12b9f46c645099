"""Guardrails in Converse requests (checked against botocore's own model) and their traces."""

from __future__ import annotations

import logging

import botocore.session
import pytest
from botocore.validate import ParamValidator

from fmgate.bedrock.converse import build_converse_request
from fmgate.bedrock.guardrails import report_guardrail, summarize_trace
from fmgate.core.model_request import ChatMessage, ChatRequest, Guardrail, TextBlock

GUARDRAIL = Guardrail(identifier="gr1abc", version="2", trace="enabled", stream_mode="async")
REQUEST = ChatRequest(
    model_id="amazon.nova-lite-v1:0",
    messages=(
        ChatMessage("user", (TextBlock("earlier"),)),
        ChatMessage("assistant", (TextBlock("answer"),)),
        ChatMessage("user", (TextBlock("latest", guarded=True),)),
    ),
    guardrail=GUARDRAIL,
)
#: A trace as Bedrock returns it: a denied topic and a custom word acted on the input, a
#: content filter looked but did nothing, and the model's output.
TRACE: dict[str, object] = {
    "inputAssessment": {
        "gr1abc": {
            "topicPolicy": {
                "topics": [{"name": "Investment advice", "type": "DENY", "action": "BLOCKED"}]
            },
            "wordPolicy": {
                "customWords": [{"match": "plutonium", "action": "BLOCKED"}],
                "managedWordLists": [],
            },
            "contentPolicy": {
                "filters": [{"type": "HATE", "confidence": "NONE", "action": "NONE"}]
            },
        }
    },
    "outputAssessments": {"gr1abc": [{"invocationMetrics": {"guardrailProcessingLatency": 3}}]},
    "modelOutput": ["the raw answer"],
}


def validate(operation: str, body: dict[str, object]) -> None:
    """Raise if botocore would refuse ``body`` for ``operation`` (its parameter validation)."""
    model = botocore.session.get_session().get_service_model("bedrock-runtime")
    report = ParamValidator().validate(body, model.operation_model(operation).input_shape)
    assert not report.has_errors(), report.generate_report()


def test_converse_stream_gets_the_stream_configuration() -> None:
    body = build_converse_request(REQUEST, streaming=True)
    assert body["guardrailConfig"] == {
        "guardrailIdentifier": "gr1abc",
        "guardrailVersion": "2",
        "trace": "enabled",
        "streamProcessingMode": "async",
    }
    validate("ConverseStream", body)


def test_converse_gets_no_stream_processing_mode() -> None:
    body = build_converse_request(REQUEST)
    assert body["guardrailConfig"] == {
        "guardrailIdentifier": "gr1abc",
        "guardrailVersion": "2",
        "trace": "enabled",
    }
    validate("Converse", body)


def test_guarded_text_is_guard_content_and_the_rest_stays_text() -> None:
    messages = build_converse_request(REQUEST)["messages"]
    assert messages == [
        {"role": "user", "content": [{"text": "earlier"}]},
        {"role": "assistant", "content": [{"text": "answer"}]},
        {"role": "user", "content": [{"guardContent": {"text": {"text": "latest"}}}]},
    ]


def test_without_a_guardrail_nothing_is_sent() -> None:
    plain = ChatRequest(model_id="amazon.nova-lite-v1:0", messages=REQUEST.messages[:1])
    assert "guardrailConfig" not in build_converse_request(plain, streaming=True)


def test_the_summary_names_policies_but_not_what_was_written() -> None:
    assert summarize_trace(TRACE, content=False) == [
        "input: topic 'Investment advice' (DENY) BLOCKED; custom word BLOCKED"
    ]


def test_the_full_summary_quotes_matches_and_the_model_output() -> None:
    assert summarize_trace(TRACE, content=True) == [
        "input: topic 'Investment advice' (DENY) BLOCKED; custom word 'plutonium' BLOCKED",
        "model output: 'the raw answer'",
    ]


def test_an_intervention_is_logged_at_info(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO, logger="fmgate.guardrails"):
        report_guardrail(GUARDRAIL, "guardrail_intervened", TRACE)
    [record] = caplog.records
    assert record.levelno == logging.INFO
    assert record.getMessage() == (
        "guardrail gr1abc version 2 intervened: "
        "input: topic 'Investment advice' (DENY) BLOCKED; custom word BLOCKED"
    )
    assert "plutonium" not in record.getMessage()


def test_an_intervention_without_a_trace_still_says_so(caplog: pytest.LogCaptureFixture) -> None:
    untraced = Guardrail(identifier="gr1abc", version="DRAFT", trace="disabled")
    with caplog.at_level(logging.INFO, logger="fmgate.guardrails"):
        report_guardrail(untraced, "guardrail_intervened", {})
    assert caplog.messages == ["guardrail gr1abc version DRAFT intervened: (no trace asked for)"]


def test_a_quiet_pass_logs_nothing(caplog: pytest.LogCaptureFixture) -> None:
    quiet: dict[str, object] = {"inputAssessment": {"gr1abc": {"invocationMetrics": {}}}}
    with caplog.at_level(logging.INFO, logger="fmgate.guardrails"):
        report_guardrail(GUARDRAIL, "end_turn", quiet)
    assert caplog.records == []
