"""The catalog's field reference (docs/configuration.md), rendered from the pydantic models.

``python -m fmgate.config.reference`` prints it; a test keeps the copy in the docs identical, so
a field added to a catalog model is documented by running one command. The bot kinds get one
section each: the fields every bot has, then what each kind adds.
"""

from __future__ import annotations

import json
import types
from enum import Enum
from typing import Annotated, Any, Literal, Union, get_args, get_origin

import annotated_types
from pydantic import BaseModel
from pydantic.fields import FieldInfo
from pydantic_core import PydanticUndefined

from fmgate.config.bot_config import (
    AttachmentLimits,
    BotConfigBase,
    ChatBotConfig,
    FallbackTarget,
    ImageBotConfig,
    PromptCaching,
    VideoBotConfig,
)
from fmgate.config.fields import SecretRef
from fmgate.config.gateway_settings import (
    ApiKeyRef,
    BreakerSettings,
    ConcurrencySettings,
    EmulatorSettings,
    GatewaySettings,
    JwtSettings,
    LedgerSettings,
    OverloadSettings,
    PoeApiBotSettings,
    PoeSettings,
    RequestLimits,
    SharedStateSettings,
    StoredResponsesSettings,
    TimeoutSettings,
)
from fmgate.config.guardrail import GuardrailSettings
from fmgate.config.media import ImageDefaults, VideoDefaults
from fmgate.config.pricing import Pricing, TierPrices
from fmgate.config.reasoning import ReasoningControls
from fmgate.config.response_schema import ResponseSchema

#: Where the generated reference sits in docs/configuration.md.
START_MARKER = "<!-- field-reference:start (python -m fmgate.config.reference) -->"
END_MARKER = "<!-- field-reference:end -->"

#: (heading, model) for every section, in reading order. A model that extends another with
#: fields (a bot kind) lists only the fields it adds.
SECTIONS: tuple[tuple[str, type[BaseModel]], ...] = (
    ("Every bot (`bots[]` entries, `defaults`, templates): BotConfigBase", BotConfigBase),
    ("Chat bots (`kind: chat`, the default): ChatBotConfig", ChatBotConfig),
    ("Image bots (`kind: image`): ImageBotConfig", ImageBotConfig),
    ("Video bots (`kind: video`): VideoBotConfig", VideoBotConfig),
    ("`image` section: ImageDefaults", ImageDefaults),
    ("`video` section: VideoDefaults", VideoDefaults),
    ("`pricing` section: Pricing", Pricing),
    ("`pricing.service_tiers.<priority|flex>` (chat bots): TierPrices", TierPrices),
    ("`attachments` section (chat bots): AttachmentLimits", AttachmentLimits),
    ("`fallbacks[]` entries (chat bots): FallbackTarget", FallbackTarget),
    ("`prompt_caching` section (chat bots): PromptCaching", PromptCaching),
    ("`guardrail` section (chat bots): GuardrailSettings", GuardrailSettings),
    ("`reasoning_controls` section (chat bots): ReasoningControls", ReasoningControls),
    ("`response_schema` section (chat bots): ResponseSchema", ResponseSchema),
    ("`gateway` section: GatewaySettings", GatewaySettings),
    ("`gateway.limits`: RequestLimits", RequestLimits),
    ("`gateway.breaker`: BreakerSettings", BreakerSettings),
    ("`gateway.timeouts`: TimeoutSettings", TimeoutSettings),
    ("`gateway.concurrency`: ConcurrencySettings", ConcurrencySettings),
    ("`gateway.overload`: OverloadSettings", OverloadSettings),
    ("`gateway.shared_state`: SharedStateSettings", SharedStateSettings),
    ("`gateway.ledger`: LedgerSettings", LedgerSettings),
    ("`gateway.stored_responses`: StoredResponsesSettings", StoredResponsesSettings),
    ("`gateway.jwt`: JwtSettings", JwtSettings),
    ("`gateway.api_keys[]`: ApiKeyRef", ApiKeyRef),
    ("`gateway.poe`: PoeSettings", PoeSettings),
    ("`gateway.poe.api_bots`: PoeApiBotSettings", PoeApiBotSettings),
    ("`gateway.emulator`: EmulatorSettings", EmulatorSettings),
)


def type_name(annotation: Any) -> str:
    """A short, readable name for a field's type."""
    if annotation == SecretRef:
        return "SecretRef"
    origin = get_origin(annotation)
    args = get_args(annotation)
    if origin is Annotated:
        return type_name(args[0])
    if origin is Literal:
        return f"Literal[{', '.join(repr(arg) for arg in args)}]"
    if origin in (Union, types.UnionType):
        return " | ".join(type_name(arg) for arg in args)
    if origin is tuple and len(args) == 2 and args[1] is Ellipsis:
        return f"tuple[{type_name(args[0])}, ...]"
    if origin is dict:
        return f"dict[{type_name(args[0])}, {type_name(args[1])}]"
    if annotation is type(None):
        return "None"
    if isinstance(annotation, type):
        return annotation.__name__
    return str(annotation)


def default_text(field: FieldInfo) -> str:
    if field.default is PydanticUndefined and field.default_factory is None:
        return "(required)"
    value = field.get_default(call_default_factory=True)
    if isinstance(value, BaseModel):
        return "(see below)"
    if isinstance(value, Enum):
        value = value.value
    if isinstance(value, tuple):
        value = list(value)
    if isinstance(value, str):
        return f"`{value}`" if value else '`""`'
    return f"`{json.dumps(value)}`"


def bounds_text(field: FieldInfo) -> str:
    bounds = []
    for item in field.metadata:
        match item:
            case annotated_types.Ge(ge=value):
                bounds.append(f">= {value}")
            case annotated_types.Gt(gt=value):
                bounds.append(f"> {value}")
            case annotated_types.Le(le=value):
                bounds.append(f"<= {value}")
            case annotated_types.Lt(lt=value):
                bounds.append(f"< {value}")
    return f" ({', '.join(bounds)})" if bounds else ""


def escape(text: str) -> str:
    return text.replace("|", "\\|")


def extended_model(model: type[BaseModel]) -> type[BaseModel] | None:
    """The model with fields that ``model`` extends (a bot kind's BotConfigBase), if any."""
    parent = model.__mro__[1]
    return parent if issubclass(parent, BaseModel) and parent.model_fields else None


def section(heading: str, model: type[BaseModel]) -> str:
    lines = [f"### {heading}", ""]
    extended = extended_model(model)
    inherited = extended.model_fields if extended is not None else {}
    if extended is not None:
        lines += [f"The fields of {extended.__name__}, and:", ""]
    lines += ["| field | type | default | meaning |", "|---|---|---|---|"]
    for name, field in model.model_fields.items():
        if name in inherited:
            continue
        meaning = (field.description or "") + bounds_text(field)
        lines.append(
            f"| `{name}` | `{escape(type_name(field.annotation))}` | {escape(default_text(field))} "
            f"| {escape(meaning)} |"
        )
    return "\n".join(lines)


def render_reference() -> str:
    """Every section's table, markers included."""
    body = "\n\n".join(section(heading, model) for heading, model in SECTIONS)
    return f"{START_MARKER}\n\n{body}\n\n{END_MARKER}"


if __name__ == "__main__":
    print(render_reference())
