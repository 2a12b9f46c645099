"""A chat bot's guardrail on its requests: which guardrail, and which text it assesses.

With ``guard: last_user_turn`` the text blocks of the user's latest turn become guarded text
(Converse ``guardContent``): a request with guarded blocks has only those assessed, so a
conversation is not assessed (and billed for guardrail text units) again on every turn. Tool
results are never assessed (Bedrock's guardrail does not read them). With ``guard: all``
nothing is marked and the guardrail assesses the whole conversation.
"""

from __future__ import annotations

from dataclasses import replace

from fmgate.config.guardrail import GuardrailSettings
from fmgate.core.model_request import ChatMessage, ChatRequest, Guardrail, TextBlock


def request_guardrail(settings: GuardrailSettings | None) -> Guardrail | None:
    """The guardrail a bot's requests carry (None: the bot has none)."""
    if settings is None:
        return None
    return Guardrail(
        identifier=settings.id,
        version=settings.version,
        trace=settings.trace,
        stream_mode=settings.stream_processing_mode,
    )


def guarded_message(message: ChatMessage) -> ChatMessage:
    """``message`` with every text block guarded."""
    content = tuple(
        replace(block, guarded=True) if isinstance(block, TextBlock) else block
        for block in message.content
    )
    return ChatMessage(message.role, content)


def guard_request(chat: ChatRequest, settings: GuardrailSettings | None) -> ChatRequest:
    """``chat`` as the bot's guardrail is to assess it: its last (user) turn guarded when the
    guardrail assesses only that turn; unchanged otherwise."""
    if settings is None or settings.guard != "last_user_turn" or not chat.messages:
        return chat
    *earlier, last = chat.messages
    return replace(chat, messages=(*earlier, guarded_message(last)))
