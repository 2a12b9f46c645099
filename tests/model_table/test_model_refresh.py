"""``fmgate models refresh``: Bedrock's model listings (from the emulator) merged into the table."""

from __future__ import annotations

import datetime
from pathlib import Path
from typing import Any

import boto3
import pytest
import yaml
from aiobotocore.session import get_session
from botocore.exceptions import ClientError

from fmgate.cli import main
from fmgate.config.loader import load_catalog
from fmgate.model_table.add_model import AddModelError, add_model
from fmgate.model_table.refresh import RefreshError, refresh_model_table
from fmgate.model_table.table import ModelTable, bundled_table, find_model, load_table
from fmgate_emulator import Emulator
from fmgate_emulator.models import MODELS, Modality
from tests.harness.credentials import TEST_ACCESS_KEY_ID, TEST_SECRET_ACCESS_KEY

PREMIER = "amazon.nova-premier-v1:0"  # profile-only on Bedrock
LITE = "amazon.nova-lite-v1:0"  # takes images
QWEN = "qwen.qwen3-32b-v1:0"  # left out of the stale table: "new" to the refresh
CHAT_MODELS = [spec for spec in MODELS if spec.modality is Modality.CHAT]
TODAY = datetime.date(2027, 1, 2)


def stale_table() -> ModelTable:
    """The bundled table as if written long ago: Nova Premier not yet profile-only, Nova Lite
    without image input, and no Qwen at all."""
    models = []
    for facts in bundled_table().models:
        if facts.model_id == QWEN:
            continue
        if facts.model_id == PREMIER:
            facts = facts.model_copy(update={"profile_only": False})
        if facts.model_id == LITE:
            facts = facts.model_copy(update={"input": ("text", "document")})
        models.append(facts)
    return ModelTable(as_of="2024-06-01", models=tuple(models))


