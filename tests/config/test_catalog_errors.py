"""Every kind of catalog mistake is reported with the file, the bot (or place) and the field."""

from __future__ import annotations

from pathlib import Path

import pytest

from fmgate.config.bot_config import ImageBotConfig
from fmgate.config.errors import CatalogError, CatalogProblem
from fmgate.config.loader import load_catalog, parse_catalog, validate_catalog_file

GOOD_BOT = """
  - bot_name: good
    model_id: amazon.nova-micro-v1:0
"""


def problems_in(text: str, source: str = "catalog.yaml") -> list[CatalogProblem]:
    with pytest.raises(CatalogError) as caught:
        parse_catalog(text, source)
    return list(caught.value.problems)


def one_problem(text: str) -> str:
    problems = problems_in(text)
    assert len(problems) == 1, [str(p) for p in problems]
    return str(problems[0])


def test_wrong_value_names_file_bot_index_and_field() -> None:
    text = f"""version: 1
bots:
{GOOD_BOT}
  - bot_name: nova-pro
    model_id: amazon.nova-pro-v1:0
    temperature: 3
"""
    assert one_problem(text) == (
        'catalog.yaml:7: bot "nova-pro" (bots[1]): field "temperature": '
        "Input should be less than or equal to 2"
    )


def test_unknown_field_suggests_the_close_name() -> None:
    text = f"""version: 1
bots:
  - bot_name: typo
    model_id: amazon.nova-pro-v1:0
    temprature: 0.5
{GOOD_BOT}"""
    message = one_problem(text)
    assert 'bot "typo" (bots[0])' in message
    assert 'field "temprature": unknown field (did you mean "temperature"?)' in message


def test_unknown_nested_field_names_its_path() -> None:
    text = """version: 1
bots:
  - bot_name: priced
    model_id: amazon.nova-pro-v1:0
    pricing: {input_tokens: 0.1}
"""
    message = one_problem(text)
    assert 'field "pricing.input_tokens": unknown field (did you mean "input_token"?)' in message


def test_wrong_type_is_reported() -> None:
    text = """version: 1
bots:
  - bot_name: typed
    model_id: amazon.nova-pro-v1:0
    max_tokens: lots
"""
    message = one_problem(text)
    assert 'bot "typed" (bots[0]): field "max_tokens": Input should be a valid integer' in message


def test_missing_required_field_without_a_name_uses_the_index() -> None:
    text = f"""version: 1
bots:
{GOOD_BOT}
  - model_id: amazon.nova-pro-v1:0
"""
    assert (
        one_problem(text) == 'catalog.yaml:7: bots[1]: field "bot_name": required field is missing'
    )


def test_missing_model_id_names_the_bot() -> None:
    text = """version: 1
bots:
  - bot_name: no-model
"""
    assert 'bot "no-model" (bots[0]): field "model_id": required field is missing' in one_problem(
        text
    )


def test_duplicate_bot_name_names_both_entries() -> None:
    text = f"""version: 1
bots:
{GOOD_BOT}
{GOOD_BOT}"""
    message = one_problem(text)
    assert 'bot "good" (bots[1]): field "bot_name": duplicate: bots[0] has this name' in message


def test_unknown_template_is_reported_with_a_suggestion() -> None:
    text = """version: 1
templates:
  vision: {supports_images: true}
bots:
  - bot_name: seeing
    template: visoin
    model_id: amazon.nova-pro-v1:0
"""
    message = one_problem(text)
    assert 'bot "seeing" (bots[0]): field "template": unknown template "visoin"' in message
    assert 'did you mean "vision"?' in message


def test_template_cycle_is_reported_once_and_its_bots_are_named() -> None:
    text = """version: 1
templates:
  a: {extends: b}
  b: {extends: c}
  c: {extends: a}
bots:
  - {bot_name: uses-a, template: a, model_id: amazon.nova-pro-v1:0}
"""
    problems = [str(p) for p in problems_in(text)]
    cycles = [p for p in problems if "template cycle" in p]
    assert len(cycles) == 1
    assert 'field "extends": template cycle: a -> b -> c -> a' in cycles[0]
    assert any('bot "uses-a" (bots[0]): field "template"' in p for p in problems)


def test_self_extending_template_is_a_cycle() -> None:
    text = f"""version: 1
templates:
  loop: {{extends: loop}}
bots:
{GOOD_BOT}"""
    assert 'template "loop": field "extends": template cycle: loop -> loop' in one_problem(text)


def test_template_extending_unknown_template() -> None:
    text = f"""version: 1
templates:
  child: {{extends: parent}}
bots:
{GOOD_BOT}"""
    assert 'template "child": field "extends": unknown template "parent"' in one_problem(text)


