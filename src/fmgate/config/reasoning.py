"""The reasoning controls a model takes (a chat bot's ``reasoning_controls`` section).

::

    reasoning_controls:
      thinking: [budget, adaptive]     # Anthropic thinking types: budget_tokens, adaptive
      efforts: [low, medium, high, max]
      effort_field: output_config      # output_config | reasoning_effort | reasoning_config
      effort_beta: null                # an anthropic_beta the effort needs (Opus 4.5)

These are facts about the model, from fmgate's model table (``fmgate models add`` writes them,
``fmgate validate`` checks them); the bot's own choices are ``enable_reasoning``,
``thinking_mode`` and ``reasoning_effort``. Bedrock takes every control in the Converse
``additionalModelRequestFields`` (see docs/bedrock.md, "Reasoning controls").
"""

from __future__ import annotations

from typing import Self

from pydantic import Field, model_validator

from fmgate.config.fields import FieldConflict, StrictModel
from fmgate.core.model_request import REASONING_EFFORTS, EffortField, ReasoningEffort, ThinkingMode


class ReasoningControls(StrictModel):
    """How a request may steer the model's reasoning; empty: not at all (the default)."""

    thinking: tuple[ThinkingMode, ...] = Field(
        (),
        description="The extended-thinking types the model takes (Converse "
        "additionalModelRequestFields.thinking): budget (type enabled, budget_tokens), "
        "adaptive (type adaptive: the model decides how long to think).",
    )
    efforts: tuple[ReasoningEffort, ...] = Field(
        (),
        description="The reasoning effort levels the model takes, least effort first "
        "(low, medium, high, xhigh, max); empty: it takes no effort.",
    )
    effort_field: EffortField | None = Field(
        None,
        description="Where the model takes an effort: output_config (Anthropic's "
        "output_config.effort), reasoning_effort (gpt-oss), reasoning_config (Nova 2's "
        "reasoningConfig.maxReasoningEffort, which turns its thinking on).",
    )
    effort_beta: str | None = Field(
        None,
        min_length=1,
        description="An anthropic_beta flag Bedrock needs with the effort (Claude Opus 4.5: "
        "effort-2025-11-24); sent with every effort.",
    )

    @property
    def takes_effort(self) -> bool:
        return bool(self.efforts)

    @model_validator(mode="after")
    def _effort_has_a_field(self) -> Self:
        if bool(self.efforts) != (self.effort_field is not None):
            raise FieldConflict(
                "effort_field", "efforts and effort_field go together: both set, or neither"
            )
        if self.effort_beta is not None and self.effort_field != "output_config":
            raise FieldConflict(
                "effort_beta", "effort_beta is an Anthropic beta: only with output_config"
            )
        if list(self.efforts) != sorted(set(self.efforts), key=REASONING_EFFORTS.index):
            raise FieldConflict("efforts", "list each effort once, least effort first")
        return self
