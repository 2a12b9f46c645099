"""docs/configuration.md carries the field reference exactly as the schema renders it."""

from __future__ import annotations

from pathlib import Path

from fmgate.config import (
    bot_config,
    fields,
    gateway_settings,
    guardrail,
    media,
    pricing,
    reasoning,
    response_schema,
)
from fmgate.config.reference import END_MARKER, SECTIONS, START_MARKER, render_reference

#: The modules that hold the catalog's models (Catalog itself is the document, not a section).
SCHEMA_MODULES = (
    bot_config,
    fields,
    gateway_settings,
    guardrail,
    media,
    pricing,
    reasoning,
    response_schema,
)

DOC = Path(__file__).parents[2] / "docs" / "configuration.md"


def test_documented_reference_is_the_rendered_one() -> None:
    text = DOC.read_text(encoding="utf-8")
    start, end = text.index(START_MARKER), text.index(END_MARKER) + len(END_MARKER)
    assert text[start:end] == render_reference(), (
        "docs/configuration.md is out of date: paste `python -m fmgate.config.reference` over it"
    )


def test_every_settings_model_has_a_section() -> None:
    documented = {model for _, model in SECTIONS}
    models = {
        value
        for module in SCHEMA_MODULES
        for value in vars(module).values()
        if isinstance(value, type)
        and issubclass(value, fields.StrictModel)
        and value is not fields.StrictModel
    }
    assert models - documented == set()


def test_reference_shows_types_defaults_and_bounds() -> None:
    reference = render_reference()
    attempts = "| `max_attempts` | `int` | `3` | Tries per request before giving up. (>= 1, <= 10)"
    assert attempts in reference
    assert "| `access_key` | `SecretRef \\| None` | `null` |" in reference
    assert "| `bot_name` | `str` | (required) |" in reference
    assert "| `breaker` | `BreakerSettings` | (see below) |" in reference


def test_each_bot_kind_has_a_section_with_only_its_own_fields() -> None:
    reference = render_reference()
    chat = reference.split("### Chat bots")[1].split("### Image bots")[0]
    image = reference.split("### Image bots")[1].split("### Video bots")[0]
    assert "The fields of BotConfigBase, and:" in chat
    assert "| `max_tokens` |" in chat
    assert "| `bot_name` |" not in chat
    assert "| `image` | `ImageDefaults` | (required) |" in image
    assert "| `max_tokens` |" not in image
