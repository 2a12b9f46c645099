"""Load a catalog file: YAML -> defaults <- template chain <- entry -> validated :class:`Catalog`.

A catalog has five top-level keys::

    version: 1                 # required
    gateway: {...}             # GatewaySettings (optional)
    defaults: {...}            # fields applied to every bot (optional)
    templates: {name: {...}}   # partial bot configs; a template may `extends: other` (optional)
    bots: [{...}, ...]         # one entry per bot; an entry may name `template: name`

Each bot is ``deep_merge(defaults, template chain from its base down, entry)``: mappings merge
key by key, lists and scalars are replaced (see ``layers.py`` and ``templates.py``). The bot's
``kind`` (chat when no layer names one) picks its class (:class:`ChatBotConfig`,
:class:`ImageBotConfig` or :class:`VideoBotConfig`) and so which fields it may have; defaults
reach only the bots whose kind has the field.

Every problem found is collected and reported together in one :class:`CatalogError`, each
naming the file, the bot (or template, ``defaults``, ``gateway``) and the field. Problems in
``defaults`` and templates are reported where they are written (once), not once per bot that
uses them. Values in the file are never echoed in messages, so a secret pasted by mistake does
not end up in a log.

Loading is synchronous: it happens once at start-up, before anything is served. There is no
environment-variable interpolation; secrets are written as references (see ``secrets.py``).
"""

from __future__ import annotations

import difflib
from collections import Counter
from collections.abc import Mapping
from importlib import resources
from pathlib import Path
from typing import Any

from pydantic import TypeAdapter, ValidationError

from fmgate.config.bot_config import (
    BOT_CONFIG_TYPES,
    DEFAULT_KIND,
    BotConfig,
    BotConfigBase,
    BotKind,
)
from fmgate.config.catalog import Catalog
from fmgate.config.catalog_yaml import line_of, read_yaml
from fmgate.config.errors import CatalogError, CatalogProblem, ProblemList
from fmgate.config.gateway_settings import GatewaySettings
from fmgate.config.layers import deep_merge, fields_for_kind, fit_to_kind, partial_section
from fmgate.config.templates import Resolved, resolve_templates, unknown_template_message

__all__ = [
    "CatalogError",
    "load_catalog",
    "parse_catalog",
    "validate_catalog_file",
]

SUPPORTED_VERSION = 1
SECTIONS = ("version", "gateway", "defaults", "templates", "bots")
BUNDLED_SOURCE = "fmgate/catalog.yaml"
#: Keys a bot entry may hold besides bot fields (removed before validation).
ENTRY_KEYS = ("template",)
#: Checks the kind an entry ends up with (its own, its template's or the defaults').
KIND: TypeAdapter[BotKind] = TypeAdapter(BotKind)


def load_catalog(path: Path | None = None) -> Catalog:
    """Load and validate a catalog file; ``None`` loads the catalog bundled with fmgate."""
    if path is None:
        bundled = resources.files("fmgate").joinpath("catalog.yaml")
        return parse_catalog(bundled.read_text(encoding="utf-8"), BUNDLED_SOURCE)
    source = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise CatalogError([CatalogProblem(source, "", "", "the file is not UTF-8 text")]) from None
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        raise CatalogError(
            [CatalogProblem(source, "", "", f"cannot read the file: {reason}")]
        ) from None
    return parse_catalog(text, source)


def parse_catalog(text: str, source: str) -> Catalog:
    """Parse and validate catalog YAML; ``source`` names the file in error messages."""
    problems = ProblemList(source)
    document = read_yaml(text, problems)
    if not isinstance(document, dict):
        if not problems:
            problems.add(
                "", "", "the catalog must be a mapping with version, defaults, templates, bots"
            )
        raise CatalogError(problems.items)
    check_sections(document, problems)
    gateway = build_gateway(document.get("gateway"), problems)
    defaults = partial_section(document.get("defaults"), "defaults", problems)
    templates = resolve_templates(document.get("templates"), problems)
    bots = build_bots(document.get("bots"), defaults, templates, problems)
    if problems or gateway is None:
        raise CatalogError(problems.items)
    try:
        return Catalog(gateway=gateway, bots=tuple(bots))
    except ValidationError as exc:  # only whole-catalog rules remain here
        problems.add_validation_errors(exc, Catalog, "", None)
        raise CatalogError(problems.items) from None


def validate_catalog_file(path: Path) -> tuple[bool, str]:
    """For ``fmgate validate``: (ok, a human report of the bots or of every problem)."""
    try:
        catalog = load_catalog(path)
    except CatalogError as exc:
        count = len(exc.problems)
        header = f"{path}: {count} problem{'s' if count != 1 else ''}"
        return False, f"{header}\n{exc}"
    kinds = Counter(bot.kind for bot in catalog.bots)
    by_kind = ", ".join(f"{kind}: {kinds[kind]}" for kind in BOT_CONFIG_TYPES)
    return True, f"{len(catalog.bots)} bots OK ({by_kind})"


