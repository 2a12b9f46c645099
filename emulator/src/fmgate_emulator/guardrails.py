"""Bedrock Guardrails as the emulator models them: the configured guardrails and their two
policies, a request's ``guardrailConfig`` resolved against them, and what they find.

A guardrail (:class:`GuardrailSpec`) has an id, the versions that exist (``DRAFT`` and numbered
ones), the messages Bedrock answers with when it blocks input (``blocked_input_messaging``) or
output (``blocked_outputs_messaging``), a denied-words policy (:class:`WordRule`: a word or
phrase, matched as whole words, case-insensitively) and a denied-topics policy
(:class:`TopicRule`: a topic name and the phrases that stand for it, since the emulator cannot
understand a topic's definition). Each rule applies to input, output or both, as Bedrock's
``inputEnabled`` / ``outputEnabled`` do.

Refused as Bedrock refuses (ValidationException, 400; both messages as captured from Bedrock):
an identifier no configured guardrail has ("The provided guardrail identifier is invalid."), a
version the guardrail does not have ("The guardrail identifier or version provided in the
request does not exist."), and a ``trace`` or ``streamProcessingMode`` outside its enum.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from fmgate_emulator.errors import validation

INVALID_IDENTIFIER = "The provided guardrail identifier is invalid."
NO_SUCH_VERSION = "The guardrail identifier or version provided in the request does not exist."
#: GuardrailTrace and GuardrailStreamProcessingMode (botocore's bedrock-runtime model).
TRACE_VALUES = ("enabled", "disabled", "enabled_full")
STREAM_MODES = ("sync", "async")
#: ``arn:aws:bedrock:<region>:<account>:guardrail/<id>`` (GuardrailIdentifier's pattern).
GUARDRAIL_ARN = re.compile(
    r"arn:aws(-[^:]+)?:bedrock:[a-z0-9-]{1,20}:[0-9]{12}:guardrail/([a-z0-9]+)"
)
#: Characters in one guardrail text unit (Bedrock bills and reports policy units per 1,000).
CHARACTERS_PER_UNIT = 1000

Stage = Literal["input", "output"]


@dataclass(frozen=True, slots=True)
class WordRule:
    """A denied word or phrase."""

    text: str
    input: bool = True
    output: bool = True

    def applies(self, stage: Stage) -> bool:
        return self.input if stage == "input" else self.output


@dataclass(frozen=True, slots=True)
class TopicRule:
    """A denied topic: its name, and the phrases that stand for it in a text."""

    name: str
    phrases: tuple[str, ...]
    input: bool = True
    output: bool = True

    def applies(self, stage: Stage) -> bool:
        return self.input if stage == "input" else self.output


@dataclass(frozen=True, slots=True)
class GuardrailSpec:
    """One guardrail as configured in the emulator."""

    guardrail_id: str
    versions: frozenset[str]
    blocked_input_messaging: str
    blocked_outputs_messaging: str
    words: tuple[WordRule, ...] = ()
    topics: tuple[TopicRule, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {
            "guardrail_id": self.guardrail_id,
            "versions": sorted(self.versions),
            "blocked_input_messaging": self.blocked_input_messaging,
            "blocked_outputs_messaging": self.blocked_outputs_messaging,
            "words": [{"text": w.text, "input": w.input, "output": w.output} for w in self.words],
            "topics": [
                {"name": t.name, "phrases": list(t.phrases), "input": t.input, "output": t.output}
                for t in self.topics
            ],
        }


def parse_guardrail_spec(guardrail_id: str, body: Mapping[str, Any]) -> GuardrailSpec:
    """A guardrail from the control API's JSON; ``ValueError`` names what is wrong."""
    if re.fullmatch(r"[a-z0-9]+", guardrail_id) is None:
        raise ValueError("a guardrail id is lowercase letters and digits")
    unknown = set(body) - {
        "versions",
        "blocked_input_messaging",
        "blocked_outputs_messaging",
        "words",
        "topics",
    }
    if unknown:
        raise ValueError(f"unknown guardrail fields: {sorted(unknown)}")
    versions = frozenset(str(v) for v in body.get("versions", ["DRAFT"]))
    if not versions or any(re.fullmatch(r"[1-9][0-9]{0,7}|DRAFT", v) is None for v in versions):
        raise ValueError("versions are DRAFT or numbers from 1")
    words = tuple(
        WordRule(str(w["text"]), bool(w.get("input", True)), bool(w.get("output", True)))
        for w in body.get("words", [])
    )
    topics = tuple(
        TopicRule(
            str(t["name"]),
            tuple(str(p) for p in t["phrases"]),
            bool(t.get("input", True)),
            bool(t.get("output", True)),
        )
        for t in body.get("topics", [])
    )
    return GuardrailSpec(
        guardrail_id=guardrail_id,
        versions=versions,
        blocked_input_messaging=str(body.get("blocked_input_messaging", BLOCKED_INPUT)),
        blocked_outputs_messaging=str(body.get("blocked_outputs_messaging", BLOCKED_OUTPUT)),
        words=words,
        topics=topics,
    )


