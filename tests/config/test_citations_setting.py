"""A chat bot's ``citations`` setting in a catalog."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from fmgate.config.bot_config import ChatBotConfig
from fmgate.config.errors import CatalogError
from fmgate.config.loader import parse_catalog

DOC = Path(__file__).parents[2] / "docs" / "configuration.md"


def bot(lines: str) -> ChatBotConfig:
    text = (
        "version: 1\nbots:\n  - bot_name: b\n"
        f"    model_id: us.anthropic.claude-sonnet-4-5-20250929-v1:0\n{lines}"
    )
    config = parse_catalog(text, "catalog.yaml").bot("b")
    assert isinstance(config, ChatBotConfig)
    return config


def test_citations_are_off_unless_asked_for() -> None:
    assert bot("    supports_documents: true\n").citations is False
    assert bot("    supports_documents: true\n    citations: true\n").citations is True


def test_citations_need_documents() -> None:
    with pytest.raises(CatalogError) as caught:
        bot("    citations: true\n")
    [problem] = [str(problem) for problem in caught.value.problems]
    assert 'field "citations"' in problem
    assert "citations need supports_documents: true" in problem


def test_the_documented_example_means_what_it_says() -> None:
    text = DOC.read_text(encoding="utf-8")
    section = text[text.index("\n## Citations\n") :]
    match = re.search(r"```yaml\n(.*?)```", section, re.DOTALL)
    assert match is not None
    config = parse_catalog("version: 1\nbots:\n" + match.group(1), "configuration.md").bot(
        "claude-sonnet-4-5-cited"
    )
    assert isinstance(config, ChatBotConfig)
    assert config.citations
    assert config.supports_documents
