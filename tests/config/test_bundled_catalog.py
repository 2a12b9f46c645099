"""The catalog shipped with fmgate: loads, is large enough, and declares what each model does."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import pytest

from fmgate.config.bot_config import BotConfig, ChatBotConfig, ImageBotConfig, VideoBotConfig
from fmgate.config.catalog import Catalog
from fmgate.config.loader import load_catalog, validate_catalog_file


@dataclass(frozen=True)
class Model:
    """What the project knows about one Bedrock model (from the project's model list)."""

    kind: str
    profile_only: bool = False
    vision: bool = False
    documents: bool = False
    #: Takes the `thinking` field (extended thinking can be switched on).
    thinking: bool = False
    #: Always reasons; takes no `thinking` field.
    built_in_reasoning: bool = False
    system_messages: bool = True


CHAT_VISION_DOCS = Model("chat", vision=True, documents=True)
PROFILE_VISION_DOCS = Model("chat", profile_only=True, vision=True, documents=True)
PROFILE_THINKING = Model("chat", profile_only=True, vision=True, documents=True, thinking=True)
TEXT = Model("chat")
PROFILE_TEXT = Model("chat", profile_only=True)
PROFILE_VISION = Model("chat", profile_only=True, vision=True)

MODELS: dict[str, Model] = {
    "amazon.nova-micro-v1:0": TEXT,
    "amazon.nova-lite-v1:0": CHAT_VISION_DOCS,
    "amazon.nova-pro-v1:0": CHAT_VISION_DOCS,
    "amazon.nova-premier-v1:0": PROFILE_VISION_DOCS,
    "anthropic.claude-3-haiku-20240307-v1:0": CHAT_VISION_DOCS,
    "anthropic.claude-3-5-haiku-20241022-v1:0": Model("chat", profile_only=True, documents=True),
    "anthropic.claude-3-5-sonnet-20241022-v2:0": PROFILE_VISION_DOCS,
    "anthropic.claude-3-7-sonnet-20250219-v1:0": PROFILE_THINKING,
    "anthropic.claude-sonnet-4-20250514-v1:0": PROFILE_THINKING,
    "anthropic.claude-opus-4-1-20250805-v1:0": PROFILE_THINKING,
    "anthropic.claude-sonnet-4-5-20250929-v1:0": PROFILE_THINKING,
    "anthropic.claude-haiku-4-5-20251001-v1:0": PROFILE_THINKING,
    "anthropic.claude-opus-4-5-20251101-v1:0": PROFILE_THINKING,
    "anthropic.claude-opus-4-6-v1": PROFILE_THINKING,
    "anthropic.claude-sonnet-4-6": PROFILE_THINKING,
    "amazon.nova-2-lite-v1:0": PROFILE_VISION,
    "meta.llama3-8b-instruct-v1:0": TEXT,
    "meta.llama3-70b-instruct-v1:0": TEXT,
    "meta.llama3-1-8b-instruct-v1:0": PROFILE_TEXT,
    "meta.llama3-1-70b-instruct-v1:0": PROFILE_TEXT,
    "meta.llama3-2-11b-instruct-v1:0": PROFILE_VISION,
    "meta.llama3-2-90b-instruct-v1:0": PROFILE_VISION,
    "meta.llama3-3-70b-instruct-v1:0": PROFILE_TEXT,
    "meta.llama4-scout-17b-instruct-v1:0": PROFILE_VISION,
    "meta.llama4-maverick-17b-instruct-v1:0": PROFILE_VISION,
    "mistral.mistral-7b-instruct-v0:2": Model("chat", system_messages=False),
    "mistral.mixtral-8x7b-instruct-v0:1": Model("chat", system_messages=False),
    "mistral.mistral-large-2402-v1:0": TEXT,
    "mistral.mistral-small-2402-v1:0": TEXT,
    "mistral.pixtral-large-2502-v1:0": PROFILE_VISION,
    "mistral.mistral-large-3-675b-instruct": TEXT,
    "mistral.magistral-small-2509": Model("chat", built_in_reasoning=True),
    "deepseek.r1-v1:0": Model("chat", profile_only=True, built_in_reasoning=True),
    "deepseek.v3-v1:0": TEXT,
    "deepseek.v3.2": TEXT,
    "cohere.command-r-plus-v1:0": TEXT,
    "cohere.command-r-v1:0": TEXT,
    "ai21.jamba-1-5-large-v1:0": TEXT,
    "ai21.jamba-1-5-mini-v1:0": TEXT,
    "openai.gpt-oss-120b-1:0": Model("chat", built_in_reasoning=True),
    "openai.gpt-oss-20b-1:0": Model("chat", built_in_reasoning=True),
    "qwen.qwen3-32b-v1:0": TEXT,
    "minimax.minimax-m2": Model("chat", built_in_reasoning=True),
    "google.gemma-3-27b-it": Model("chat", system_messages=False),
    "amazon.titan-image-generator-v2:0": Model("image"),
    "amazon.nova-canvas-v1:0": Model("image"),
    "stability.sd3-5-large-v1:0": Model("image"),
    "stability.stable-image-ultra-v1:1": Model("image"),
    "stability.stable-image-core-v1:1": Model("image"),
    "amazon.nova-reel-v1:0": Model("video"),
    "amazon.nova-reel-v1:1": Model("video"),
    "luma.ray-v2:0": Model("video"),
}
IMAGE_FAMILIES = {
    "amazon.titan-image-generator-v2:0": "titan-image",
    "amazon.nova-canvas-v1:0": "nova-canvas",
    "stability.sd3-5-large-v1:0": "stability",
    "stability.stable-image-ultra-v1:1": "stability",
    "stability.stable-image-core-v1:1": "stability",
}
VIDEO_FAMILIES = {
    "amazon.nova-reel-v1:0": "nova-reel",
    "amazon.nova-reel-v1:1": "nova-reel",
    "luma.ray-v2:0": "luma-ray",
}
PROFILE_PREFIX = "us."


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    """The bundled catalog (deliberately shadows the gateway tests' ``catalog`` in this module)."""
    return load_catalog()


def base_model_id(bot: BotConfig) -> str:
    """The model list's id for a bot's model id (its us. profile prefix removed)."""
    model_id = bot.model_id
    return model_id.removeprefix(PROFILE_PREFIX)


def model_of(bot: BotConfig) -> Model:
    return MODELS[base_model_id(bot)]


def chat_bots(catalog: Catalog) -> list[ChatBotConfig]:
    return [bot for bot in catalog.bots if isinstance(bot, ChatBotConfig)]


def test_bundled_catalog_is_large_and_varied(catalog: Catalog) -> None:
    kinds = Counter(bot.kind for bot in catalog.bots)
    assert len(catalog.bots) >= 32
    assert kinds["chat"] >= 24
    assert kinds["image"] >= 4
    assert kinds["video"] >= 2


def test_bundled_catalog_covers_every_image_and_video_model(catalog: Catalog) -> None:
    used = {base_model_id(bot) for bot in catalog.bots}
    assert set(IMAGE_FAMILIES) <= used
    assert "luma.ray-v2:0" in used
    assert {"amazon.nova-reel-v1:0", "amazon.nova-reel-v1:1"} & used


def test_bundled_catalog_covers_every_chat_vendor(catalog: Catalog) -> None:
    vendors = {base_model_id(bot).split(".")[0] for bot in chat_bots(catalog)}
    expected = {"amazon", "anthropic", "meta", "mistral", "deepseek", "cohere", "ai21", "openai"}
    assert expected | {"qwen", "minimax", "google"} == vendors


def test_bot_names_are_unique(catalog: Catalog) -> None:
    names = [bot.bot_name for bot in catalog.bots]
    assert len(names) == len(set(names))


def test_every_model_id_is_from_the_list_with_the_right_profile_form(catalog: Catalog) -> None:
    for bot in catalog.bots:
        assert base_model_id(bot) in MODELS, bot.bot_name
        uses_profile = bot.model_id.startswith(PROFILE_PREFIX)
        assert uses_profile == model_of(bot).profile_only, bot.bot_name


def test_bot_kinds_match_their_models(catalog: Catalog) -> None:
    for bot in catalog.bots:
        assert bot.kind == model_of(bot).kind, bot.bot_name
        if isinstance(bot, ImageBotConfig):
            assert bot.image.family == IMAGE_FAMILIES[bot.model_id], bot.bot_name
        if isinstance(bot, VideoBotConfig):
            assert bot.video.family == VIDEO_FAMILIES[bot.model_id], bot.bot_name
            assert bot.video.output_s3_uri == "s3://fmgate-video-output/generated"


def test_chat_capabilities_are_declared_as_the_model_list_says(catalog: Catalog) -> None:
    for bot in chat_bots(catalog):
        model = model_of(bot)
        assert bot.supports_images == model.vision, bot.bot_name
        assert bot.supports_documents == model.documents, bot.bot_name
        assert bot.supports_system_messages == model.system_messages, bot.bot_name
        assert bot.enable_image_comprehension == (not model.vision), bot.bot_name
        if bot.enable_reasoning:
            assert model.thinking, bot.bot_name
            assert bot.reasoning_budget < bot.max_tokens_limit
        assert not (model.built_in_reasoning and bot.enable_reasoning), bot.bot_name


def test_thinking_variants_sit_next_to_plain_bots(catalog: Catalog) -> None:
    thinking = [bot for bot in chat_bots(catalog) if bot.enable_reasoning]
    assert {bot.bot_name for bot in thinking} >= {"claude-sonnet-4-5-thinking"}
    for bot in thinking:
        plain = catalog.bot(bot.bot_name.removesuffix("-thinking"))
        assert isinstance(plain, ChatBotConfig)
        assert plain.model_id == bot.model_id
        assert not plain.enable_reasoning


def test_every_bot_is_priced(catalog: Catalog) -> None:
    for bot in catalog.bots:
        pricing = bot.pricing
        assert pricing.is_priced, bot.bot_name
        if bot.kind == "chat":
            assert pricing.input_token > 0, bot.bot_name
            assert pricing.output_token >= pricing.input_token, bot.bot_name
            # below $100 per 1M output tokens: catches a missing /10 in a conversion
            assert pricing.output_token < 10, bot.bot_name
        if bot.kind == "image":
            assert 500 <= pricing.image_output <= 20_000, bot.bot_name
        if bot.kind == "video":
            assert pricing.video_second >= 1000, bot.bot_name


def test_limits_are_consistent(catalog: Catalog) -> None:
    for bot in chat_bots(catalog):
        assert 1024 <= bot.max_tokens_limit <= 64_000, bot.bot_name
        assert bot.max_tokens <= bot.max_tokens_limit, bot.bot_name
        assert 0 < bot.temperature_limit <= 2, bot.bot_name


def test_bots_share_one_access_key_reference(catalog: Catalog) -> None:
    assert {bot.access_key for bot in catalog.bots} == {"env:POE_ACCESS_KEY"}


def test_bundled_file_validates_from_its_path() -> None:
    path = Path(__file__).parents[2] / "src" / "fmgate" / "catalog.yaml"
    ok, report = validate_catalog_file(path)
    assert ok, report
    assert report.endswith(" bots OK (chat: 51, image: 5, video: 3)")


def test_every_bot_has_a_description(catalog: Catalog) -> None:
    assert [bot.bot_name for bot in catalog.bots if not bot.description] == []
