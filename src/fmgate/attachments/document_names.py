"""Document names as Bedrock Converse accepts them, unique within one request.

Converse ``document.name`` may contain only alphanumeric characters, whitespace, hyphens,
parentheses and square brackets, with no two whitespace characters in a row; names must be
unique within a request. We keep ASCII letters and digits, drop the file extension (the
block carries the format), turn every other run of characters into one space, and cap the
length at :data:`MAX_NAME_CHARS`.
"""

from __future__ import annotations

import re

MAX_NAME_CHARS = 100
FALLBACK_NAME = "document"
_DISALLOWED_RUN = re.compile(r"[^A-Za-z0-9\-()\[\]]+")
#: What every produced name matches.
VALID_NAME = re.compile(r"[A-Za-z0-9\-()\[\]]+( [A-Za-z0-9\-()\[\]]+)*")


def sanitize_document_name(file_name: str, *, max_chars: int = MAX_NAME_CHARS) -> str:
    """``'Q3 report (final).v2.pdf'`` -> ``'Q3 report (final) v2'``; never empty."""
    stem = file_name.rsplit("/", 1)[-1]
    if "." in stem.strip(". "):
        stem = stem.rsplit(".", 1)[0]
    cleaned = _DISALLOWED_RUN.sub(" ", stem).strip()[:max_chars].rstrip()
    return cleaned or FALLBACK_NAME


class DocumentNamer:
    """Hands out sanitized names, adding ``(2)``, ``(3)``... to repeats within one request."""

    def __init__(self, *, max_chars: int = MAX_NAME_CHARS) -> None:
        self._max_chars = max_chars
        self._taken: set[str] = set()

    def name(self, file_name: str) -> str:
        base = sanitize_document_name(file_name, max_chars=self._max_chars)
        candidate = base
        number = 1
        while candidate.lower() in self._taken:
            number += 1
            suffix = f" ({number})"
            candidate = base[: self._max_chars - len(suffix)].rstrip() + suffix
        self._taken.add(candidate.lower())
        return candidate
