"""Citations in Bedrock's answers -> Citation and TextBreak events; documents sent to cite.

The shapes are botocore's (``citationsContent`` blocks, ``citation`` deltas); a stream may give a
block's citation before or after its text, and either way the events say which text it
supports.
"""

from __future__ import annotations

from collections.abc import Mapping

from fmgate.bedrock.client import BedrockClients
from fmgate.bedrock.converse import (
    StreamState,
    build_converse_request,
    converse,
    converse_stream,
    convert_converse_response,
    convert_stream_event,
    finish_stream,
    join_text_pieces,
)
from fmgate.core.events import Citation, Done, Event, TextBreak, TextDelta, ToolCall, Usage
from fmgate.core.model_request import ChatMessage, ChatRequest, DocumentBlock, TextBlock
from fmgate_emulator import EmulatorClient
from tests.harness.attachment_files import FACTS_PDF, FACTS_TXT

GRASS = {
    "title": "facts",
    "sourceContent": [{"text": "The grass is green. "}],
    "location": {"documentChar": {"documentIndex": 0, "start": 0, "end": 20}},
}
SKY_PAGE = {
    "title": "report",
    "sourceContent": [{"text": "The sky is "}, {"text": "blue."}],
    "location": {"documentPage": {"documentIndex": 1, "start": 2, "end": 3}},
}
CHUNK = {
    "title": "notes",
    "sourceContent": [{"text": "Item two."}],
    "location": {"documentChunk": {"documentIndex": 0, "start": 1, "end": 2}},
}
GRASS_CITATION = Citation(0, "facts", "The grass is green. ", "char", 0, 20)
SKY_CITATION = Citation(1, "report", "The sky is blue.", "page", 2, 3)


def run(events: list[Mapping[str, object]]) -> list[Event]:
    state = StreamState()
    out: list[Event] = []
    for event in events:
        out.extend(convert_stream_event(event, state))
    return out + finish_stream(state)


def delta(index: int, body: Mapping[str, object]) -> Mapping[str, object]:
    return {"contentBlockDelta": {"contentBlockIndex": index, "delta": body}}


def stop(index: int) -> Mapping[str, object]:
    return {"contentBlockStop": {"contentBlockIndex": index}}


END = {"messageStop": {"stopReason": "end_turn"}}


def test_a_document_to_cite_is_sent_with_citations_enabled() -> None:
    request = ChatRequest(
        model_id="anthropic.claude-sonnet-4-5-20250929-v1:0",
        messages=(
            ChatMessage(
                "user",
                (
                    DocumentBlock("txt", "facts", b"The grass is green.", citations=True),
                    DocumentBlock("pdf", "plain", b"%PDF-1.4"),
                    TextBlock("What colour is the grass?"),
                ),
            ),
        ),
    )
    messages = build_converse_request(request)["messages"]
    assert isinstance(messages, list)
    cited, plain, _ = messages[0]["content"]
    assert cited == {
        "document": {
            "format": "txt",
            "name": "facts",
            "source": {"bytes": b"The grass is green."},
            "citations": {"enabled": True},
        }
    }
    assert "citations" not in plain["document"]


def test_stream_citations_before_their_text_belong_to_that_text() -> None:
    events = run(
        [
            delta(0, {"text": "According to the facts, "}),
            stop(0),
            delta(1, {"citation": GRASS}),
            delta(1, {"text": "the grass"}),
            delta(1, {"text": " is green"}),
            stop(1),
            delta(2, {"text": " and "}),
            stop(2),
            delta(3, {"citation": SKY_PAGE}),
            delta(3, {"text": "the sky is blue"}),
            stop(3),
            END,
        ]
    )
    assert events == [
        TextDelta("According to the facts, "),
        TextBreak(),
        GRASS_CITATION,
        TextDelta("the grass"),
        TextDelta(" is green"),
        TextBreak(),
        TextDelta(" and "),
        TextBreak(),
        SKY_CITATION,
        TextDelta("the sky is blue"),
        Done(),
    ]


def test_stream_citations_after_their_text_belong_to_that_text() -> None:
    events = run(
        [
            delta(0, {"text": "Intro. "}),
            stop(0),
            delta(1, {"text": "the grass is green"}),
            delta(1, {"citation": GRASS}),
            stop(1),
            END,
        ]
    )
    assert events == [
        TextDelta("Intro. "),
        TextBreak(),
        TextDelta("the grass is green"),
        GRASS_CITATION,
        Done(),
    ]


