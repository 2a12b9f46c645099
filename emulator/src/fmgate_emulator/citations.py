"""Document citations on Converse: the documents a request asks the model to cite, checked as
Bedrock checks them, and the cited passages of the answer.

A ``document`` block with ``citations: {"enabled": true}`` asks the model to cite it (botocore's
``DocumentBlock.citations``, a ``CitationsConfig`` whose ``enabled`` is required). Refused with a
ValidationException, as Bedrock refuses them:

* citations on a model that does not cite (its catalogue entry, fmgate's model table); the
  wording is not confirmed;
* citations in a document inside a tool result: "Citations are not supported in tool result
  documents." (Bedrock's answer, reported in boto3 issue 4648);
* citations enabled on some documents of a request and not on others: Anthropic's rule ("must
  be enabled on all or none of the documents within a request"); Bedrock's wording is not
  confirmed;
* a ``citations`` member that is not a ``CitationsConfig``.

The answer of a request with documents to cite is its echo, then one passage of each document
the emulator can read (:mod:`fmgate_emulator.document_text`): the one that shares the most words
with the user's last text (the first on a tie), led by "According to <name>: " and quoted as the
document has it. Each passage is a ``citationsContent`` block whose text is the passage without
its surrounding whitespace and whose one citation carries the document's name as ``title``, the
passage as ``sourceContent`` and its place: ``documentChar`` (character offsets, 0-based, end
exclusive), ``documentPage`` (pages, 1-based, end exclusive) or ``documentChunk`` (content
blocks, 0-based, end exclusive), with ``documentIndex`` the document's place among the
request's documents. Bedrock's own choice of titles and indices is not confirmed beyond these
shapes (botocore's service model; recorded answers show ``title`` as the document's name).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from fmgate_emulator.answer_blocks import Block, CitedTextBlock, TextBlock
from fmgate_emulator.content import split_tokens
from fmgate_emulator.document_text import LOCATION_MEMBERS, Passage, passages
from fmgate_emulator.errors import validation
from fmgate_emulator.models import ModelSpec

NO_CITATIONS = (
    "This model doesn't support citations. Remove citations from the document blocks and try again."
)
TOOL_RESULT_CITATIONS = "Citations are not supported in tool result documents."
MIXED_CITATIONS = (
    "The model returned the following errors: citations must be enabled on all or none of the "
    "documents within a request."
)
BAD_CITATIONS_CONFIG = "The citations field of a document must be an object with enabled set."
_WORD = re.compile(r"\w{3,}")


@dataclass(frozen=True, slots=True)
class CitedDocument:
    """A document the answer is to cite: its place among the request's documents, its name and
    the passages the emulator can quote from it."""

    index: int
    name: str
    passages: list[Passage]


def citations_enabled(document: dict[str, Any]) -> bool:
    """Whether the document asks to be cited (a malformed ``citations`` is refused)."""
    config = document.get("citations")
    if config is None:
        return False
    if not isinstance(config, dict) or not isinstance(config.get("enabled"), bool):
        raise validation(BAD_CITATIONS_CONFIG)
    return bool(config["enabled"])


def check_tool_result_documents(messages: list[dict[str, Any]]) -> None:
    for message in messages:
        for block in message["content"]:
            result = block.get("toolResult") if isinstance(block, dict) else None
            parts = result.get("content") if isinstance(result, dict) else None
            for part in parts if isinstance(parts, list) else []:
                document = part.get("document") if isinstance(part, dict) else None
                if isinstance(document, dict) and citations_enabled(document):
                    raise validation(TOOL_RESULT_CITATIONS)


def documents_to_cite(messages: list[dict[str, Any]], spec: ModelSpec) -> list[CitedDocument]:
    """The request's documents when it asks for citations (all of them, in prompt order), else
    none; refused as Bedrock refuses (module docstring)."""
    check_tool_result_documents(messages)
    documents = [
        block["document"]
        for message in messages
        for block in message["content"]
        if isinstance(block, dict) and isinstance(block.get("document"), dict)
    ]
    asked = [citations_enabled(document) for document in documents]
    if not any(asked):
        return []
    if not spec.citations:
        raise validation(NO_CITATIONS)
    if not all(asked):
        raise validation(MIXED_CITATIONS)
    return [
        CitedDocument(index, str(document.get("name", "")), passages(document))
        for index, document in enumerate(documents)
    ]


def words(text: str) -> set[str]:
    return set(_WORD.findall(text.lower()))


def best_passage(candidates: list[Passage], user_text: str) -> Passage:
    """The passage sharing the most words with the user's text (the first on a tie)."""
    asked = words(user_text)
    return max(candidates, key=lambda passage: len(words(passage.text) & asked))


def citation(document: CitedDocument, passage: Passage) -> dict[str, Any]:
    """Bedrock's ``Citation`` (a stream's ``CitationsDelta`` has the same members)."""
    span = {"documentIndex": document.index, "start": passage.start, "end": passage.end}
    return {
        "title": document.name,
        "sourceContent": [{"text": passage.text}],
        "location": {LOCATION_MEMBERS[passage.unit]: span},
    }


def cited_answer(reply: str, documents: list[CitedDocument], user_text: str) -> list[Block]:
    """The echo, then each readable document's passage, cited (see the module docstring)."""
    blocks: list[Block] = []
    lead = reply + "\n\n"
    for document in documents:
        if not document.passages:
            continue
        passage = best_passage(document.passages, user_text)
        blocks.append(TextBlock(f"{lead}According to {document.name}: "))
        blocks.append(CitedTextBlock(passage.text.strip(), [citation(document, passage)]))
        lead = "\n"
    return blocks or [TextBlock(reply)]


def within_tokens(blocks: list[Block], max_tokens: int) -> tuple[list[Block], bool]:
    """The text blocks cut to ``max_tokens`` tokens, and whether anything was cut (a cited
    block cut short keeps its citations: they came before its text)."""
    kept: list[Block] = []
    left = max_tokens
    for block in blocks:
        if not isinstance(block, TextBlock | CitedTextBlock):
            kept.append(block)
            continue
        tokens = split_tokens(block.text)
        if len(tokens) <= left:
            kept.append(block)
            left -= len(tokens)
            continue
        if left > 0:
            text = "".join(tokens[:left])
            kept.append(
                CitedTextBlock(text, block.citations)
                if isinstance(block, CitedTextBlock)
                else TextBlock(text)
            )
        return kept, True
    return kept, False
