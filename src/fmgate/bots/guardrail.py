"""A chat bot's guardrail on its requests: which guardrail, and which text it assesses.

With ``guard: last_user_turn`` the text blocks of the user's latest turn become guarded text
(Converse ``guardContent``): a request with guarded blocks has only those assessed, so a
conversation is not assessed (and billed for guardrail text units) again on every turn. Tool
results are never assessed (Bedrock's guardrail does not read them). With ``guard: all``
nothing is marked and the guardrail assesses the whole conversation.

With ``screen_attachments`` the text of the latest message's attachments is screened before the
model is called (:func:`screen_attachments`, ApplyGuardrail with source ``INPUT``): the expanded
text files as the model would get them, and Poe's extracted text of files sent as documents
(which the model reads itself). When the guardrail intervenes the request is answered with the
guardrail's blocked message and the model is not called. A screening that fails (throttled,
refused, too slow) fails the request: the files are not sent unscreened.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from fmgate.bedrock.apply_guardrail import screen_input
from fmgate.bedrock.client import BedrockRuntimeClient
from fmgate.config.guardrail import GuardrailSettings
from fmgate.core.model_request import ChatMessage, ChatRequest, Guardrail, TextBlock

#: What the user is shown when a guardrail blocked the attachments and Bedrock gave no text
#: in their place (its blocked message normally comes back).
BLOCKED_ATTACHMENTS = "The attached files were blocked by this bot's guardrail."


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


def screens_attachments(settings: GuardrailSettings | None) -> bool:
    """Whether the bot's guardrail screens attachments before the model sees them."""
    return settings is not None and settings.screen_attachments


async def screen_attachments(
    client: BedrockRuntimeClient, guardrail: Guardrail, texts: Sequence[str]
) -> str | None:
    """The guardrail's blocked message when it intervened on the attachments' ``texts``, else
    None."""
    screening = await screen_input(client, guardrail, texts, what="attachments")
    if not screening.intervened:
        return None
    return screening.replacement or BLOCKED_ATTACHMENTS