def test_image_bot_without_image_section() -> None:
    text = """version: 1
bots:
  - bot_name: painter
    kind: image
    model_id: amazon.titan-image-generator-v2:0
"""
    message = one_problem(text)
    assert (
        'bot "painter" (bots[0]): field "image": an image bot needs an `image` section' in message
    )


def test_video_bot_without_output_uri() -> None:
    text = """version: 1
bots:
  - bot_name: filmer
    kind: video
    model_id: amazon.nova-reel-v1:1
    video: {family: nova-reel}
"""
    message = one_problem(text)
    assert 'bot "filmer" (bots[0]): field "video.output_s3_uri": required field is missing' in (
        message
    )


@pytest.mark.parametrize(
    "model_id",
    ["Nova Pro", "gpt-4o", "amazon", "amazon.nova pro", "arn:aws:s3:::bucket/x", ""],
)
def test_invalid_model_id(model_id: str) -> None:
    text = f"""version: 1
bots:
  - bot_name: broken
    model_id: "{model_id}"
"""
    message = one_problem(text)
    assert 'bot "broken" (bots[0]): field "model_id": ' in message


@pytest.mark.parametrize(
    "model_id",
    [
        "amazon.nova-pro-v1:0",
        "us.anthropic.claude-sonnet-4-5-20250929-v1:0",
        "global.anthropic.claude-sonnet-4-5-20250929-v1:0",
        "apac.amazon.nova-lite-v1:0",
        "anthropic.claude-v2:1:18k",
        "cohere.embed-english-v3",
        "arn:aws:bedrock:us-east-1:123456789012:inference-profile/us.amazon.nova-pro-v1:0",
        "arn:aws:bedrock:us-east-1::foundation-model/amazon.nova-pro-v1:0",
        "arn:aws:bedrock:us-east-1:123456789012:application-inference-profile/a1b2c3d4e5",
    ],
)
def test_valid_model_id_forms(model_id: str) -> None:
    text = f"""version: 1
bots:
  - bot_name: fine
    model_id: "{model_id}"
"""
    assert parse_catalog(text, "catalog.yaml").bot("fine").model_id == model_id


def test_yaml_syntax_error_names_the_line() -> None:
    text = """version: 1
bots:
  - bot_name: a
    model_id: [unclosed
  - bot_name: b
"""
    message = one_problem(text)
    assert message.startswith("catalog.yaml:5: YAML syntax error: ")
    assert "flow sequence that starts on line 4" in message


def test_bad_indentation_names_the_line() -> None:
    text = "version: 1\nbots:\n  - bot_name: a\n   model_id: x\n"
    assert one_problem(text).startswith("catalog.yaml:4: YAML syntax error: ")


def test_duplicate_yaml_key_is_an_error() -> None:
    text = """version: 1
bots:
  - bot_name: a
    model_id: amazon.nova-micro-v1:0
    temperature: 0.2
    temperature: 0.9
"""
    assert (
        one_problem(text)
        == 'catalog.yaml:6: key "temperature" is written twice in the same mapping'
    )


def test_python_tags_are_refused() -> None:
    text = "version: 1\nbots: !!python/object/apply:os.system ['true']\n"
    assert "YAML syntax error" in one_problem(text)


def test_every_problem_is_collected_not_just_the_first() -> None:
    text = """version: 1
gateway:
  max_attempts: 0
defaults:
  temprature: 0.5
templates:
  broken: {max_tokens: -1}
bots:
  - bot_name: one
    model_id: amazon.nova-pro-v1:0
    top_p: 7
  - bot_name: two
    template: missing
    model_id: amazon.nova-pro-v1:0
  - bot_name: three
    kind: video
    model_id: amazon.nova-reel-v1:1
"""
    problems = [str(p) for p in problems_in(text)]
    expected = [
        'gateway: field "max_attempts": Input should be greater than or equal to 1',
        'defaults: field "temprature": unknown field',
        'template "broken": field "max_tokens": Input should be greater than or equal to 1',
        'bot "one" (bots[0]): field "top_p": Input should be less than or equal to 1',
        'bot "two" (bots[1]): field "template": unknown template "missing"',
        'bot "three" (bots[2]): field "video": a video bot needs a `video` section',
    ]
    assert len(problems) == len(expected)
    for fragment in expected:
        assert any(fragment in problem for problem in problems), fragment
    assert all(problem.startswith("catalog.yaml:") for problem in problems)


def test_problem_in_defaults_is_reported_once_not_per_bot() -> None:
    text = """version: 1
defaults:
  max_tokens: 0
bots:
  - {bot_name: a, model_id: amazon.nova-micro-v1:0}
  - {bot_name: b, model_id: amazon.nova-micro-v1:0}
  - {bot_name: c, model_id: amazon.nova-micro-v1:0}
"""
    assert one_problem(text) == (
        'catalog.yaml:3: defaults: field "max_tokens": Input should be greater than or equal to 1'
    )