#: Bedrock's console defaults for a new guardrail's blocked messages.
BLOCKED_INPUT = "Sorry, the model cannot answer this question."
BLOCKED_OUTPUT = "Sorry, the model cannot answer this question."

#: The guardrail every emulator starts with (tests and the embedded emulator use it).
DEFAULT_GUARDRAIL = GuardrailSpec(
    guardrail_id="fmgateemu01",
    versions=frozenset({"DRAFT", "1"}),
    blocked_input_messaging="Sorry, I can't help with that request (blocked by a guardrail).",
    blocked_outputs_messaging="Sorry, I can't share that answer (blocked by a guardrail).",
    words=(WordRule("plutonium"), WordRule("swordfish", input=False)),
    topics=(TopicRule("Investment advice", ("investment advice", "stock tips")),),
)
DEFAULT_GUARDRAILS: tuple[GuardrailSpec, ...] = (DEFAULT_GUARDRAIL,)


@dataclass(slots=True)
class GuardrailBook:
    """The guardrails that exist (``/_emulator/guardrails``); :meth:`reset` restores the
    defaults."""

    guardrails: dict[str, GuardrailSpec] = field(
        default_factory=lambda: {g.guardrail_id: g for g in DEFAULT_GUARDRAILS}
    )

    def put(self, spec: GuardrailSpec) -> None:
        self.guardrails[spec.guardrail_id] = spec

    def delete(self, guardrail_id: str) -> bool:
        return self.guardrails.pop(guardrail_id, None) is not None

    def reset(self) -> None:
        self.guardrails = {g.guardrail_id: g for g in DEFAULT_GUARDRAILS}

    def resolve(self, identifier: str, version: str) -> GuardrailSpec:
        """The guardrail an identifier (id or ARN) and version name, or Bedrock's refusal."""
        arn = GUARDRAIL_ARN.fullmatch(identifier)
        spec = self.guardrails.get(arn.group(2) if arn else identifier)
        if spec is None:
            raise validation(INVALID_IDENTIFIER)
        if version not in spec.versions:
            raise validation(NO_SUCH_VERSION)
        return spec


@dataclass(frozen=True, slots=True)
class GuardrailCall:
    """A request's guardrail: which one, the identifier as sent, and how it was asked to run."""

    spec: GuardrailSpec
    identifier: str
    version: str
    trace: str
    #: ``sync`` or ``async`` (ConverseStream only; Converse always assesses the whole answer).
    stream_mode: str

    @property
    def traced(self) -> bool:
        return self.trace in ("enabled", "enabled_full")

    @property
    def full_trace(self) -> bool:
        return self.trace == "enabled_full"


def enum_error(value: Any, member: str, values: Iterable[str]) -> str:
    """The service's constraint message for an enum member."""
    allowed = ", ".join(values)
    return (
        f"1 validation error detected: Value '{value}' at 'guardrailConfig.{member}' failed to "
        f"satisfy constraint: Member must satisfy enum value set: [{allowed}]"
    )


def parse_guardrail_config(raw: Any, book: GuardrailBook) -> GuardrailCall | None:
    """The request's ``guardrailConfig`` (None without one), resolved against ``book``."""
    if raw is None:
        return None
    if not isinstance(raw, dict):
        raise validation("guardrailConfig must be an object.")
    identifier = raw.get("guardrailIdentifier")
    if not isinstance(identifier, str) or not identifier:
        raise validation(INVALID_IDENTIFIER)
    version = raw.get("guardrailVersion")
    trace = raw.get("trace", "disabled")
    if trace not in TRACE_VALUES:
        raise validation(enum_error(trace, "trace", TRACE_VALUES))
    mode = raw.get("streamProcessingMode", "sync")
    if mode not in STREAM_MODES:
        raise validation(enum_error(mode, "streamProcessingMode", STREAM_MODES))
    spec = book.resolve(identifier, version if isinstance(version, str) else "")
    return GuardrailCall(spec, identifier, str(version), str(trace), str(mode))


# ---------------------------------------------------------------------------------------------
# What a guardrail reads, and what it finds


def guard_content_text(block: Mapping[str, Any]) -> str | None:
    """The text of a ``guardContent`` block (its ``text`` member), else None."""
    guarded = block.get("guardContent")
    if not isinstance(guarded, dict):
        return None
    text = guarded.get("text")
    return str(text.get("text", "")) if isinstance(text, dict) else None


def assessed_input(system: list[dict[str, Any]], messages: list[dict[str, Any]]) -> list[str]:
    """The texts an input assessment reads: only the ``guardContent`` blocks when the request
    has any (selective guarding), else every text block of the system prompt and the messages.
    Tool results and tool definitions are never assessed (as on Bedrock)."""
    blocks = [*system, *(block for m in messages for block in m.get("content", []))]
    guarded = [text for b in blocks if (text := guard_content_text(b)) is not None]
    if any("guardContent" in b for b in blocks):
        return guarded
    return [str(b["text"]) for b in blocks if "text" in b]


