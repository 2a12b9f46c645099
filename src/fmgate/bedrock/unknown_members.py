"""Members of Bedrock's answers that fmgate does not model: skipped, and logged once per kind.

Bedrock's answers grow: new usage and metrics fields, new content-block kinds (botocore's
bedrock-runtime model already lists ``searchResult`` blocks, ``image`` deltas, ``web`` citation
locations and more than :mod:`fmgate.bedrock.converse` and :mod:`fmgate.bedrock.citations` turn
into events), new stop reasons, new stream events. None of them may break an answer. The
decoders skip what they do not know, so it never reaches the user's text, and report it here by
where it was seen (``place``: "ConverseStream event", "content block delta", "usage member",
...) and its name. Each (place, name) is logged once per process at WARNING, without its
content (which may be the user's); the answer goes on.

A whole Converse answer is parsed by botocore first, which drops members its service model does
not list and turns an unknown union member (a content block of a new kind) into
``{"SDK_UNKNOWN_MEMBER": {"name": ...}}``; the decoder reports that name. ConverseStream frames
are decoded by :mod:`fmgate.bedrock.eventstream`, so every member Bedrock sends is seen.

The record of what was reported is bounded (:data:`MAX_REPORTED`): a stream of ever new names
cannot grow memory; past the bound, unknown members are still skipped, just not logged.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping

from fmgate.bedrock.readers import Shape, optional_text
from fmgate.bedrock.readers import field as member

logger = logging.getLogger(__name__)

#: Distinct (place, name) pairs logged per process; later ones are skipped without a line.
MAX_REPORTED = 256
#: Longest name a log line shows.
SHOWN_LENGTH = 80
#: What botocore puts in place of a union member (a content block) its model does not list.
SDK_UNKNOWN_MEMBER = "SDK_UNKNOWN_MEMBER"


class UnknownMembers:
    """Which unknown members were logged already (one line per place and name)."""

    def __init__(self, limit: int = MAX_REPORTED) -> None:
        self._limit = limit
        self._reported: set[tuple[str, str]] = set()

    def report(self, place: str, name: str) -> None:
        """Log ``name`` seen at ``place`` unless it was logged before (or the bound is hit)."""
        key = (place, name[:SHOWN_LENGTH])
        if key in self._reported or len(self._reported) >= self._limit:
            return
        self._reported.add(key)
        logger.warning(
            "Bedrock answered with a %s fmgate does not model: %r (skipped; logged once)", *key
        )


#: The process's record: "logged once" is per process, whichever stream saw a member first.
UNKNOWN_MEMBERS = UnknownMembers()


def report_unknown(place: str, name: str) -> None:
    """Report a member fmgate does not model to the process's record."""
    UNKNOWN_MEMBERS.report(place, name)


def report_unknown_keys(place: str, shape: Mapping[str, object], known: frozenset[str]) -> None:
    """Report every member of ``shape`` that is not in ``known``."""
    for name in shape:
        if name not in known:
            report_unknown(place, name)


def report_kinds(place: str, union: Shape) -> None:
    """Report the member(s) of a union (a content block, a delta, a citation's location) no
    converter handles; for ``SDK_UNKNOWN_MEMBER``, the name botocore gives the member its model
    lacks."""
    for kind in union:
        if kind == SDK_UNKNOWN_MEMBER:
            kind = optional_text(member(union, kind), "name") or kind
        report_unknown(place, kind)
