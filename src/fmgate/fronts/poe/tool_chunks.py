"""A model's tool calls as fastapi_poe's client reads them: ``json`` events, each holding an
OpenAI ``chat.completion.chunk``.

The client (``_stream_request_with_tools``) reads ``choices[0].delta.tool_calls`` and aggregates
the pieces by ``index``: the first piece of a call must carry its ``id``, ``type`` and
``function.name`` (with ``arguments``, possibly empty); later pieces carry ``arguments``
fragments. A chunk with a ``finish_reason`` (here ``tool_calls``) closes the calls. Every chunk
carries ``finish_reason`` (``null`` until the last): the client reads the key unconditionally.
"""

from __future__ import annotations

import time

from fmgate.fronts.poe import sse

#: Tool calls of this kind are the only ones a Converse model makes.
FUNCTION = "function"


class ToolCallChunks:
    """One answer's tool calls, numbered in the order the model opened them."""

    __slots__ = ("_created", "_id", "_indexes", "_model")

    def __init__(self, answer_id: str, model: str) -> None:
        self._id = f"chatcmpl-{answer_id}"
        self._model = model
        self._created = int(time.time())
        self._indexes: dict[str, int] = {}

    @property
    def called(self) -> bool:
        return bool(self._indexes)

    def start(self, call_id: str, name: str) -> bytes:
        """The first piece of a call: its index, id, type and name."""
        index = self._indexes.setdefault(call_id, len(self._indexes))
        function = {"name": name, "arguments": ""}
        return self.chunk(
            {
                "tool_calls": [
                    {"index": index, "id": call_id, "type": FUNCTION, "function": function}
                ]
            }
        )

    def arguments(self, call_id: str, fragment: str) -> bytes:
        """A fragment of a started call's JSON arguments (nothing for a call never started)."""
        index = self._indexes.get(call_id)
        if index is None:
            return b""
        return self.chunk({"tool_calls": [{"index": index, "function": {"arguments": fragment}}]})

    def finish(self) -> bytes:
        """The closing chunk (``finish_reason: tool_calls``) when the answer called tools."""
        return self.chunk({}, finish_reason="tool_calls") if self._indexes else b""

    def chunk(self, delta: dict[str, object], finish_reason: str | None = None) -> bytes:
        return sse.event(
            "json",
            {
                "id": self._id,
                "object": "chat.completion.chunk",
                "created": self._created,
                "model": self._model,
                "choices": [{"index": 0, "delta": delta, "finish_reason": finish_reason}],
            },
        )
