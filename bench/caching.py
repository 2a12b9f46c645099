"""The prompt-caching phase: one conversation with caching ``off`` and one with ``auto``, side by
side, through the real Poe client, a real ``fmgate serve`` and the emulator's realistic profile.

Both bots copy one Claude bot of the bundled catalog (its model, prices and ``prompt_caching``
section; ``plan.caching_source_bot``) and differ only in ``prompt_caching.mode``. Their system
prompt is a support bot's rules of about 3,100 tokens; each turn pastes about 130 tokens more
(``bench.conversation_script``), and each query carries the whole conversation, as Poe sends it.
Turn k of both conversations is sent at the same time, so both see the same machine; one short
query to another bot warms the gateway up first.

The emulator runs its realistic profile during the phase: a fixed time to first token plus the
time to read the prompt's *uncached* input tokens (those not read from its prompt cache), then a
token rate. Per turn the phase keeps the client's TTFT and the gateway's ledger row (input tokens,
cache reads and writes as Bedrock's usage reported them, and the cost at the bot's catalog rates),
read from the server's ledger file once the server has stopped.

``python -m bench.run`` runs this phase last (``--skip-caching`` leaves it out);
``python -m bench.caching [--turns N] [--out PATH]`` runs it alone, on an emulator of its own.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import secrets
import sys
import tempfile
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import fastapi_poe as fp
import httpx
import uvloop

from bench.caching_figures import MODES, CachingOutcome, TurnBill
from bench.conversation_script import system_prompt, user_turn
from bench.emulator_control import EmulatorControl
from bench.measure import BenchPlan, EmulatorTiming
from bench.report_json import caching_json
from bench.report_table import caching_table
from bench.servers import (
    BOT_NAME,
    POE_KEY_REFERENCE,
    REGION,
    BenchCredentials,
    bench_bot,
    emulator_server,
    fmgate_server,
    ledger_path,
)
from fmgate.accounting.ledger import UsageRecord
from fmgate.accounting.sqlite_ledger import SqliteLedger
from fmgate.cli.chat_client import client_reports
from fmgate.config.bot_config import ChatBotConfig
from fmgate.config.loader import load_catalog
from fmgate_emulator.config import PROFILE_TIMINGS

SERVER_NAME = "fmgate-caching"
#: The emulator's realistic profile: TTFT, token rate and the rate it reads uncached input at.
REALISTIC = PROFILE_TIMINGS["realistic"]


@dataclass(frozen=True, slots=True)
class CachingSetup:
    """What the phase needs from the run: the emulator, keys, the CPUs fmgate may use."""

    emulator_url: str
    credentials: BenchCredentials
    fmgate_cpus: frozenset[int] | None


@dataclass(frozen=True, slots=True)
class SentTurn:
    """One answered turn, before the ledger is read: its request id and the client's TTFT."""

    turn: int
    request_id: str
    ttft_ms: float


def bot_name(mode: str) -> str:
    return f"bench-caching-{mode}"


def source_bot(name: str) -> ChatBotConfig:
    """The bundled catalog's chat bot ``name``."""
    bot = load_catalog().bot(name)
    if not isinstance(bot, ChatBotConfig) or bot.prompt_caching is None:
        raise ValueError(f"{name} is not a chat bot with prompt caching in the bundled catalog")
    return bot


def caching_bots(source: ChatBotConfig, max_tokens: int, prompt: str) -> list[dict[str, object]]:
    """Two catalog entries copying ``source`` (model, prices, caching section, capabilities),
    one per mode of :data:`MODES`; only ``prompt_caching.mode`` differs."""
    entry = source.model_dump(mode="json", exclude_defaults=True)
    caching = source.prompt_caching.model_dump(mode="json") if source.prompt_caching else {}
    return [
        entry
        | {
            "bot_name": bot_name(mode),
            "access_key": POE_KEY_REFERENCE,
            "aws_region": REGION,
            "max_tokens": max_tokens,
            "system_prompt": prompt,
            "prompt_caching": caching | {"mode": mode},
        }
        for mode in MODES
    ]


class PoeConversation:
    """One Poe conversation with one bot through fastapi_poe's client: each query carries the
    whole conversation so far; the gateway's request id of each answer is kept."""

    def __init__(self, base_url: str, bot: str, access_key: str, conversation_id: str) -> None:
        self._base_url = f"{base_url}/bot/"
        self._bot = bot
        self._key = access_key
        self._conversation_id = conversation_id
        self._history: list[fp.ProtocolMessage] = []
        self._request_ids: list[str] = []
        self._session = httpx.AsyncClient(
            timeout=httpx.Timeout(120.0), event_hooks={"response": [self._note_request_id]}
        )

    async def _note_request_id(self, response: httpx.Response) -> None:
        # Only answers to queries carry one; fastapi_poe's client also posts ``report_error``
        # for the ``data`` event (a message's state for Poe) that it does not know.
        if "x-request-id" in response.headers:
            self._request_ids.append(response.headers["x-request-id"])

    async def ask(self, turn: int, text: str) -> SentTurn:
        """Send the next user message; the reply joins the history."""
        self._history.append(fp.ProtocolMessage(role="user", content=text))
        request = fp.QueryRequest(
            version="1.2",
            type="query",
            query=list(self._history),
            user_id="bench-user",
            conversation_id=self._conversation_id,
            message_id=f"{self._conversation_id}-{turn}",
        )
        reply = ""
        first_text = 0.0
        started = time.perf_counter()
        async for partial in fp.stream_request(
            request,
            self._bot,
            self._key,
            base_url=self._base_url,
            session=self._session,
            num_tries=1,
            on_error=client_reports,
        ):
            if partial.text and not first_text:
                first_text = time.perf_counter()
            reply += partial.text
        if not reply:
            raise RuntimeError(f"{self._bot} turn {turn}: no text in the answer")
        self._history.append(fp.ProtocolMessage(role="bot", content=reply))
        return SentTurn(turn, self._request_ids[-1], (first_text - started) * 1000)

    async def aclose(self) -> None:
        await self._session.aclose()