def test_a_plain_answer_has_no_break_and_reasoning_or_tools_open_none() -> None:
    plain = run([delta(0, {"text": "Hello"}), stop(0), END])
    assert plain == [TextDelta("Hello"), Done()]
    reasoned = run(
        [
            delta(0, {"reasoningContent": {"text": "hmm"}}),
            stop(0),
            delta(1, {"text": "Answer"}),
            stop(1),
            {
                "contentBlockStart": {
                    "contentBlockIndex": 2,
                    "start": {"toolUse": {"toolUseId": "t1", "name": "f"}},
                }
            },
            stop(2),
            {"messageStop": {"stopReason": "tool_use"}},
        ]
    )
    assert TextBreak() not in reasoned
    assert isinstance(reasoned[-2], ToolCall)


def test_chunk_locations_and_unknown_locations() -> None:
    web = {"title": "site", "location": {"web": {"url": "https://example.com"}}}
    events = run([delta(0, {"citation": CHUNK}), delta(0, {"citation": web}), stop(0), END])
    assert events == [Citation(0, "notes", "Item two.", "chunk", 1, 2), Done()]


def test_whole_answer_citations_content_blocks_in_stream_order() -> None:
    response = {
        "output": {
            "message": {
                "role": "assistant",
                "content": [
                    {"text": "According to the facts, "},
                    {
                        "citationsContent": {
                            "content": [{"text": "the grass is green"}],
                            "citations": [GRASS],
                        }
                    },
                    {"text": " and "},
                    {
                        "citationsContent": {
                            "content": [{"text": "the sky is blue"}],
                            "citations": [SKY_PAGE, CHUNK],
                        }
                    },
                ],
            }
        },
        "stopReason": "end_turn",
    }
    assert convert_converse_response(response) == [
        TextDelta("According to the facts, "),
        TextBreak(),
        GRASS_CITATION,
        TextDelta("the grass is green"),
        TextBreak(),
        TextDelta(" and "),
        TextBreak(),
        SKY_CITATION,
        Citation(0, "notes", "Item two.", "chunk", 1, 2),
        TextDelta("the sky is blue"),
        Done(),
    ]


def test_text_pieces_are_not_joined_across_a_break_or_a_citation() -> None:
    events: list[Event] = [
        TextDelta("a"),
        TextBreak(),
        GRASS_CITATION,
        TextDelta("b"),
        TextDelta("c"),
    ]
    assert join_text_pieces(events) == [
        TextDelta("a"),
        TextBreak(),
        GRASS_CITATION,
        TextDelta("bc"),
    ]


async def test_converse_and_converse_stream_give_the_same_citation_events(
    clients: BedrockClients, control: EmulatorClient
) -> None:
    """Through aiobotocore against the emulator: the stream's events (text pieces joined) are
    the whole answer's."""
    request = ChatRequest(
        model_id="us.anthropic.claude-sonnet-4-5-20250929-v1:0",
        messages=(
            ChatMessage(
                "user",
                (
                    DocumentBlock("txt", "facts", FACTS_TXT.encode(), citations=True),
                    DocumentBlock("pdf", "report", FACTS_PDF, citations=True),
                    TextBlock("Do otters hold hands?"),
                ),
            ),
        ),
    )
    client = await clients.get("us-east-1")
    whole = await converse(client, request)
    transport = await clients.streams("us-east-1")
    streamed = [event async for event in converse_stream(transport, request)]
    otters = "Otters hold hands while they sleep.\n"
    citations = [event for event in whole if isinstance(event, Citation)]
    assert citations == [
        Citation(0, "facts", otters, "char", 37, 73),
        Citation(1, "report", otters, "page", 2, 3),
    ]
    assert whole.count(TextBreak()) == 3
    assert without_usage(join_text_pieces(whole)) == without_usage(joined(streamed))


def joined(events: list[Event]) -> list[Event]:
    """The stream's events with the text pieces of each block joined."""
    out: list[Event] = []
    for event in events:
        if isinstance(event, TextDelta) and out and isinstance(out[-1], TextDelta):
            out[-1] = TextDelta(out[-1].text + event.text)
        else:
            out.append(event)
    return out


def without_usage(events: list[Event]) -> list[Event]:
    return [event for event in events if not isinstance(event, Usage | Done)]
