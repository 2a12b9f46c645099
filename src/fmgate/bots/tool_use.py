"""A chat bot's tools as its model takes them (the catalog's ``tool_use``, from the model table).

* ``streaming``: tools go to ConverseStream like any request.
* ``whole``: ConverseStream refuses tools for the model, so a streaming bot asks Converse (the
  whole answer at once) for a turn that offers tools.
* ``none``: Bedrock refuses ``toolConfig`` for the model. The bot answers without the tools and
  says so; tool calls and results already in the conversation reach the model as text (tool
  blocks need ``toolConfig``).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import replace

from fmgate.config.bot_config import ChatBotConfig
from fmgate.core.bot_request import BotRequest, InputMessage
from fmgate.core.model_request import ChatRequest

#: What users are told (once per answer) when a bot's model cannot use the tools offered.
NO_TOOLS_NOTICE = "This bot's model cannot use tools, so it answered without them."


def carries_tools(request: BotRequest) -> bool:
    """Whether the request offers tools or its conversation holds tool calls or results."""
    return bool(request.tools) or any(m.tool_uses or m.tool_results for m in request.messages)


def without_tools(request: BotRequest) -> BotRequest:
    """``request`` for a model without tool use: nothing offered, tool blocks turned into text."""
    names = {use.tool_use_id: use.name for m in request.messages for use in m.tool_uses}
    return replace(
        request,
        messages=tuple(tool_blocks_as_text(m, names) for m in request.messages),
        tools=(),
        tool_choice="auto",
        tool_cache_points=(),
    )


def tool_blocks_as_text(message: InputMessage, names: Mapping[str, str]) -> InputMessage:
    """A message whose tool results (before its text) and tool calls (after it) are text."""
    if not message.tool_uses and not message.tool_results:
        return message
    results = [
        f"[Result of tool {names.get(r.tool_use_id, r.tool_use_id)}"
        f"{' (failed)' if r.is_error else ''}: {r.text}]"
        for r in message.tool_results
    ]
    calls = [
        f"[Called tool {u.name} with {json.dumps(u.input, ensure_ascii=False)}]"
        for u in message.tool_uses
    ]
    text = "\n\n".join(part for part in (*results, message.text, *calls) if part)
    return replace(message, text=text, tool_uses=(), tool_results=())


def streams(config: ChatBotConfig, chat: ChatRequest) -> bool:
    """Whether the call goes to ConverseStream: a streaming bot, unless its model takes tools in
    Converse only and this turn offers some."""
    return config.streaming and not (chat.tools and config.tool_use == "whole")
