"""Who wrote each message of a multi-bot or multiplayer Poe chat, as the model is told.

Poe sends every message with its ``sender`` (``id``, ``name``) and the chat's ``users``. fmgate
asks Poe not to fold other bots' messages together (``enable_multi_entity_prompting: false``
in the bot's settings) and attributes them itself:

* this bot's own messages stay the model's (assistant) turns;
* another bot's message becomes a user-turn line ``[Name]: text``: never the model's words,
  never the user's;
* in a chat of several people, every person's message starts with ``[Name]: `` (a person
  without a name is "User 2", "User 3" ... in the order they first speak), so no one's words
  pass for another's;
* a message replying to another (``referenced_message``) starts with a short quote of it.

The model is told the convention once, in a system message, when a chat has other participants.
Names are cut to one short line without brackets, so a name cannot forge an attribution.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

import fastapi_poe as fp

#: What the model is told when a chat has other participants than the user and this bot.
CONVENTION = (
    "This chat has other participants. Their messages start with their name in brackets, "
    "like [Name]: ...; messages without a name are your own. Answer as yourself, without a "
    "name prefix."
)
#: Longest name shown, and longest quote of a message replied to (characters).
MAX_NAME_CHARS = 40
MAX_QUOTE_CHARS = 200
_UNSAFE_IN_NAME = re.compile(r"[\[\]\r\n\t]+")
_SPACES = re.compile(r"\s+")


def clean_name(name: str) -> str:
    """A name as one short line without brackets."""
    cleaned = _SPACES.sub(" ", _UNSAFE_IN_NAME.sub(" ", name)).strip()
    return cleaned[:MAX_NAME_CHARS].rstrip()


def quote(text: str) -> str:
    """A message replied to, as one short line."""
    flat = _SPACES.sub(" ", text).strip()
    return flat if len(flat) <= MAX_QUOTE_CHARS else flat[: MAX_QUOTE_CHARS - 1].rstrip() + "…"


class Participants:
    """One query's participants: which messages are this bot's, and everyone else's names."""

    __slots__ = ("_bot", "_labels", "_multiplayer", "_names", "_user_id")

    def __init__(self, query: fp.QueryRequest, bot: str) -> None:
        self._bot = bot.casefold()
        self._user_id = query.user_id
        self._names: Mapping[str, str] = {
            user.id: clean_name(user.name) for user in query.users if user.name
        }
        #: Unnamed people's labels, numbered as they first speak (the user is User 1).
        self._labels: dict[str, str] = {query.user_id: "User 1"}
        people = {user.id for user in query.users} | {
            m.sender.id for m in query.query if m.role == "user" and m.sender and m.sender.id
        }
        self._multiplayer = len(people | {query.user_id}) > 1

    def own(self, message: fp.ProtocolMessage) -> bool:
        """Whether ``message`` is this bot's (a bot message without a sender's name is)."""
        if message.role != "bot":
            return False
        name = message.sender.name if message.sender else None
        return name is None or name.casefold() == self._bot

    def others_present(self, query: fp.QueryRequest) -> bool:
        """Whether the chat has participants besides the user and this bot."""
        return self._multiplayer or any(m.role == "bot" and not self.own(m) for m in query.query)

    def label(self, message: fp.ProtocolMessage) -> str | None:
        """The ``[Name]`` a message is attributed with (None: the user in a one-person chat,
        this bot, system and tool messages)."""
        if message.role == "bot":
            if self.own(message):
                return None
            name = message.sender.name if message.sender and message.sender.name else "Bot"
            return clean_name(name) or "Bot"
        if message.role != "user" or not self._multiplayer:
            return None
        return self.person(message.sender)

    def person(self, sender: fp.Sender | None) -> str:
        person_id = sender.id if sender and sender.id else self._user_id
        name = clean_name(sender.name) if sender and sender.name else ""
        if name:
            return name
        if person_id in self._names:
            return self._names[person_id]
        return self._labels.setdefault(person_id, f"User {len(self._labels) + 1}")

    def attributed(self, message: fp.ProtocolMessage) -> str:
        """The message's text as the model reads it: its reply quote, its attribution."""
        text = message.content
        label = self.label(message)
        if label is not None:
            text = f"[{label}]: {text}"
        referenced = message.referenced_message
        if referenced is not None:
            who = "your message" if self.own(referenced) else self.referenced_label(referenced)
            text = f'(In reply to {who}: "{quote(referenced.content)}")\n{text}'
        return text

    def referenced_label(self, message: fp.ProtocolMessage) -> str:
        if message.role == "bot":
            return self.label(message) or "Bot"
        if message.role == "user":
            return self.person(message.sender) if self._multiplayer else "the user"
        return message.role
