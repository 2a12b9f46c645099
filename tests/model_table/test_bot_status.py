"""`fmgate models`: a status per bot from offline checks, live numbers from a running gateway."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx
import pytest

from fmgate.cli import main
from fmgate.config.loader import parse_catalog
from fmgate.config.secrets import SecretResolver
from fmgate.model_table.bot_status import bot_statuses
from fmgate.model_table.table import bundled_table
from fmgate.server.app import build_app
from fmgate.server.gateway import Gateway
from tests.harness.poe_client import ask
from tests.harness.servers import uvicorn_serving

CATALOG = """
version: 1
defaults:
  access_key: env:FMGATE_STATUS_KEY
  pricing: {input_token: 0.1, output_token: 0.4}
bots:
  - bot_name: good
    model_id: amazon.nova-lite-v1:0
  - bot_name: premier-plain
    model_id: amazon.nova-premier-v1:0
  - bot_name: unknown
    model_id: acme.made-up-model-v1:0
  - bot_name: wrong-kind
    model_id: amazon.nova-micro-v1:0
    kind: image
    image: {family: titan-image}
  - bot_name: free
    model_id: amazon.nova-pro-v1:0
    pricing: {input_token: 0, output_token: 0}
  - bot_name: other-key
    model_id: amazon.nova-micro-v1:0
    access_key: env:FMGATE_STATUS_MISSING_KEY
"""


async def test_each_bot_is_ready_or_says_what_stands_in_the_way() -> None:
    catalog = parse_catalog(CATALOG, "status.yaml")
    secrets = SecretResolver(environ={"FMGATE_STATUS_KEY": "a-real-looking-key-0123456789"})
    try:
        statuses = {s.bot: s for s in await bot_statuses(catalog.bots, bundled_table(), secrets)}
    finally:
        await secrets.aclose()
    assert statuses["good"].ready
    assert statuses["good"].text == "ready"
    assert statuses["premier-plain"].problems == (
        "needs a profile id: us.amazon.nova-premier-v1:0",
    )
    assert statuses["unknown"].problems == ("model not in the model table",)
    assert statuses["wrong-kind"].problems == ("table says chat model",)
    assert statuses["free"].problems == ("charges nothing for a priced model",)
    assert statuses["other-key"].problems == (
        "access key env:FMGATE_STATUS_MISSING_KEY does not resolve",
    )
    assert all("a-real-looking-key" not in s.text for s in statuses.values())


def test_models_command_prints_a_status_column(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "catalog.yaml"
    path.write_text(CATALOG)
    monkeypatch.setenv("FMGATE_STATUS_KEY", "a-real-looking-key-0123456789")
    assert main(["models", "--config", str(path)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == ["BOT", "KIND", "MODEL", "REGION", "PRICE", "STATUS"]
    by_bot = {line.split()[0]: line for line in lines[2:] if line.strip()}
    assert by_bot["good"].rstrip().endswith("ready")
    assert "model not in the model table" in by_bot["unknown"]
    assert all(len(line) <= 240 for line in lines)  # one line per bot in a pipe


async def test_models_url_adds_live_numbers_from_a_running_gateway(
    gateway: Gateway,
    poe: httpx.AsyncClient,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    path = tmp_path / "catalog.yaml"
    path.write_text(
        "version: 1\nbots:\n  - bot_name: nova-lite\n    model_id: amazon.nova-lite-v1:0\n"
    )
    reply = await ask(poe, "nova-lite", "hello")
    assert reply.error is None
    async with uvicorn_serving(build_app(gateway)) as url:
        await gateway.finisher.drain()
        code = await asyncio.to_thread(main, ["models", "--config", str(path), "--url", url])
    assert code == 0
    [row] = [line for line in capsys.readouterr().out.splitlines() if line.startswith("nova-lite")]
    assert "1 req, 0 err, TTFT" in row


def test_models_url_that_cannot_be_read_falls_back_to_offline_checks(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "catalog.yaml"
    path.write_text("version: 1\nbots:\n  - bot_name: a\n    model_id: amazon.nova-lite-v1:0\n")
    assert main(["models", "--config", str(path), "--url", "http://127.0.0.1:9"]) == 0
    captured = capsys.readouterr()
    assert "could not read http://127.0.0.1:9/status.json" in captured.err
    assert "no access key (dev only)" in captured.out
