"""The system prompt a chat answer was made with, as accounting needs it for the billing split.

A chat bot reports it once per answer, after the first output
(:class:`~fmgate.core.events.SystemPrompt`), and asks for its token count then
(:class:`~fmgate.accounting.system_prompt_counts.SystemPromptCounts`), so counting never delays
the first token. The split is known when:

- the request had no system prompt (none of its input was one), on any model;
- or the answering model counts tokens (the model table's ``count_tokens``: Bedrock's
  CountTokens answers for it) and is the bot's own model (a fallback to another model is not
  known to count).

A bot whose model takes no system messages has its system prompt folded into the first user
turn (:mod:`fmgate.bots.turns`): it reports nothing, and its split stays unknown.
"""

from __future__ import annotations

import hashlib
import json

from fmgate.bedrock.model_ids import foundation_model_id
from fmgate.config.bot_config import ChatBotConfig
from fmgate.core.events import SystemPrompt
from fmgate.core.model_request import ChatRequest


def system_texts(chat: ChatRequest) -> tuple[str, ...]:
    """The system prompt's text blocks, in order (checkpoints left out)."""
    return tuple(block for block in chat.system if isinstance(block, str))


def system_digest(texts: tuple[str, ...]) -> str:
    """SHA-256 of the system prompt's text blocks (a block boundary is part of it)."""
    return hashlib.sha256(json.dumps(texts).encode()).hexdigest()


def answered_system_prompt(
    config: ChatBotConfig, chat: ChatRequest, answering_model_id: str
) -> SystemPrompt | None:
    """What the answer of ``answering_model_id`` to ``chat`` reports, or None when its split
    cannot be known."""
    if not config.supports_system_messages:
        return None
    model_id = foundation_model_id(answering_model_id)
    texts = system_texts(chat)
    if not texts:
        return SystemPrompt(model_id, None)
    if not config.count_tokens or model_id != foundation_model_id(config.model_id):
        return None
    return SystemPrompt(model_id, system_digest(texts))
