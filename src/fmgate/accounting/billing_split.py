"""A request's prompt split for billing: the system prompt's tokens, and the rest.

The rest is the seed's metric, the input *excluding the system prompt*: what the caller sent
(the conversation, its files, its tools) as opposed to the bot's instructions. Both parts are
of the whole prompt (uncached input, cache reads and cache writes together), since the system
prompt is often the part read from the prompt cache. The system prompt's share is never more
than the prompt: a prompt a guardrail blocked is billed for nothing, its system prompt included.
"""

from __future__ import annotations

from dataclasses import dataclass

from fmgate.core.events import Usage


@dataclass(frozen=True, slots=True)
class BillingSplit:
    """Prompt tokens: ``system_tokens`` the system prompt's, ``excl_system`` the others."""

    system_tokens: int
    excl_system: int


def billing_split(usage: Usage | None, system_tokens: int | None) -> BillingSplit | None:
    """The split of ``usage``'s prompt, given the system prompt's tokens; None when either is
    not known."""
    if usage is None or system_tokens is None:
        return None
    prompt = usage.prompt_tokens
    system = min(system_tokens, prompt)
    return BillingSplit(system_tokens=system, excl_system=prompt - system)
