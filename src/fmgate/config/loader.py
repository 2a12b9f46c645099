"""Load a catalog file: YAML -> defaults <- template chain <- entry -> validated :class:`Catalog`.

A catalog has five top-level keys::

    version: 1                 # required
    gateway: {...}             # GatewaySettings (optional)
    defaults: {...}            # fields applied to every bot (optional)
    templates: {name: {...}}   # partial bot configs; a template may `extends: other` (optional)
    bots: [{...}, ...]         # one entry per bot; an entry may name `template: name`

Each bot is ``deep_merge(defaults, template chain from its base down, entry)``: mappings merge
key by key, lists and scalars are replaced. Every problem found is collected and reported
together in one :class:`CatalogError`, each naming the file, the bot (or template, ``defaults``,
``gateway``) and the field. Problems in ``defaults`` and templates are reported where they are
written (once), not once per bot that uses them. Values in the file are never echoed in
messages, so a secret pasted by mistake does not end up in a log.

Loading is synchronous: it happens once at start-up, before anything is served. There is no
environment-variable interpolation; secrets are written as references (see ``secrets.py``).
"""

from __future__ import annotations

import difflib
from collections import Counter
from collections.abc import Mapping
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, TypeAdapter, ValidationError

from fmgate.config.errors import (
    CatalogError,
    CatalogProblem,
    ProblemList,
    field_path,
    model_in_annotation,
    unknown_field_message,
)
from fmgate.config.schema import BotConfig, Catalog, GatewaySettings

__all__ = [
    "CatalogError",
    "deep_merge",
    "load_catalog",
    "parse_catalog",
    "validate_catalog_file",
]

SUPPORTED_VERSION = 1
SECTIONS = ("version", "gateway", "defaults", "templates", "bots")
BUNDLED_SOURCE = "fmgate/catalog.yaml"
#: Keys a template may hold besides BotConfig fields.
TEMPLATE_KEYS = ("extends",)
#: Keys a bot entry may hold besides BotConfig fields (removed before validation).
ENTRY_KEYS = ("template",)


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
    by_kind = ", ".join(f"{kind}: {kinds[kind]}" for kind in ("chat", "image", "video"))
    return True, f"{len(catalog.bots)} bots OK ({by_kind})"


def deep_merge(base: Mapping[str, Any], override: Mapping[str, Any]) -> dict[str, Any]:
    """``override`` on top of ``base``: mappings merge key by key, anything else is replaced."""
    merged = dict(base)
    for key, value in override.items():
        below = merged.get(key)
        if isinstance(below, Mapping) and isinstance(value, Mapping):
            merged[key] = deep_merge(below, value)
        else:
            merged[key] = value
    return merged


# --- YAML ----------------------------------------------------------------------------------


class LineDict(dict[Any, Any]):
    """A YAML mapping that remembers the (1-based) line it started on."""

    __slots__ = ("line",)

    def __init__(self, items: Mapping[Any, Any], line: int) -> None:
        super().__init__(items)
        self.line = line


def line_of(value: object) -> int | None:
    return value.line if isinstance(value, LineDict) else None


class CatalogYamlLoader(yaml.SafeLoader):
    """Safe YAML (no arbitrary objects) that records mapping lines and finds duplicate keys."""

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        #: (key, 1-based line) of every key written twice in the same mapping.
        self.duplicate_keys: list[tuple[str, int]] = []


def construct_line_dict(loader: CatalogYamlLoader, node: yaml.MappingNode) -> LineDict:
    seen: set[str] = set()
    for key_node, _ in node.value:
        if isinstance(key_node, yaml.ScalarNode) and key_node.tag != "tag:yaml.org,2002:merge":
            if key_node.value in seen:
                loader.duplicate_keys.append((key_node.value, key_node.start_mark.line + 1))
            seen.add(key_node.value)
    items = loader.construct_mapping(node, deep=True)
    return LineDict(items, node.start_mark.line + 1)


