"""``fmgate models add``: append a validated bot entry for a Bedrock model to a catalog file.

The entry's capabilities (prompt caching, forced tool choices, CountTokens, Anthropic betas,
structured outputs, reasoning controls included) and prices come from the bundled model table
(see ``model_table.py``);
profile-only models get the geographic inference-profile id (``us.<id>``). The file's existing
text is kept as written (comments, templates, anchors): the entry is appended to the ``bots``
list as text, the whole result is validated exactly as ``fmgate serve`` would, and only a valid
result replaces the file (atomically, through a temporary file in the same folder). A running
gateway that follows the file (``fmgate serve --config``) then serves the new bot without a
restart.

A model that ``fmgate models refresh`` added from Bedrock's listing has no prices yet, nor has a
bundled entry whose price could not be confirmed; it is refused (never written at price 0)
until its prices are written into the model table file.
"""

from __future__ import annotations

import os
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path

import yaml

from fmgate.config.bot_config import BotConfig, BotKind
from fmgate.config.catalog import Catalog
from fmgate.config.errors import CatalogError
from fmgate.config.loader import parse_catalog
from fmgate.config.reasoning import ReasoningControls
from fmgate.model_table.table import ModelFacts, ModelTable, bundled_table, find_model

#: Output cap a new chat bot starts with (reasoning models need room for their thinking).
DEFAULT_MAX_TOKENS = 2048
DEFAULT_REASONING_MAX_TOKENS = 4096
NEW_CATALOG = "version: 1\nbots:\n"
BOT_ITEM = re.compile(r"^( *)- ", re.MULTILINE)
BOTS_KEY = re.compile(r"^bots:[ \t]*(#.*)?$", re.MULTILINE)


class AddModelError(Exception):
    """The model cannot be added; the message says why and what to do."""


@dataclass(frozen=True, slots=True)
class AddedBot:
    """What was written."""

    config: BotConfig
    #: The YAML text appended to the file.
    entry_text: str
    #: Date of the model table the capabilities and prices came from.
    table_date: str


def add_model(
    path: Path,
    model_id: str,
    *,
    kind: BotKind | None = None,
    name: str | None = None,
    region: str | None = None,
    output_s3_uri: str | None = None,
    table: ModelTable | None = None,
) -> AddedBot:
    """Append a bot for ``model_id`` to the catalog at ``path`` (created when missing)."""
    table = table or bundled_table()
    facts = find_model(model_id, table)
    if kind is not None and kind != facts.kind:
        raise AddModelError(f"{facts.model_id} is a {facts.kind} model, not {kind}")
    current: Catalog | None = None
    text = NEW_CATALOG
    if path.exists():
        text = path.read_text(encoding="utf-8")
        try:
            current = parse_catalog(text, str(path))
        except CatalogError as exc:
            raise AddModelError(f"fix the catalog first:\n{exc}") from None
    region = region or facts.default_region
    entry = catalog_entry(facts, region=region, output_s3_uri=output_s3_uri)
    bot_name = name or facts.name
    refuse_duplicates(current, bot_name, entry["model_id"], region, named=name is not None)
    entry_text = entry_yaml(bot_name, entry, facts, table.as_of, item_indent(text))
    updated = append_entry(text, entry_text)
    try:
        catalog = parse_catalog(updated, str(path))
    except CatalogError as exc:
        raise AddModelError(
            f"the catalog would not be valid with the new entry, so it was left unchanged:\n{exc}"
        ) from None
    added = catalog.bots[-1]
    if added.bot_name != bot_name or len(catalog.bots) != len(current.bots if current else ()) + 1:
        raise AddModelError(
            f"{path}: the bots list is not the file's last section, so the entry cannot be "
            f"appended; add it to the bots list by hand:\n{entry_text}"
        )
    replace_file(path, updated)
    return AddedBot(config=added, entry_text=entry_text, table_date=table.as_of)


def catalog_entry(
    facts: ModelFacts, *, region: str, output_s3_uri: str | None = None
) -> dict[str, object]:
    """The bot's fields (everything but its name), from the table's facts for ``region``."""
    if not facts.priced:
        raise AddModelError(
            f"{facts.model_id} has no prices in the model table (Bedrock's listing added it, or "
            "its price could not be confirmed: fmgate does not know what it costs). Write its "
            "list prices for "
            f"{region} into the model's entry in the table file (prices: {{{region}: "
            "{input_token: ..., output_token: ...}}, in milli-cents), then add it again"
        )
    family = facts.image_family if facts.kind == "image" else facts.video_family
    if facts.kind != "chat" and family is None:
        raise AddModelError(
            f"{facts.model_id} is a {facts.kind} model whose request body family the model "
            f"table does not declare: set {facts.kind}_family in its entry, then add it again"
        )
    pricing = facts.prices.get(region)
    if pricing is None:
        known = ", ".join(facts.prices)
        raise AddModelError(
            f"the model table has no prices for {facts.model_id} in {region} (it has: {known})"
        )
    entry: dict[str, object] = {
        "kind": facts.kind,
        "model_id": facts.invocation_id(region),
        "aws_region": region,
        "description": facts.description,
    }
    prices: dict[str, object] = {
        key: whole_or_fraction(value)
        for key, value in pricing.model_dump(exclude_defaults=True).items()
    }
    if facts.kind == "chat":
        entry.update(chat_fields(facts))
    elif facts.kind == "image":
        entry["allow_attachments"] = False
        entry["image"] = {"family": facts.image_family}
    else:
        if output_s3_uri is None:
            raise AddModelError(
                f"{facts.model_id} is a video model: name the S3 location Bedrock writes the "
                "videos to with --output-s3-uri s3://bucket/prefix"
            )
        entry["allow_attachments"] = False
        entry["video"] = {"family": facts.video_family, "output_s3_uri": output_s3_uri}
        prices["authorize"] = True  # videos are expensive: authorize the cost before generating
    entry["pricing"] = prices
    return entry


