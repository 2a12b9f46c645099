"""A chat bot's Bedrock guardrail (the ``guardrail`` section): content moderation on Converse.

::

    guardrail:
      id: gr1a2b3c4d5e          # or arn:aws:bedrock:<region>:<account>:guardrail/<id>
      version: 1               # or DRAFT
      trace: enabled           # enabled | enabled_full | disabled
      stream_processing_mode: sync   # sync | async (ConverseStream)
      guard: last_user_turn    # last_user_turn | all
      screen_attachments: false  # ApplyGuardrail on the text of the latest message's files

The guardrail itself (its policies, its blocked messages) is made in Bedrock; the catalog names
it. Both patterns are those of botocore's bedrock-runtime model (GuardrailIdentifier,
GuardrailVersion).
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BeforeValidator, Field

from fmgate.config.fields import StrictModel
from fmgate.core.model_request import GuardrailStreamMode, GuardrailTrace

#: A guardrail id, or a guardrail's ARN.
GUARDRAIL_ID_PATTERN = (
    r"^([a-z0-9]+|arn:aws(-[^:]+)?:bedrock:[a-z0-9-]{1,20}:[0-9]{12}:guardrail/[a-z0-9]+)$"
)
#: ``DRAFT``, or a version number from 1.
GUARDRAIL_VERSION_PATTERN = r"^([1-9][0-9]{0,7}|DRAFT)$"

#: What the guardrail assesses of the conversation.
GuardScope = Literal["last_user_turn", "all"]


def version_text(value: object) -> object:
    """``version: 1`` (a YAML number) as the string Bedrock takes; anything else unchanged."""
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return value


class GuardrailSettings(StrictModel):
    """A Bedrock guardrail every request of the bot runs under (Converse ``guardrailConfig``).

    When it intervenes (``stopReason: guardrail_intervened``) the user sees the guardrail's own
    blocked message, the request is recorded with outcome ``guardrail``, and what it found is
    logged (see ``trace``).
    """

    id: str = Field(
        pattern=GUARDRAIL_ID_PATTERN, description="The guardrail's id or ARN (made in Bedrock)."
    )
    version: Annotated[str, BeforeValidator(version_text)] = Field(
        pattern=GUARDRAIL_VERSION_PATTERN, description="DRAFT, or a version number."
    )
    trace: GuardrailTrace = Field(
        "enabled",
        description="Bedrock's trace of the guardrail: enabled (the policies that acted are "
        "logged, without what users wrote), enabled_full (every assessment; the log also "
        "quotes the matched words and the model output), disabled (only that it intervened).",
    )
    stream_processing_mode: GuardrailStreamMode = Field(
        "sync",
        description="Streaming answers: sync (each chunk is assessed before it is sent) or "
        "async (sent at once and assessed alongside: some text may show before an "
        "intervention).",
    )
    guard: GuardScope = Field(
        "last_user_turn",
        description="last_user_turn: only the user's latest turn is assessed as input "
        "(Converse guardContent; earlier turns were assessed when they were sent); all: the "
        "whole conversation, every turn.",
    )
    screen_attachments: bool = Field(
        False,
        description="Screen the text of the latest message's attachments (expanded text "
        "files, Poe's extracted text of documents) with ApplyGuardrail (source INPUT) before "
        "the model is called; when the guardrail intervenes the answer is its blocked "
        "message and the model is not called.",
    )
