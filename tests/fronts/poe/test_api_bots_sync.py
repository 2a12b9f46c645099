"""``fmgate poe api-bots sync`` against a local fake of Poe's Bots REST API: the paths, bodies
and auth it sends, idempotence, the dry run, failures; and never a key in output or logs."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from pathlib import Path

import pytest

from fmgate.cli import main
from fmgate.config.loader import load_catalog
from fmgate.fronts.poe.api_bots.sync import sync_api_bots
from tests.fakes.poe_bots_api import FakePoeBotsApi

POE_API_KEY = "poe-api-key-for-bots-4b8e1c2d9f7a6e3b"
ENDPOINT_KEY = "sk-fmgate-endpoint-key-for-poe-0d3f6a9c"
KEYS = (POE_API_KEY, ENDPOINT_KEY)
ENDPOINT_URL = "https://fmgate.example.com/v1"


def catalog_text(
    bots_api_url: str, *, nova_lite_price: float = 0.006, extra: str = "", bots: str = ""
) -> str:
    return f"""version: 1
gateway:
  api_keys:
    - caller: poe-api-bots
      key: env:FMGATE_TEST_ENDPOINT_KEY
      stream_usage: always
  poe:
    api_bots:
      endpoint_url: {ENDPOINT_URL}
      caller: poe-api-bots
      poe_api_key: env:FMGATE_TEST_POE_API_KEY
      bots_api_url: {bots_api_url}
      handle_prefix: Acme-
{extra}bots:
  - bot_name: nova-lite
    model_id: amazon.nova-lite-v1:0
    description: Amazon Nova Lite.
    supports_images: true
    max_tokens: 1024
    max_tokens_limit: 4096
    pricing: {{input_token: {nova_lite_price}, output_token: 0.024}}
  - bot_name: claude-thinking
    model_id: us.anthropic.claude-3-7-sonnet-20250219-v1:0
    enable_reasoning: true
    reasoning_budget: 2048
    max_tokens: 8192
    max_tokens_limit: 16000
    pricing: {{input_token: 0.3, output_token: 1.5}}
  - bot_name: titan-image
    kind: image
    model_id: amazon.titan-image-generator-v2:0
    image: {{family: titan-image}}
    pricing: {{image_output: 1000}}
{bots}"""


@pytest.fixture
def bots_api() -> Iterator[FakePoeBotsApi]:
    with FakePoeBotsApi.running(api_keys={POE_API_KEY}) as api:
        yield api


@pytest.fixture(autouse=True)
def keys_in_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FMGATE_TEST_POE_API_KEY", POE_API_KEY)
    monkeypatch.setenv("FMGATE_TEST_ENDPOINT_KEY", ENDPOINT_KEY)


@pytest.fixture
def logs(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    caplog.set_level(logging.DEBUG)
    return caplog


def write(tmp_path: Path, text: str) -> str:
    path = tmp_path / "catalog.yaml"
    path.write_text(text)
    return str(path)


def sync(config: str, *args: str) -> int:
    return main(["poe", "api-bots", "sync", "--config", config, *args])


def assert_no_key_in(*texts: str) -> None:
    for text in texts:
        for key in KEYS:
            assert key not in text


def test_creates_each_chat_bot_with_the_documented_body_and_auth(
    tmp_path: Path,
    bots_api: FakePoeBotsApi,
    capsys: pytest.CaptureFixture[str],
    logs: pytest.LogCaptureFixture,
) -> None:
    assert sync(write(tmp_path, catalog_text(bots_api.url))) == 0

    calls = bots_api.calls
    assert [(call.method, call.path) for call in calls] == [
        ("GET", "/bots/Acme-nova-lite"),
        ("POST", "/bots"),
        ("GET", "/bots/Acme-claude-thinking"),
        ("POST", "/bots"),
    ]
    assert {call.authorization for call in calls} == {f"Bearer {POE_API_KEY}"}
    nova = bots_api.bots(POE_API_KEY)["Acme-nova-lite"]
    assert nova == {
        "handle": "Acme-nova-lite",
        "description": "Amazon Nova Lite.",
        "is_private": True,
        "api_bot_settings": {
            "model_name": "nova-lite",
            "base_url": ENDPOINT_URL,
            "api_type": "chat_completions_api",
            "input_modalities": ["text", "image"],
            "output_modalities": ["text"],
            "supported_features": ["tools"],
            "context_size": 300_000,  # the model table's
            "pricing": {"prompt": "0.00000006", "completion": "0.00000024"},
        },
        "parameter_controls": nova["parameter_controls"],
    }
    assert bots_api.stored_key(POE_API_KEY, "Acme-nova-lite") == ENDPOINT_KEY
    claude = bots_api.bots(POE_API_KEY)["Acme-claude-thinking"]
    controls = claude["parameter_controls"]
    assert isinstance(controls, dict)
    assert controls["api_version"] == "2"
    names = [control["parameter_name"] for control in controls["sections"][0]["controls"]]
    assert names == ["temperature", "max_tokens", "reasoning_effort"]
    out, err = capsys.readouterr()
    assert out.splitlines() == [
        "nova-lite: created as Acme-nova-lite",
        "claude-thinking: created as Acme-claude-thinking",
    ]
    assert "/bots/Acme-nova-lite" in logs.text  # httpx logged each call: the logs were seen
    assert_no_key_in(out, err, logs.text)


def test_a_second_run_updates_in_place_and_changes_nothing(
    tmp_path: Path, bots_api: FakePoeBotsApi, capsys: pytest.CaptureFixture[str]
) -> None:
    config = write(tmp_path, catalog_text(bots_api.url))
    assert sync(config) == 0
    first = bots_api.bots(POE_API_KEY)
    capsys.readouterr()

    assert sync(config) == 0

    assert bots_api.bots(POE_API_KEY) == first
    assert [(call.method, call.path) for call in bots_api.calls[4:]] == [
        ("GET", "/bots/Acme-nova-lite"),
        ("PATCH", "/bots/Acme-nova-lite"),
        ("GET", "/bots/Acme-claude-thinking"),
        ("PATCH", "/bots/Acme-claude-thinking"),
    ]
    patch = bots_api.calls[5].body
    assert patch is not None
    assert "handle" not in patch
    assert capsys.readouterr().out.splitlines() == [
        "nova-lite: updated as Acme-nova-lite (no change but the key, which Poe does not show)",
        "claude-thinking: updated as Acme-claude-thinking "
        "(no change but the key, which Poe does not show)",
    ]


def test_a_price_change_in_the_catalog_reaches_the_bot(
    tmp_path: Path, bots_api: FakePoeBotsApi, capsys: pytest.CaptureFixture[str]
) -> None:
    assert sync(write(tmp_path, catalog_text(bots_api.url))) == 0
    capsys.readouterr()

    assert (
        sync(write(tmp_path, catalog_text(bots_api.url, nova_lite_price=0.0035)), "nova-lite") == 0
    )

    settings = bots_api.bots(POE_API_KEY)["Acme-nova-lite"]["api_bot_settings"]
    assert isinstance(settings, dict)
    assert settings["pricing"] == {"prompt": "0.000000035", "completion": "0.00000024"}
    assert capsys.readouterr().out == (
        "nova-lite: updated as Acme-nova-lite (changes api_bot_settings)\n"
    )


def test_a_dry_run_only_reads_and_prints_the_plan_without_keys(
    tmp_path: Path,
    bots_api: FakePoeBotsApi,
    capsys: pytest.CaptureFixture[str],
    logs: pytest.LogCaptureFixture,
) -> None:
    config = write(tmp_path, catalog_text(bots_api.url))
    assert sync(config, "nova-lite") == 0
    capsys.readouterr()
    before = bots_api.bots(POE_API_KEY)

    assert sync(config, "--dry-run") == 0

    assert [call.method for call in bots_api.calls[2:]] == ["GET", "GET"]
    assert bots_api.bots(POE_API_KEY) == before
    out, err = capsys.readouterr()
    lines = out.splitlines()
    assert lines[0] == (
        "nova-lite: would update as Acme-nova-lite (no change but the key, which Poe does not show)"
    )
    claude_line = lines.index("claude-thinking: would create as Acme-claude-thinking")
    planned = json.loads("\n".join(lines[claude_line + 1 :]))
    assert planned["handle"] == "Acme-claude-thinking"
    assert planned["api_bot_settings"]["api_key"] == "<env:FMGATE_TEST_ENDPOINT_KEY>"
    assert planned["api_bot_settings"]["pricing"] == {
        "prompt": "0.000003",
        "completion": "0.000015",
    }
    assert_no_key_in(out, err, logs.text)


def test_a_wrong_poe_api_key_fails_every_bot_without_showing_it(
    tmp_path: Path,
    bots_api: FakePoeBotsApi,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    logs: pytest.LogCaptureFixture,
) -> None:
    wrong = "poe-api-key-wrong-000000000000000"
    monkeypatch.setenv("FMGATE_TEST_POE_API_KEY", wrong)

    assert sync(write(tmp_path, catalog_text(bots_api.url))) == 1

    out, err = capsys.readouterr()
    refused = (
        "answered HTTP 401: Poe refused the Poe API key: check gateway.poe.api_bots.poe_api_key, "
        "and that the account may create API bots: Invalid API key"
    )
    assert out.splitlines() == [
        f"nova-lite: FAILED: GET bots/Acme-nova-lite {refused}",
        f"claude-thinking: FAILED: GET bots/Acme-claude-thinking {refused}",
    ]
    assert "2 of 2 API bots not synced" in err
    assert_no_key_in(out, err, logs.text)
    assert wrong not in out + err + logs.text


def test_a_refusal_that_quotes_the_key_is_shown_with_the_key_blanked(
    tmp_path: Path,
    bots_api: FakePoeBotsApi,
    capsys: pytest.CaptureFixture[str],
    logs: pytest.LogCaptureFixture,
) -> None:
    bots_api.refuse_with = f"api_key {ENDPOINT_KEY} is not accepted (account {POE_API_KEY})"

    assert sync(write(tmp_path, catalog_text(bots_api.url)), "nova-lite") == 1

    out, err = capsys.readouterr()
    assert out == (
        "nova-lite: FAILED: POST bots answered HTTP 400: Poe refused the request: "
        "api_key *** is not accepted (account ***)\n"
    )
    assert_no_key_in(out, err, logs.text)


def test_a_handle_taken_by_another_account_is_reported(
    tmp_path: Path, bots_api: FakePoeBotsApi, capsys: pytest.CaptureFixture[str]
) -> None:
    bots_api.taken_handles.add("Acme-nova-lite")

    assert sync(write(tmp_path, catalog_text(bots_api.url)), "nova-lite") == 1

    assert "POST bots answered HTTP 409: the handle is taken on Poe" in capsys.readouterr().out


def test_bots_that_cannot_be_api_bots_are_reported_and_not_sent(
    tmp_path: Path, bots_api: FakePoeBotsApi, capsys: pytest.CaptureFixture[str]
) -> None:
    free = "  - bot_name: free-nova\n    model_id: amazon.nova-micro-v1:0\n"
    config = write(tmp_path, catalog_text(bots_api.url, bots=free))

    assert sync(config, "titan-image", "free-nova", "nobody", "nova-lite") == 1

    assert capsys.readouterr().out.splitlines() == [
        "titan-image: FAILED: kind image: Poe's API bots answer with text (chat bots only)",
        "free-nova: FAILED: no token prices in the catalog: Poe would bill its users nothing",
        "nobody: FAILED: no such bot in the catalog",
        "nova-lite: created as Acme-nova-lite",
    ]
    assert [call.path for call in bots_api.calls] == ["/bots/Acme-nova-lite", "/bots"]


def test_the_catalog_may_name_the_bots_and_their_handles(
    tmp_path: Path, bots_api: FakePoeBotsApi, capsys: pytest.CaptureFixture[str]
) -> None:
    extra = "      bots: [claude-thinking]\n      handles: {claude-thinking: AcmeClaude}\n"

    assert sync(write(tmp_path, catalog_text(bots_api.url, extra=extra))) == 0

    assert list(bots_api.bots(POE_API_KEY)) == ["AcmeClaude"]
    assert capsys.readouterr().out == "claude-thinking: created as AcmeClaude\n"


def test_unavailable_keys_fail_the_bots_by_reference(
    tmp_path: Path,
    bots_api: FakePoeBotsApi,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.delenv("FMGATE_TEST_ENDPOINT_KEY")

    assert sync(write(tmp_path, catalog_text(bots_api.url)), "nova-lite") == 1

    assert capsys.readouterr().out == (
        "nova-lite: FAILED: the key of caller 'poe-api-bots' unavailable (secret "
        "env:FMGATE_TEST_ENDPOINT_KEY: environment variable FMGATE_TEST_ENDPOINT_KEY is not set)\n"
    )
    assert bots_api.calls == []


def test_without_an_api_bots_section_the_command_says_what_is_missing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = write(
        tmp_path, "version: 1\nbots:\n  - {bot_name: a, model_id: amazon.nova-micro-v1:0}\n"
    )

    assert sync(config) == 2

    assert "the catalog has no gateway.poe.api_bots section" in capsys.readouterr().err


async def test_poe_unreachable_says_which_host(tmp_path: Path) -> None:
    catalog = load_catalog(Path(write(tmp_path, catalog_text("http://127.0.0.1:9/"))))

    [outcome, _] = await sync_api_bots(catalog)

    assert outcome.line() == "nova-lite: FAILED: could not reach 127.0.0.1:9"
