"""``fmgate poe sync``: fastapi_poe's own settings sync, against a local fake of Poe's API."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from pathlib import Path

import boto3
import fastapi_poe as fp
import httpx
import pytest
from fastapi_poe.client import PROTOCOL_VERSION, BotError

from fmgate.cli import main
from fmgate.config.catalog import Catalog
from fmgate.config.loader import load_catalog
from fmgate.config.secrets import SecretResolver
from fmgate.fronts.poe.settings_sync import (
    describe_failure,
    poe_answers_discarded,
    sync_settings,
)
from fmgate.server.app import build_app
from fmgate.server.gateway import Gateway
from tests.fakes.poe_settings_api import FakePoeSettingsApi
from tests.harness.servers import free_port, uvicorn_serving

KEY_ALPHA = "poe-sync-key-alpha-3f9c1e7d2b5a"
KEY_BRAVO = "poe-sync-key-bravo-8a2d4c6e1f0b"
KEYS = {"alpha": KEY_ALPHA, "bravo": KEY_BRAVO}


def catalog_text(settings_base_url: str, *bots: tuple[str, str | None]) -> str:
    """A catalog whose ``gateway.poe.settings_base_url`` is the fake; (bot, key reference)."""
    entries = "".join(
        f"  - bot_name: {name}\n    model_id: amazon.nova-micro-v1:0\n"
        + (f"    access_key: {reference}\n" if reference else "")
        for name, reference in bots
    )
    return (
        "version: 1\n"
        f"gateway:\n  poe: {{settings_base_url: '{settings_base_url}'}}\n"
        f"bots:\n{entries}"
    )


ENV_BOTS = (("alpha", "env:FMGATE_SYNC_KEY_ALPHA"), ("bravo", "env:FMGATE_SYNC_KEY_BRAVO"))


@pytest.fixture
def settings_api() -> Iterator[FakePoeSettingsApi]:
    with FakePoeSettingsApi.running(access_keys=KEYS) as api:
        yield api


@pytest.fixture
def keys_in_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FMGATE_SYNC_KEY_ALPHA", KEY_ALPHA)
    monkeypatch.setenv("FMGATE_SYNC_KEY_BRAVO", KEY_BRAVO)


def write_catalog(tmp_path: Path, base_url: str, *bots: tuple[str, str | None]) -> str:
    path = tmp_path / "catalog.yaml"
    path.write_text(catalog_text(base_url, *(bots or ENV_BOTS)))
    return str(path)


def assert_no_key_in(*texts: str) -> None:
    for text in texts:
        for key in KEYS.values():
            assert key not in text


@pytest.mark.usefixtures("keys_in_env")
def test_syncs_every_bot_with_fastapi_poes_request_and_never_shows_a_key(
    tmp_path: Path,
    settings_api: FakePoeSettingsApi,
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    config = write_catalog(tmp_path, settings_api.base_url)

    assert main(["poe", "sync", "--config", config]) == 0

    calls = sorted(settings_api.calls, key=lambda call: call.bot_name)
    assert [(c.operation, c.bot_name, c.access_key, c.protocol_version) for c in calls] == [
        ("fetch_settings", "alpha", KEY_ALPHA, PROTOCOL_VERSION),
        ("fetch_settings", "bravo", KEY_BRAVO, PROTOCOL_VERSION),
    ]
    assert all(call.body == b"" for call in calls)  # Poe fetches the settings from the bot
    out, err = capsys.readouterr()
    assert out.splitlines() == ["alpha: synced", "bravo: synced"]
    assert '"status"' not in out  # fastapi_poe's print of Poe's answer is not passed on
    # httpx logged each request URL at INFO, with the key in its path: redacted.
    url_lines = [r.getMessage() for r in caplog.records if r.name == "httpx"]
    assert len(url_lines) == 2
    assert all("/fetch_settings/" in line and "***" in line for line in url_lines)
    assert_no_key_in(out, err, caplog.text)


@pytest.mark.usefixtures("keys_in_env")
def test_only_the_named_bots_are_synced(
    tmp_path: Path, settings_api: FakePoeSettingsApi, capsys: pytest.CaptureFixture[str]
) -> None:
    config = write_catalog(tmp_path, settings_api.base_url)

    assert main(["poe", "sync", "--config", config, "bravo"]) == 0

    assert [call.bot_name for call in settings_api.calls] == ["bravo"]
    assert capsys.readouterr().out == "bravo: synced\n"


def test_a_wrong_key_is_reported_and_fails_the_command(
    tmp_path: Path,
    settings_api: FakePoeSettingsApi,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    wrong = "poe-sync-key-wrong-0000000000"
    monkeypatch.setenv("FMGATE_SYNC_KEY_ALPHA", KEY_ALPHA)
    monkeypatch.setenv("FMGATE_SYNC_KEY_BRAVO", wrong)
    config = write_catalog(tmp_path, settings_api.base_url)

    assert main(["poe", "sync", "--config", config]) == 1

    out, err = capsys.readouterr()
    lines = out.splitlines()
    assert lines[0] == "alpha: synced"
    assert lines[1].startswith("bravo: FAILED: Poe refused the sync")
    assert "check the bot's access key" in lines[1]
    assert "1 of 2 bots not synced" in err
    assert wrong not in out + err
    assert_no_key_in(out, err)


@pytest.mark.usefixtures("keys_in_env")
@pytest.mark.parametrize("status", [403, 500])
def test_any_refusal_from_poe_fails_every_bot(
    tmp_path: Path,
    settings_api: FakePoeSettingsApi,
    capsys: pytest.CaptureFixture[str],
    status: int,
) -> None:
    settings_api.error_status = status
    config = write_catalog(tmp_path, settings_api.base_url)

    assert main(["poe", "sync", "--config", config]) == 1

    out, err = capsys.readouterr()
    assert all("FAILED: Poe refused the sync" in line for line in out.splitlines())
    assert len(settings_api.calls) == 2
    assert_no_key_in(out, err)


@pytest.mark.usefixtures("keys_in_env")
def test_poe_unreachable_says_which_host(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    host = f"127.0.0.1:{free_port()}"  # nothing listens there
    config = write_catalog(tmp_path, f"http://{host}/bot/")

    assert main(["poe", "sync", "--config", config]) == 1

    out, err = capsys.readouterr()
    assert out.splitlines() == [
        f"alpha: FAILED: could not reach {host}",
        f"bravo: FAILED: could not reach {host}",
    ]
    assert_no_key_in(out, err, caplog.text)


def test_bots_without_a_usable_key_are_reported_not_crashed_on(
    tmp_path: Path,
    settings_api: FakePoeSettingsApi,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("FMGATE_SYNC_KEY_ALPHA", KEY_ALPHA)
    monkeypatch.delenv("FMGATE_SYNC_KEY_BRAVO", raising=False)
    config = write_catalog(tmp_path, settings_api.base_url, *ENV_BOTS, ("carol", None))

    assert main(["poe", "sync", "--config", config, "alpha", "bravo", "carol", "nobody"]) == 1

    assert [call.bot_name for call in settings_api.calls] == ["alpha"]
    assert capsys.readouterr().out.splitlines() == [
        "alpha: synced",
        "bravo: FAILED: access key unavailable (secret env:FMGATE_SYNC_KEY_BRAVO: "
        "environment variable FMGATE_SYNC_KEY_BRAVO is not set)",
        "carol: FAILED: no access_key in the catalog",
        "nobody: FAILED: no such bot in the catalog",
    ]


async def test_keys_in_secrets_manager_resolve_as_the_gateway_resolves_them(
    tmp_path: Path, settings_api: FakePoeSettingsApi, moto_url: str
) -> None:
    secrets_manager = boto3.client(
        "secretsmanager",
        endpoint_url=moto_url,
        region_name="us-east-1",
        aws_access_key_id="moto",
        aws_secret_access_key="moto",
    )
    secrets_manager.create_secret(Name="fmgate/poe-sync-test", SecretString=json.dumps(KEYS))
    path = Path(
        write_catalog(
            tmp_path,
            settings_api.base_url,
            ("alpha", "aws-secretsmanager:fmgate/poe-sync-test#alpha"),
            ("bravo", "aws-secretsmanager:fmgate/poe-sync-test#bravo"),
        )
    )
    resolver = SecretResolver(endpoint_url=moto_url, access_key_id="moto", secret_access_key="moto")
    try:
        outcomes = await sync_settings(load_catalog(path), resolver=resolver, parallelism=1)
    finally:
        await resolver.aclose()

    assert [(o.bot, o.synced) for o in outcomes] == [("alpha", True), ("bravo", True)]
    assert {(c.bot_name, c.access_key) for c in settings_api.calls} == set(KEYS.items())


def test_failures_are_told_apart_by_type_not_text() -> None:
    base = "https://poe.example/bot/"
    timed_out = BotError("text that must not matter")
    timed_out.__cause__ = httpx.ReadTimeout("read timed out")
    assert describe_failure(timed_out, base) == "poe.example did not answer in time; try again"
    assert describe_failure(BotError("Invalid access key"), base).startswith("Poe refused")
    assert describe_failure(httpx.ConnectError("refused"), base) == "could not reach poe.example"
    assert describe_failure(httpx.UnsupportedProtocol("x"), base).startswith(
        "gateway.poe.settings_base_url"
    )
    assert describe_failure(httpx.RemoteProtocolError("x"), base) == (
        "the connection to poe.example failed (RemoteProtocolError)"
    )
    assert describe_failure(ValueError("x"), base) == "unexpected error (ValueError)"


async def test_a_sync_makes_poe_fetch_each_bots_current_settings_from_the_gateway(
    catalog: Catalog, gateway: Gateway, settings_api: FakePoeSettingsApi
) -> None:
    names = ["nova-lite", "claude-thinking", "titan-image", "nova-reel"]
    poe = catalog.gateway.poe.model_copy(update={"settings_base_url": settings_api.base_url})
    synced = catalog.model_copy(update={"gateway": catalog.gateway.model_copy(update={"poe": poe})})
    async with uvicorn_serving(build_app(gateway)) as url:
        settings_api.bot_server_url = url
        with poe_answers_discarded():
            outcomes = await sync_settings(synced, names)

    assert [(o.bot, o.synced) for o in outcomes] == [(name, True) for name in names]
    assert set(settings_api.fetched) == set(names)
    for name, document in settings_api.fetched.items():
        settings = fp.SettingsResponse.model_validate(document)
        assert settings.response_version == 2
        assert settings.parameter_controls is not None, name
        assert isinstance(document, dict)
        assert "custom_rate_card" not in document
    thinking = fp.SettingsResponse.model_validate(settings_api.fetched["claude-thinking"])
    assert thinking.parameter_controls is not None
    controls = thinking.parameter_controls.sections[0].controls or []
    assert [c.parameter_name for c in controls if isinstance(c, fp.Slider)] == [
        "temperature",
        "max_tokens",
        "reasoning_budget",
    ]
