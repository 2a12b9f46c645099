"""State Poe keeps for us: what the model exactly produced in one bot message, in its metadata.

A bot answer ends with a ``data`` event (``DataResponse``): Poe stores the last one with the
bot's message and hands it back as that message's ``metadata`` on later turns. fmgate stores
there the Converse turns the message stands for, so the history it sends Bedrock later is the
exact one, not Poe's rendering of it (the quoted "Thinking" section, notices):

* the model that answered (the bot's own or a fallback);
* each assistant turn: its signed (or redacted) reasoning, which extended thinking wants back
  with tool use; its text; its tool calls (ids, names, arguments);
* the tool results that answered a call, when the message spans a tool loop (fastapi_poe's
  client sends the follow-up of a tool call as the same message).

What comes back is data, never code: one compact JSON document checked against a strict schema
(:class:`MessageState`). It is ignored when it is missing, larger than :data:`MAX_STATE_CHARS`,
not JSON, of another shape or version, another bot's, or names a model that is not one of the
bot's targets (its own model or a fallback): then the message's text stands for it, as it does
for any message without state. The model it names chooses nothing: reasoning goes back only to
that same model (see :mod:`fmgate.bots.reasoning_replay`).
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Collection
from typing import Literal

import orjson
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from fmgate.core.bot_request import InputMessage
from fmgate.core.model_request import (
    ReasoningBlock,
    RedactedReasoningBlock,
    ReplayedReasoning,
    ToolResultBlock,
    ToolUseBlock,
)

#: The largest state kept or read, in characters of its JSON. Large enough for a tool loop with
#: its reasoning; a state that would be larger is stored without reasoning, then without text,
#: then not at all (see :func:`encode_state`). Poe sends every message's state back on every
#: turn, so the states of a long chat count towards the gateway's request size limit.
MAX_STATE_CHARS = 32_000
#: The format marker and version of the state fmgate writes.
STATE_VERSION = 1


class StrictPart(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Reasoning(StrictPart):
    """Signed reasoning: the text and the signature the model gave it."""

    text: str
    signature: str = Field(min_length=1)


class Redacted(StrictPart):
    """Redacted reasoning: the model's data, base64."""

    redacted: str = Field(min_length=1)


class ToolUse(StrictPart):
    id: str = Field(min_length=1, max_length=64)
    name: str = Field(min_length=1, max_length=64)
    input: dict[str, object]


class ToolResult(StrictPart):
    id: str = Field(min_length=1, max_length=64)
    text: str
    error: bool = False


class StateTurn(StrictPart):
    """One Converse turn of the message: the model's (assistant) or tool results (user)."""

    role: Literal["assistant", "user"]
    reasoning: tuple[Reasoning | Redacted, ...] = ()
    text: str = ""
    tool_uses: tuple[ToolUse, ...] = ()
    tool_results: tuple[ToolResult, ...] = ()


class MessageState(StrictPart):
    """What one bot message stands for, as stored in its ``metadata``."""

    #: The format marker and version (always written: it tells fmgate's state from others').
    fmgate: Literal[1]
    #: The bot that wrote it (a state is another bot's when this differs).
    bot: str
    #: The model that answered: the bot's own or a fallback; its reasoning goes back to it only.
    model: str
    turns: tuple[StateTurn, ...]


def encode_state(state: MessageState) -> str | None:
    """``state`` as metadata, within :data:`MAX_STATE_CHARS`: whole; else without reasoning;
    else without the texts too (the message's text stands in); else nothing."""
    smaller = (
        state,
        state.model_copy(update={"turns": tuple(without_reasoning(t) for t in state.turns)}),
        state.model_copy(
            update={"turns": tuple(without_text(without_reasoning(t)) for t in state.turns)}
        ),
    )
    for candidate in smaller:
        encoded = orjson.dumps(candidate.model_dump(exclude_defaults=True)).decode()
        if len(encoded) <= MAX_STATE_CHARS:
            return encoded
    return None


def without_reasoning(turn: StateTurn) -> StateTurn:
    return turn.model_copy(update={"reasoning": ()}) if turn.reasoning else turn


def without_text(turn: StateTurn) -> StateTurn:
    return turn.model_copy(update={"text": ""}) if turn.text else turn


def decode_state(metadata: str | None, bot: str, models: Collection[str]) -> MessageState | None:
    """The state in a message's ``metadata`` when it is this bot's, of a model in ``models``
    (the bot's targets), and well-formed; otherwise None."""
    if not metadata or len(metadata) > MAX_STATE_CHARS:
        return None
    try:
        state = MessageState.model_validate_json(metadata)
    except ValidationError:
        return None
    if state.bot != bot or state.model not in models:
        return None
    if not all(decodes(part) for turn in state.turns for part in turn.reasoning):
        return None
    return state


def decodes(part: Reasoning | Redacted) -> bool:
    if isinstance(part, Reasoning):
        return True
    try:
        base64.b64decode(part.redacted, validate=True)
    except binascii.Error:
        return False
    return True


def state_messages(state: MessageState, text: str) -> list[InputMessage]:
    """The neutral messages ``state`` stands for; ``text`` (the message as Poe shows it) for an
    assistant turn whose text was left out of the state."""
    messages: list[InputMessage] = []
    last_assistant = max(
        (i for i, t in enumerate(state.turns) if t.role == "assistant"), default=None
    )
    for index, turn in enumerate(state.turns):
        if turn.role == "user":
            results = tuple(
                ToolResultBlock(r.id, r.text, is_error=r.error) for r in turn.tool_results
            )
            messages.append(InputMessage("user", turn.text, tool_results=results))
            continue
        shown = turn.text or (text if index == last_assistant and not turn.tool_uses else "")
        messages.append(
            InputMessage(
                "assistant",
                shown,
                tool_uses=tuple(ToolUseBlock(u.id, u.name, dict(u.input)) for u in turn.tool_uses),
                reasoning=tuple(replayed(part, state.model) for part in turn.reasoning),
            )
        )
    return messages


def replayed(part: Reasoning | Redacted, model_id: str) -> ReplayedReasoning:
    if isinstance(part, Reasoning):
        return ReasoningBlock(part.text, part.signature, model_id)
    return RedactedReasoningBlock(base64.b64decode(part.redacted), model_id)


def state_turn(message: InputMessage) -> StateTurn:
    """A neutral message (an assistant turn or a tool results turn) as a state turn."""
    return StateTurn(
        role="user" if message.role == "user" else "assistant",
        reasoning=tuple(reasoning_part(block) for block in message.reasoning),
        text=message.text,
        tool_uses=tuple(
            ToolUse(id=u.tool_use_id, name=u.name, input=u.input) for u in message.tool_uses
        ),
        tool_results=tuple(
            ToolResult(id=r.tool_use_id, text=r.text, error=r.is_error)
            for r in message.tool_results
        ),
    )


def reasoning_part(block: ReplayedReasoning) -> Reasoning | Redacted:
    if isinstance(block, ReasoningBlock):
        return Reasoning(text=block.text, signature=block.signature)
    return Redacted(redacted=base64.b64encode(block.data).decode())
