"""Document citations through the real SDK: a cited answer quotes real passages of the
documents with their true offsets, in Converse (citationsContent) and ConverseStream (citation
deltas), and is refused where Bedrock refuses it."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError

from fmgate_emulator.citations import MIXED_CITATIONS, NO_CITATIONS, TOOL_RESULT_CITATIONS
from fmgate_emulator.content import count_tokens, reply_text
from tests.emulator.sdk import user
from tests.harness.attachment_files import DOCX_BYTES, FACTS_PDF, FACTS_TXT

SONNET = "us.anthropic.claude-sonnet-4-5-20250929-v1:0"
CITE = {"enabled": True}


def document(name: str, data: bytes, fmt: str = "txt", citations: Any = CITE) -> dict[str, Any]:
    block: dict[str, Any] = {"format": fmt, "name": name, "source": {"bytes": data}}
    if citations is not None:
        block["citations"] = citations
    return {"document": block}


def ask(question: str, *documents: dict[str, Any]) -> list[dict[str, Any]]:
    return [{"role": "user", "content": [*documents, {"text": question}]}]


def refusal(bedrock: Any, **request: Any) -> str:
    with pytest.raises(ClientError) as raised:
        bedrock.converse(**request)
    error = raised.value.response
    assert error["Error"]["Code"] == "ValidationException"
    assert error["ResponseMetadata"]["HTTPStatusCode"] == 400
    return str(error["Error"]["Message"])


def test_a_text_document_is_cited_by_characters_with_the_passage_it_asks_about(
    bedrock: Any,
) -> None:
    question = "What colour is the sky?"
    answer = bedrock.converse(
        modelId=SONNET, messages=ask(question, document("facts", FACTS_TXT.encode()))
    )
    lead, cited = answer["output"]["message"]["content"]
    echo = reply_text(question, None)[0]
    assert lead == {"text": f"{echo}\n\nAccording to facts: "}
    [citation] = cited["citationsContent"]["citations"]
    span = citation["location"]["documentChar"]
    assert span == {"documentIndex": 0, "start": 20, "end": 37}
    assert citation["sourceContent"] == [{"text": FACTS_TXT[20:37]}]
    assert citation["title"] == "facts"
    assert cited["citationsContent"]["content"] == [{"text": "The sky is blue."}]
    assert answer["stopReason"] == "end_turn"
    spoken = f"{echo}\n\nAccording to facts: The sky is blue."
    assert answer["usage"]["outputTokens"] == count_tokens(spoken)


def test_a_pdf_is_cited_by_page_and_each_document_by_its_index(bedrock: Any) -> None:
    messages = ask(
        "Do otters hold hands?",
        document("facts", FACTS_TXT.encode()),
        document("report", FACTS_PDF, fmt="pdf"),
    )
    content = bedrock.converse(modelId=SONNET, messages=messages)["output"]["message"]["content"]
    cited = [block["citationsContent"] for block in content if "citationsContent" in block]
    assert [c["citations"][0]["location"] for c in cited] == [
        {"documentChar": {"documentIndex": 0, "start": 37, "end": 73}},
        {"documentPage": {"documentIndex": 1, "start": 2, "end": 3}},
    ]
    assert cited[1]["citations"][0]["sourceContent"] == [
        {"text": "Otters hold hands while they sleep.\n"}
    ]
    assert content[2] == {"text": "\nAccording to report: "}


def test_content_blocks_are_cited_by_chunk(bedrock: Any) -> None:
    source = {"content": [{"text": "Item one is red."}, {"text": "Item two is blue."}]}
    block = {"document": {"name": "items", "source": source, "citations": CITE}}
    content = bedrock.converse(modelId=SONNET, messages=ask("Which item is blue?", block))[
        "output"
    ]["message"]["content"]
    [citation] = content[1]["citationsContent"]["citations"]
    assert citation["location"] == {"documentChunk": {"documentIndex": 0, "start": 1, "end": 2}}


def test_the_stream_sends_each_citation_in_its_text_block_before_the_text(bedrock: Any) -> None:
    question = "What colour is the sky?"
    events = list(
        bedrock.converse_stream(
            modelId=SONNET, messages=ask(question, document("facts", FACTS_TXT.encode()))
        )["stream"]
    )
    deltas = [e["contentBlockDelta"] for e in events if "contentBlockDelta" in e]
    cited = [d for d in deltas if d["contentBlockIndex"] == 1]
    assert "citation" in cited[0]["delta"]
    assert cited[0]["delta"]["citation"]["location"]["documentChar"]["start"] == 20
    assert cited[0]["delta"]["citation"]["sourceContent"] == [{"text": FACTS_TXT[20:37]}]
    assert "".join(d["delta"]["text"] for d in cited[1:]) == "The sky is blue."
    stops = [e["contentBlockStop"]["contentBlockIndex"] for e in events if "contentBlockStop" in e]
    assert stops == [0, 1]
    whole = bedrock.converse(
        modelId=SONNET, messages=ask(question, document("facts", FACTS_TXT.encode()))
    )
    assert events[-1]["metadata"]["usage"] == whole["usage"]


def test_a_document_the_emulator_cannot_read_and_citations_off_give_the_plain_echo(
    bedrock: Any,
) -> None:
    echo = reply_text("Summarise", None)[0]
    for block in (
        document("letter", DOCX_BYTES, fmt="docx"),
        document("facts", FACTS_TXT.encode(), citations={"enabled": False}),
    ):
        answer = bedrock.converse(modelId=SONNET, messages=ask("Summarise", block))
        assert answer["output"]["message"]["content"] == [{"text": echo}]


def test_max_tokens_cuts_the_cited_passage_and_keeps_its_citation(bedrock: Any) -> None:
    question = "What colour is the sky?"
    echo = reply_text(question, None)[0]
    limit = count_tokens(f"{echo}\n\nAccording to facts: ") + 2
    answer = bedrock.converse(
        modelId=SONNET,
        messages=ask(question, document("facts", FACTS_TXT.encode())),
        inferenceConfig={"maxTokens": limit},
    )
    assert answer["stopReason"] == "max_tokens"
    cited = answer["output"]["message"]["content"][1]["citationsContent"]
    assert cited["content"] == [{"text": "The sky"}]
    assert len(cited["citations"]) == 1


@pytest.mark.parametrize(
    "model", ["amazon.nova-pro-v1:0", "anthropic.claude-3-haiku-20240307-v1:0"]
)
def test_a_model_that_does_not_cite_refuses_citations(bedrock: Any, model: str) -> None:
    messages = ask("Summarise", document("facts", FACTS_TXT.encode()))
    assert refusal(bedrock, modelId=model, messages=messages) == NO_CITATIONS


def test_citations_on_some_documents_only_are_refused(bedrock: Any) -> None:
    messages = ask(
        "Summarise",
        document("facts", FACTS_TXT.encode()),
        document("more", FACTS_TXT.encode(), citations=None),
    )
    assert refusal(bedrock, modelId=SONNET, messages=messages) == MIXED_CITATIONS


def test_citations_in_a_tool_result_document_are_refused(bedrock: Any) -> None:
    cited_doc = document("facts", FACTS_TXT.encode())
    messages = [
        user("look it up"),
        {
            "role": "assistant",
            "content": [{"toolUse": {"toolUseId": "t1", "name": "lookup", "input": {}}}],
        },
        {"role": "user", "content": [{"toolResult": {"toolUseId": "t1", "content": [cited_doc]}}]},
    ]
    tools = {"tools": [{"toolSpec": {"name": "lookup", "inputSchema": {"json": {}}}}]}
    message = refusal(bedrock, modelId=SONNET, messages=messages, toolConfig=tools)
    assert message == TOOL_RESULT_CITATIONS