def test_partial_nested_sections_in_templates_are_fine() -> None:
    text = """version: 1
templates:
  small-images: {kind: image, image: {base_size: 512}}
bots:
  - bot_name: titan
    template: small-images
    model_id: amazon.titan-image-generator-v2:0
    image: {family: titan-image}
"""
    bot = parse_catalog(text, "catalog.yaml").bot("titan")
    assert isinstance(bot, ImageBotConfig)
    assert (bot.image.family, bot.image.base_size) == ("titan-image", 512)


def test_bot_name_in_defaults_is_refused() -> None:
    text = f"""version: 1
defaults: {{bot_name: everyone}}
bots:
{GOOD_BOT}"""
    assert 'defaults: field "bot_name": bot_name belongs in each bot entry' in one_problem(text)


def test_cross_field_rule_names_the_field() -> None:
    text = """version: 1
bots:
  - bot_name: thinker
    model_id: us.anthropic.claude-sonnet-4-5-20250929-v1:0
    enable_reasoning: true
    reasoning_budget: 9000
    max_tokens: 1000
    max_tokens_limit: 8000
"""
    assert 'field "reasoning_budget": reasoning_budget must be below max_tokens_limit' in (
        one_problem(text)
    )


def test_literal_secret_in_access_key_is_refused_without_echoing_it() -> None:
    pasted = "sk-live-0123456789abcdef0123456789abcdef"
    text = f"""version: 1
bots:
  - bot_name: leaky
    model_id: amazon.nova-pro-v1:0
    access_key: {pasted}
"""
    message = one_problem(text)
    assert 'bot "leaky" (bots[0]): field "access_key": not a secret reference' in message
    assert pasted not in message


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("bots: []\n", 'field "version": required'),
        ("version: 2\nbots: []\n", 'field "version": unsupported version'),
        ("version: 1\n", 'field "bots": required: a list with at least one bot entry'),
        ("version: 1\nbots: []\n", 'field "bots": required: a list with at least one bot entry'),
        ("version: 1\nbot: []\n", 'field "bot": unknown section (did you mean "bots"?)'),
        ("", "the catalog is empty"),
        ("- just\n- a list\n", "the catalog must be a mapping"),
        ("version: 1\nbots: [42]\n", "bots[0]: a bot entry must be a mapping"),
        ("version: 1\ndefaults: [1]\nbots: []\n", "defaults: must be a mapping"),
    ],
)
def test_structural_problems(text: str, fragment: str) -> None:
    problems = [str(p) for p in problems_in(text)]
    assert any(fragment in problem for problem in problems), problems


def test_unreadable_file_is_a_catalog_error(tmp_path: Path) -> None:
    missing = tmp_path / "nope.yaml"
    with pytest.raises(CatalogError) as caught:
        load_catalog(missing)
    assert str(caught.value) == f"{missing}: cannot read the file: No such file or directory"


def test_source_in_messages_is_the_path_given(tmp_path: Path) -> None:
    path = tmp_path / "mine.yaml"
    path.write_text("version: 1\nbots:\n  - bot_name: x\n", encoding="utf-8")
    with pytest.raises(CatalogError) as caught:
        load_catalog(path)
    assert str(caught.value).startswith(f'{path}:3: bot "x" (bots[0]): field "model_id"')


def test_validate_catalog_file_reports_counts(tmp_path: Path) -> None:
    path = tmp_path / "ok.yaml"
    path.write_text(
        """version: 1
bots:
  - {bot_name: a, model_id: amazon.nova-micro-v1:0}
  - {bot_name: b, model_id: amazon.nova-lite-v1:0}
  - bot_name: c
    kind: image
    model_id: amazon.nova-canvas-v1:0
    image: {family: nova-canvas}
""",
        encoding="utf-8",
    )
    assert validate_catalog_file(path) == (True, "3 bots OK (chat: 2, image: 1, video: 0)")


def test_validate_catalog_file_lists_every_problem(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(
        """version: 1
bots:
  - {bot_name: a, model_id: amazon.nova-micro-v1:0, top_p: 2}
  - {bot_name: a, model_id: "not a model"}
""",
        encoding="utf-8",
    )
    ok, report = validate_catalog_file(path)
    assert not ok
    lines = report.splitlines()
    assert lines[0] == f"{path}: 3 problems"
    assert f'{path}:3: bot "a" (bots[0]): field "top_p"' in lines[1]
    assert f'{path}:4: bot "a" (bots[1]): field "bot_name": duplicate' in lines[2]
    assert f'{path}:4: bot "a" (bots[1]): field "model_id": not a Bedrock model id' in lines[3]
