"""``fmgate models add``: a validated entry appended to the catalog file, live without restart."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx
import pytest

from fmgate.cli import main
from fmgate.config.bot_config import ChatBotConfig, ImageBotConfig, PromptCaching, VideoBotConfig
from fmgate.config.loader import load_catalog
from fmgate.config.reasoning import ReasoningControls
from fmgate.model_table.add_model import AddModelError, add_model
from fmgate.model_table.table import UnknownModel
from fmgate_emulator.content import reply_text
from tests.harness.catalog_files import (
    ServeApp,
    answer_over_http,
    is_served,
    wait_until_served,
)
from tests.harness.catalogs import as_chat

HAND_WRITTEN = """\
# my catalog: comments, templates and anchors must survive
version: 1
defaults:
  access_key: env:FMGATE_TEST_POE_KEY
templates:
  cheap: &cheap
    max_tokens: 100
bots:
    - bot_name: mine   # four-space items
      template: cheap
      model_id: amazon.nova-micro-v1:0
"""


def test_entry_has_capabilities_and_prices_from_the_table(tmp_path: Path) -> None:
    path = tmp_path / "catalog.yaml"
    path.write_text(HAND_WRITTEN)

    added = add_model(path, "amazon.nova-premier-v1:0")

    assert path.read_text().startswith(HAND_WRITTEN)  # existing text kept byte for byte
    bot = as_chat(load_catalog(path).bots[-1])
    assert bot == added.config
    assert bot.bot_name == "nova-premier"
    assert bot.model_id == "us.amazon.nova-premier-v1:0"  # profile-only: the us. profile id
    assert bot.supports_images
    assert bot.supports_documents
    assert bot.max_tokens_limit == 32000
    assert bot.access_key == "env:FMGATE_TEST_POE_KEY"  # the file's defaults still apply
    assert (bot.pricing.input_token, bot.pricing.output_token) == (0.25, 1.25)
    assert "2026-11-01" in added.entry_text
    assert "1,000,000-token context" in added.entry_text
    assert "\n    - bot_name: nova-premier\n" in path.read_text()  # the file's indentation


def test_cache_prices_and_prompt_caching_are_carried(tmp_path: Path) -> None:
    path = tmp_path / "catalog.yaml"
    bot = add_model(path, "anthropic.claude-haiku-4-5-20251001-v1:0").config
    pricing = bot.pricing
    assert (pricing.cache_read_token, pricing.cache_write_token) == (0.011, 0.1375)
    assert pricing.cache_write_1h_token == 0.22
    assert isinstance(bot, ChatBotConfig)
    assert bot.prompt_caching == PromptCaching(
        mode="auto", min_tokens=4096, ttls=("5m", "1h"), tools=True
    )
    nova = add_model(path, "amazon.nova-lite-v1:0").config
    assert isinstance(nova, ChatBotConfig)
    assert nova.prompt_caching == PromptCaching(min_tokens=1000, tools=False)
    assert "prompt_caching: {mode: auto, min_tokens: 1000, tools: false}" in path.read_text()


def test_a_model_without_prompt_caching_gets_no_section(tmp_path: Path) -> None:
    bot = add_model(tmp_path / "catalog.yaml", "meta.llama3-8b-instruct-v1:0").config
    assert isinstance(bot, ChatBotConfig)
    assert bot.prompt_caching is None
    assert (bot.forced_tool_choices, bot.count_tokens, bot.anthropic_betas) == ((), False, ())


def test_tool_choices_token_counting_and_betas_are_carried(tmp_path: Path) -> None:
    path = tmp_path / "catalog.yaml"
    claude = as_chat(add_model(path, "anthropic.claude-sonnet-4-20250514-v1:0").config)
    assert claude.forced_tool_choices == ("any", "tool")
    assert claude.count_tokens
    assert "interleaved-thinking-2025-05-14" in claude.anthropic_betas
    mistral = as_chat(add_model(path, "mistral.mistral-large-2402-v1:0").config)
    assert (mistral.forced_tool_choices, mistral.count_tokens) == (("any",), False)
    assert "forced_tool_choices: [any]" in path.read_text()


def test_reasoning_controls_are_carried(tmp_path: Path) -> None:
    path = tmp_path / "catalog.yaml"
    gpt_oss = as_chat(add_model(path, "openai.gpt-oss-20b-1:0").config)
    controls = gpt_oss.reasoning_controls
    assert (controls.efforts, controls.effort_field) == (
        ("low", "medium", "high"),
        "reasoning_effort",
    )
    assert (gpt_oss.enable_reasoning, gpt_oss.reasoning_effort) == (False, None)  # the bot's own
    claude = as_chat(add_model(path, "anthropic.claude-sonnet-4-5-20250929-v1:0").config)
    assert claude.reasoning_controls == ReasoningControls(thinking=("budget",))
    assert "reasoning_controls:\n      thinking: [budget]\n" in path.read_text()
    nova = as_chat(add_model(path, "amazon.nova-micro-v1:0").config)
    assert nova.reasoning_controls == ReasoningControls()
    assert path.read_text().count("reasoning_controls") == 2


def test_structured_outputs_are_carried(tmp_path: Path) -> None:
    path = tmp_path / "catalog.yaml"
    qwen = as_chat(add_model(path, "qwen.qwen3-32b-v1:0").config)
    assert qwen.structured_output
    assert "structured_output: true" in path.read_text()
    nova = as_chat(add_model(path, "amazon.nova-pro-v1:0").config)
    assert not nova.structured_output


def test_text_only_model_without_system_prompt(tmp_path: Path) -> None:
    path = tmp_path / "catalog.yaml"
    added = add_model(path, "mistral.mistral-7b-instruct-v0:2", name="tiny", kind="chat")
    bot = as_chat(added.config)
    assert (bot.bot_name, bot.model_id) == ("tiny", "mistral.mistral-7b-instruct-v0:2")
    assert not bot.supports_images
    assert bot.enable_image_comprehension
    assert not bot.supports_system_messages
    assert bot.tool_use == "none"
    assert load_catalog(path).bots == (bot,)


def test_tool_use_is_carried_from_the_table(tmp_path: Path) -> None:
    path = tmp_path / "catalog.yaml"
    assert as_chat(add_model(path, "us.meta.llama3-1-8b-instruct-v1:0").config).tool_use == "whole"
    assert as_chat(add_model(path, "amazon.nova-micro-v1:0").config).tool_use == "streaming"


def test_a_2026_model_comes_with_its_price_date_and_an_unpriced_one_is_refused(
    tmp_path: Path,
) -> None:
    path = tmp_path / "catalog.yaml"
    added = add_model(path, "anthropic.claude-sonnet-4-6")
    bot = as_chat(added.config)
    assert bot.model_id == "us.anthropic.claude-sonnet-4-6"
    assert bot.prompt_caching == PromptCaching(
        mode="auto", min_tokens=2048, ttls=("5m", "1h"), tools=True
    )
    assert (bot.pricing.input_token, bot.pricing.cache_write_1h_token) == (0.33, 0.66)
    assert "prices of 2026-10-05" in added.entry_text
    with pytest.raises(AddModelError, match="has no prices in the model table"):
        add_model(path, "moonshot.kimi-k2-thinking")
    assert [b.bot_name for b in load_catalog(path).bots] == ["claude-sonnet-4-6"]


def test_image_and_video_models(tmp_path: Path) -> None:
    path = tmp_path / "catalog.yaml"
    image = add_model(path, "stability.sd3-5-large-v1:0").config
    assert (image.kind, image.aws_region, image.pricing.image_output) == (
        "image",
        "us-west-2",
        8000,
    )
    assert isinstance(image, ImageBotConfig)
    assert image.image.family == "stability"
    with pytest.raises(AddModelError, match="--output-s3-uri"):
        add_model(path, "amazon.nova-reel-v1:1")
    video = add_model(path, "amazon.nova-reel-v1:1", output_s3_uri="s3://my-videos/out").config
    assert isinstance(video, VideoBotConfig)
    assert video.video.output_s3_uri == "s3://my-videos/out"
    assert video.pricing.authorize
    assert video.pricing.video_second == 8000
    assert len(load_catalog(path).bots) == 2


def test_refusals_leave_the_file_unchanged(tmp_path: Path) -> None:
    path = tmp_path / "catalog.yaml"
    path.write_text(HAND_WRITTEN)
    with pytest.raises(UnknownModel) as unknown:
        add_model(path, "amazon.nova-prp-v1:0")
    assert "amazon.nova-pro-v1:0" in unknown.value.suggestions
    with pytest.raises(AddModelError, match="already has a bot named mine"):
        add_model(path, "amazon.nova-pro-v1:0", name="mine")
    with pytest.raises(AddModelError, match="bot mine already serves"):
        add_model(path, "amazon.nova-micro-v1:0")
    with pytest.raises(AddModelError, match="image model, not chat"):
        add_model(path, "amazon.nova-canvas-v1:0", kind="chat")
    with pytest.raises(AddModelError, match=r"no prices .* in eu-west-1"):
        add_model(path, "amazon.nova-pro-v1:0", region="eu-west-1")
    with pytest.raises(AddModelError, match="bot_name"):
        add_model(path, "amazon.nova-pro-v1:0", name="bad name!")  # fails validation
    assert path.read_text() == HAND_WRITTEN
    assert [p.name for p in tmp_path.iterdir()] == ["catalog.yaml"]  # no temporary left


def test_a_file_whose_bots_are_not_last_is_left_alone(tmp_path: Path) -> None:
    path = tmp_path / "catalog.yaml"
    text = HAND_WRITTEN.replace("version: 1\n", "") + "version: 1\n"
    path.write_text(text)
    with pytest.raises(AddModelError):
        add_model(path, "amazon.nova-pro-v1:0")
    assert path.read_text() == text


def test_an_invalid_catalog_is_not_touched(tmp_path: Path) -> None:
    path = tmp_path / "catalog.yaml"
    path.write_text("version: 1\nbots: []\n")
    with pytest.raises(AddModelError, match="fix the catalog first"):
        add_model(path, "amazon.nova-pro-v1:0")
    assert path.read_text() == "version: 1\nbots: []\n"


def test_cli_reports_success_and_refusals(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "catalog.yaml"
    assert main(["models", "add", "amazon.nova-pro-v1:0", "--config", str(path)]) == 0
    out = capsys.readouterr().out
    assert "bot_name: nova-pro" in out
    assert "no restart needed" in out
    assert main(["models", "add", "amazon.nova-pro-v1:0", "--config", str(path)]) == 1
    assert "already has a bot named nova-pro" in capsys.readouterr().err
    assert main(["models", "add", "amazon.nova-prp-v1:0", "--config", str(path)]) == 1
    assert "did you mean amazon.nova-pro-v1:0" in capsys.readouterr().err
    assert main(["models", "--config", str(path)]) == 0
    assert "nova-pro" in capsys.readouterr().out


async def test_acceptance_cli_added_model_answers_through_the_running_gateway(
    serve_app: ServeApp, catalog_file: Path
) -> None:
    async with serve_app(catalog_file) as url, httpx.AsyncClient(base_url=url) as session:
        assert await is_served(session, "nova-micro")
        assert not await is_served(session, "llama3-3-70b")

        command = [
            "models",
            "add",
            "meta.llama3-3-70b-instruct-v1:0",
            "--config",
            str(catalog_file),
        ]
        assert await asyncio.to_thread(main, command) == 0

        await wait_until_served(session, "llama3-3-70b")  # the same process: no restart
        reply = await answer_over_http(session, url, "llama3-3-70b", "hello from the CLI")
        assert reply == reply_text("hello from the CLI", 2048)[0]
        status = (await session.get("/status.json")).json()
        row = next(row for row in status["bots"] if row["bot"] == "llama3-3-70b")
        assert row["model_id"] == "us.meta.llama3-3-70b-instruct-v1:0"
