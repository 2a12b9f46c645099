"""InvokeModel and InvokeModelWithResponseStream.

Image models answer their native bodies (see :mod:`fmgate_emulator.images`). Chat models take one
body shape in the emulator whatever their vendor: the Anthropic Messages shape
(``messages``, ``max_tokens``, ``system``, ``stop_sequences``), answered as Anthropic does, and
streamed as ``chunk`` events whose ``bytes`` are Anthropic stream events.
"""

from __future__ import annotations

import base64
import json
from typing import Any

from aiohttp import web

from fmgate_emulator.call import Call
from fmgate_emulator.content import count_tokens, reply_text, split_tokens, stable_id
from fmgate_emulator.conversation import MUST_START_WITH_USER, check_roles, last_user_text
from fmgate_emulator.errors import validation
from fmgate_emulator.eventstream import event_frame
from fmgate_emulator.images import invoke_image_model
from fmgate_emulator.models import Modality, ModelSpec
from fmgate_emulator.streaming import EventStreamWriter

NOT_INVOKABLE = "This model doesn't support InvokeModel. Use StartAsyncInvoke."


def as_converse_messages(messages: Any) -> list[dict[str, Any]]:
    """Anthropic-shaped messages (string or typed-block content) as Converse-shaped ones."""
    if not isinstance(messages, list):
        raise validation(MUST_START_WITH_USER)
    converted = []
    for message in messages:
        if not isinstance(message, dict):
            raise validation(MUST_START_WITH_USER)
        content = message.get("content")
        if isinstance(content, str):
            blocks = [{"text": content}]
        else:
            blocks = [{"text": b.get("text", "")} for b in content or [] if isinstance(b, dict)]
        converted.append({"role": message.get("role"), "content": blocks})
    check_roles(converted)
    return converted


class ChatInvocation:
    """A chat-model InvokeModel body and the answer to it."""

    def __init__(self, body: dict[str, Any], spec: ModelSpec) -> None:
        messages = as_converse_messages(body.get("messages"))
        max_tokens = body.get("max_tokens", spec.max_output_tokens)
        if not isinstance(max_tokens, int) or not 1 <= max_tokens <= spec.max_output_tokens:
            raise validation(f"max_tokens must be between 1 and {spec.max_output_tokens}.")
        system = body.get("system") or ""
        system_text = system if isinstance(system, str) else json.dumps(system)
        self.text, self.stop_reason = reply_text(
            last_user_text(messages), max_tokens, body.get("stop_sequences") or []
        )
        self.input_tokens = count_tokens(system_text) + sum(
            count_tokens(b["text"]) for m in messages for b in m["content"]
        )
        self.output_tokens = count_tokens(self.text)
        self.message_id = stable_id("msg_bdrk_", json.dumps(body, sort_keys=True))


async def invoke_model(call: Call) -> web.StreamResponse:
    """InvokeModel: native image bodies, or the Anthropic Messages shape for chat models."""
    model = call.model()
    if model.spec.modality is Modality.IMAGE:
        return await invoke_image_model(call, model)
    if model.spec.modality is not Modality.CHAT:
        raise validation(NOT_INVOKABLE)
    answer = ChatInvocation(call.json_object(), model.spec)
    await call.pacer().whole_answer(answer.output_tokens)
    return web.json_response(
        {
            "id": answer.message_id,
            "type": "message",
            "role": "assistant",
            "model": model.spec.model_id,
            "content": [{"type": "text", "text": answer.text}],
            "stop_reason": answer.stop_reason,
            "stop_sequence": None,
            "usage": {"input_tokens": answer.input_tokens, "output_tokens": answer.output_tokens},
        }
    )


def chunk(event: dict[str, Any]) -> bytes:
    """A ``chunk`` event carrying one model stream event as base64 JSON bytes."""
    payload = base64.b64encode(json.dumps(event).encode()).decode()
    return event_frame("chunk", {"bytes": payload})


async def invoke_with_response_stream(call: Call) -> web.StreamResponse:
    """InvokeModelWithResponseStream for chat models: Anthropic stream events in chunks."""
    model = call.model()
    if model.spec.modality is not Modality.CHAT:
        raise validation("This model doesn't support streaming InvokeModel.")
    answer = ChatInvocation(call.json_object(), model.spec)
    writer = EventStreamWriter(call.request, call.pacer(), call.fault)
    response = await writer.open()
    message = {
        "id": answer.message_id,
        "type": "message",
        "role": "assistant",
        "content": [],
        "model": model.spec.model_id,
        "usage": {"input_tokens": answer.input_tokens, "output_tokens": 0},
    }
    await writer.send(chunk({"type": "message_start", "message": message}))
    await writer.send(
        chunk(
            {
                "type": "content_block_start",
                "index": 0,
                "content_block": {"type": "text", "text": ""},
            }
        )
    )
    for piece in split_tokens(answer.text):
        await writer.token(
            chunk(
                {
                    "type": "content_block_delta",
                    "index": 0,
                    "delta": {"type": "text_delta", "text": piece},
                }
            )
        )
    metrics = {
        "inputTokenCount": answer.input_tokens,
        "outputTokenCount": answer.output_tokens,
        "invocationLatency": call.latency_ms(),
        "firstByteLatency": 0,
    }
    await writer.finish(
        chunk({"type": "content_block_stop", "index": 0}),
        chunk(
            {
                "type": "message_delta",
                "delta": {"stop_reason": answer.stop_reason},
                "usage": {"output_tokens": answer.output_tokens},
            }
        ),
        chunk({"type": "message_stop", "amazon-bedrock-invocationMetrics": metrics}),
    )
    return response