# --- sections ------------------------------------------------------------------------------


def check_sections(document: Mapping[str, Any], problems: ProblemList) -> None:
    for key in document:
        if key not in SECTIONS:
            close = difflib.get_close_matches(str(key), SECTIONS, n=1)
            hint = f' (did you mean "{close[0]}"?)' if close else ""
            problems.add("", str(key), f"unknown section{hint}; sections are {', '.join(SECTIONS)}")
    if "version" not in document:
        problems.add("", "version", f"required: write `version: {SUPPORTED_VERSION}` at the top")
    elif document["version"] != SUPPORTED_VERSION:
        problems.add("", "version", f"unsupported version (this fmgate reads {SUPPORTED_VERSION})")


def build_gateway(section: object, problems: ProblemList) -> GatewaySettings | None:
    if section is None:
        return GatewaySettings()
    try:
        return GatewaySettings.model_validate(section)
    except ValidationError as exc:
        problems.add_validation_errors(exc, GatewaySettings, "gateway", line_of(section))
        return None


# --- bots ----------------------------------------------------------------------------------


def build_bots(
    section: object,
    defaults: Mapping[str, Any],
    templates: Mapping[str, Resolved],
    problems: ProblemList,
) -> list[BotConfig]:
    if not isinstance(section, list) or not section:
        problems.add("", "bots", "required: a list with at least one bot entry")
        return []
    bots: list[BotConfig] = []
    first_index: dict[str, int] = {}
    for index, entry in enumerate(section):
        place = bot_place(entry, index)
        line = line_of(entry)
        if not isinstance(entry, dict):
            problems.add(place, "", "a bot entry must be a mapping of fields", line)
            continue
        name = entry.get("bot_name")
        if isinstance(name, str):
            if name in first_index:
                earlier = first_index[name]
                problems.add(place, "bot_name", f"duplicate: bots[{earlier}] has this name", line)
            else:
                first_index[name] = index
        bot = build_bot(entry, defaults, templates, place, line, problems)
        if bot is not None:
            bots.append(bot)
    return bots


def build_bot(
    entry: Mapping[str, Any],
    defaults: Mapping[str, Any],
    templates: Mapping[str, Resolved],
    place: str,
    line: int | None,
    problems: ProblemList,
) -> BotConfig | None:
    """One entry on its template and the defaults, validated as its kind's config."""
    template = template_of(entry, templates, place, line, problems)
    if template is None:
        return None
    fields = {key: value for key, value in entry.items() if key not in ENTRY_KEYS}
    written = deep_merge(template, fields)
    kind = entry_kind(written, defaults, place, line, problems)
    if kind is None:
        return None
    merged = deep_merge(
        fields_for_kind(defaults, kind), fit_to_kind(written, kind, place, line, problems)
    )
    model = BOT_CONFIG_TYPES[kind]
    try:
        return model.model_validate(merged)
    except ValidationError as exc:
        problems.add_validation_errors(exc, model, place, line)
        return None


def bot_place(entry: object, index: int) -> str:
    name = entry.get("bot_name") if isinstance(entry, dict) else None
    return f'bot "{name}" (bots[{index}])' if isinstance(name, str) else f"bots[{index}]"


def entry_kind(
    written: Mapping[str, Any],
    defaults: Mapping[str, Any],
    place: str,
    line: int | None,
    problems: ProblemList,
) -> BotKind | None:
    """The entry's kind (its own, its template's, the defaults', else chat); None if invalid."""
    try:
        return KIND.validate_python(written.get("kind", defaults.get("kind", DEFAULT_KIND)))
    except ValidationError as exc:
        problems.add_validation_errors(exc, BotConfigBase, place, line, prefix=("kind",))
        return None


def template_of(
    entry: Mapping[str, Any],
    templates: Mapping[str, Resolved],
    place: str,
    line: int | None,
    problems: ProblemList,
) -> dict[str, Any] | None:
    """The template fields this entry builds on ({} without one); None when it cannot be used."""
    name = entry.get("template")
    if name is None:
        return {}
    if not isinstance(name, str):
        problems.add(place, "template", "must be a template name", line)
        return None
    if name not in templates:
        problems.add(place, "template", unknown_template_message(name, templates), line)
        return None
    template = templates[name]
    if template is None:
        problems.add(place, "template", f'template "{name}" cannot be used (see its problem)', line)
    return template
