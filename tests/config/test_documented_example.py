"""The annotated example in docs/configuration.md is a valid catalog and means what it says."""

from __future__ import annotations

import re
from pathlib import Path

from fmgate.config.bot_config import VideoBotConfig
from fmgate.config.loader import parse_catalog
from tests.harness.catalogs import chat_bot

DOC = Path(__file__).parents[2] / "docs" / "configuration.md"


def first_yaml_block(markdown: str) -> str:
    match = re.search(r"```yaml\n(.*?)```", markdown, re.DOTALL)
    assert match is not None
    return match.group(1)


def test_documented_example_loads_as_described() -> None:
    catalog = parse_catalog(first_yaml_block(DOC.read_text(encoding="utf-8")), "configuration.md")
    assert [bot.kind for bot in catalog.bots] == ["chat", "chat", "chat", "chat", "image", "video"]
    thinking = chat_bot(catalog, "claude-sonnet-4-5-thinking")
    assert thinking.enable_reasoning
    assert thinking.supports_documents
    assert thinking.supports_images
    assert thinking.pricing == chat_bot(catalog, "claude-sonnet-4-5").pricing
    assert chat_bot(catalog, "nova-micro").max_tokens_limit == 10000
    assert chat_bot(catalog, "mistral-7b").supports_system_messages is False
    reel = catalog.bot("nova-reel")
    assert isinstance(reel, VideoBotConfig)
    assert reel.video.output_s3_uri == "s3://fmgate-video-output/generated"
    assert reel.pricing.authorize
    assert reel.pricing.video_second == 8000