@dataclass(frozen=True, slots=True)
class Finding:
    """One rule a text matched: its policy, its name (topic) or word, where the match ends."""

    policy: Literal["topic", "word"]
    name: str
    end: int


def phrase_pattern(phrase: str) -> re.Pattern[str]:
    return re.compile(rf"(?<!\w){re.escape(phrase)}(?!\w)", re.IGNORECASE)


def find_rules(spec: GuardrailSpec, text: str, stage: Stage) -> list[Finding]:
    """Every rule of ``spec`` for ``stage`` that ``text`` matches, with the end of its first
    match, in the order they occur."""
    found: list[Finding] = []
    for word in spec.words:
        if word.applies(stage) and (hit := phrase_pattern(word.text).search(text)):
            found.append(Finding("word", word.text, hit.end()))
    for topic in spec.topics:
        if not topic.applies(stage):
            continue
        ends = [hit.end() for p in topic.phrases if (hit := phrase_pattern(p).search(text))]
        if ends:
            found.append(Finding("topic", topic.name, min(ends)))
    return sorted(found, key=lambda finding: finding.end)


# ---------------------------------------------------------------------------------------------
# The trace (GuardrailTraceAssessment)


def units(characters: int) -> int:
    return math.ceil(characters / CHARACTERS_PER_UNIT) if characters else 0


def assessment(
    call: GuardrailCall, stage: Stage, findings: list[Finding], characters: int
) -> dict[str, Any]:
    """One GuardrailAssessment: the policies that found something (``enabled``), or every rule
    of the stage with ``detected`` true or false (``enabled_full``), and invocation metrics."""
    spec = call.spec
    named = {(f.policy, f.name) for f in findings}
    result: dict[str, Any] = {}
    topics = [
        {
            "name": t.name,
            "type": "DENY",
            "action": "BLOCKED" if ("topic", t.name) in named else "NONE",
            "detected": ("topic", t.name) in named,
        }
        for t in spec.topics
        if t.applies(stage) and (call.full_trace or ("topic", t.name) in named)
    ]
    words = [
        {
            "match": w.text,
            "action": "BLOCKED" if ("word", w.text) in named else "NONE",
            "detected": ("word", w.text) in named,
        }
        for w in spec.words
        if w.applies(stage) and (call.full_trace or ("word", w.text) in named)
    ]
    if topics:
        result["topicPolicy"] = {"topics": topics}
    if words:
        result["wordPolicy"] = {"customWords": words, "managedWordLists": []}
    topic_units = units(characters) if spec.topics else 0
    result["invocationMetrics"] = {
        "guardrailProcessingLatency": 1,
        "usage": {
            "topicPolicyUnits": topic_units,
            "contentPolicyUnits": 0,
            "wordPolicyUnits": units(characters) if spec.words else 0,
            "sensitiveInformationPolicyUnits": 0,
            "sensitiveInformationPolicyFreeUnits": 0,
            "contextualGroundingPolicyUnits": 0,
        },
        "guardrailCoverage": {"textCharacters": {"guarded": characters, "total": characters}},
    }
    return result


@dataclass(frozen=True, slots=True)
class Verdict:
    """What a guardrail made of one request: the findings on input and output, and the texts
    they were made on."""

    call: GuardrailCall
    input_findings: list[Finding]
    input_characters: int
    output_findings: list[Finding] = field(default_factory=list)
    output_characters: int = 0
    #: The model's output the guardrail assessed (the trace's ``modelOutput``).
    model_output: str | None = None

    @property
    def input_blocked(self) -> bool:
        return bool(self.input_findings)

    @property
    def output_blocked(self) -> bool:
        return bool(self.output_findings)

    def trace(self) -> dict[str, Any] | None:
        """The response's / metadata event's ``trace`` member (None unless traced)."""
        call = self.call
        if not call.traced:
            return None
        guardrail: dict[str, Any] = {
            "inputAssessment": {
                call.identifier: assessment(
                    call, "input", self.input_findings, self.input_characters
                )
            }
        }
        if self.model_output is not None:
            guardrail["outputAssessments"] = {
                call.identifier: [
                    assessment(call, "output", self.output_findings, self.output_characters)
                ]
            }
            if call.full_trace:
                guardrail["modelOutput"] = [self.model_output]
        if self.input_blocked or self.output_blocked:
            guardrail["actionReason"] = "Guardrail blocked."
        return {"guardrail": guardrail}


def assess_input(
    call: GuardrailCall, system: list[dict[str, Any]], messages: list[dict[str, Any]]
) -> Verdict:
    texts = assessed_input(system, messages)
    joined = "\n".join(texts)
    return Verdict(call, find_rules(call.spec, joined, "input"), len(joined))
