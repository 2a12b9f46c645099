"""The parts of ``fmgate serve --workers N`` one at a time: the option, the sockets, the restart
delays, a worker's catalog at start, its own port (metrics, media), and what the main port says."""

from __future__ import annotations

import argparse
import os
import socket
import sqlite3
from contextlib import closing
from dataclasses import replace
from pathlib import Path

import httpx
import pytest

from fmgate.cli.serve import worker_count
from fmgate.config.loader import load_catalog
from fmgate.core.events import Media
from fmgate.fronts.media_store import LocalMediaStore
from fmgate.observability.metrics import GatewayMetrics
from fmgate.server.app import build_app
from fmgate.server.gateway import GatewayOptions
from fmgate.server.gateway_process import ServeSpec, catalog_at_start, worker_spec
from fmgate.server.listeners import bind_main_listeners, bind_metrics_listeners, close_all
from fmgate.server.supervisor import Restarts, Supervisor, restart_delay
from fmgate.server.worker_port import serving_worker_port
from fmgate.server.worker_slot import WorkerSlot
from fmgate_emulator.content import reply_text
from tests.fakes.poe_api import FakePoeApi
from tests.harness.catalog_files import ServeFile, catalog_text
from tests.harness.poe_client import ask

SLOT = WorkerSlot(index=1, count=2, metrics_ports=(9101, 9102))


def test_workers_option_takes_a_count_or_auto() -> None:
    assert worker_count("3") == 3
    assert worker_count("auto") == len(os.sched_getaffinity(0))
    for wrong in ("0", "-1", "two", ""):
        with pytest.raises(argparse.ArgumentTypeError):
            worker_count(wrong)


def test_main_listeners_share_one_port_in_a_reuse_port_group() -> None:
    sockets = bind_main_listeners("127.0.0.1", 0, 3)
    try:
        ports = {sock.getsockname()[1] for sock in sockets}
        assert len(sockets) == 3
        assert len(ports) == 1
        assert all(s.getsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT) for s in sockets)
        with socket.create_connection(("127.0.0.1", ports.pop()), timeout=2):
            pass  # the kernel accepted it into one of the group's queues
    finally:
        close_all(sockets)


def test_metrics_listeners_are_one_port_per_worker() -> None:
    sockets = bind_metrics_listeners("127.0.0.1", 0, 2)
    try:
        assert len({sock.getsockname()[1] for sock in sockets}) == 2
    finally:
        close_all(sockets)


def test_restarts_back_off_only_while_replacements_keep_dying_quickly() -> None:
    assert [restart_delay(n) for n in range(8)] == [0, 1, 2, 4, 8, 16, 30, 30]
    restarts = Restarts()
    assert restarts.schedule(0, ran_seconds=3600, now=100.0) == 0  # ran a long time: at once
    assert restarts.take_due(100.0) == [0]
    assert restarts.schedule(0, ran_seconds=2, now=101.0) == 1
    assert restarts.schedule(0, ran_seconds=2, now=103.0) == 2
    assert restarts.next_in(104.0) == 1.0
    assert restarts.take_due(104.0) == []
    assert restarts.take_due(105.0) == [0]
    assert restarts.schedule(0, ran_seconds=600, now=200.0) == 0  # a worker that lasted resets


def spec_for(path: Path) -> ServeSpec:
    return ServeSpec(
        catalog=load_catalog(path),
        options=GatewayOptions(),
        host="127.0.0.1",
        port=8080,
        catalog_path=path,
    )


def test_a_worker_starts_from_the_file_on_the_supervisors_gateway_settings(
    catalog_file: Path, poe_api: FakePoeApi
) -> None:
    spec = spec_for(catalog_file)
    edited = catalog_text(
        poe_api.url,
        ("nova-micro", "amazon.nova-micro-v1:0"),
        ("nova-lite", "amazon.nova-lite-v1:0"),
        gateway_extra="  shutdown_grace_seconds: 7\n",
    )
    catalog_file.write_text(edited)

    catalog = catalog_at_start(spec)

    assert [bot.bot_name for bot in catalog.bots] == ["nova-micro", "nova-lite"]
    assert catalog.gateway == spec.catalog.gateway  # gateway changes wait for a restart
    assert catalog.gateway.shutdown_grace_seconds != 7