CatalogYamlLoader.add_constructor("tag:yaml.org,2002:map", construct_line_dict)


def read_yaml(text: str, problems: ProblemList) -> object:
    """The YAML document, or None after recording a syntax problem (with its line)."""
    loader = CatalogYamlLoader(text)
    try:
        document = loader.get_single_data()
    except yaml.MarkedYAMLError as exc:
        problems.add("", "", syntax_error_message(exc), line_of_mark(exc.problem_mark))
        return None
    except yaml.YAMLError as exc:
        problems.add("", "", f"YAML error: {type(exc).__name__}")
        return None
    finally:
        loader.dispose()
    for key, line in loader.duplicate_keys:
        problems.add("", "", f'key "{key}" is written twice in the same mapping', line)
    if document is None:
        problems.add("", "", "the catalog is empty")
    return document


def syntax_error_message(exc: yaml.MarkedYAMLError) -> str:
    """PyYAML's problem, column and context ("while parsing a mapping that starts on line 3")."""
    message = f"YAML syntax error: {exc.problem or 'invalid YAML'}"
    if exc.problem_mark is not None:
        message += f" (column {exc.problem_mark.column + 1})"
    if exc.context:
        message += f", {exc.context}"
        if exc.context_mark is not None:
            message += f" that starts on line {exc.context_mark.line + 1}"
    return message


def line_of_mark(mark: yaml.Mark | None) -> int | None:
    return mark.line + 1 if mark is not None else None


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


def partial_section(
    section: object, place: str, problems: ProblemList, extra_keys: tuple[str, ...] = ()
) -> dict[str, Any]:
    """A partial bot config (``defaults`` or a template), checked field by field.

    Unknown fields and bad values are reported here, at the place they are written, and left
    out of the result, so bots that use this section do not repeat the same problem.
    """
    if section is None:
        return {}
    if not isinstance(section, dict):
        problems.add(place, "", "must be a mapping of bot fields", line_of(section))
        return {}
    line = line_of(section)
    extras = {key: value for key, value in section.items() if key in extra_keys}
    fields = {key: value for key, value in section.items() if key not in extra_keys}
    if "bot_name" in fields:
        del fields["bot_name"]
        problems.add(place, "bot_name", "bot_name belongs in each bot entry, not here", line)
    return {**clean_fields(BotConfig, fields, (), place, line, problems), **extras}


def clean_fields(
    model: type[BaseModel],
    fields: Mapping[Any, Any],
    path: tuple[str, ...],
    place: str,
    line: int | None,
    problems: ProblemList,
) -> dict[str, Any]:
    """The fields of a partial ``model`` that are valid on their own; the rest are reported.

    Nested sections (``pricing``, ``image``...) are checked key by key, since a partial section
    may leave out fields that another layer provides.
    """
    kept: dict[str, Any] = {}
    for key, value in fields.items():
        field = (*path, str(key))
        info = model.model_fields.get(key) if isinstance(key, str) else None
        if info is None:
            problems.add(place, field_path(field), unknown_field_message(model, field[-1:]), line)
            continue
        nested = model_in_annotation(info.annotation)
        if nested is not None and isinstance(value, dict):
            inner_line = line_of(value) or line
            kept[key] = clean_fields(nested, value, field, place, inner_line, problems)
            continue
        try:
            field_adapter(model, key).validate_python(value)
        except ValidationError as exc:
            problems.add_validation_errors(exc, model, place, line, prefix=field)
            continue
        kept[key] = value
    return kept


@cache
def field_adapter(model: type[BaseModel], name: str) -> TypeAdapter[Any]:
    """Validates one field of ``model`` on its own (type, bounds, pattern, validators)."""
    info = model.model_fields[name]
    return TypeAdapter(info.rebuild_annotation())


# --- templates -----------------------------------------------------------------------------


