"""The prompt of a generation request: the last user message's text."""

from __future__ import annotations

from fmgate.core.bot_request import BotRequest
from fmgate.core.errors import InvalidRequest


def last_user_prompt(request: BotRequest, *, what: str) -> str:
    for message in reversed(request.messages):
        if message.role == "user":
            if message.text.strip():
                return message.text.strip()
            break
    raise InvalidRequest("empty prompt", user_message=f"Describe the {what} you want.")
