"""A bot is one of three kinds, and has only its kind's fields: chat (the default), image, video."""

from __future__ import annotations

import pytest
from pydantic import TypeAdapter, ValidationError

from fmgate.config.bot_config import BotConfig, ChatBotConfig, ImageBotConfig, VideoBotConfig
from fmgate.config.errors import CatalogError
from fmgate.config.loader import parse_catalog

IMAGE_BOT = """\
  - bot_name: painter
    kind: image
    model_id: amazon.titan-image-generator-v2:0
    image: {family: titan-image}
"""
VIDEO_BOT = """\
  - bot_name: filmer
    kind: video
    model_id: amazon.nova-reel-v1:1
    video: {family: nova-reel, output_s3_uri: s3://bucket/out}
"""


def problems_in(text: str) -> list[str]:
    with pytest.raises(CatalogError) as caught:
        parse_catalog(text, "catalog.yaml")
    return [str(problem) for problem in caught.value.problems]


def test_a_bot_without_kind_is_a_chat_bot() -> None:
    text = "version: 1\nbots:\n  - {bot_name: talker, model_id: amazon.nova-micro-v1:0}\n"
    bot = parse_catalog(text, "catalog.yaml").bot("talker")
    assert isinstance(bot, ChatBotConfig)
    assert (bot.kind, bot.max_tokens) == ("chat", 2048)


def test_each_kind_is_validated_as_its_own_class() -> None:
    catalog = parse_catalog(f"version: 1\nbots:\n{IMAGE_BOT}{VIDEO_BOT}", "catalog.yaml")
    painter, filmer = catalog.bots
    assert isinstance(painter, ImageBotConfig)
    assert painter.image.family == "titan-image"
    assert isinstance(filmer, VideoBotConfig)
    assert filmer.video.output_s3_uri == "s3://bucket/out"


@pytest.mark.parametrize(
    ("field", "value"),
    [("max_tokens", "100"), ("streaming", "false"), ("fallbacks", "[]"), ("top_p", "0.5")],
)
def test_chat_field_on_an_image_bot_names_file_bot_and_field(field: str, value: str) -> None:
    text = f"version: 1\nbots:\n{IMAGE_BOT}    {field}: {value}\n"
    assert problems_in(text) == [
        f'catalog.yaml:3: bot "painter" (bots[0]): field "{field}": '
        "not valid for image bots: only chat bots have this field"
    ]


def test_chat_field_on_a_video_bot_is_refused() -> None:
    text = f"version: 1\nbots:\n{VIDEO_BOT}    supports_images: true\n"
    assert problems_in(text) == [
        'catalog.yaml:3: bot "filmer" (bots[0]): field "supports_images": '
        "not valid for video bots: only chat bots have this field"
    ]


def test_another_media_kinds_section_is_refused() -> None:
    text = f"version: 1\nbots:\n{VIDEO_BOT}    image: {{family: titan-image}}\n"
    assert problems_in(text) == [
        'catalog.yaml:3: bot "filmer" (bots[0]): field "image": '
        "not valid for video bots: only image bots have this field"
    ]


def test_image_bot_without_its_section_names_file_bot_and_field() -> None:
    text = """version: 1
bots:
  - bot_name: painter
    kind: image
    model_id: amazon.titan-image-generator-v2:0
"""
    assert problems_in(text) == [
        'catalog.yaml:3: bot "painter" (bots[0]): field "image": '
        "an image bot needs an `image` section (with its `family`)"
    ]


def test_media_section_on_a_chat_bot_is_refused() -> None:
    text = """version: 1
bots:
  - bot_name: talker
    model_id: amazon.nova-micro-v1:0
    video: {family: nova-reel, output_s3_uri: s3://bucket/out}
"""
    assert problems_in(text) == [
        'catalog.yaml:3: bot "talker" (bots[0]): field "video": '
        "not valid for chat bots: only video bots have this field"
    ]


def test_unknown_kind_is_refused() -> None:
    text = "version: 1\nbots:\n  - {bot_name: x, kind: audio, model_id: amazon.nova-micro-v1:0}\n"
    [problem] = problems_in(text)
    assert problem.startswith('catalog.yaml:3: bot "x" (bots[0]): field "kind": Input should be')


def test_defaults_reach_only_the_kinds_that_have_the_field() -> None:
    text = f"""version: 1
defaults:
  max_tokens: 1000
  attachments: {{max_files: 3}}
  aws_region: us-west-2
bots:
  - {{bot_name: talker, model_id: amazon.nova-micro-v1:0}}
{IMAGE_BOT}"""
    catalog = parse_catalog(text, "catalog.yaml")
    talker, painter = catalog.bots
    assert isinstance(talker, ChatBotConfig)
    assert (talker.max_tokens, talker.attachments.max_files) == (1000, 3)
    assert isinstance(painter, ImageBotConfig)
    assert painter.aws_region == "us-west-2"


def test_chat_field_in_a_template_of_another_kind_is_reported_at_the_template() -> None:
    text = """version: 1
templates:
  images:
    kind: image
    image: {family: titan-image}
    temperature: 0.3
  titan: {extends: images, enable_reasoning: true}
bots:
  - {bot_name: painter, template: titan, model_id: amazon.titan-image-generator-v2:0}
"""
    assert problems_in(text) == [
        'catalog.yaml:4: template "images": field "temperature": '
        "not valid for image bots: only chat bots have this field",
        'catalog.yaml:7: template "titan": field "enable_reasoning": '
        "not valid for image bots: only chat bots have this field",
    ]


def test_chat_field_from_a_template_without_kind_is_reported_at_the_image_bot() -> None:
    text = f"""version: 1
templates:
  careful: {{temperature: 0.1}}
bots:
{IMAGE_BOT}    template: careful
"""
    assert problems_in(text) == [
        'catalog.yaml:5: bot "painter" (bots[0]): field "temperature": '
        "not valid for image bots: only chat bots have this field"
    ]


def test_the_union_picks_the_class_by_kind_and_defaults_to_chat() -> None:
    adapter: TypeAdapter[BotConfig] = TypeAdapter(BotConfig)
    chat = adapter.validate_python({"bot_name": "a", "model_id": "amazon.nova-micro-v1:0"})
    image = adapter.validate_python(
        {
            "bot_name": "b",
            "kind": "image",
            "model_id": "amazon.nova-canvas-v1:0",
            "image": {"family": "nova-canvas"},
        }
    )
    assert isinstance(chat, ChatBotConfig)
    assert isinstance(image, ImageBotConfig)
    assert adapter.validate_python(image) is image
    with pytest.raises(ValidationError):
        adapter.validate_python(
            {"bot_name": "c", "kind": "video", "model_id": "amazon.nova-reel-v1:1"}
        )


def test_kind_classes_refuse_other_kinds_fields_in_code() -> None:
    with pytest.raises(ValidationError):
        ImageBotConfig.model_validate(
            {
                "bot_name": "b",
                "model_id": "amazon.nova-canvas-v1:0",
                "image": {"family": "nova-canvas"},
                "max_tokens": 10,
            }
        )
