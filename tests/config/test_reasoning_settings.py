"""A chat bot's reasoning settings in a catalog: its thinking mode and effort, checked against
the reasoning controls it declares for its model."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from fmgate.config.bot_config import ChatBotConfig
from fmgate.config.errors import CatalogError
from fmgate.config.loader import parse_catalog

ADAPTIVE_CONTROLS = (
    "    reasoning_controls: {thinking: [budget, adaptive], efforts: [low, medium, high, max],"
    " effort_field: output_config}\n"
)


def bot(lines: str) -> ChatBotConfig:
    text = f"version: 1\nbots:\n  - bot_name: b\n    model_id: anthropic.example-v1:0\n{lines}"
    config = parse_catalog(text, "catalog.yaml").bot("b")
    assert isinstance(config, ChatBotConfig)
    return config


def problems(lines: str) -> list[str]:
    with pytest.raises(CatalogError) as caught:
        bot(lines)
    return [str(problem) for problem in caught.value.problems]


def test_adaptive_thinking_and_an_effort_the_model_takes() -> None:
    config = bot(
        ADAPTIVE_CONTROLS
        + "    enable_reasoning: true\n    thinking_mode: adaptive\n    reasoning_effort: max\n"
    )
    assert (config.thinking_mode, config.reasoning_effort) == ("adaptive", "max")
    # adaptive thinking takes no budget: a budget above the output limit is not an error
    assert (
        bot(
            ADAPTIVE_CONTROLS + "    enable_reasoning: true\n    thinking_mode: adaptive\n"
            "    max_tokens_limit: 2048\n    max_tokens: 1024\n    reasoning_budget: 4096\n"
        ).reasoning_budget
        == 4096
    )


def test_a_bot_from_before_reasoning_controls_still_thinks_within_its_budget() -> None:
    config = bot("    enable_reasoning: true\n")
    assert (config.thinking_mode, config.reasoning_controls.thinking) == ("budget", ())


@pytest.mark.parametrize(
    ("lines", "field", "says"),
    [
        (
            "    enable_reasoning: true\n    thinking_mode: adaptive\n",
            "thinking_mode",
            "takes no adaptive thinking",
        ),
        (
            ADAPTIVE_CONTROLS + "    thinking_mode: adaptive\n",
            "thinking_mode",
            "set enable_reasoning: true",
        ),
        ("    reasoning_effort: low\n", "reasoning_effort", "efforts: none"),
        (
            ADAPTIVE_CONTROLS + "    reasoning_effort: xhigh\n",
            "reasoning_effort",
            "takes no reasoning effort xhigh (reasoning_controls.efforts: low, medium, high, max)",
        ),
        (
            "    reasoning_controls: {efforts: [low]}\n",
            "reasoning_controls.effort_field",
            "both set, or neither",
        ),
        (
            "    reasoning_controls: {efforts: [high, low], effort_field: reasoning_effort}\n",
            "reasoning_controls.efforts",
            "least effort first",
        ),
        (
            "    reasoning_controls: {efforts: [low], effort_field: reasoning_effort,"
            " effort_beta: effort-2025-11-24}\n",
            "reasoning_controls.effort_beta",
            "only with output_config",
        ),
    ],
)
def test_a_setting_its_controls_do_not_take_names_its_field(
    lines: str, field: str, says: str
) -> None:
    [problem] = problems(lines)
    assert f'field "{field}"' in problem
    assert says in problem


def test_the_documented_example_means_what_it_says() -> None:
    text = (Path(__file__).parents[2] / "docs" / "configuration.md").read_text(encoding="utf-8")
    section = text[text.index("\n## Reasoning controls\n") :]
    match = re.search(r"```yaml\n(.*?)```", section, re.DOTALL)
    assert match is not None
    catalog = parse_catalog("version: 1\n" + match.group(1), "configuration.md")
    gpt_oss, claude = (catalog.bot(name) for name in ("gpt-oss-120b", "claude-opus-4-6-adaptive"))
    assert isinstance(gpt_oss, ChatBotConfig)
    assert isinstance(claude, ChatBotConfig)
    assert (gpt_oss.reasoning_effort, gpt_oss.reasoning_controls.effort_field) == (
        "high",
        "reasoning_effort",
    )
    assert (claude.thinking_mode, claude.reasoning_effort) == ("adaptive", "medium")
