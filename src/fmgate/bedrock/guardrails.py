"""Guardrails on Converse: the request's ``guardrailConfig``, guarded text, and the trace.

``build_*`` make the request parts (botocore's bedrock-runtime model: Converse takes a
``GuardrailConfiguration`` of ``guardrailIdentifier``, ``guardrailVersion`` and ``trace``;
ConverseStream a ``GuardrailStreamConfiguration``, which adds ``streamProcessingMode``; a
``guardContent`` block holds text the guardrail assesses, and once a request has one its
guardrail assesses only those). :func:`report_guardrail` logs what a guardrail did at INFO on the
``fmgate.guardrails`` logger, from the trace Bedrock returns (the Converse response's ``trace``,
ConverseStream's ``metadata`` event): which policy acted and how (a denied topic by name, a
content filter by type, a word or sensitive-information policy by kind). What users wrote or the
model said (the words and entities matched, the model output) is logged only when the trace is
``enabled_full``; the guardrail's id and version are the operator's, never a secret.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping

from fmgate.bedrock.readers import Shape, field, items, mapping, optional_text, text
from fmgate.core.model_request import Guardrail

logger = logging.getLogger("fmgate.guardrails")

#: The stop reason by which Bedrock says a guardrail blocked the input or the output.
INTERVENED = "guardrail_intervened"
#: An assessment entry's ``action`` when the policy did nothing.
NO_ACTION = "NONE"


def build_guardrail_config(guardrail: Guardrail, *, streaming: bool) -> dict[str, object]:
    """``guardrailConfig``: Converse's GuardrailConfiguration, or ConverseStream's
    GuardrailStreamConfiguration with its ``streamProcessingMode``."""
    config: dict[str, object] = {
        "guardrailIdentifier": guardrail.identifier,
        "guardrailVersion": guardrail.version,
        "trace": guardrail.trace,
    }
    if streaming:
        config["streamProcessingMode"] = guardrail.stream_mode
    return config


def build_guarded_text(value: str) -> dict[str, object]:
    """A ContentBlock the guardrail assesses: ``{"guardContent": {"text": {"text": ...}}}``."""
    return {"guardContent": {"text": {"text": value}}}


# ---------------------------------------------------------------------------------------------
# The trace

#: An entry of a policy's list -> what it says about the policy acting (``content``: the user's
#: or the model's words may be shown).
EntryReader = Callable[[Shape, bool], str]


def quoted_match(entry: Shape, content: bool) -> str:
    match = optional_text(entry, "match")
    return f" {match!r}" if content and match is not None else ""


def topic_entry(entry: Shape, content: bool) -> str:
    return f"topic {text(entry, 'name', '?')!r} ({text(entry, 'type', '?')})"


def content_filter_entry(entry: Shape, content: bool) -> str:
    return f"content filter {text(entry, 'type', '?')} ({text(entry, 'confidence', '?')})"


def custom_word_entry(entry: Shape, content: bool) -> str:
    return "custom word" + quoted_match(entry, content)


def managed_word_entry(entry: Shape, content: bool) -> str:
    return f"managed word list {text(entry, 'type', '?')}" + quoted_match(entry, content)


def pii_entry(entry: Shape, content: bool) -> str:
    return f"sensitive information {text(entry, 'type', '?')}" + quoted_match(entry, content)


def regex_entry(entry: Shape, content: bool) -> str:
    return f"regex {text(entry, 'name', '?')!r}" + quoted_match(entry, content)


def grounding_entry(entry: Shape, content: bool) -> str:
    return f"contextual grounding {text(entry, 'type', '?')}"


#: (policy member, its list member, how to name one entry) for each policy of an assessment.
POLICY_LISTS: tuple[tuple[str, str, EntryReader], ...] = (
    ("topicPolicy", "topics", topic_entry),
    ("contentPolicy", "filters", content_filter_entry),
    ("wordPolicy", "customWords", custom_word_entry),
    ("wordPolicy", "managedWordLists", managed_word_entry),
    ("sensitiveInformationPolicy", "piiEntities", pii_entry),
    ("sensitiveInformationPolicy", "regexes", regex_entry),
    ("contextualGroundingPolicy", "filters", grounding_entry),
)


def acted(assessment: Shape, *, content: bool) -> list[str]:
    """What one GuardrailAssessment's policies did: one phrase per entry whose action is not
    ``NONE`` (``"topic 'Investment advice' (DENY) BLOCKED"``)."""
    phrases: list[str] = []
    for policy, member, describe in POLICY_LISTS:
        for entry in map(mapping, items(field(assessment, policy), member)):
            action = text(entry, "action", NO_ACTION)
            if action != NO_ACTION:
                phrases.append(f"{describe(entry, content)} {action}")
    return phrases


def assessments(trace: Shape, member: str) -> list[Shape]:
    """The assessments of ``inputAssessment`` (one per guardrail) or ``outputAssessments``
    (a list per guardrail)."""
    found: list[Shape] = []
    for value in mapping(trace.get(member)).values():
        if isinstance(value, list):
            found.extend(map(mapping, value))
        else:
            found.append(mapping(value))
    return found


def summarize_trace(trace: Shape, *, content: bool) -> list[str]:
    """A GuardrailTraceAssessment as lines: what acted on the input, then on the output, and
    (``content`` only) the model output the guardrail assessed."""
    lines: list[str] = []
    for stage, member in (("input", "inputAssessment"), ("output", "outputAssessments")):
        phrases = [p for a in assessments(trace, member) for p in acted(a, content=content)]
        if phrases:
            lines.append(f"{stage}: {'; '.join(phrases)}")
    if content:
        lines.extend(f"model output: {str(o)!r}" for o in items(trace, "modelOutput"))
    return lines


def report_guardrail(guardrail: Guardrail, stop_reason: str | None, trace: Shape) -> None:
    """Log (INFO) what the guardrail did on one call: when it intervened, or when its trace
    shows a policy acting (a masked entity, say) on an answer that went through."""
    lines = summarize_trace(trace, content=guardrail.trace == "enabled_full")
    intervened = stop_reason == INTERVENED
    if not intervened and not lines:
        return
    what = "intervened" if intervened else "acted"
    where = f"guardrail {guardrail.identifier} version {guardrail.version} {what}"
    if not lines:
        reason = "no trace asked for" if guardrail.trace == "disabled" else "no policy in the trace"
        lines = [f"({reason})"]
    logger.info("%s: %s", where, " | ".join(lines))


def guardrail_trace(container: Mapping[str, object]) -> Shape:
    """The ``trace.guardrail`` member of a Converse response or a metadata event (empty when
    absent)."""
    return field(field(container, "trace"), "guardrail")
