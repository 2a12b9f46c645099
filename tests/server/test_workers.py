"""``fmgate serve --workers 2``: a supervisor and two worker processes on one port (issue 15).

Real processes on loopback: the supervisor starts the embedded emulator once, binds the port and
a metrics port per worker, and starts the workers. Requests go over fresh connections (no
keep-alive), so the kernel spreads them over both workers; each test checks, from the workers'
own metrics, that both of them did serve.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from collections.abc import Sequence
from pathlib import Path

import httpx
from prometheus_client.parser import text_string_to_metric_families
from prometheus_client.samples import Sample

from fmgate.core.errors import ServerRestarting
from fmgate_emulator.content import reply_text
from tests.harness.load import assert_well_formed
from tests.harness.servers import SERVER_BOUND_SECONDS, free_port
from tests.resilience.gateway_process import (
    BOT,
    DRAINING_LINE,
    GatewayProcess,
    Stream,
    catalog_text,
    gateway_process,
    integrity,
    ledger_rows,
    poe_stream,
)

WORKERS = 2
QUESTION = " ".join(f"word{i}" for i in range(30))
REQUESTS_OK = "fmgate_requests_total"
PAINTER = """\
  - bot_name: painter
    kind: image
    model_id: amazon.titan-image-generator-v2:0
    image: {family: titan-image}
