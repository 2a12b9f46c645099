"""ApplyGuardrail: a bot's guardrail run on text before any model sees it (the text of a
message's attachments).

botocore's bedrock-runtime model: ``ApplyGuardrail`` takes ``guardrailIdentifier`` and
``guardrailVersion`` (in the path), ``source`` (``INPUT`` | ``OUTPUT``), ``content`` (a list of
``GuardrailContentBlock``: ``{"text": {"text": ...}}``) and ``outputScope`` (``INTERVENTIONS`` |
``FULL``); it answers ``action`` (``GUARDRAIL_INTERVENED`` | ``NONE``), ``outputs`` (the text in
place of the content: the guardrail's blocked message when it blocked), ``assessments`` (a list of
``GuardrailAssessment``, as in Converse's trace), ``usage``, ``guardrailCoverage`` and
``actionReason``. What acted is logged as for Converse (:mod:`fmgate.bedrock.guardrails`): the
policies by name, what users wrote only with ``trace: enabled_full`` (which also asks for the
``FULL`` scope).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass

from fmgate.bedrock.client import BedrockRuntimeClient
from fmgate.bedrock.errors import bedrock_errors
from fmgate.bedrock.guardrails import acted
from fmgate.bedrock.readers import Shape, items, mapping, optional_text, text
from fmgate.core.model_request import Guardrail
from fmgate.observability.overhead import upstream_call

logger = logging.getLogger("fmgate.guardrails")

#: The ``action`` by which ApplyGuardrail says the guardrail intervened.
INTERVENED = "GUARDRAIL_INTERVENED"


@dataclass(frozen=True, slots=True)
class Screening:
    """What a guardrail made of the screened text."""

    intervened: bool
    #: What Bedrock gives in place of the text (when it intervened: the blocked message).
    replacement: str = ""


def build_apply_guardrail_request(guardrail: Guardrail, texts: Sequence[str]) -> dict[str, object]:
    """The keyword arguments of ``apply_guardrail`` screening ``texts`` as input."""
    request: dict[str, object] = {
        "guardrailIdentifier": guardrail.identifier,
        "guardrailVersion": guardrail.version,
        "source": "INPUT",
        "content": [{"text": {"text": value}} for value in texts],
    }
    if guardrail.trace == "enabled_full":
        request["outputScope"] = "FULL"
    return request


def convert_apply_guardrail_response(response: Shape) -> Screening:
    """ApplyGuardrail's answer -> :class:`Screening` (the outputs' texts joined)."""
    outputs = "".join(optional_text(mapping(o), "text") or "" for o in items(response, "outputs"))
    return Screening(intervened=text(response, "action") == INTERVENED, replacement=outputs)


def report_screening(
    guardrail: Guardrail, what: str, response: Shape, screening: Screening
) -> None:
    """Log (INFO) what the guardrail did to ``what`` when it intervened or a policy acted."""
    content = guardrail.trace == "enabled_full"
    phrases = [
        p for a in map(mapping, items(response, "assessments")) for p in acted(a, content=content)
    ]
    if not screening.intervened and not phrases:
        return
    state = "intervened" if screening.intervened else "acted"
    where = f"guardrail {guardrail.identifier} version {guardrail.version} {state}"
    if guardrail.trace == "disabled" or not phrases:
        logger.info("%s: %s", where, what)
        return
    logger.info("%s: %s: %s", where, what, "; ".join(phrases))


async def screen_input(
    client: BedrockRuntimeClient, guardrail: Guardrail, texts: Sequence[str], *, what: str
) -> Screening:
    """``texts`` screened by ``guardrail`` as input (ApplyGuardrail); ``what`` names them in
    the log. Raises the gateway errors Bedrock's failures map to."""
    body = build_apply_guardrail_request(guardrail, texts)
    with bedrock_errors(), upstream_call():
        response = await client.apply_guardrail(**body)
    screening = convert_apply_guardrail_response(response)
    report_screening(guardrail, what, response, screening)
    return screening
