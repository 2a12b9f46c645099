"""Stored responses (``store: true``): what ``previous_response_id`` continues and ``GET`` reads.

Each is one caller document (:mod:`fmgate.accounting.caller_documents`), so only the caller
that created it can read, continue or delete it; any other caller is told it does not exist. A
document holds the Response as answered and the whole conversation it ends, every input item
(those it continued included) then its output items, so continuing needs one read and a
response stays readable when the one before it expires or is deleted. ``instructions`` and
``tools`` are not carried over, as OpenAI does not carry them.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass

import orjson
from pydantic import TypeAdapter, ValidationError

from fmgate.accounting.caller_documents import CallerDocuments, DocumentStoreUnavailable
from fmgate.fronts.openai.responses_schema import InputItem
from fmgate.fronts.pipeline import Refusal

#: Version of the document layout below.
LAYOUT = 1

ITEMS: TypeAdapter[list[InputItem]] = TypeAdapter(list[InputItem])

logger = logging.getLogger("fmgate.api")


def unavailable() -> Refusal:
    """What a caller is told when the store failed (retryable)."""
    return Refusal(
        503,
        "Stored responses are unavailable right now; please try again.",
        "store_unavailable",
        headers={"Retry-After": "1"},
    )


@dataclass(frozen=True, slots=True)
class StoredResponse:
    """One stored response."""

    #: The Response object, as answered.
    response: dict[str, object]
    #: The conversation it ends, oldest first: input items, then this response's output.
    items: tuple[dict[str, object], ...]
    #: The first response of its ``previous_response_id`` chain (the ledger's conversation id).
    conversation_id: str

    def conversation(self) -> list[InputItem]:
        return ITEMS.validate_python(list(self.items))


def item_documents(items: Sequence[InputItem]) -> tuple[dict[str, object], ...]:
    """Items as they are kept (the JSON the request sent, read by the schema)."""
    return tuple(item.model_dump(mode="json", exclude_none=True) for item in items)


def encode(stored: StoredResponse) -> str:
    document = {
        "layout": LAYOUT,
        "response": stored.response,
        "items": list(stored.items),
        "conversation_id": stored.conversation_id,
    }
    return orjson.dumps(document).decode()


def encoded_size(items: Sequence[dict[str, object]]) -> int:
    """Bytes ``items`` take in a stored document."""
    return len(orjson.dumps(list(items)))


class StoredDocumentCorrupt(ValueError):
    """A stored document is not one this gateway wrote."""


def decode(text: str) -> StoredResponse:
    try:
        document = orjson.loads(text)
        if not isinstance(document, dict) or document.get("layout") != LAYOUT:
            raise StoredDocumentCorrupt("unknown stored response layout")
        response, items, conversation_id = (
            document["response"],
            document["items"],
            document["conversation_id"],
        )
        if not isinstance(response, dict) or not isinstance(items, list):
            raise StoredDocumentCorrupt("malformed stored response")
        ITEMS.validate_python(items)
    except (orjson.JSONDecodeError, KeyError, ValidationError) as exc:
        raise StoredDocumentCorrupt("malformed stored response") from exc
    return StoredResponse(response, tuple(items), str(conversation_id))


class ResponseArchive:
    """One caller's stored responses. A store failure is :func:`unavailable` (503)."""

    def __init__(self, documents: CallerDocuments, caller: str) -> None:
        self._documents = documents
        self._caller = caller

    async def load(self, response_id: str) -> StoredResponse | None:
        try:
            text = await self._documents.get(self._caller, response_id)
        except DocumentStoreUnavailable as exc:
            raise unavailable() from exc
        if text is None:
            return None
        try:
            return decode(text)
        except StoredDocumentCorrupt:
            logger.error("stored response %s cannot be read; treated as unknown", response_id)
            return None

    async def save(self, stored: StoredResponse) -> None:
        response_id = str(stored.response["id"])
        try:
            await self._documents.put(self._caller, response_id, encode(stored))
        except DocumentStoreUnavailable as exc:
            raise unavailable() from exc

    async def delete(self, response_id: str) -> bool:
        try:
            return await self._documents.delete(self._caller, response_id)
        except DocumentStoreUnavailable as exc:
            raise unavailable() from exc


@dataclass(frozen=True, slots=True)
class Continuation:
    """What one response continues, and where it is kept (``archive`` None: ``store: false``)."""

    archive: ResponseArchive | None
    #: Its conversation's input items: what it continues, then its own input.
    items: tuple[dict[str, object], ...]
    #: The first response of its chain; None when this response starts one.
    conversation_id: str | None

    async def keep(self, response: dict[str, object], output: Sequence[dict[str, object]]) -> None:
        """Store the finished ``response`` (a :func:`unavailable` refusal if that fails)."""
        if self.archive is None:
            return
        conversation_id = self.conversation_id or str(response["id"])
        await self.archive.save(StoredResponse(response, (*self.items, *output), conversation_id))
