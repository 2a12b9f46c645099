"""docs/configuration.md carries the field reference exactly as the schema renders it."""

from __future__ import annotations

from pathlib import Path

from fmgate.config import schema
from fmgate.config.reference import END_MARKER, SECTIONS, START_MARKER, render_reference

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
        for value in vars(schema).values()
        if isinstance(value, type)
        and issubclass(value, schema.StrictModel)
        and value not in (schema.StrictModel, schema.Catalog)
    }
    assert models - documented == set()


def test_reference_shows_types_defaults_and_bounds() -> None:
    reference = render_reference()
    attempts = "| `max_attempts` | `int` | `3` | Tries per request before giving up. (>= 1, <= 10)"
    assert attempts in reference
    assert "| `access_key` | `SecretRef \\| None` | `null` |" in reference
    assert "| `bot_name` | `str` | (required) |" in reference
    assert "| `breaker` | `BreakerSettings` | (see below) |" in reference
