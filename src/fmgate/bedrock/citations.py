"""Bedrock's citations -> :class:`~fmgate.core.events.Citation` events.

Shapes (botocore's bedrock-runtime service model): a Converse answer cites in
``citationsContent`` blocks (``content: [{text}]``, ``citations: [Citation]``); ConverseStream
sends each citation as a ``contentBlockDelta`` whose ``delta`` is ``{"citation":
CitationsDelta}``, in the content block of the text it supports. A ``Citation`` /
``CitationsDelta`` has a ``title``, ``sourceContent: [{text}]`` (the passage quoted) and a
``location`` union: ``documentChar``, ``documentPage``, ``documentChunk`` (each ``{documentIndex,
start, end}``), ``web`` and ``searchResultLocation``. Web pages and search results come from
tools and search-result blocks the gateway never sends, so only document locations become
events; a citation without one is left out (and its location's kind logged once:
:mod:`fmgate.bedrock.unknown_members`).
"""

from __future__ import annotations

from collections.abc import Mapping

from fmgate.bedrock.readers import Shape, integer, items, mapping, optional_text
from fmgate.bedrock.readers import field as member
from fmgate.bedrock.unknown_members import report_kinds
from fmgate.core.events import Citation, CitationUnit, Event, TextDelta

#: Bedrock's document location member -> what its start and end count.
LOCATION_UNITS: Mapping[str, CitationUnit] = {
    "documentChar": "char",
    "documentPage": "page",
    "documentChunk": "chunk",
}


def convert_citation(citation: Shape) -> Citation | None:
    """One Bedrock citation (whole answer or stream delta); None for a location that is not in
    a document."""
    location = member(citation, "location")
    for name, unit in LOCATION_UNITS.items():
        if name in location:
            span = member(location, name)
            return Citation(
                document_index=integer(span, "documentIndex"),
                document_title=optional_text(citation, "title"),
                cited_text="".join(
                    optional_text(mapping(part), "text") or ""
                    for part in items(citation, "sourceContent")
                ),
                unit=unit,
                start=integer(span, "start"),
                end=integer(span, "end"),
            )
    report_kinds("citation location", location)  # web, search results, or a kind of tomorrow
    return None


def convert_citations_block(block: Shape) -> list[Event]:
    """A whole answer's ``citationsContent`` block: its citations, then its text (the order the
    emulator streams them in; consumers take either)."""
    events: list[Event] = []
    for entry in items(block, "citations"):
        citation = convert_citation(mapping(entry))
        if citation is not None:
            events.append(citation)
    generated = "".join(
        optional_text(mapping(part), "text") or "" for part in items(block, "content")
    )
    if generated:
        events.append(TextDelta(generated))
    return events
