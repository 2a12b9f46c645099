"""``fmgate chat``: one message to a bot, in-process on the embedded emulator or to ``--url``.

The Poe client itself (fastapi_poe, imported only when a chat runs) is in ``chat_client``.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from typing import TYPE_CHECKING

from fmgate.cli.options import add_config_option, load_or_exit
from fmgate.cli.serve import read_dev_key

if TYPE_CHECKING:
    from fmgate.cli.options import Subparsers


def register(subparsers: Subparsers) -> None:
    chat = subparsers.add_parser("chat", help="send one message to a bot and stream the reply")
    chat.add_argument("bot")
    chat.add_argument("message")
    chat.add_argument("--url", help="a running gateway (default: in-process, embedded emulator)")
    chat.add_argument("--key", help="the bot's Poe access key (default: env POE_ACCESS_KEY)")
    add_config_option(chat)
    chat.set_defaults(run=run_chat)


def run_chat(args: argparse.Namespace) -> int:
    from fmgate.cli.chat_client import chat_in_process, chat_remote
    from fmgate.server.bedrock_target import EmulatorNotInstalled

    if args.url:
        key = args.key or os.environ.get("POE_ACCESS_KEY") or read_dev_key()
        return asyncio.run(chat_remote(args.url, args.bot, args.message, key))
    catalog = load_or_exit(args.config)
    try:
        return asyncio.run(chat_in_process(catalog, args.bot, args.message))
    except EmulatorNotInstalled as exc:
        print(f"fmgate: {exc}; or chat with a running gateway: --url URL", file=sys.stderr)
        return 1
