"""A caller's citation requests, checked against the bot before Bedrock sees them.

A caller of ``/v1/messages`` says per document whether the model is to cite it (Anthropic's
``citations.enabled``); other callers leave it to the bot's ``citations`` setting. Refused, for
every front, with a message naming the bot: citations asked of a bot whose ``citations`` is off
(its model may not cite: the model table decides what an operator can turn on), and citations
on some documents of a request but not on others (Anthropic's rule: "all or none of the
documents within a request").
"""

from __future__ import annotations

from fmgate.config.bot_config import ChatBotConfig
from fmgate.core.bot_request import BotRequest
from fmgate.core.errors import InvalidRequest


def check_citations(request: BotRequest, config: ChatBotConfig) -> None:
    """Refuse the citation requests the bot cannot honour (see the module docstring)."""
    asked = {
        attachment.citations
        for message in request.messages
        for attachment in message.attachments
        if attachment.citations is not None
    }
    if True in asked and not config.citations:
        raise InvalidRequest(
            "citations asked of a bot without citations",
            user_message=f"Model {config.bot_name} does not cite documents: citations are off "
            "for it.",
        )
    if asked == {True, False}:
        raise InvalidRequest(
            "citations on some documents only",
            user_message="Citations must be enabled on all or none of the documents of a request.",
        )
