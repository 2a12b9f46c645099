"""Footnotes: numbers per passage, markers at the end of their text block, the list's text."""

from __future__ import annotations

from fmgate.core.events import Citation
from fmgate.fronts.poe.footnotes import MAX_QUOTE, Footnotes, describe

GRASS = Citation(0, "facts", "The grass is green. ", "char", 0, 20)
PAGES = Citation(1, "report", "Otters\n  hold hands.", "page", 2, 4)


def test_a_passage_cited_again_keeps_its_number() -> None:
    notes = Footnotes()
    notes.cite(GRASS)
    notes.cite(PAGES)
    notes.cite(GRASS)  # twice in one block: one marker
    assert notes.markers() == "[^1][^2]"
    assert notes.markers() == ""
    notes.cite(PAGES)
    assert notes.notes() == (
        "[^2]\n\n[^1]: facts: “The grass is green.”\n[^2]: report, pages 2–3: “Otters hold hands.”"
    )


def test_an_answer_without_citations_has_no_notes() -> None:
    assert Footnotes().notes() == ""


def test_places_and_quotes() -> None:
    assert describe(Citation(0, None, "x", "page", 5, 6)) == "Document 1, page 5: “x”"
    assert (
        describe(Citation(2, "items", "Item two.", "chunk", 1, 2)) == "items, part 2: “Item two.”"
    )
    long = describe(Citation(0, "t", "word " * 200, "char", 0, 1000))
    assert long.endswith("…”")
    assert len(long) == len("t: “”") + MAX_QUOTE
