"""A system prompt's tokens, by Bedrock's CountTokens: what the system prompt adds to a turn.

CountTokens counts a Converse input (``messages``, ``system``, ``toolConfig``; botocore's
``ConverseTokensRequest``). AWS's reference marks ``messages`` optional, but whether a model
counts a system prompt with no conversation at all is not confirmed (Anthropic's own token
counting requires a message), so the system prompt is counted as the difference between two
counts of one short user turn (:data:`PROBE`): with the system prompt, and without it. That
difference is what the system prompt costs in a request, including whatever framing the model
puts around it. CountTokens takes the foundation model's id, never an inference profile's
(:func:`fmgate.bedrock.converse.count_input_tokens` maps it).
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from fmgate.bedrock.client import BedrockRuntimeClient
from fmgate.bedrock.converse import count_input_tokens
from fmgate.core.model_request import ChatMessage, ChatRequest, TextBlock

#: The user turn a system prompt is counted against.
PROBE = ChatMessage("user", (TextBlock("Hello"),))


async def count_system_tokens(
    client: BedrockRuntimeClient, model_id: str, system: Sequence[str]
) -> int:
    """The tokens ``system`` (the system prompt's text blocks, in order) adds to a request on
    ``model_id``; two CountTokens calls, made together. Raises the gateway errors
    CountTokens' failures map to."""
    with_system = ChatRequest(model_id=model_id, messages=(PROBE,), system=tuple(system))
    without = ChatRequest(model_id=model_id, messages=(PROBE,))
    counted, probe = await asyncio.gather(
        count_input_tokens(client, with_system), count_input_tokens(client, without)
    )
    return max(0, counted - probe)
