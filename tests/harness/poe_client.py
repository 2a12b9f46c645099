"""Drive the gateway the way Poe does: fastapi_poe's client over HTTP (ASGI, in-process)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field

import fastapi_poe as fp
import httpx
import httpx_sse

TEST_POE_KEY = "poe-test-access-key-0123456789ab"  # 32 characters, like Poe's keys
BASE_URL = "http://gateway/bot/"


@dataclass
class Reply:
    text: str = ""
    partials: list[fp.PartialResponse] = field(default_factory=list)
    error: dict[str, object] | None = None

    @property
    def files(self) -> list[fp.Attachment]:
        return [p.attachment for p in self.partials if p.attachment is not None]


def query(*messages: tuple[str, str] | fp.ProtocolMessage, **fields: object) -> fp.QueryRequest:
    """A Poe query; messages as (role, text) pairs or ProtocolMessages, oldest first."""
    protocol = [
        m if isinstance(m, fp.ProtocolMessage) else fp.ProtocolMessage(role=m[0], content=m[1])
        for m in messages
    ]
    base: dict[str, object] = {
        "version": "1.2",
        "type": "query",
        "query": protocol,
        "user_id": "u-test",
        "conversation_id": "c-test",
        "message_id": "m-test",
        "bot_query_id": "bq-test",
    }
    base.update(fields)
    return fp.QueryRequest.model_validate(base)


async def ask(
    session: httpx.AsyncClient,
    bot: str,
    request: fp.QueryRequest | str,
    *,
    key: str = TEST_POE_KEY,
) -> Reply:
    """Stream a reply with fastapi_poe's client; an ``error`` event lands in ``Reply.error``."""
    req = query(("user", request)) if isinstance(request, str) else request
    reply = Reply()
    try:
        async for partial in fp.stream_request(
            req, bot, key, base_url=BASE_URL, session=session, num_tries=1
        ):
            reply.partials.append(partial)
            if partial.is_replace_response:
                reply.text = partial.text
            elif partial.attachment is None:
                reply.text += partial.text
    except (fp.client.BotError, fp.client.BotErrorNoRetry) as exc:
        reply.error = json.loads(str(exc.args[0]))
    return reply


async def raw_events(
    session: httpx.AsyncClient, bot: str, body: dict[str, object], key: str = TEST_POE_KEY
) -> list[tuple[str, dict[str, object]]]:
    """The SSE events exactly as sent (event name, parsed data)."""
    events: list[tuple[str, dict[str, object]]] = []
    async with httpx_sse.aconnect_sse(
        session,
        "POST",
        BASE_URL + bot,
        json=body,
        headers={"Authorization": f"Bearer {key}"},
    ) as source:
        async for sse in source.aiter_sse():
            events.append((sse.event, json.loads(sse.data)))
    return events
