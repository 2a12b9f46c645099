"""The bundled, dated table of Bedrock models that ``fmgate models add`` reads.

The data lives next to this module, in ``model_table.yaml``.

Each entry declares what a model is (kind, input modalities, context window, output limit,
whether Bedrock serves it on demand or only through a cross-region inference profile, how it
reasons, whether it takes tools and in which operations, whether it takes prompt-cache
checkpoints and from how many tokens, which forced tool choices it takes, whether it answers
CountTokens, which Anthropic betas Bedrock takes for it, whether it takes a guardrail, which
service tiers, whether it takes structured outputs, whether it cites documents, which
reasoning controls: thinking types, effort levels and their field) and what it costs per
region, in Poe's milli-cents, with the date those prices were checked (``prices_as_of``, the
table's ``as_of`` unless the entry says otherwise; :meth:`ModelFacts.prices_stale` after
:data:`STALE_AFTER_DAYS`). Lookups accept the plain id or a profile id (``us.<id>``); unknown
ids get close matches as suggestions.

``fmgate models refresh`` writes a refreshed copy (``var/model_table.yaml`` by default) from
Bedrock's own listings; :func:`load_table` is the one reader of every table file: an explicit
path, else that refreshed copy when it exists, else the bundled table. A model the listings
added has no prices (``prices: {}``) until someone writes them into the file.
"""

from __future__ import annotations

import datetime
import difflib
from collections.abc import Mapping
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from fmgate.bedrock.model_ids import foundation_model_id
from fmgate.config.bot_config import BotKind, ForcedToolChoice, ToolUse
from fmgate.config.media import ImageFamily, VideoFamily
from fmgate.config.pricing import Pricing
from fmgate.config.reasoning import ReasoningControls
from fmgate.core.model_request import CacheTTL, ServiceTier

TABLE_FILE = "model_table.yaml"
#: Where ``fmgate models refresh`` writes its table, and where ``models add`` looks first.
REFRESHED_TABLE_PATH = Path("var/model_table.yaml")
#: Region of a model the table neither prices nor saw listed anywhere.
FALLBACK_REGION = "us-east-1"
#: Prices checked longer ago than this are shown as stale (``fmgate models``).
STALE_AFTER_DAYS = 90

Modality = Literal["text", "image", "document"]
ReasoningMode = Literal["none", "on_request", "always"]


