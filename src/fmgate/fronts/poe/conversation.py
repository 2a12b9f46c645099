"""A Poe query as the neutral request every bot takes.

The query's messages, oldest first: ``user`` -> user, ``bot`` -> assistant, ``system`` ->
system, ``tool`` (a tool's output shown in the chat, with no call id to pair it) -> a user turn
introducing it as tool output. A bot message carrying this bot's state in its ``metadata``
(:mod:`fmgate.fronts.poe.message_state`) stands for the exact turns the state holds instead of
its rendered text. A follow-up of a tool call (``tool_calls`` and ``tool_results``) adds the
tool-calling turn and the results turn last: the calling turn is the state's own when the last
bot message's state ends with those very calls (so its signed reasoning goes back with it),
else it is made from ``tool_calls``; results of calls found in neither are read as text. Tool
calls that nothing answers are left out (Bedrock wants every call answered in the next turn). In
a chat with other bots or other people, each message is attributed to its writer
(:mod:`fmgate.fronts.poe.participants`).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass, replace

import fastapi_poe as fp

from fmgate.bots.tool_use import tool_blocks_as_text
from fmgate.core.bot_request import Attachment, BotRequest, InputMessage, Role
from fmgate.fronts.poe.message_state import (
    MessageState,
    StateTurn,
    decode_state,
    state_messages,
    state_turn,
)
from fmgate.fronts.poe.participants import CONVENTION, Participants
from fmgate.fronts.poe.tools import failed_tool_calls, tool_specs, tool_turns

#: Poe roles -> neutral roles.
ROLE_MAP: Mapping[str, Role] = {
    "user": "user",
    "bot": "assistant",
    "system": "system",
    "tool": "user",
}
#: How a ``tool`` message's text is introduced to the model.
TOOL_MESSAGE_PREFIX = "[Tool output]: "


@dataclass(frozen=True, slots=True)
class PoeConversation:
    """The neutral request, and what the answer's own state starts with."""

    request: BotRequest
    #: Turns this answer continues (a tool call's follow-up: the calling turn, the results).
    carried: tuple[StateTurn, ...] = ()
    #: The model whose reasoning the carried turns hold (None: no state's).
    carried_model: str | None = None


@dataclass(frozen=True, slots=True)
class BotIdentity:
    """Whose states a query's metadata may hold: the bot's name and its targets' model ids."""

    name: str
    models: Collection[str]


def read_conversation(
    query: fp.QueryRequest,
    request_id: str,
    data: Mapping[str, object] | None = None,
    bot: BotIdentity | None = None,
) -> PoeConversation:
    """Translate a Poe query (``data``: its body, for what fastapi_poe's types drop; ``bot``:
    whose message states to read, none without it) into the neutral request."""
    body = data or {}
    participants = Participants(query, bot.name) if bot else None
    messages: list[InputMessage] = []
    if participants is not None and participants.others_present(query):
        messages.append(InputMessage("system", CONVENTION))
    last_state: MessageState | None = None
    for message in query.query:
        state = (
            decode_state(message.metadata, bot.name, bot.models)
            if bot is not None and message.role == "bot"
            else None
        )
        if state is not None:
            messages.extend(state_messages(state, message.content))
            last_state = state
            continue
        last_state = None
        messages.append(plain_message(message, participants))
    carried: tuple[StateTurn, ...] = ()
    carried_model: str | None = None
    follow_up = tool_turns(query, failed_tool_calls(body))
    if follow_up:
        calling, answers = follow_up
        called = calls_of(calling) or frozenset(r.tool_use_id for r in answers.tool_results)
        if last_state is not None and called and calls_of(messages[-1]) == called:
            calling = messages.pop()  # the state's own turn, with its reasoning
            carried_model = last_state.model
        if calling.tool_uses:
            messages.extend((calling, answers))
            carried = (state_turn(calling), state_turn(answers))
        else:  # results of calls nowhere in sight: the model reads them as text
            messages.append(tool_blocks_as_text(answers, {}))
    last_user = next((m for m in reversed(query.query) if m.role == "user"), None)
    request = BotRequest(
        request_id=request_id,
        messages=tuple(answered_calls_only(messages)),
        user_id=query.user_id,
        conversation_id=query.conversation_id,
        temperature=query.temperature,
        stop_sequences=tuple(query.stop_sequences),
        parameters=dict(last_user.parameters) if last_user is not None else {},
        tools=tool_specs(query, body),
    )
    return PoeConversation(request, carried, carried_model)


def plain_message(
    message: fp.ProtocolMessage, participants: Participants | None = None
) -> InputMessage:
    """A message as Poe shows it, its text and attachments; attributed to its writer when
    ``participants`` is given (another bot's message is then a user turn)."""
    role = ROLE_MAP[message.role]
    text = message.content
    if participants is not None:
        text = participants.attributed(message)
        if message.role == "bot" and not participants.own(message):
            role = "user"
    if message.role == "tool":
        text = TOOL_MESSAGE_PREFIX + text
    return InputMessage(
        role=role,
        text=text,
        attachments=tuple(
            Attachment(
                name=a.name,
                content_type=a.content_type,
                url=a.url,
                parsed_content=a.parsed_content,
            )
            for a in message.attachments
        ),
    )


def calls_of(message: InputMessage) -> frozenset[str]:
    return frozenset(use.tool_use_id for use in message.tool_uses)


def answered_calls_only(messages: list[InputMessage]) -> list[InputMessage]:
    """``messages`` with each assistant turn's tool calls (and the reasoning that led to them)
    left out unless the next turn answers every one of them."""
    kept: list[InputMessage] = []
    for index, message in enumerate(messages):
        following = messages[index + 1] if index + 1 < len(messages) else None
        answered = (
            frozenset(r.tool_use_id for r in following.tool_results) if following else frozenset()
        )
        if message.tool_uses and not calls_of(message) <= answered:
            message = replace(message, tool_uses=(), reasoning=())
        kept.append(message)
    return kept