@pytest.fixture
def aws_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """The emulator's credentials, the way an operator would give them: the environment."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", TEST_ACCESS_KEY_ID)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", TEST_SECRET_ACCESS_KEY)


@pytest.fixture
def no_aws_credentials(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    for name in ("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "AWS_CONTAINER_CREDENTIALS_FULL_URI"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-credentials"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-config"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")


def bedrock_client(emulator: Emulator, region: str = "us-east-1") -> Any:
    return boto3.client(
        "bedrock",
        endpoint_url=emulator.url,
        region_name=region,
        aws_access_key_id=TEST_ACCESS_KEY_ID,
        aws_secret_access_key=TEST_SECRET_ACCESS_KEY,
    )


# -- the emulator's control-plane listings, through the real SDK ---------------------------------


def test_boto3_lists_foundation_models_with_filters(emulator: Emulator) -> None:
    client = bedrock_client(emulator, region="eu-west-1")

    every = client.list_foundation_models()["modelSummaries"]
    assert {m["modelId"] for m in every} == {spec.model_id for spec in MODELS}
    premier = next(m for m in every if m["modelId"] == PREMIER)
    assert premier["modelArn"] == f"arn:aws:bedrock:eu-west-1::foundation-model/{PREMIER}"
    assert premier["providerName"] == "Amazon"
    assert premier["inputModalities"] == ["TEXT", "IMAGE"]
    assert premier["outputModalities"] == ["TEXT"]
    assert premier["inferenceTypesSupported"] == ["INFERENCE_PROFILE"]
    assert premier["responseStreamingSupported"] is True
    assert premier["modelLifecycle"]["status"] == "ACTIVE"

    anthropic = client.list_foundation_models(byProvider="Anthropic")["modelSummaries"]
    assert anthropic
    assert all(m["modelId"].startswith("anthropic.") for m in anthropic)
    images = client.list_foundation_models(byOutputModality="IMAGE")["modelSummaries"]
    assert {m["modelId"] for m in images} == {
        spec.model_id for spec in MODELS if spec.modality is Modality.IMAGE
    }
    on_demand = client.list_foundation_models(byInferenceType="ON_DEMAND")["modelSummaries"]
    assert {m["modelId"] for m in on_demand} == {
        spec.model_id for spec in MODELS if not spec.profile_only
    }


def test_boto3_paginates_system_defined_inference_profiles(emulator: Emulator) -> None:
    client = bedrock_client(emulator)
    first = client.list_inference_profiles(maxResults=5)
    assert len(first["inferenceProfileSummaries"]) == 5
    assert "nextToken" in first

    pages = list(
        client.get_paginator("list_inference_profiles").paginate(
            typeEquals="SYSTEM_DEFINED", PaginationConfig={"PageSize": 7}
        )
    )
    profiles = [p for page in pages for p in page["inferenceProfileSummaries"]]
    # Every chat model's us. profile (the models declaring their profiles: when they have one),
    # then the global profiles of the models that declare one; none for on-demand-only models.
    expected = [
        f"us.{spec.model_id}"
        for spec in CHAT_MODELS
        if spec.profiles is None or "us." in spec.profiles
    ] + [f"global.{spec.model_id}" for spec in CHAT_MODELS if "global." in (spec.profiles or ())]
    assert [p["inferenceProfileId"] for p in profiles] == expected
    assert len(pages) == -(-len(expected) // 7)
    assert "us.moonshot.kimi-k2-thinking" not in expected
    assert "global.anthropic.claude-sonnet-4-6" in expected
    premier = next(p for p in profiles if p["inferenceProfileId"] == f"us.{PREMIER}")
    assert premier["type"] == "SYSTEM_DEFINED"
    assert premier["status"] == "ACTIVE"
    assert premier["inferenceProfileArn"].endswith(f":inference-profile/us.{PREMIER}")
    assert premier["models"][0]["modelArn"] == (
        f"arn:aws:bedrock:us-east-1::foundation-model/{PREMIER}"
    )
    assert (
        client.list_inference_profiles(typeEquals="APPLICATION")["inferenceProfileSummaries"] == []
    )


async def test_aiobotocore_gets_bedrocks_validation_error(emulator: Emulator) -> None:
    async with get_session().create_client(
        "bedrock",
        endpoint_url=emulator.url,
        region_name="ap-southeast-2",
        aws_access_key_id=TEST_ACCESS_KEY_ID,
        aws_secret_access_key=TEST_SECRET_ACCESS_KEY,
    ) as client:
        listed = await client.list_inference_profiles(maxResults=1)
        assert listed["inferenceProfileSummaries"][0]["inferenceProfileId"].startswith("apac.")
        with pytest.raises(ClientError) as caught:
            await client.list_inference_profiles(nextToken="not-a-token")
    assert caught.value.response["Error"]["Code"] == "ValidationException"


# -- merging into the table ----------------------------------------------------------------------


@pytest.mark.usefixtures("aws_env")
async def test_refresh_keeps_prices_and_marks_profile_only_models(
    emulator: Emulator,
    tmp_path: Path,
) -> None:
    out = tmp_path / "var" / "model_table.yaml"
    result = await refresh_model_table(
        ("us-east-1", "eu-west-1"),
        out=out,
        endpoint_url=emulator.url,
        base=stale_table(),
        today=TODAY,
        page_size=5,
    )

    table = load_table(out)
    assert table == result.table
    assert table.as_of == "2027-01-02"
    bundled_premier = find_model(PREMIER, bundled_table())
    premier = find_model(PREMIER, table)
    assert premier.profile_only
    assert premier.profile_ids == (f"eu.{PREMIER}", f"us.{PREMIER}")
    assert premier.regions == ("us-east-1", "eu-west-1")
    assert premier.prices == bundled_premier.prices
    assert premier.context_window == bundled_premier.context_window
    assert premier.invocation_id("us-east-1") == f"us.{PREMIER}"
    assert find_model(LITE, table).input == ("text", "image", "document")

    assert result.added == (QWEN,)
    qwen = find_model(QWEN, table)
    assert (qwen.kind, qwen.name, qwen.prices, qwen.priced) == ("chat", "qwen3-32b-v1-0", {}, False)
    assert "not priced" in qwen.description
    assert result.not_listed == ()
    assert result.skipped == ()
    assert "NOT PRICED" in out.read_text()
    assert yaml.safe_load(out.read_text())["as_of"] == "2027-01-02"

    with pytest.raises(AddModelError, match="has no prices in the model table"):
        add_model(tmp_path / "catalog.yaml", QWEN, table=table)
    assert not (tmp_path / "catalog.yaml").exists()


async def test_refused_credentials_are_reported_by_code(
    emulator: Emulator,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIDSOMEONEELSE00000")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "not-the-emulator-secret")
    out = tmp_path / "model_table.yaml"
    with pytest.raises(RefreshError, match="credentials were not recognised"):
        await refresh_model_table(out=out, endpoint_url=emulator.url)
    assert not out.exists()


# -- the commands ----------------------------------------------------------------------------------


@pytest.mark.usefixtures("aws_env")
def test_cli_refresh_then_models_add_uses_the_refreshed_table(
    emulator: Emulator,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.chdir(tmp_path)
    stale = tmp_path / "stale.yaml"
    stale.write_text(yaml.safe_dump(stale_table().model_dump(mode="json")))

    assert main(["models", "refresh", "--endpoint-url", emulator.url, "--table", str(stale)]) == 0
    out = capsys.readouterr().out
    assert "to var/model_table.yaml" in out
    assert f"NEW, NOT PRICED (1): {QWEN}" in out
    assert Path("var/model_table.yaml").is_file()

    assert main(["models", "add", PREMIER, "--config", "catalog.yaml"]) == 0
    capsys.readouterr()
    bot = load_catalog(Path("catalog.yaml")).bots[-1]
    assert bot.model_id == f"us.{PREMIER}"  # profile-only in the refreshed table
    assert (bot.pricing.input_token, bot.pricing.output_token) == (0.25, 1.25)

    assert main(["models", "add", QWEN, "--config", "catalog.yaml"]) == 1
    assert "has no prices in the model table" in capsys.readouterr().err
    assert len(load_catalog(Path("catalog.yaml")).bots) == 1

    assert main(["models", "--available"]) == 0
    listing = capsys.readouterr().out
    assert "var/model_table.yaml" in listing
    assert next(line for line in listing.splitlines() if line.startswith(QWEN)).endswith(
        "NOT PRICED"
    )


@pytest.mark.usefixtures("no_aws_credentials")
@pytest.mark.parametrize("endpoint", [[], ["--endpoint-url", "http://127.0.0.1:9"]])
def test_cli_refresh_without_credentials_says_so(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], endpoint: list[str]
) -> None:
    out = tmp_path / "table.yaml"

    assert main(["models", "refresh", "--out", str(out), *endpoint]) == 1

    err = capsys.readouterr().err
    assert "no AWS credentials found" in err
    assert "--endpoint-url" in err
    assert not out.exists()
