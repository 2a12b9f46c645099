"""Placing attachment text into the conversation within a character budget.

All text that attachments add to one message (file contents, Poe's extracted text, image
descriptions) shares the bot's ``text_budget_chars``. A file that does not fit is cut, and the
user is told how much was left out; nothing is dropped silently.
"""

from __future__ import annotations

import html
from collections.abc import Callable
from dataclasses import dataclass

from fmgate.core.model_request import TextBlock


def format_attachment_text(name: str, text: str) -> str:
    """``<attachment name="notes.md">`` ... ``</attachment>``, the name attribute-escaped."""
    return f'<attachment name="{html.escape(name, quote=True)}">\n{text}\n</attachment>'


def decode_text(data: bytes) -> str:
    """Bytes of a text file as str: UTF-8 (a BOM is dropped), undecodable bytes replaced."""
    return data.decode("utf-8-sig", errors="replace")


@dataclass(frozen=True, slots=True)
class Placed:
    """What the budget made of one text: the block to send (if any) and a notice (if cut)."""

    block: TextBlock | None
    notice: str | None


class TextBudget:
    """Characters left for attachment text in one message; spent by :meth:`place`."""

    def __init__(self, chars: int) -> None:
        self._total = chars
        self._left = chars

    @property
    def left(self) -> int:
        return self._left

    def used_up_notice(self, name: str, left_out: int | None = None) -> str:
        """The notice for a file that got no room at all."""
        count = f" ({left_out:,} characters left out)" if left_out is not None else ""
        return (
            f'"{name}" was not included: the {self._total:,} characters this bot allows '
            f"for attached text were already used{count}."
        )

    def place(
        self,
        name: str,
        text: str,
        *,
        wrap: Callable[[str, str], str] = format_attachment_text,
    ) -> Placed:
        """Spend budget on ``text`` (cut if needed); ``wrap(name, kept_text)`` makes the block."""
        if not text:
            return Placed(None, None)
        kept = text[: self._left]
        self._left -= len(kept)
        left_out = len(text) - len(kept)
        notice = None
        if not kept:
            return Placed(None, self.used_up_notice(name, left_out))
        if left_out:
            notice = (
                f'"{name}" was cut to its first {len(kept):,} characters to fit the '
                f"{self._total:,}-character limit for attached text ({left_out:,} characters "
                "left out)."
            )
        return Placed(TextBlock(wrap(name, kept)), notice)
