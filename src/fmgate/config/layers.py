"""The layers a bot is built from, each checked where it is written, and how they combine.

::

    defaults  <-  template chain (the base template first)  <-  the entry

``defaults`` and templates are *partial* bot configs: every field is checked on its own (is it
a field of some bot kind, is its value valid), and a bad one is reported at the place it is
written and left out, so the bots that use that place do not repeat the problem.

A field belongs to the bot kinds that have it (:mod:`fmgate.config.bot_config`). ``defaults``
apply to every bot *whose kind has the field* (a ``max_tokens`` default does not reach image
bots); a template or entry that names (or inherits) a kind may hold only that kind's fields.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache
from typing import Any

from pydantic import BaseModel, TypeAdapter, ValidationError

from fmgate.config.bot_config import BOT_CONFIG_TYPES, BotConfigBase, BotKind
from fmgate.config.catalog_yaml import line_of
from fmgate.config.errors import (
    ProblemList,
    field_path,
    model_in_annotation,
    unknown_field_message,
    unknown_name_message,
)

#: Where each bot field is defined: the common base first, then every kind's class.
BOT_MODELS: tuple[type[BotConfigBase], ...] = (BotConfigBase, *BOT_CONFIG_TYPES.values())


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


def kinds_with_field(name: str) -> tuple[BotKind, ...]:
    """The bot kinds that have the field ``name`` (none for a field no bot has)."""
    return tuple(kind for kind, model in BOT_CONFIG_TYPES.items() if name in model.model_fields)


def wrong_kind_message(name: str, kind: BotKind) -> str:
    owners = " and ".join(kinds_with_field(name))
    return f"not valid for {kind} bots: only {owners} bots have this field"


def partial_section(
    section: object, place: str, problems: ProblemList, extra_keys: tuple[str, ...] = ()
) -> dict[str, Any]:
    """A partial bot config (``defaults`` or a template), checked field by field.

    Unknown fields and bad values are reported here, at the place they are written, and left
    out of the result. Which kind the fields are for is not known yet: a field of any kind is
    accepted (see :func:`fit_to_kind`). ``extra_keys`` are kept as written (``extends``).
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
    kept: dict[str, Any] = {}
    for key, value in fields.items():
        model = next((m for m in BOT_MODELS if key in m.model_fields), None)
        if model is None:
            known = {name for m in BOT_MODELS for name in m.model_fields}
            problems.add(place, str(key), unknown_name_message(str(key), known), line)
            continue
        kept |= clean_fields(model, {key: value}, (), place, line, problems)
    return {**kept, **extras}


def fields_for_kind(fields: Mapping[str, Any], kind: BotKind) -> dict[str, Any]:
    """``fields`` without those that only other bot kinds have (how ``defaults`` apply).

    Names that are no bot's field are kept: validation reports them as unknown."""
    own = BOT_CONFIG_TYPES[kind].model_fields
    return {key: value for key, value in fields.items() if key in own or not kinds_with_field(key)}


def fit_to_kind(
    fields: Mapping[str, Any], kind: BotKind, place: str, line: int | None, problems: ProblemList
) -> dict[str, Any]:
    """:func:`fields_for_kind`, reporting each field left out as not valid for ``kind``."""
    kept = fields_for_kind(fields, kind)
    for key in fields:
        if key not in kept:
            problems.add(place, key, wrong_kind_message(key, kind), line)
    return kept


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
