"""A request's thinking and effort: the bot's defaults, and the user's choices within what its
model takes (bots.reasoning)."""

from __future__ import annotations

from fmgate.bots.reasoning import request_reasoning
from fmgate.config.bot_config import ChatBotConfig
from fmgate.config.reasoning import ReasoningControls
from fmgate.core import parameters as p
from fmgate.core.model_request import Effort

#: The controls of a Claude 4.6-like model: both thinking types, efforts behind no beta.
CLAUDE_46 = ReasoningControls(
    thinking=("budget", "adaptive"),
    efforts=("low", "medium", "high", "max"),
    effort_field="output_config",
)
GPT_OSS = ReasoningControls(efforts=("low", "medium", "high"), effort_field="reasoning_effort")


def bot(**fields: object) -> ChatBotConfig:
    return ChatBotConfig.model_validate(
        {"bot_name": "b", "model_id": "example.chat-v1:0", "max_tokens_limit": 16000, **fields}
    )


def test_a_thinking_bot_thinks_within_its_budget_and_leaves_the_answer_room() -> None:
    reasoning = request_reasoning({}, bot(enable_reasoning=True, reasoning_budget=4096), 2048)
    assert (reasoning.budget, reasoning.adaptive, reasoning.max_tokens) == (4096, False, 5120)
    chosen = request_reasoning(
        {p.REASONING_BUDGET: 100}, bot(enable_reasoning=True, reasoning_budget=4096), 2048
    )
    assert chosen.budget == 1024  # Bedrock's smallest


def test_the_user_picks_the_way_of_thinking_the_model_takes() -> None:
    config = bot(reasoning_controls=CLAUDE_46, enable_reasoning=True, thinking_mode="adaptive")
    assert request_reasoning({}, config, 2048).adaptive
    within = request_reasoning({p.THINKING: "budget"}, config, 2048)
    assert (within.adaptive, within.budget) == (False, 4096)
    off = request_reasoning({p.THINKING: "off"}, config, 2048)
    assert (off.adaptive, off.budget, off.max_tokens) == (False, None, 2048)


def test_a_way_of_thinking_the_model_lacks_leaves_the_bots() -> None:
    legacy = bot(enable_reasoning=True)  # no reasoning_controls: it thinks within its budget
    assert request_reasoning({p.THINKING: "adaptive"}, legacy, 2048).budget == 4096
    plain = bot(reasoning_controls=ReasoningControls(thinking=("budget",)))
    assert request_reasoning({}, plain, 2048).budget is None
    assert request_reasoning({p.THINKING: "budget"}, plain, 2048).budget == 4096
    assert not request_reasoning({p.THINKING: "adaptive"}, plain, 2048).adaptive


def test_the_effort_is_the_users_when_the_model_takes_it_else_the_bots() -> None:
    config = bot(reasoning_controls=GPT_OSS, reasoning_effort="medium")
    assert request_reasoning({}, config, 2048).effort == Effort("medium", "reasoning_effort")
    chosen = request_reasoning({p.REASONING_EFFORT: "low"}, config, 2048)
    assert chosen.effort == Effort("low", "reasoning_effort")
    for ignored in ("max", "default", 3):
        effort = request_reasoning({p.REASONING_EFFORT: ignored}, config, 2048).effort
        assert effort == Effort("medium", "reasoning_effort")
    assert request_reasoning({}, bot(reasoning_controls=GPT_OSS), 2048).effort is None


def test_an_effort_brings_the_beta_its_model_needs() -> None:
    controls = ReasoningControls(
        thinking=("budget",),
        efforts=("low", "medium", "high"),
        effort_field="output_config",
        effort_beta="effort-2025-11-24",
    )
    effort = request_reasoning({p.REASONING_EFFORT: "high"}, bot(reasoning_controls=controls), 1)
    assert effort.effort == Effort("high", "output_config", beta="effort-2025-11-24")
    assert request_reasoning({p.REASONING_EFFORT: "high"}, bot(), 1).effort is None
