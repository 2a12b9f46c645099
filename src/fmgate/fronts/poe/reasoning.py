"""Show model reasoning on Poe as a quoted "Thinking" section before the answer."""

from __future__ import annotations

HEADER = "> **Thinking…**\n>\n> "


class ReasoningQuote:
    """Turns interleaved reasoning/answer deltas into markdown: reasoning quoted, answer plain."""

    __slots__ = ("_open",)

    def __init__(self) -> None:
        self._open = False

    def reasoning(self, text: str) -> str:
        prefix = "" if self._open else HEADER
        self._open = True
        return prefix + text.replace("\n", "\n> ")

    def answer(self, text: str) -> str:
        if not self._open:
            return text
        self._open = False
        return "\n\n" + text
