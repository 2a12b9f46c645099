"""Token estimates, for the rare case Bedrock never reported usage (a stream cut short)."""

from __future__ import annotations

#: Rough characters per token across models' tokenizers.
CHARS_PER_TOKEN = 4


def estimate_output_tokens(delivered: str) -> int:
    """Tokens in text already delivered to the user (at least 1 when anything was delivered)."""
    if not delivered:
        return 0
    return max(1, len(delivered) // CHARS_PER_TOKEN)
