"""How an operator sees that prompt caching works, end to end: Poe conversations through
fastapi_poe's client on the emulator, then ``fmgate usage`` (a real process reading the
gateway's SQLite ledger), ``GET /metrics`` and the status page, each checked against the ledger's
rows.

``claude-cached`` caches (its Poe conversations carry a system prompt above Claude's minimum),
``nova-micro-off`` has caching off, ``sonnet-cached`` caches but is never asked.
"""

from __future__ import annotations

import subprocess
import sys
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import fastapi_poe as fp
import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from fmgate.accounting.ledger import UsageRecord, signed_usd, usd
from fmgate.config.catalog import Catalog
from fmgate.server.app import build_app
from fmgate.server.gateway import Gateway, GatewayOptions
from fmgate_emulator import AsyncEmulatorClient, Emulator
from tests.fakes.poe_api import FakePoeApi
from tests.harness.caching_catalog import LONG_SYSTEM, caching_catalog
from tests.harness.emulator import aws_for
from tests.harness.poe_client import TEST_POE_KEY, ask, query

REPO = Path(__file__).resolve().parents[2]
CACHED, OFF = "claude-cached", "nova-micro-off"
TURNS = 4


@dataclass
class Conversations:
    """The gateway's ledger file, its rows per bot, and what its HTTP routes showed after."""

    ledger_path: Path
    rows: dict[str, list[UsageRecord]]
    metrics: str
    status: dict[str, dict[str, object]]
    page: str


async def talk(session: httpx.AsyncClient, bot: str, turns: int) -> None:
    """A Poe conversation: every query carries the system prompt and the whole chat so far."""
    history = [fp.ProtocolMessage(role="system", content=LONG_SYSTEM)]
    for turn in range(1, turns + 1):
        history.append(fp.ProtocolMessage(role="user", content=f"What does rule{turn} say?"))
        request = query(*history, bot_query_id=f"bq-{bot}-{turn}", conversation_id=f"c-{bot}")
        reply = await ask(session, bot, request)
        assert reply.error is None
        history.append(fp.ProtocolMessage(role="bot", content=reply.text))


@pytest.fixture
async def conversations(
    monkeypatch: pytest.MonkeyPatch,
    poe_api: FakePoeApi,
    emulator: Emulator,
    emu: AsyncEmulatorClient,
    moto_url: str,
    tmp_path: Path,
) -> Conversations:
    """The conversations on a fresh emulator (``emu``: its prompt cache cleared)."""
    monkeypatch.setenv("FMGATE_TEST_POE_KEY", TEST_POE_KEY)
    catalog: Catalog = caching_catalog(poe_api)
    ledger_path = tmp_path / "usage.db"
    options = GatewayOptions(aws=aws_for(emulator, moto_url), ledger_path=ledger_path)
    request_ids: dict[str, list[str]] = {CACHED: [], OFF: []}

    async def note_request_id(response: httpx.Response) -> None:
        bot = response.request.url.path.removeprefix("/bot/")
        if bot in request_ids:
            request_ids[bot].append(response.headers["x-request-id"])

    async with Gateway.open(catalog, options) as gateway:
        transport = httpx.ASGITransport(app=build_app(gateway))
        async with httpx.AsyncClient(
            transport=transport,
            base_url="http://gateway",
            event_hooks={"response": [note_request_id]},
        ) as session:
            await talk(session, CACHED, TURNS)
            await talk(session, OFF, 2)
            await gateway.finisher.drain()
            assert gateway.ledger is not None
            rows: dict[str, list[UsageRecord]] = {}
            for bot, ids in request_ids.items():
                found = [await gateway.ledger.get(request_id) for request_id in ids]
                rows[bot] = [row for row in found if row is not None]
                assert len(rows[bot]) == len(ids)
            metrics = (await session.get("/metrics")).text
            status = (await session.get("/status.json")).json()
            page = (await session.get("/")).text
    return Conversations(
        ledger_path, rows, metrics, {row["bot"]: row for row in status["bots"]}, page
    )


def prompt_tokens(rows: list[UsageRecord]) -> tuple[int, int, int]:
    """(input, cache read, cache write) summed over ``rows``."""
    return (
        sum(r.input_tokens for r in rows),
        sum(r.cache_read_tokens for r in rows),
        sum(r.cache_write_tokens for r in rows),
    )


def expected_saving(row: UsageRecord) -> Decimal:
    """The catalog's claude-cached prices: input 0.3, cache read 0.03, cache write 0.375."""
    reads, writes = Decimal(row.cache_read_tokens), Decimal(row.cache_write_tokens)
    return reads * (Decimal("0.3") - Decimal("0.03")) + writes * (Decimal("0.3") - Decimal("0.375"))


