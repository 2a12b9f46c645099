"""BetaFilter: a caller's beta flags -> those the bot's model takes; the others logged once."""

from __future__ import annotations

import logging

import pytest

from fmgate.bots.betas import MAX_REPORTED, BetaFilter

TAKEN = ("context-1m-2025-08-07", "interleaved-thinking-2025-05-14")


def dropped_lines(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if "dropped" in r.getMessage()]


def test_only_the_models_flags_go_on_in_the_callers_order_once_each() -> None:
    betas = BetaFilter("claude", TAKEN)
    asked = ["claude-code-20250219", "interleaved-thinking-2025-05-14", "context-1m-2025-08-07"]
    assert betas.taken([*asked, "context-1m-2025-08-07"]) == (
        "interleaved-thinking-2025-05-14",
        "context-1m-2025-08-07",
    )
    assert BetaFilter("nova", ()).taken(asked) == ()


def test_each_dropped_flag_is_logged_once_at_info(caplog: pytest.LogCaptureFixture) -> None:
    betas = BetaFilter("claude", TAKEN)
    with caplog.at_level(logging.INFO, logger="fmgate.bots.betas"):
        for _ in range(3):
            betas.taken(["claude-code-20250219", "context-1m-2025-08-07", "fast-mode-2026-02-01"])
    lines = dropped_lines(caplog)
    assert len(lines) == 2
    assert "'claude-code-20250219'" in lines[0]
    assert "bot claude" in lines[0]
    assert {r.levelno for r in caplog.records} == {logging.INFO}


def test_the_memory_of_logged_flags_is_bounded(caplog: pytest.LogCaptureFixture) -> None:
    betas = BetaFilter("claude", TAKEN)
    with caplog.at_level(logging.INFO, logger="fmgate.bots.betas"):
        betas.taken([f"made-up-{n}" for n in range(MAX_REPORTED + 50)])
    assert len(dropped_lines(caplog)) == MAX_REPORTED
