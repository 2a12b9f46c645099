"""Poe wire details: request parsing, SSE framing, reasoning display, settings."""

from __future__ import annotations

import json

import fastapi_poe as fp
import pytest

from fmgate.config.bot_config import ImageBotConfig
from fmgate.config.media import ImageDefaults
from fmgate.config.pricing import Pricing
from fmgate.fronts.bearer import bearer_token, key_matches
from fmgate.fronts.poe import sse
from fmgate.fronts.poe.conversation import read_conversation
from fmgate.fronts.poe.parse import BadPoeRequest, parse_body, parse_query
from fmgate.fronts.poe.reasoning import ReasoningQuote
from fmgate.fronts.poe.settings import settings_response


def test_query_becomes_neutral_request() -> None:
    query = fp.QueryRequest(
        version="1.2",
        type="query",
        user_id="u",
        conversation_id="c",
        message_id="m",
        temperature=0.2,
        stop_sequences=["X"],
        query=[
            fp.ProtocolMessage(role="system", content="sys"),
            fp.ProtocolMessage(role="bot", content="hi"),
            fp.ProtocolMessage(role="tool", content="tool output"),
            fp.ProtocolMessage(
                role="user",
                content="look",
                parameters={"temperature": 0.9},
                attachments=[
                    fp.Attachment(
                        url="https://pfst.cf2.poecdn.net/a.txt",
                        content_type="text/plain",
                        name="a.txt",
                        parsed_content="hello",
                    )
                ],
            ),
        ],
    )
    request = read_conversation(query, "rid").request
    assert [m.role for m in request.messages] == ["system", "assistant", "user", "user"]
    assert request.messages[2].text == "[Tool output]: tool output"
    assert request.messages[-1].attachments[0].parsed_content == "hello"
    assert request.parameters == {"temperature": 0.9}
    assert request.temperature == 0.2
    assert request.stop_sequences == ("X",)
    assert request.request_id == "rid"


@pytest.mark.parametrize(
    ("body", "status"),
    [
        (b"", 400),
        (b"[1, 2]", 400),
        (b'{"type": 3}', 400),
        (b'{"type": "telepathy"}', 501),
        (b"\xff\xfe", 400),
    ],
)
def test_bad_bodies_are_rejected_with_status(body: bytes, status: int) -> None:
    with pytest.raises(BadPoeRequest) as raised:
        parse_body(body)
    assert raised.value.status == status


def test_invalid_query_names_fields_not_values() -> None:
    with pytest.raises(BadPoeRequest) as raised:
        parse_query({"type": "query", "version": "1.2", "query": "secret-value"})
    assert "secret-value" not in str(raised.value)
    assert "query" in str(raised.value)


def test_sse_frames_match_fastapi_poe_encoding() -> None:
    frame = sse.text('he said "hi"\n')
    name, data = frame.decode().split("\r\n")[:2]
    assert name == "event: text"
    assert json.loads(data.removeprefix("data: ")) == {"text": 'he said "hi"\n'}
    reference = fp.PoeBot.error_event("oops", allow_retry=False, error_type="user_caused_error")
    ours = sse.error("oops", allow_retry=False, error_type="user_caused_error")
    assert json.loads(ours.decode().split("data: ")[1]) == json.loads(str(reference.data))


def test_reasoning_is_quoted_and_answer_is_not() -> None:
    quote = ReasoningQuote()
    out = quote.reasoning("step 1\nstep 2") + quote.reasoning(" more") + quote.answer("Answer")
    assert out == "> **Thinking…**\n>\n> step 1\n> step 2 more\n\nAnswer"
    assert quote.answer(" again") == " again"


def test_access_key_check() -> None:
    assert bearer_token("Bearer abc") == "abc"
    assert bearer_token("Basic abc") is None
    assert bearer_token(None) is None
    assert key_matches("abc", "abc")
    assert not key_matches("abd", "abc")
    assert not key_matches(None, "abc")


def test_image_bot_settings_offer_aspect_ratio_and_rate_card() -> None:
    config = ImageBotConfig(
        bot_name="img",
        model_id="amazon.nova-canvas-v1:0",
        image=ImageDefaults(family="nova-canvas", aspect_ratios=("1:1", "16:9")),
        pricing=Pricing(image_output=4000),
    )
    settings = settings_response(config)
    assert settings.parameter_controls is not None
    controls = settings.parameter_controls.sections[0].controls or []
    ratio = controls[0]
    assert isinstance(ratio, fp.AspectRatio)
    assert [o.value for o in ratio.options] == ["1:1", "16:9"]
    assert settings.rate_card is not None
    assert "4000" in settings.rate_card
    # image bots read no attachments, so Poe is not asked to prepare any
    assert (settings.expand_text_attachments, settings.enable_image_comprehension) == (False, False)
