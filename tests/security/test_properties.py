"""Property-based tests of the Poe request translation, on the real parse and chat bot code.

Any body either is refused with :class:`BadPoeRequest`, or becomes a :class:`BotRequest` that
the chat bot turns into valid Converse turns (or refuses with :class:`InvalidRequest` when
there is nothing to answer) -- never any other exception.
"""

from __future__ import annotations

import itertools

import pytest
from hypothesis import HealthCheck, given, settings

from fmgate.bots.chat import ChatBot
from fmgate.config.bot_config import ChatBotConfig
from fmgate.config.gateway_settings import RequestLimits
from fmgate.core.errors import RequestRejected
from fmgate.core.model_request import TextBlock
from fmgate.fronts.poe.conversation import read_conversation
from fmgate.fronts.poe.parse import BadPoeRequest, nesting_depth, parse_query
from fmgate.server.gateway import Gateway
from tests.security.strategies import any_bodies, json_values, query_bodies

LIMITS = RequestLimits(max_messages=6, max_message_chars=1000, max_attachments=5)
PROPERTY_SETTINGS = settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@pytest.fixture
def chat_bots(gateway: Gateway) -> dict[str, tuple[ChatBot, ChatBotConfig]]:
    """The test catalog's chat bots with and without system-prompt support (no secrets in
    their reprs, which hypothesis prints for a failing example)."""
    bots = {}
    for name in ("nova-lite", "mistral-7b"):
        deployed = gateway.registry.get(name)
        assert deployed is not None
        assert isinstance(deployed.bot, ChatBot)
        bots[name] = (deployed.bot, deployed.bot.config)
    return bots


@PROPERTY_SETTINGS
@given(body=any_bodies)
def test_parsing_any_body_either_works_or_is_a_bad_request(body: object) -> None:
    if not isinstance(body, dict):
        return
    refused_with: int | None = None
    try:
        query = parse_query(body, LIMITS)
    except BadPoeRequest as exc:
        refused_with = exc.status
    if refused_with is not None:
        assert refused_with in (400, 413)
        return
    request = read_conversation(query, "req-1").request
    assert len(request.messages) <= len(query.query)
    for message in request.messages:
        assert message.role in ("user", "assistant", "system")


@PROPERTY_SETTINGS
@given(body=query_bodies)
async def test_any_valid_query_becomes_valid_converse_turns(
    chat_bots: dict[str, tuple[ChatBot, ChatBotConfig]], body: dict[str, object]
) -> None:
    try:
        query = parse_query(body, LIMITS)
    except BadPoeRequest:
        return
    request = read_conversation(query, "req-1").request
    dialogue = [m for m in request.messages if m.role != "system"]
    must_answer = bool(dialogue) and dialogue[-1].role == "user" and bool(dialogue[-1].text.strip())
    for bot, config in chat_bots.values():
        try:
            chat, _notices = await bot.build_request(request)
        except RequestRejected as exc:  # a clear 4xx-kind error event for the user
            rejected: RequestRejected | None = exc
        else:
            rejected = None
        if rejected is not None:
            assert not must_answer, rejected.code
            continue
        roles = [m.role for m in chat.messages]
        assert roles[0] == "user"
        assert roles[-1] == "user"
        assert all(a != b for a, b in itertools.pairwise(roles))
        for message in chat.messages:
            assert message.content
            for block in message.content:
                assert not isinstance(block, TextBlock) or block.text.strip()
        assert chat.max_tokens is not None
        assert 1 <= chat.max_tokens <= config.max_tokens_limit
        if chat.temperature is not None:
            assert 0 <= chat.temperature <= config.temperature_limit


@settings(max_examples=200, deadline=None)
@given(value=json_values)
def test_nesting_depth_matches_a_recursive_definition(value: object) -> None:
    def depth(item: object) -> int:
        if isinstance(item, dict):
            return 1 + max((depth(v) for v in item.values()), default=0)
        if isinstance(item, list):
            return 1 + max((depth(v) for v in item), default=0)
        return 0

    assert nesting_depth(value) == depth(value)
