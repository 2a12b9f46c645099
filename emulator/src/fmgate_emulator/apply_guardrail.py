"""ApplyGuardrail: a guardrail run on text alone, without a model
(``POST /guardrail/{guardrailIdentifier}/version/{guardrailVersion}/apply``).

The request (botocore's ``ApplyGuardrailRequest``): ``source`` (``INPUT`` | ``OUTPUT``),
``content`` (``GuardrailContentBlock``s: ``text.text``, or an ``image``), ``outputScope``
(``INTERVENTIONS``, the default, | ``FULL``). The guardrail is resolved as Converse's
``guardrailConfig`` is (:meth:`GuardrailBook.resolve`: an unknown id or version is refused with
the same ValidationException). The text blocks are assessed with the guardrail's policies for the
stage ``source`` names (the rules for input, or for output), as one text.

The response (``ApplyGuardrailResponse``): ``action`` ``GUARDRAIL_INTERVENED`` when a rule
matched, else ``NONE``; ``outputs`` the guardrail's blocked message for that stage when it
intervened (the blocked-input message for ``INPUT``), else none; ``assessments`` one
``GuardrailAssessment`` with the rules that matched (``FULL``: every rule of the stage, matched or
not) and its ``invocationMetrics``; ``usage`` the policy units; ``guardrailCoverage``;
``actionReason`` when it intervened.

Not confirmed: the exact messages for a bad ``source`` / ``outputScope`` (the emulator gives the
service's enum-constraint message) and for an empty ``content`` (refused here; Bedrock's answer
is not known), and whether Bedrock answers an unknown guardrail here with the Converse message
(``ValidationException``) or with the operation's ``ResourceNotFoundException``. Images are not
assessed (the emulator models no image content filter); they count no characters.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from fmgate_emulator.call import Call
from fmgate_emulator.errors import validation
from fmgate_emulator.guardrails import GuardrailCall, Stage, assessment, find_rules

SOURCES: dict[str, Stage] = {"INPUT": "input", "OUTPUT": "output"}
OUTPUT_SCOPES = ("INTERVENTIONS", "FULL")
#: ``actionReason`` when the guardrail intervened (as the Converse trace says it).
BLOCKED_REASON = "Guardrail blocked."
EMPTY_CONTENT = (
    "1 validation error detected: Value at 'content' failed to satisfy constraint: Member "
    "must have length greater than or equal to 1"
)


def enum_error(value: Any, member: str, values: tuple[str, ...]) -> str:
    allowed = ", ".join(values)
    return (
        f"1 validation error detected: Value '{value}' at '{member}' failed to satisfy "
        f"constraint: Member must satisfy enum value set: [{allowed}]"
    )


def content_texts(content: Any) -> list[str]:
    """The text of every text block of ``content`` (image blocks are not read)."""
    if not isinstance(content, list) or not content:
        raise validation(EMPTY_CONTENT)
    texts: list[str] = []
    for block in content:
        text = block.get("text") if isinstance(block, dict) else None
        if isinstance(text, dict) and isinstance(text.get("text"), str):
            texts.append(text["text"])
    return texts


async def apply_guardrail(call: Call) -> web.StreamResponse:
    body = call.json_object()
    source = body.get("source")
    if source not in SOURCES:
        raise validation(enum_error(source, "source", tuple(SOURCES)))
    scope = body.get("outputScope", "INTERVENTIONS")
    if scope not in OUTPUT_SCOPES:
        raise validation(enum_error(scope, "outputScope", OUTPUT_SCOPES))
    identifier = call.path_params["guardrail_id"]
    version = call.path_params["guardrail_version"]
    spec = call.state.guardrails.resolve(identifier, version)
    texts = content_texts(body.get("content"))
    stage = SOURCES[source]
    joined = "\n".join(texts)
    findings = find_rules(spec, joined, stage)
    trace = "enabled_full" if scope == "FULL" else "enabled"
    assessed = assessment(
        GuardrailCall(spec, identifier, version, trace, "sync"), stage, findings, len(joined)
    )
    metrics = assessed["invocationMetrics"]
    intervened = bool(findings)
    message = spec.blocked_input_messaging if stage == "input" else spec.blocked_outputs_messaging
    answer: dict[str, Any] = {
        "usage": metrics["usage"],
        "action": "GUARDRAIL_INTERVENED" if intervened else "NONE",
        "outputs": [{"text": message}] if intervened else [],
        "assessments": [assessed],
        "guardrailCoverage": metrics["guardrailCoverage"],
    }
    if intervened:
        answer["actionReason"] = BLOCKED_REASON
    return web.json_response(answer)
