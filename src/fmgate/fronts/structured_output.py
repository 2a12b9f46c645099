"""How a compatible API tells its caller the way structured output was delivered.

``X-Structured-Output: native`` (Bedrock constrained the answer to the schema) or ``instructed``
(the model was asked for JSON in its system prompt, and the answer may not follow the schema);
``X-Strict-Tools: enforced`` or ``not-enforced`` for a request with strict tools. Neither header
is sent for a request that asks for neither. See :mod:`fmgate.bots.structured_output`.
"""

from __future__ import annotations

from collections.abc import Mapping

from fmgate.bots.structured_output import output_delivery, strict_tools_enforced
from fmgate.config.bot_config import BotConfig, ChatBotConfig
from fmgate.core.bot_request import BotRequest

STRUCTURED_OUTPUT_HEADER = "X-Structured-Output"
STRICT_TOOLS_HEADER = "X-Strict-Tools"


def structured_output_headers(request: BotRequest, config: BotConfig) -> Mapping[str, str]:
    """The headers for ``request`` on a bot of ``config`` (none for other kinds of bots)."""
    if not isinstance(config, ChatBotConfig):
        return {}
    headers: dict[str, str] = {}
    delivery = output_delivery(request, config)
    if delivery is not None:
        headers[STRUCTURED_OUTPUT_HEADER] = delivery
    enforced = strict_tools_enforced(request, config)
    if enforced is not None:
        headers[STRICT_TOOLS_HEADER] = "enforced" if enforced else "not-enforced"
    return headers
