"""``fmgate chat``: one message to a bot, reply streamed to the terminal, via the Poe protocol.

Uses fastapi_poe's own client, either against a running gateway (``--url``) or in-process
against a gateway on the embedded emulator (no server, no AWS needed).
"""

from __future__ import annotations

import json
import sys

import fastapi_poe as fp
import httpx

from fmgate.config.catalog import Catalog


def query_for(message: str) -> fp.QueryRequest:
    return fp.QueryRequest(
        version="1.2",
        type="query",
        query=[fp.ProtocolMessage(role="user", content=message)],
        user_id="fmgate-cli",
        conversation_id="fmgate-cli",
        message_id="fmgate-cli",
    )


def client_reports(exc: Exception, message: str) -> None:
    """fastapi_poe's client reports to this handler what it does not understand, such as the
    ``data`` event that stores a message's state for Poe: not a failure of the answer (one
    attempt only, so a failed request raises instead, and is reported)."""


async def print_stream(
    bot: str, message: str, key: str, base_url: str, session: httpx.AsyncClient | None = None
) -> int:
    try:
        async for partial in fp.stream_request(
            query_for(message),
            bot,
            key,
            base_url=base_url,
            session=session,
            num_tries=1,
            on_error=client_reports,
        ):
            if partial.is_replace_response:
                print(f"\n{partial.text}", end="", flush=True)
            elif partial.attachment is not None:
                print(f"\n[file: {partial.attachment.name} {partial.attachment.url}]", flush=True)
            else:
                print(partial.text, end="", flush=True)
    except (fp.client.BotError, fp.client.BotErrorNoRetry) as exc:
        print(f"\nfmgate: the bot answered with an error: {error_text(exc)}", file=sys.stderr)
        return 1
    print()
    return 0


def error_text(exc: Exception) -> str:
    """The ``text`` of a Poe error event (the exception carries the event's JSON)."""
    try:
        data = json.loads(str(exc.args[0]))
    except (ValueError, IndexError):
        return str(exc)
    return str(data.get("text", data)) if isinstance(data, dict) else str(data)


async def chat_remote(url: str, bot: str, message: str, key: str) -> int:
    return await print_stream(bot, message, key, url.rstrip("/") + "/bot/")


async def chat_in_process(catalog: Catalog, bot: str, message: str) -> int:
    from fmgate.server.app import build_app
    from fmgate.server.bedrock_target import embedded_backend
    from fmgate.server.gateway import Gateway, GatewayOptions

    key = "fmgate-cli-in-process"
    with embedded_backend(catalog) as backend:
        options = GatewayOptions(
            aws=backend.aws, ledger_path=None, dev_access_key=key, local_media_url="http://fmgate"
        )
        async with Gateway.open(catalog, options) as gateway:
            transport = httpx.ASGITransport(app=build_app(gateway))
            async with httpx.AsyncClient(transport=transport, base_url="http://fmgate") as session:
                return await print_stream(bot, message, key, "http://fmgate/bot/", session)
