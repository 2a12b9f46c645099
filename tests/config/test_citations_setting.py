"""A chat bot's ``citations`` setting in a catalog."""

from __future__ import annotations

import pytest

from fmgate.config.bot_config import ChatBotConfig
from fmgate.config.errors import CatalogError
from fmgate.config.loader import parse_catalog


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