"""


def fresh_connections(timeout: float = 30.0) -> httpx.AsyncClient:
    """A client that opens a new connection per request: each one lands on either worker."""
    return httpx.AsyncClient(timeout=timeout, limits=httpx.Limits(max_keepalive_connections=0))


async def scrape(url: str) -> list[Sample]:
    async with httpx.AsyncClient() as client:
        response = await client.get(url)
    response.raise_for_status()
    families = text_string_to_metric_families(response.text)
    return [sample for family in families for sample in family.samples]


async def per_worker(server: GatewayProcess, name: str, **labels: str) -> list[float]:
    """The sum of the samples ``name`` whose labels include ``labels``, for each worker."""
    totals = []
    for url in server.worker_metrics:
        samples = await scrape(url)
        totals.append(
            sum(s.value for s in samples if s.name == name and labels.items() <= s.labels.items())
        )
    return totals


async def stream_many(
    server: GatewayProcess, count: int, *, concurrency: int, bot: str = BOT
) -> list[Stream]:
    """``count`` Poe queries to ``bot``, ``concurrency`` at a time, each on a new connection."""
    gate = asyncio.Semaphore(concurrency)
    streams = [Stream() for _ in range(count)]

    async def one(index: int, client: httpx.AsyncClient) -> None:
        async with gate:
            await poe_stream(client, server, f"user-{index}", "hello", streams[index], bot=bot)

    async with asyncio.timeout(60), fresh_connections() as client:
        await asyncio.gather(*(one(index, client) for index in range(count)))
    return streams


async def start_streams(
    server: GatewayProcess, client: httpx.AsyncClient, count: int
) -> tuple[list[Stream], list[asyncio.Task[Stream]]]:
    """``count`` concurrent streams, returned once every one of them is sending text."""
    streams = [Stream() for _ in range(count)]
    tasks = [
        asyncio.create_task(poe_stream(client, server, f"user-{i}", QUESTION, stream))
        for i, stream in enumerate(streams)
    ]
    async with asyncio.timeout(20):
        await asyncio.gather(*(stream.first_text.wait() for stream in streams))
    return streams, tasks


def assert_both_served(counts: Sequence[float]) -> None:
    assert len(counts) == WORKERS
    assert all(count > 0 for count in counts), counts


async def test_requests_over_two_workers_add_up_in_their_metrics(tmp_path: Path) -> None:
    requests = 40
    async with gateway_process(tmp_path, grace_seconds=5, workers=WORKERS) as server:
        streams = await stream_many(server, requests, concurrency=8)
        for stream in streams:
            assert_well_formed(stream)
            assert stream.error is None

        served = await per_worker(server, REQUESTS_OK, bot=BOT, outcome="ok")
        assert_both_served(served)
        assert sum(served) == requests
        assert sum(await per_worker(server, "fmgate_request_latency_seconds_count")) == requests
        async with asyncio.timeout(10):
            while True:
                recorded = sum(await per_worker(server, "fmgate_ledger_records_total"))
                if recorded >= requests:
                    break
                await asyncio.sleep(0.05)  # each row is committed just after its stream ended
        assert recorded == requests

        # One emulator, started by the supervisor, answered both workers.
        assert server.stdout_path.read_text().count("embedded Bedrock emulator at") == 1
        async with httpx.AsyncClient() as client:
            counters = (await client.get(server.emulator_url + "/_emulator/counters")).json()
            main_metrics = await client.get(server.url + "/metrics")
            status = (await client.get(server.url + "/status.json")).json()
            page = (await client.get(server.url + "/")).text
        assert counters["total"] == requests
        # The main port's /metrics would be one worker's: it names the workers' ports instead.
        ports = [url.rsplit(":", 1)[1].removesuffix("/metrics") for url in server.worker_metrics]
        assert main_metrics.status_code == 404
        assert all(port in main_metrics.text for port in ports)
        assert status["worker"]["count"] == WORKERS
        assert [str(p) for p in status["worker"]["metrics_ports"]] == ports
        assert "worker " in page
        assert all(port in page for port in ports)
        server.send_signal(signal.SIGTERM)
        assert await server.exit_code() == 0


async def test_the_sqlite_ledger_takes_every_row_from_both_workers(tmp_path: Path) -> None:
    requests = 300
    async with gateway_process(tmp_path, grace_seconds=5, workers=WORKERS) as server:
        streams = await stream_many(server, requests, concurrency=32)
        recorded = await per_worker(server, "fmgate_ledger_records_total")
        server.send_signal(signal.SIGTERM)
        assert await server.exit_code() == 0
    assert all(stream.error is None for stream in streams)
    assert_both_served(recorded)  # both workers wrote to the file
    rows = ledger_rows(server.ledger)
    assert rows == {stream.request_id: "ok" for stream in streams}  # exactly one row each
    assert integrity(server.ledger) == "ok"
    log = server.stderr_path.read_text()
    assert "database is locked" not in log
    assert '"level":"ERROR"' not in log


async def test_sigterm_drains_every_worker_and_streams_finish(tmp_path: Path) -> None:
    async with gateway_process(tmp_path, grace_seconds=20, workers=WORKERS) as server:
        await server.pace(tokens_per_second=25)  # ~2 s per answer
        async with httpx.AsyncClient(timeout=30) as client:
            streams, tasks = await start_streams(server, client, 16)
            assert_both_served(await per_worker(server, "fmgate_inflight_streams"))

            server.send_signal(signal.SIGTERM)
            await server.wait_for_logs(DRAINING_LINE, WORKERS)
            await assert_refuses_connections(server.url)
            # Each worker's metrics stay up while it drains: its streams are still there.
            assert_both_served(await per_worker(server, "fmgate_inflight_streams"))
            await asyncio.gather(*tasks)
        assert await server.exit_code() == 0
    expected, _ = reply_text(QUESTION, max_tokens=512)
    for stream in streams:
        assert_well_formed(stream)
        assert stream.error is None
        assert stream.text == expected
    assert ledger_rows(server.ledger) == {stream.request_id: "ok" for stream in streams}


async def test_streams_past_the_grace_period_are_cut_in_every_worker(tmp_path: Path) -> None:
    async with gateway_process(tmp_path, grace_seconds=0.5, workers=WORKERS) as server:
        await server.pace(tokens_per_second=4)  # ~10 s per answer: far past the grace period
        async with httpx.AsyncClient(timeout=30) as client:
            streams, tasks = await start_streams(server, client, 16)
            assert_both_served(await per_worker(server, "fmgate_inflight_streams"))
            server.send_signal(signal.SIGTERM)
            await asyncio.gather(*tasks)
        assert await server.exit_code() == 0
    for stream in streams:
        assert_well_formed(stream)
        assert stream.error == {"allow_retry": True, "text": ServerRestarting.default_message}
    rows = ledger_rows(server.ledger)
    assert rows == {stream.request_id: ServerRestarting.code for stream in streams}


async def test_sighup_reloads_the_catalog_in_every_worker(tmp_path: Path) -> None:
    added = "fresh-nova"
    async with gateway_process(tmp_path, grace_seconds=5, workers=WORKERS) as server:
        catalog = tmp_path / "catalog.yaml"
        catalog.write_text(
            catalog_text(5) + f"  - bot_name: {added}\n    model_id: amazon.nova-lite-v1:0\n"
        )
        server.send_signal(signal.SIGHUP)
        applied = await server.wait_for_logs(f"catalog applied; added: {added}", WORKERS)
        assert len(applied) == WORKERS

        streams = await stream_many(server, 24, concurrency=8, bot=added)
        assert all(stream.error is None and stream.text for stream in streams)
        assert_both_served(await per_worker(server, REQUESTS_OK, bot=added, outcome="ok"))
        server.send_signal(signal.SIGTERM)
        assert await server.exit_code() == 0


async def test_a_worker_that_dies_is_replaced(tmp_path: Path) -> None:
    async with gateway_process(tmp_path, grace_seconds=5, workers=WORKERS) as server:
        serving = await server.wait_for_logs("worker 1 of 2 serving", 1)
        first_pid = int(str(serving[0]["pid"]))
        os.kill(first_pid, signal.SIGKILL)

        await server.wait_for_logs("exited with signal SIGKILL; starting a new one", 1)
        serving = await server.wait_for_logs("worker 1 of 2 serving", 2)
        assert int(str(serving[1]["pid"])) != first_pid

        streams = await stream_many(server, 24, concurrency=8)
        assert all(stream.error is None and stream.text for stream in streams)
        assert_both_served(await per_worker(server, REQUESTS_OK, bot=BOT, outcome="ok"))
        server.send_signal(signal.SIGTERM)
        assert await server.exit_code() == 0
    assert set(ledger_rows(server.ledger)) == {stream.request_id for stream in streams}


async def test_a_worker_that_cannot_start_stops_the_supervisor(tmp_path: Path) -> None:
    broken = tmp_path / "catalog.yaml"
    broken.write_text(catalog_text(5) + "    custom_class: python:fmgate_no_such_module:Bot\n")
    stderr = tmp_path / "stderr.log"
    with stderr.open("wb") as log:
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "fmgate.cli",
            "serve",
            "--config",
            str(broken),
            "--port",
            str(free_port()),
            "--workers",
            str(WORKERS),
            "--metrics-port",
            "0",
            "--emulator",
            "always",
            "--ledger",
            str(tmp_path / "usage.sqlite3"),
            "--log-json",
            cwd=tmp_path,
            stdout=asyncio.subprocess.DEVNULL,
            stderr=log,
        )
    try:
        async with asyncio.timeout(SERVER_BOUND_SECONDS):
            assert await process.wait() == 1
    finally:
        if process.returncode is None:
            process.kill()
    text = stderr.read_text()
    assert "before any worker served: start-up failed" in text
    assert "starting a new one" not in text  # no restart loop


async def assert_refuses_connections(url: str) -> None:
    async with httpx.AsyncClient() as fresh:
        try:
            await fresh.get(url + "/healthz")
        except httpx.ConnectError:
            return
    raise AssertionError("a new connection was accepted after SIGTERM")


async def test_generated_media_links_reach_the_worker_that_has_them(tmp_path: Path) -> None:
    async with gateway_process(tmp_path, grace_seconds=5, workers=WORKERS) as server:
        catalog = tmp_path / "catalog.yaml"
        catalog.write_text(catalog_text(5) + PAINTER)
        server.send_signal(signal.SIGHUP)
        await server.wait_for_logs("catalog applied; added: painter", WORKERS)
        streams = await stream_many(server, 16, concurrency=8, bot="painter")
        assert_both_served(await per_worker(server, REQUESTS_OK, bot="painter", outcome="ok"))
        files = [data for stream in streams for name, data in stream.events if name == "file"]
        assert len(files) == len(streams)
        own_ports = {url.removesuffix("/metrics") for url in server.worker_metrics}
        async with fresh_connections() as client:
            for link in files:
                # Kept by the worker that made it: the link is that worker's own port.
                assert str(link["url"]).rsplit("/media/", 1)[0] in own_ports
                for _ in range(3):
                    image = await client.get(str(link["url"]))
                    assert image.status_code == 200
                    assert image.headers["content-type"] == "image/png"
        server.send_signal(signal.SIGTERM)
        assert await server.exit_code() == 0


def running(pid: int) -> bool:
    """Whether ``pid`` is a live process (not gone, not a zombie waiting to be reaped)."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except FileNotFoundError:
        return False
    return "\nState:\tZ" not in status


