"""Bedrock model identifiers: a system-defined cross-region inference profile's and its model's.

A cross-region profile's id is its model's id behind a geographic prefix
(``us.anthropic.claude-sonnet-4-20250514-v1:0``). Converse takes either; CountTokens takes the
foundation model's id only.
"""

from __future__ import annotations

#: Prefixes of system-defined cross-region inference-profile ids.
PROFILE_PREFIXES = ("us.", "eu.", "apac.", "global.")


def foundation_model_id(model_id: str) -> str:
    """``us.anthropic.claude...`` -> ``anthropic.claude...``; other ids (plain ids, ARNs)
    unchanged."""
    for prefix in PROFILE_PREFIXES:
        if model_id.startswith(prefix):
            return model_id.removeprefix(prefix)
    return model_id