async def measure_caching(
    plan: BenchPlan, setup: CachingSetup, log_dir: Path, emulator: EmulatorTiming
) -> CachingOutcome:
    """Both conversations, ``plan.caching_turns`` turns each, on the realistic emulator."""
    source = source_bot(plan.caching_source_bot)
    bots = caching_bots(source, plan.max_tokens, system_prompt(secrets.token_hex(4)))
    await emulator.set_timing(
        REALISTIC.ttft_ms,
        REALISTIC.tokens_per_second or 0.0,
        REALISTIC.uncached_tokens_per_second or 0.0,
    )
    try:
        async with fmgate_server(
            log_dir,
            setup.emulator_url,
            setup.credentials,
            plan.max_tokens,
            setup.fmgate_cpus,
            name=SERVER_NAME,
            bots=[*bots, bench_bot(plan.max_tokens)],
        ) as server:
            key = setup.credentials.poe_access_key
            await warm_up(server.url, key)
            sent = await converse(server.url, key, plan.caching_turns)
    finally:
        await emulator.set_timing(plan.fast_ttft_ms, plan.fast_tokens_per_second)
    return CachingOutcome(
        "ok",
        source_bot=source.bot_name,
        model_id=source.model_id,
        pricing={
            k: v for k, v in source.pricing.model_dump().items() if isinstance(v, float) and v
        },
        emulator_timing={
            "ttft_ms": REALISTIC.ttft_ms,
            "tokens_per_second": REALISTIC.tokens_per_second,
            "uncached_tokens_per_second": REALISTIC.uncached_tokens_per_second,
        },
        turns=await billed_turns(ledger_path(log_dir, SERVER_NAME), sent),
    )


async def warm_up(base_url: str, access_key: str) -> None:
    """One short query to the bench's own bot (same region, nothing cached), so the first turn's
    TTFT does not include the gateway's first Bedrock connection."""
    conversation = PoeConversation(base_url, BOT_NAME, access_key, "bench-caching-warm-up")
    try:
        await conversation.ask(1, "Warm-up.")
    finally:
        await conversation.aclose()


async def converse(base_url: str, access_key: str, turns: int) -> dict[str, list[SentTurn]]:
    """``turns`` turns with each bot of :data:`MODES`, turn k sent to both at once."""
    conversations = {
        mode: PoeConversation(base_url, bot_name(mode), access_key, f"bench-caching-{mode}")
        for mode in MODES
    }
    sent: dict[str, list[SentTurn]] = {mode: [] for mode in MODES}
    try:
        for turn in range(1, turns + 1):
            text = user_turn(turn)
            answers = await asyncio.gather(*(c.ask(turn, text) for c in conversations.values()))
            for mode, answer in zip(conversations, answers, strict=True):
                sent[mode].append(answer)
    finally:
        for conversation in conversations.values():
            await conversation.aclose()
    return sent


async def billed_turns(
    ledger_file: Path, sent: Mapping[str, list[SentTurn]]
) -> dict[str, list[TurnBill]]:
    """Each sent turn with its ledger row (the server has stopped: every row is written)."""
    ledger = SqliteLedger(ledger_file)
    try:
        return {
            mode: [turn_bill(t, await ledger.get(t.request_id), mode) for t in turns]
            for mode, turns in sent.items()
        }
    finally:
        await ledger.aclose()


def turn_bill(sent: SentTurn, row: UsageRecord | None, mode: str) -> TurnBill:
    """A turn as billed; a turn the ledger lacks, or holds as failed or estimated, is an error."""
    where = f"caching {mode} turn {sent.turn}"
    if row is None:
        raise RuntimeError(f"{where}: no ledger row for request {sent.request_id}")
    if row.outcome != "ok" or row.estimated:
        raise RuntimeError(f"{where}: ledger row outcome {row.outcome}, estimated {row.estimated}")
    return TurnBill(
        turn=sent.turn,
        input_tokens=row.input_tokens,
        cache_read_tokens=row.cache_read_tokens,
        cache_write_tokens=row.cache_write_tokens,
        output_tokens=row.output_tokens,
        cost_milli_cents=row.cost_milli_cents,
        ttft_ms=sent.ttft_ms,
    )


async def measure_alone(plan: BenchPlan, log_dir: Path) -> CachingOutcome:
    """The phase on an emulator of its own (no CPU pinning)."""
    credentials = BenchCredentials()
    async with emulator_server(log_dir, credentials) as emulator:
        setup = CachingSetup(emulator.url, credentials, None)
        return await measure_caching(plan, setup, log_dir, EmulatorControl(emulator.url))


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.caching", description=__doc__)
    parser.add_argument("--turns", type=int, default=BenchPlan().caching_turns)
    parser.add_argument("--out", type=Path, help="also write the phase's JSON here")
    args = parser.parse_args(argv)
    plan = replace(BenchPlan(), caching_turns=args.turns)
    with tempfile.TemporaryDirectory(prefix="fmgate-bench-caching-") as tmp:
        outcome = uvloop.run(measure_alone(plan, Path(tmp)))
    print("\n".join(caching_table(outcome)))
    if args.out is not None:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(caching_json(outcome), indent=2) + "\n")
        print(f"bench: wrote {args.out}", file=sys.stderr)
    return 0 if outcome.status == "ok" else 1


if __name__ == "__main__":
    raise SystemExit(main())