async def test_workers_stop_on_their_own_when_the_supervisor_is_killed(tmp_path: Path) -> None:
    async with gateway_process(tmp_path, grace_seconds=5, workers=WORKERS) as server:
        serving = await server.wait_for_logs("serving (pid", WORKERS)
        pids = [int(str(line["pid"])) for line in serving]
        os.kill(server.process.pid, signal.SIGKILL)
        await server.process.wait()

        async with asyncio.timeout(SERVER_BOUND_SECONDS):
            while any(running(pid) for pid in pids):  # noqa: ASYNC110 - polling other processes
                await asyncio.sleep(0.05)
        await assert_refuses_connections(server.url)
    gone = [line for line in server.log_lines() if "the supervisor is gone" in str(line["message"])]
    assert len(gone) == WORKERS


async def test_a_worker_that_keeps_dying_leaves_new_connections_to_the_others(
    tmp_path: Path,
) -> None:
    async with gateway_process(tmp_path, grace_seconds=5, workers=WORKERS) as server:
        for kills in (1, 2):  # the second exit soon after a start delays the next one (1 s)
            serving = await server.wait_for_logs("worker 1 of 2 serving", kills)
            os.kill(int(str(serving[-1]["pid"])), signal.SIGKILL)
        await server.wait_for_logs("exited with signal SIGKILL; starting a new one in 1 s", 1)
        before = await scrape_total(server.worker_metrics[1])

        streams = await stream_many(server, 16, concurrency=8)  # meanwhile: worker 2 alone

        assert all(stream.error is None and stream.text for stream in streams)
        messages = [str(line["message"]) for line in server.log_lines()]
        if sum("worker 1 of 2 serving" in m for m in messages) < 3:  # no replacement yet:
            # worker 2 took every one of them
            assert await scrape_total(server.worker_metrics[1]) == before + len(streams)
        await server.wait_for_logs("worker 1 of 2 serving", 3)  # a new socket for it
        later = await stream_many(server, 24, concurrency=8)
        assert all(stream.error is None for stream in later)
        assert_both_served(await per_worker(server, REQUESTS_OK, bot=BOT, outcome="ok"))
        server.send_signal(signal.SIGTERM)
        assert await server.exit_code() == 0


async def scrape_total(url: str) -> float:
    """Requests one worker has finished, read from its own metrics."""
    return sum(s.value for s in await scrape(url) if s.name == REQUESTS_OK)