class PromptCachingFacts(BaseModel):
    """How a model takes Bedrock prompt-cache checkpoints (``cachePoint`` blocks).

    A model without this section takes none: a ``cachePoint`` sent to it is refused. The
    figures and their sources are in docs/prompt-caching.md ("Facts").
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    min_tokens: int = Field(
        ge=1, description="Fewest prompt tokens before a checkpoint for it to be cached."
    )
    ttls: tuple[CacheTTL, ...] = Field(("5m",), min_length=1, description="TTLs it accepts.")
    tools: bool = Field(
        False, description="Accepts a checkpoint in toolConfig.tools (Claude yes, Nova no)."
    )


class ModelFacts(BaseModel):
    """One foundation model as the table declares it."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    model_id: str = Field(description="Bedrock's plain model id (no profile prefix).")
    kind: BotKind = Field(description="chat | image | video: which bot kind serves it.")
    name: str = Field(description="Suggested bot name.")
    description: str = Field(description="One line for listings.")
    input: tuple[Modality, ...] = Field(("text",), description="What a request may carry.")
    context_window: int | None = Field(None, ge=1, description="Input tokens; chat models.")
    max_output_tokens: int | None = Field(None, ge=1, description="Largest output; chat models.")
    system_messages: bool = Field(True, description="Accepts a system prompt.")
    reasoning: ReasoningMode = Field("none", description="Never, when asked, or always.")
    reasoning_controls: ReasoningControls = Field(
        ReasoningControls(),
        description="Thinking types and effort levels it takes, and where (chat models).",
    )
    tool_use: ToolUse = Field(
        "none", description="Takes toolConfig: in ConverseStream too, in Converse only, or not."
    )
    profile_only: bool = Field(False, description="On demand only via an inference profile.")
    prompt_caching: PromptCachingFacts | None = Field(
        None, description="Prompt-cache checkpoints it takes; None: none (chat models)."
    )
    forced_tool_choices: tuple[ForcedToolChoice, ...] = Field(
        (), description="Converse toolChoice beyond auto it takes: any, tool (chat models)."
    )
    count_tokens: bool = Field(False, description="Answers Bedrock CountTokens (chat models).")
    anthropic_betas: tuple[str, ...] = Field(
        (), description="additionalModelRequestFields.anthropic_beta values Bedrock takes for it."
    )
    guardrails: bool = Field(False, description="Takes a Converse guardrailConfig (chat models).")
    service_tiers: tuple[ServiceTier, ...] = Field(
        ("default",), description="Converse serviceTier types it takes (chat models)."
    )
    structured_output: bool = Field(
        False,
        description="Takes structured outputs: outputConfig.textFormat json_schema and strict "
        "tools (chat models).",
    )
    citations: bool = Field(
        False, description="Cites documents sent with citations enabled (chat models)."
    )
    image_family: ImageFamily | None = Field(None, description="Request body of image models.")
    video_family: VideoFamily | None = Field(None, description="Request body of video models.")
    prices: Mapping[str, Pricing] = Field(
        description="Region -> list prices (milli-cents); empty: not priced yet (unknown)."
    )
    prices_as_of: datetime.date | None = Field(
        None, description="When the prices were checked; absent: the table's as_of."
    )
    profile_ids: tuple[str, ...] = Field(
        (), description="System-defined inference profiles serving it (from Bedrock's listing)."
    )
    regions: tuple[str, ...] = Field(
        (), description="Regions whose Bedrock listing showed it (`fmgate models refresh`)."
    )

    @property
    def priced(self) -> bool:
        """Whether the table has prices for the model in at least one region."""
        return bool(self.prices)

    def prices_stale(self, today: datetime.date) -> bool:
        """Whether the model is priced and its prices were checked more than
        :data:`STALE_AFTER_DAYS` before ``today``."""
        checked = self.prices_as_of
        return self.priced and checked is not None and (today - checked).days > STALE_AFTER_DAYS

    @property
    def default_region(self) -> str:
        """The first region the table prices (where the bundled catalog serves the model),
        else the first region it was listed in."""
        return next(iter(self.prices), None) or next(iter(self.regions), FALLBACK_REGION)

    def invocation_id(self, region: str) -> str:
        """The id to call: the geographic profile id for profile-only models (the ``global.``
        one when Bedrock's listing shows only that)."""
        if not self.profile_only:
            return self.model_id
        geographic = f"{profile_prefix(region)}{self.model_id}"
        global_profile = f"global.{self.model_id}"
        listed = self.profile_ids
        if listed and geographic not in listed and global_profile in listed:
            return global_profile
        return geographic


class ModelTable(BaseModel):
    """The whole table: when it was checked, and the models."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    as_of: str = Field(description="Date the prices and limits were checked (YYYY-MM-DD).")
    models: tuple[ModelFacts, ...]

    @model_validator(mode="before")
    @classmethod
    def date_every_entrys_prices(cls, data: object) -> object:
        """An entry without ``prices_as_of`` has the table's date: every entry is dated, so a
        refreshed table (dated the day of the listing) keeps each entry's own price date."""
        if not isinstance(data, Mapping):
            return data
        as_of, models = data.get("as_of"), data.get("models")
        if not isinstance(as_of, str) or not isinstance(models, list | tuple):
            return data
        return {**data, "models": [with_prices_date(entry, as_of) for entry in models]}


def with_prices_date(entry: object, as_of: str) -> object:
    """``entry`` (a mapping from a file, or facts) with ``prices_as_of`` set to ``as_of`` when
    it has none."""
    if isinstance(entry, ModelFacts):
        if entry.prices_as_of is not None:
            return entry
        return entry.model_copy(update={"prices_as_of": parse_date(as_of)})
    if isinstance(entry, Mapping) and entry.get("prices_as_of") is None:
        return {**entry, "prices_as_of": as_of}
    return entry


def parse_date(text: str) -> datetime.date | str:
    """``text`` as a date, or unchanged (validation then says what is wrong with it)."""
    try:
        return datetime.date.fromisoformat(text)
    except ValueError:
        return text