def whole_or_fraction(value: object) -> object:
    """8000.0 -> 8000 (as a person would write it); other values unchanged."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def chat_fields(facts: ModelFacts) -> dict[str, object]:
    """Capabilities of a chat bot, as the table declares them."""
    vision = "image" in facts.input
    limit = facts.max_output_tokens or DEFAULT_MAX_TOKENS
    wanted = DEFAULT_REASONING_MAX_TOKENS if facts.reasoning == "always" else DEFAULT_MAX_TOKENS
    fields: dict[str, object] = {
        "supports_images": vision,
        "supports_documents": "document" in facts.input,
        # Poe describes images for models that cannot read them.
        "enable_image_comprehension": not vision,
        "max_tokens": min(wanted, limit),
        "max_tokens_limit": limit,
    }
    if not facts.system_messages:
        fields["supports_system_messages"] = False
    if facts.tool_use != "streaming":
        fields["tool_use"] = facts.tool_use
    caching = facts.prompt_caching
    if caching is not None:
        # The model's own figures; `mode: off` turns the checkpoints off, `ttl` picks 5m or 1h.
        section: dict[str, object] = {"mode": "auto", "min_tokens": caching.min_tokens}
        if caching.ttls != ("5m",):
            section["ttls"] = list(caching.ttls)
        section["tools"] = caching.tools
        fields["prompt_caching"] = section
    if facts.forced_tool_choices:
        fields["forced_tool_choices"] = list(facts.forced_tool_choices)
    if facts.count_tokens:
        fields["count_tokens"] = True
    if facts.anthropic_betas:
        fields["anthropic_betas"] = list(facts.anthropic_betas)
    controls = facts.reasoning_controls
    if controls != ReasoningControls():
        # The model's thinking types and efforts: enable_reasoning, thinking_mode and
        # reasoning_effort choose among them.
        fields["reasoning_controls"] = controls.model_dump(mode="json", exclude_defaults=True)
    if facts.structured_output:
        fields["structured_output"] = True
    return fields


def refuse_duplicates(
    current: Catalog | None, bot_name: str, model_id: object, region: str, *, named: bool
) -> None:
    if current is None:
        return
    for bot in current.bots:
        if bot.bot_name == bot_name:
            raise AddModelError(f"the catalog already has a bot named {bot_name}; pick --name")
        if not named and bot.model_id == model_id and bot.aws_region == region:
            raise AddModelError(
                f"bot {bot.bot_name} already serves {model_id} in {region}; pass --name to "
                "add another bot for the same model"
            )


def item_indent(text: str) -> str:
    """The indentation of the file's ``bots`` list items (two spaces when there are none)."""
    key = BOTS_KEY.search(text)
    if key is not None:
        item = BOT_ITEM.search(text, key.end())
        if item is not None:
            return item.group(1)
    return "  "


def entry_yaml(
    bot_name: str, entry: dict[str, object], facts: ModelFacts, as_of: str, indent: str
) -> str:
    """The entry as a YAML list item, with a comment naming where its values came from."""
    body = yaml.safe_dump(
        [{"bot_name": bot_name, **entry}], sort_keys=False, default_flow_style=None, width=100
    )
    context = f" ({facts.context_window:,}-token context)" if facts.context_window else ""
    checked = facts.prices_as_of.isoformat() if facts.prices_as_of else as_of
    lines = [
        f"# {bot_name}: from fmgate's model table of {as_of}{context}; prices of {checked}, "
        "check them."
    ]
    lines.extend(body.splitlines())
    return "".join(f"{indent}{line}\n" for line in lines)


def append_entry(text: str, entry_text: str) -> str:
    if not text.endswith("\n"):
        text += "\n"
    return f"{text}\n{entry_text}"


def replace_file(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` atomically, keeping the file's permission bits."""
    path.parent.mkdir(parents=True, exist_ok=True)
    mode = path.stat().st_mode & 0o777 if path.exists() else 0o644
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(temporary, mode)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
