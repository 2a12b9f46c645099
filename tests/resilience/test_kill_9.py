"""``kill -9`` of a real ``fmgate serve`` under load loses no recorded usage (issue 8).

Thirty clients stream continuously; once the server reports (``fmgate_ledger_records_total``)
enough committed records, the test reads what the ledger file holds, kills the server with
SIGKILL, and checks the file afterwards: intact, every acknowledged and every committed record
present, nothing duplicated, nothing the clients never asked for.
"""

from __future__ import annotations

import asyncio
import sqlite3
from contextlib import closing
from pathlib import Path

import httpx
from prometheus_client.parser import text_string_to_metric_families

from fmgate.accounting.sqlite_ledger import SqliteLedger
from tests.resilience.gateway_process import (
    GatewayProcess,
    Stream,
    gateway_process,
    integrity,
    ledger_rows,
    poe_stream,
)

WORKERS = 30
#: Kill once the server acknowledged this many ledger commits (well into the load).
KILL_AFTER_RECORDS = 60


async def records_acknowledged(client: httpx.AsyncClient, server: GatewayProcess) -> int:
    """``fmgate_ledger_records_total`` as the server reports it now."""
    text = (await client.get(server.url + "/metrics")).text
    return int(
        sum(
            sample.value
            for family in text_string_to_metric_families(text)
            for sample in family.samples
            if sample.name == "fmgate_ledger_records_total"
        )
    )


def committed_request_ids(path: Path) -> set[str]:
    """What another reader of the ledger file sees committed right now (read-only)."""
    with closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as db:
        return {row[0] for row in db.execute("SELECT request_id FROM usage")}


async def keep_asking(
    client: httpx.AsyncClient, server: GatewayProcess, worker: int, seen: set[str]
) -> None:
    """Stream one question after another until the server goes away."""
    for n in range(10_000):
        stream = Stream()
        try:
            await poe_stream(client, server, f"user-{worker}", f"question {worker}-{n}", stream)
        except httpx.TransportError:
            return  # killed mid-stream (or refused afterwards)
        finally:
            if stream.request_id:
                seen.add(stream.request_id)


async def test_kill_9_under_load_keeps_every_recorded_request(tmp_path: Path) -> None:
    seen: set[str] = set()
    async with gateway_process(tmp_path, grace_seconds=30) as server:
        await server.pace(tokens_per_second=300)
        limits = httpx.Limits(max_connections=WORKERS + 5)
        async with httpx.AsyncClient(timeout=30, limits=limits) as client:
            workers = [
                asyncio.create_task(keep_asking(client, server, i, seen)) for i in range(WORKERS)
            ]
            async with asyncio.timeout(30):
                acknowledged = await records_acknowledged(client, server)
                while acknowledged < KILL_AFTER_RECORDS:
                    await asyncio.sleep(0.05)
                    acknowledged = await records_acknowledged(client, server)
            committed = await asyncio.to_thread(committed_request_ids, server.ledger)
            server.process.kill()
            assert await server.exit_code() == -9
            await asyncio.gather(*workers)

    assert integrity(server.ledger) == "ok"
    rows = ledger_rows(server.ledger)
    assert len(rows) >= acknowledged
    assert committed <= rows.keys()
    assert rows.keys() <= seen
    with closing(sqlite3.connect(server.ledger)) as db:
        total, distinct = db.execute(
            "SELECT COUNT(*), COUNT(DISTINCT request_id) FROM usage"
        ).fetchone()
    assert total == distinct == len(rows)
    # The gateway's own ledger opens the file after the crash and reads every record back.
    ledger = SqliteLedger(server.ledger)
    try:
        for request_id in committed:
            record = await ledger.get(request_id)
            assert record is not None
            assert record.outcome == rows[request_id]
    finally:
        await ledger.aclose()
