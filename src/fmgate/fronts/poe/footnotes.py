"""Citations on Poe: numbered Markdown footnotes.

A marker follows the text a citation supports (``[^1]``); the end of the answer lists each
source, naming its document and quoting the passage::

    ... According to report: Otters hold hands while they sleep.[^1]

    [^1]: report, page 2: “Otters hold hands while they sleep.”

The same passage cited again keeps its number. A block's markers are written when its text is
complete (at a :class:`~fmgate.core.events.TextBreak`, or before anything that is not answer
text), since a citation may come before the text it supports.
"""

from __future__ import annotations

from fmgate.core.events import Citation

#: The longest quote shown in a footnote (characters; longer ones are cut with an ellipsis).
MAX_QUOTE = 300


class Footnotes:
    """The citations of one answer: their numbers, and the markers still to write."""

    __slots__ = ("_numbers", "_pending")

    def __init__(self) -> None:
        self._numbers: dict[Citation, int] = {}
        self._pending: list[int] = []

    def cite(self, citation: Citation) -> None:
        """A citation of the text block being written."""
        number = self._numbers.setdefault(citation, len(self._numbers) + 1)
        if number not in self._pending:
            self._pending.append(number)

    def markers(self) -> str:
        """The markers of the text block just completed ("" when it cited nothing)."""
        if not self._pending:
            return ""
        text = "".join(f"[^{number}]" for number in self._pending)
        self._pending.clear()
        return text

    def notes(self) -> str:
        """The last markers, then the footnote list ("" for an answer without citations)."""
        if not self._numbers:
            return ""
        listed = "\n".join(
            f"[^{number}]: {describe(citation)}" for citation, number in self._numbers.items()
        )
        return f"{self.markers()}\n\n{listed}"


def describe(citation: Citation) -> str:
    """A footnote's text: the document, where in it (pages, parts), the passage quoted."""
    title = citation.document_title or f"Document {citation.document_index + 1}"
    where = place(citation)
    return f"{title}{', ' + where if where else ''}: “{quote(citation.cited_text)}”"


def place(citation: Citation) -> str:
    """Pages of a PDF, parts of a document given in parts; nothing for character offsets."""
    if citation.unit == "char":
        return ""
    first, last = citation.start, citation.end - 1  # end is exclusive
    noun = "page" if citation.unit == "page" else "part"
    if citation.unit == "chunk":  # chunks count from 0, people from 1
        first, last = first + 1, last + 1
    return f"{noun} {first}" if last <= first else f"{noun}s {first}–{last}"


def quote(text: str) -> str:
    """The passage on one line, cut to :data:`MAX_QUOTE` characters."""
    flat = " ".join(text.split())
    return flat if len(flat) <= MAX_QUOTE else flat[: MAX_QUOTE - 1].rstrip() + "…"
