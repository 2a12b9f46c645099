"""What bots use to do their work, shared by every bot of a gateway."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from fmgate.bedrock.client import BedrockClients
from fmgate.bedrock.retry import RetryPolicy
from fmgate.conversation.attachments import AttachmentFetcher
from fmgate.errors import GatewayError

#: Called before each retry: (bot name, the error, attempt number, delay in seconds).
RetryListener = Callable[[str, GatewayError, int, float], None]


def ignore_retry(bot: str, error: GatewayError, attempt: int, delay: float) -> None:
    """The default retry listener."""


@dataclass(frozen=True, slots=True)
class BotServices:
    bedrock: BedrockClients
    attachments: AttachmentFetcher
    retry: RetryPolicy
    on_retry: RetryListener = ignore_retry
