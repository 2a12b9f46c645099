"""Names of the per-request options users can set (Poe parameter controls, OpenAI fields).

Fronts offer them; bots read them from ``BotRequest.parameters``. One list, so the two sides
cannot drift apart.
"""

from __future__ import annotations

from collections.abc import Mapping

TEMPERATURE = "temperature"
MAX_TOKENS = "max_tokens"
REASONING_BUDGET = "reasoning_budget"
#: A reasoning effort level (``low`` ... ``max``), for models that take one.
REASONING_EFFORT = "reasoning_effort"
#: How the model thinks in this request: one of :data:`THINKING_CHOICES`.
THINKING = "thinking"
#: ``budget``: within the thinking budget; ``adaptive``: as the model judges; ``off``: not at all.
THINKING_CHOICES = ("budget", "adaptive", "off")
ASPECT_RATIO = "aspect_ratio"
NEGATIVE_PROMPT = "negative_prompt"
SEED = "seed"
IMAGE_COUNT = "image_count"


def number(parameters: Mapping[str, object], name: str) -> float | None:
    """A numeric parameter, or None when absent or not a number (bools are not numbers)."""
    value = parameters.get(name)
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        return None
    try:
        result = float(value)
    except ValueError:
        return None
    if result != result or result in (float("inf"), float("-inf")):  # NaN / inf
        return None
    return result


def text(parameters: Mapping[str, object], name: str, max_length: int = 2000) -> str | None:
    """A short text parameter, or None."""
    value = parameters.get(name)
    if not isinstance(value, str) or not value.strip():
        return None
    return value.strip()[:max_length]


def clamp(value: float, low: float, high: float) -> float:
    return max(low, min(high, value))
