"""A caller's beta flags (Anthropic's ``anthropic-beta`` header) -> the ones the model takes.

Bedrock hands ``additionalModelRequestFields.anthropic_beta`` to Claude models and refuses the
whole request ("invalid beta flag") for a flag the model does not take there. So only the flags
the bot's config lists (``anthropic_betas``, the model table's) go on; every other is dropped,
never refused, and logged once per bot and flag at INFO: agent clients send several flags on
every request, most of them for Anthropic's own API.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence

logger = logging.getLogger(__name__)

#: Distinct dropped flags remembered per bot (then dropping goes on without log lines): a caller
#: sending ever new flags cannot grow the memory.
MAX_REPORTED = 256
#: Longest flag a log line shows.
SHOWN_LENGTH = 80


class BetaFilter:
    """The flags of one bot's model; remembers which dropped flags were logged."""

    def __init__(self, bot_name: str, taken: Iterable[str]) -> None:
        self._bot_name = bot_name
        self._taken = frozenset(taken)
        self._reported: set[str] = set()

    def taken(self, asked: Sequence[str]) -> tuple[str, ...]:
        """The asked flags the model takes, in the caller's order, once each."""
        kept = tuple(dict.fromkeys(flag for flag in asked if flag in self._taken))
        for flag in asked:
            if flag not in self._taken:
                self._report(flag)
        return kept

    def _report(self, flag: str) -> None:
        if flag in self._reported or len(self._reported) >= MAX_REPORTED:
            return
        self._reported.add(flag)
        logger.info(
            "beta flag %r dropped: Bedrock does not take it for bot %s's model",
            flag[:SHOWN_LENGTH],
            self._bot_name,
        )