def test_the_ledger_rows_read_the_cache_and_record_their_saving(
    conversations: Conversations,
) -> None:
    cached = conversations.rows[CACHED]
    assert cached[0].cache_read_tokens == 0
    assert cached[0].cache_write_tokens > 1100  # the system prompt and the first question
    assert cached[0].cache_saving_milli_cents is not None
    assert cached[0].cache_saving_milli_cents < 0  # written, not read back yet
    assert all(row.cache_read_tokens > 1100 for row in cached[1:])
    for row in cached:
        assert row.cache_saving_milli_cents == float(expected_saving(row))
    for row in conversations.rows[OFF]:
        assert (row.cache_read_tokens, row.cache_write_tokens) == (0, 0)
        assert row.cache_saving_milli_cents == 0


def test_fmgate_usage_shows_the_ledger_rows_cache_figures(conversations: Conversations) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "fmgate.cli", "usage", "--ledger", str(conversations.ledger_path)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    lines = done.stdout.splitlines()
    assert lines[0].split() == [
        "day",
        "bot",
        "requests",
        "errors",
        "input",
        "tokens",
        "output",
        "tokens",
        "cache",
        "read",
        "cache",
        "write",
        "hit",
        "cost",
        "saved",
    ]
    columns = {line.split()[1]: line.split()[2:] for line in lines[2:-2]}
    cached = conversations.rows[CACHED]
    input_tokens, reads, writes = prompt_tokens(cached)
    saving = sum(expected_saving(row) for row in cached)
    assert saving > 0  # the reads paid for the writes
    assert columns[CACHED] == [
        f"{TURNS}",
        "0",
        f"{input_tokens:,}",
        f"{sum(r.output_tokens for r in cached):,}",
        f"{reads:,}",
        f"{writes:,}",
        f"{reads / (input_tokens + reads + writes):.1%}",
        usd(sum(r.cost_milli_cents for r in cached)),
        signed_usd(round(saving)),
    ]
    off = conversations.rows[OFF]
    assert columns[OFF][4:7] == ["0", "0", "–"]  # no cache tokens: no hit ratio
    assert columns[OFF][8] == "$0.00000"
    total = lines[-1].split()
    assert total[0] == "total"
    everything = prompt_tokens(cached + off)
    assert total[-3:] == [
        f"{everything[1] / sum(everything):.1%}",
        usd(sum(r.cost_milli_cents for r in cached + off)),
        signed_usd(round(saving)),
    ]


def metric_values(text: str, name: str) -> dict[tuple[str, str], float]:
    """(bot, direction) -> value of a ``name`` sample."""
    return {
        (s.labels["bot"], s.labels["direction"]): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
        if s.name == name
    }


def test_metrics_count_cache_reads_and_writes_per_bot(conversations: Conversations) -> None:
    tokens = metric_values(conversations.metrics, "fmgate_tokens_total")
    for bot, rows in conversations.rows.items():
        input_tokens, reads, writes = prompt_tokens(rows)
        assert tokens.get((bot, "input"), 0) == input_tokens  # no series while it is 0
        assert tokens[bot, "output"] == sum(r.output_tokens for r in rows)
        assert tokens.get((bot, "cache_read"), 0) == reads
        assert tokens.get((bot, "cache_write"), 0) == writes
    assert (OFF, "cache_read") not in tokens  # no series for a bot that never cached


def test_the_status_page_shows_each_bots_hit_ratio(conversations: Conversations) -> None:
    input_tokens, reads, writes = prompt_tokens(conversations.rows[CACHED])
    ratio = reads / (input_tokens + reads + writes)
    assert conversations.status[CACHED]["cache_hit_ratio"] == round(ratio, 4)
    assert conversations.status[OFF]["cache_hit_ratio"] is None  # caching off
    assert conversations.status["sonnet-cached"]["cache_hit_ratio"] is None  # never asked
    page = conversations.page
    assert f'data-bot="{CACHED}"' in page
    cells = {
        bot: page.split(f'data-bot="{bot}"', 1)[1].split('<td class="num cache-hits">', 1)[1]
        for bot in (CACHED, OFF, "sonnet-cached")
    }
    assert cells[CACHED].startswith(f"{ratio:.1%}</td>")
    assert cells[OFF].startswith("–</td>")
    assert cells["sonnet-cached"].startswith("–</td>")