def test_a_worker_serves_the_supervisors_catalog_when_the_file_is_broken(
    catalog_file: Path, caplog: pytest.LogCaptureFixture
) -> None:
    spec = spec_for(catalog_file)
    catalog_file.write_text("version: 1\nbots: [{bot_name: 3}]\n")

    assert catalog_at_start(spec) == spec.catalog
    assert "rejected at worker start" in caplog.text


async def test_a_workers_own_port_serves_its_metrics_and_its_media() -> None:
    metrics = GatewayMetrics()
    metrics.request_finished("nova", "poe", "ok", 0.1, 0.2, 10, 5, 0)
    sock = bind_metrics_listeners("127.0.0.1", 0, 1)[0]
    url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    media = LocalMediaStore(url + "/media/")
    uploaded = await media.upload(Media(b"\x89PNG...", "image/png", "cat.png"))
    async with serving_worker_port(sock, metrics, media), httpx.AsyncClient() as client:
        scraped = await client.get(url + "/metrics")
        image = await client.get(uploaded.url)
        missing = await client.get(url + "/media/nothing-here")
        elsewhere = await client.get(url + "/bot/nova")
    assert scraped.status_code == 200
    assert scraped.headers["content-type"].startswith("text/plain; version=")
    assert 'fmgate_requests_total{bot="nova",front="poe",outcome="ok"} 1.0' in scraped.text
    assert (image.status_code, image.content) == (200, b"\x89PNG...")
    assert image.headers["content-type"] == "image/png"
    assert missing.status_code == elsewhere.status_code == 404
    assert sock.fileno() == -1  # closed with the listener


def test_a_workers_media_links_point_at_its_own_port(catalog_file: Path) -> None:
    spec = spec_for(catalog_file)
    dev = replace(spec, options=replace(spec.options, local_media_url="http://127.0.0.1:8080"))

    assert worker_spec(dev, SLOT).options.local_media_url == "http://127.0.0.1:9102"
    assert worker_spec(spec, SLOT) == spec  # no local media: nothing to point anywhere


async def test_the_main_port_names_the_workers_metrics_ports(
    serve_file: ServeFile, catalog_file: Path
) -> None:
    async with serve_file(catalog_file) as served:
        app = build_app(served.gateway, worker=SLOT)
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://gateway") as client:
            assert (await ask(client, "nova-micro", "hi")).text == reply_text("hi", 256)[0]
            scraped = await client.get("/metrics")
            page = (await client.get("/")).text
            status = (await client.get("/status.json")).json()
            alone = await served.session.get("/metrics")  # a gateway that is the only process
    assert scraped.status_code == 404
    assert "worker 2 of 2" in scraped.text
    assert "9101, 9102" in scraped.text
    assert "Numbers from worker 2 of 2" in page
    assert status["worker"] == {"index": 1, "count": 2, "metrics_ports": [9101, 9102]}
    assert alone.status_code == 200
    assert "fmgate_requests_total" in alone.text


def test_a_ledger_of_another_schema_stops_the_supervisor_before_any_worker(
    catalog_file: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    ledger = tmp_path / "usage.sqlite3"
    with closing(sqlite3.connect(ledger)) as db:
        db.execute("CREATE TABLE schema_version (version INTEGER NOT NULL)")
        db.execute("INSERT INTO schema_version (version) VALUES (99)")
        db.commit()
    spec = replace(spec_for(catalog_file), port=0, options=GatewayOptions(ledger_path=ledger))

    assert Supervisor(spec, 2, metrics_port=0).run() == 1
    assert "schema version 99" in caplog.text
    assert "started" not in caplog.text  # no worker was started