class ModelTableError(Exception):
    """A model table file that cannot be read or is not a valid table; the message names it."""


class UnknownModel(LookupError):
    """A model id the table does not hold; ``suggestions`` are close matches."""

    def __init__(self, model_id: str, suggestions: tuple[str, ...] = ()) -> None:
        hint = f" (did you mean {', '.join(suggestions)}?)" if suggestions else ""
        super().__init__(f"unknown model id {model_id}{hint}")
        self.model_id = model_id
        self.suggestions = suggestions


#: Region area (``us``-east-1) -> geographic inference-profile prefix.
PROFILE_PREFIX_BY_AREA: Mapping[str, str] = {"us": "us.", "eu": "eu.", "ap": "apac."}


def profile_prefix(region: str) -> str:
    """The geographic inference-profile prefix for a region (``us.``, ``eu.``, ``apac.``)."""
    area = region.split("-", 1)[0]
    prefix = PROFILE_PREFIX_BY_AREA.get(area)
    if prefix is None:
        raise UnknownModel(f"an inference profile in {region}")
    return prefix


def plain_model_id(model_id: str) -> str:
    """``us.anthropic.claude...`` -> ``anthropic.claude...``; plain ids unchanged."""
    return foundation_model_id(model_id)


@cache
def bundled_table() -> ModelTable:
    """The table shipped with fmgate (parsed once)."""
    text = resources.files("fmgate.model_table").joinpath(TABLE_FILE).read_text(encoding="utf-8")
    return ModelTable.model_validate(yaml.safe_load(text))


def table_path(path: Path | None = None) -> Path | None:
    """The table file to read: ``path``; else the refreshed table when it exists; else
    ``None``, meaning the bundled table."""
    if path is not None:
        return path
    return REFRESHED_TABLE_PATH if REFRESHED_TABLE_PATH.is_file() else None


def load_table(path: Path | None = None) -> ModelTable:
    """The model table :func:`table_path` picks; :class:`ModelTableError` if it is invalid."""
    chosen = table_path(path)
    if chosen is None:
        return bundled_table()
    try:
        document = yaml.safe_load(chosen.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ModelTableError(
            f"cannot read the model table {chosen} ({exc.strerror or type(exc).__name__})"
        ) from None
    except yaml.YAMLError as exc:
        raise ModelTableError(f"the model table {chosen} is not valid YAML:\n{exc}") from None
    try:
        return ModelTable.model_validate(document)
    except ValidationError as exc:
        raise ModelTableError(f"the model table {chosen} is not a valid table:\n{exc}") from None


def find_model(model_id: str, table: ModelTable | None = None) -> ModelFacts:
    """The facts for ``model_id`` (plain or profile id); :class:`UnknownModel` otherwise."""
    table = table or bundled_table()
    by_id = {facts.model_id: facts for facts in table.models}
    facts = by_id.get(plain_model_id(model_id))
    if facts is not None:
        return facts
    close = difflib.get_close_matches(plain_model_id(model_id), list(by_id), n=3, cutoff=0.6)
    raise UnknownModel(model_id, tuple(close))


def prices_date_cell(facts: ModelFacts, today: datetime.date) -> str:
    """When the model's prices were checked, ``STALE`` after :data:`STALE_AFTER_DAYS`."""
    if not facts.priced or facts.prices_as_of is None:
        return "-"
    checked = facts.prices_as_of.isoformat()
    return f"{checked} STALE" if facts.prices_stale(today) else checked


def table_listing(table: ModelTable, today: datetime.date) -> str:
    """A plain-text table of the models: id, kind, suggested name, how called, when the prices
    were checked (``STALE`` when older than :data:`STALE_AFTER_DAYS` on ``today``), priced
    where."""
    rows = [("MODEL", "KIND", "NAME", "CALLED", "PRICES OF", "PRICED IN")]
    rows.extend(
        (
            facts.model_id,
            facts.kind,
            facts.name,
            "profile" if facts.profile_only else "on demand",
            prices_date_cell(facts, today),
            ", ".join(facts.prices) or "NOT PRICED",
        )
        for facts in table.models
    )
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return "\n".join(
        "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        for row in rows
    )
