"""Service tiers on Converse: the ``serviceTier`` a call asks for, checked against its model.

``serviceTier`` is a ServiceTier structure, ``{"type": "priority" | "default" | "flex" |
"reserved"}`` (botocore's bedrock-runtime model). A model takes the tiers its catalogue entry
lists (every model ``default``; Priority and Flex only the models AWS lists for them); any other
is a ValidationException, as Bedrock answers a tier the model or region does not offer (the
exact message is not confirmed). ``reserved`` needs a capacity reservation, which the emulator
never has. The tier served is reported back in the response's (the metadata event's)
``serviceTier``, and faults can be aimed at one tier (``service_tier`` in a fault).
"""

from __future__ import annotations

from typing import Any

from fmgate_emulator.errors import validation
from fmgate_emulator.models import ModelSpec

#: ServiceTierType.
TIER_VALUES = ("priority", "default", "flex", "reserved")


def unsupported_tier(tier: str) -> str:
    return f"The requested service tier '{tier}' isn't supported for this model in this Region."


def requested_tier(body: Any) -> str | None:
    """The tier a request body names (unchecked: for matching faults), else None."""
    raw = body.get("serviceTier") if isinstance(body, dict) else None
    tier = raw.get("type") if isinstance(raw, dict) else None
    return tier if isinstance(tier, str) else None


def parse_service_tier(raw: Any, spec: ModelSpec) -> str | None:
    """The checked ``serviceTier.type`` of a call (None when it names none)."""
    if raw is None:
        return None
    tier = raw.get("type") if isinstance(raw, dict) else None
    if tier not in TIER_VALUES:
        allowed = ", ".join(TIER_VALUES)
        raise validation(
            f"1 validation error detected: Value '{tier}' at 'serviceTier.type' failed to "
            f"satisfy constraint: Member must satisfy enum value set: [{allowed}]"
        )
    if tier not in spec.service_tiers:
        raise validation(unsupported_tier(str(tier)))
    return str(tier)