def resolve_templates(section: object, problems: ProblemList) -> dict[str, dict[str, Any] | None]:
    """Each template flattened along its ``extends`` chain; None for a template that is broken."""
    if section is None:
        return {}
    if not isinstance(section, dict):
        problems.add("templates", "", "must be a mapping of template name -> fields")
        return {}
    raw: dict[str, dict[str, Any]] = {}
    lines: dict[str, int | None] = {}
    for name, body in section.items():
        place = f'template "{name}"'
        if body is not None and not isinstance(body, dict):
            problems.add(place, "", "must be a mapping of bot fields", line_of(section))
            continue
        raw[str(name)] = partial_section(body, place, problems, extra_keys=TEMPLATE_KEYS)
        lines[str(name)] = line_of(body)
    resolved: dict[str, dict[str, Any] | None] = {}
    reported_cycles: set[frozenset[str]] = set()
    for name in raw:
        resolved[name] = flatten_template(name, raw, lines, problems, reported_cycles)
    for name in section:
        resolved.setdefault(str(name), None)
    return resolved


def flatten_template(
    name: str,
    raw: Mapping[str, dict[str, Any]],
    lines: Mapping[str, int | None],
    problems: ProblemList,
    reported_cycles: set[frozenset[str]],
) -> dict[str, Any] | None:
    """One template's fields merged along its chain (base first); None if the chain is broken."""
    chain = [name]
    while (parent := raw[chain[-1]].get("extends")) is not None:
        child = chain[-1]
        place, line = f'template "{child}"', lines[child]
        if not isinstance(parent, str):
            problems.add(place, "extends", "must be the name of another template", line)
            return None
        if parent in chain:
            cycle = [*chain[chain.index(parent) :], parent]
            if frozenset(cycle) not in reported_cycles:
                reported_cycles.add(frozenset(cycle))
                problems.add(place, "extends", f"template cycle: {' -> '.join(cycle)}", line)
            return None
        if parent not in raw:
            problems.add(place, "extends", unknown_template_message(parent, raw), line)
            return None
        chain.append(parent)
    merged: dict[str, Any] = {}
    for member in reversed(chain):
        merged = deep_merge(merged, raw[member])
    return {key: value for key, value in merged.items() if key not in TEMPLATE_KEYS}


def unknown_template_message(name: str, known: Mapping[str, object]) -> str:
    close = difflib.get_close_matches(name, list(known), n=1)
    hint = f' (did you mean "{close[0]}"?)' if close else ""
    return f'unknown template "{name}"{hint}'


# --- bots ----------------------------------------------------------------------------------


def build_bots(
    section: object,
    defaults: Mapping[str, Any],
    templates: Mapping[str, dict[str, Any] | None],
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
        layers = template_layers(entry, templates, place, line, problems)
        if layers is None:
            continue
        fields = {key: value for key, value in entry.items() if key not in ENTRY_KEYS}
        merged = dict(defaults)
        for layer in (*layers, fields):
            merged = deep_merge(merged, layer)
        try:
            bots.append(BotConfig.model_validate(merged))
        except ValidationError as exc:
            problems.add_validation_errors(exc, BotConfig, place, line)
    return bots


def bot_place(entry: object, index: int) -> str:
    name = entry.get("bot_name") if isinstance(entry, dict) else None
    return f'bot "{name}" (bots[{index}])' if isinstance(name, str) else f"bots[{index}]"


def template_layers(
    entry: Mapping[str, Any],
    templates: Mapping[str, dict[str, Any] | None],
    place: str,
    line: int | None,
    problems: ProblemList,
) -> tuple[dict[str, Any], ...] | None:
    """The template fields this entry builds on; None when its template cannot be used."""
    name = entry.get("template")
    if name is None:
        return ()
    if not isinstance(name, str):
        problems.add(place, "template", "must be a template name", line)
        return None
    if name not in templates:
        problems.add(place, "template", unknown_template_message(name, templates), line)
        return None
    template = templates[name]
    if template is None:
        problems.add(place, "template", f'template "{name}" cannot be used (see its problem)', line)
        return None
    return (template,)
