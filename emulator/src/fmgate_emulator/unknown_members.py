"""Answers with members no Bedrock client models yet (the ``unknown_members`` fault).

Bedrock adds to its answers over time; a client must keep working when it does. With this fault
a Converse or ConverseStream answer carries, besides the answer it would have had:

- a content block of a kind no SDK knows (``futureBlock``): in Converse an extra member of
  ``output.message.content`` (botocore turns it into ``SDK_UNKNOWN_MEMBER``); in ConverseStream
  block 0, opened by ``contentBlockStart``, filled by one ``contentBlockDelta`` and closed,
  the real blocks following it;
- an event of a type no SDK knows (``futureEvent``) right after ``messageStart``;
- a usage member (``futureTokens``), a metrics member (``futureMs``) and a top-level member
  (``futureMember``: the Converse response, the ``metadata`` event);
- the stop reason ``future_stop_reason`` in place of ``end_turn``.

None of it is real Bedrock output: it stands for what Bedrock may send next. The text inside
the unknown block (:data:`UNKNOWN_TEXT`) must never reach a user.
"""

from __future__ import annotations

from typing import Any

UNKNOWN_BLOCK = "futureBlock"
UNKNOWN_EVENT = "futureEvent"
UNKNOWN_USAGE = "futureTokens"
UNKNOWN_METRIC = "futureMs"
UNKNOWN_MEMBER = "futureMember"
UNKNOWN_STOP_REASON = "future_stop_reason"
#: The text the unknown content block carries; a client that shows it leaked it.
UNKNOWN_TEXT = "UNMODELLED-BLOCK-TEXT"


def stop_reason(reason: str) -> str:
    """``end_turn`` becomes the unknown stop reason; the others stay (they change what a
    client must do next: call a tool, continue after max_tokens)."""
    return UNKNOWN_STOP_REASON if reason == "end_turn" else reason


def with_usage(usage: dict[str, Any]) -> dict[str, Any]:
    return {**usage, UNKNOWN_USAGE: 7}


def with_metrics(metrics: dict[str, Any]) -> dict[str, Any]:
    return {**metrics, UNKNOWN_METRIC: 3}


def unknown_block() -> dict[str, Any]:
    """The unknown content block of a whole Converse answer."""
    return {UNKNOWN_BLOCK: {"text": UNKNOWN_TEXT, "id": "fb-1"}}


def converse_body(body: dict[str, Any]) -> dict[str, Any]:
    """A Converse response body with the unknown members added."""
    message = body["output"]["message"]
    return {
        **body,
        "output": {"message": {**message, "content": [unknown_block(), *message["content"]]}},
        "stopReason": stop_reason(body["stopReason"]),
        "usage": with_usage(body["usage"]),
        "metrics": with_metrics(body["metrics"]),
        UNKNOWN_MEMBER: {"note": "a member Bedrock may add"},
    }


def unknown_event() -> dict[str, Any]:
    """The payload of the unknown stream event."""
    return {"note": "an event Bedrock may add", "sequence": 1}


def block_start(index: int) -> dict[str, Any]:
    return {"contentBlockIndex": index, "start": {UNKNOWN_BLOCK: {"id": "fb-1"}}}


def block_delta(index: int) -> dict[str, Any]:
    return {"contentBlockIndex": index, "delta": {UNKNOWN_BLOCK: {"text": UNKNOWN_TEXT}}}


def metadata(event: dict[str, Any]) -> dict[str, Any]:
    """A ``metadata`` event with the unknown members added."""
    return {
        **event,
        "usage": with_usage(event["usage"]),
        "metrics": with_metrics(event["metrics"]),
        UNKNOWN_MEMBER: {"note": "a member Bedrock may add"},
    }
