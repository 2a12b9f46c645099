"""Errors raised while loading configuration and resolving secret references.

    CatalogError          the catalog file cannot be used (start-up stops); lists every problem
    SecretError           a secret reference cannot be resolved (an operator error)

A :class:`CatalogError` carries one :class:`CatalogProblem` per mistake found, each naming the
file, the place (bot, template, ``defaults`` or ``gateway``) and the field path, so an operator
can fix them all in one pass. :class:`ProblemList` collects them and turns pydantic validation
errors into plain words, by error *type* (never by matching message text), without echoing
the offending value. A :class:`SecretError` names the *reference* (``env:NAME``), never
the secret's value.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import get_args, get_origin

from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

from fmgate.config.fields import FieldConflict
from fmgate.core.errors import BotMisconfigured


@dataclass(frozen=True, slots=True)
class CatalogProblem:
    """One mistake in a catalog file."""

    #: The file (or other source name) the catalog came from.
    source: str
    #: Where in the file: ``bot "nova-pro" (bots[3])``, ``template "chat"``, ``gateway``, ...
    place: str
    #: Dotted field path inside ``place`` (``pricing.input_token``); empty for the place itself.
    field: str
    message: str
    #: 1-based line of the offending entry in the file, when known.
    line: int | None = None

    def __str__(self) -> str:
        where = self.source if self.line is None else f"{self.source}:{self.line}"
        parts = [where]
        if self.place:
            parts.append(self.place)
        if self.field:
            parts.append(f'field "{self.field}"')
        parts.append(self.message)
        return ": ".join(parts)


class CatalogError(Exception):
    """A catalog cannot be loaded; ``problems`` lists every mistake found (at least one)."""

    def __init__(self, problems: Iterable[CatalogProblem]) -> None:
        self.problems = tuple(problems)
        if not self.problems:
            raise ValueError("CatalogError needs at least one problem")
        super().__init__("\n".join(str(problem) for problem in self.problems))


class SecretError(BotMisconfigured):
    """A secret reference could not be resolved. The message names the reference, not the value."""

    code = "secret_unavailable"

    def __init__(self, reference: str, reason: str) -> None:
        super().__init__(f"secret {reference}: {reason}")
        self.reference = reference
        self.reason = reason


#: Friendlier words for pattern mismatches on fields whose pattern is not self-explanatory.
PATTERN_HINTS: Mapping[str, str] = {
    "access_key": "not a secret reference: write env:NAME, file:/path or "
    "aws-secretsmanager:SECRET_ID#json_key (never the key itself)",
    "bot_name": "a bot name is 1-64 letters, digits, '_', '.' or '-', starting with a letter "
    "or digit",
    "custom_class": "write python:package.module:ClassName",
    "aws_region": "not an AWS region name (like us-east-1)",
    "output_s3_uri": "write s3://bucket/prefix (a valid S3 bucket name)",
    "dimension": "write WIDTHxHEIGHT, like 1280x720",
    "aspect_ratio": "write W:H, like 16:9",
}

#: Plain words for required fields whose absence needs explaining (keyed by field path).
MISSING_HINTS: Mapping[str, str] = {
    "image": "an image bot needs an `image` section (with its `family`)",
    "video": "a video bot needs a `video` section (with its `family` and `output_s3_uri`)",
}


class ProblemList:
    """The problems found so far in one source, in the order found."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.items: list[CatalogProblem] = []

    def __bool__(self) -> bool:
        return bool(self.items)

    def add(self, place: str, field: str, message: str, line: int | None = None) -> None:
        self.items.append(CatalogProblem(self.source, place, field, message, line))

    def add_validation_errors(
        self,
        exc: ValidationError,
        model: type[BaseModel],
        place: str,
        line: int | None,
        prefix: tuple[str | int, ...] = (),
    ) -> None:
        for error in exc.errors(include_url=False, include_input=False):
            field, message = describe_error(error, model, prefix)
            self.add(place, field, message, line)


def describe_error(
    error: ErrorDetails, model: type[BaseModel], prefix: tuple[str | int, ...] = ()
) -> tuple[str, str]:
    """A pydantic error as (field path, message); decided by error type, never by its text."""
    loc = (*prefix, *error["loc"])
    kind = error["type"]
    if kind == "extra_forbidden":
        return field_path(loc), unknown_field_message(model, loc)
    if kind == "missing":
        path = field_path(loc)
        return path, MISSING_HINTS.get(path, "required field is missing")
    if kind == "string_pattern_mismatch" and loc and loc[-1] in PATTERN_HINTS:
        return field_path(loc), PATTERN_HINTS[str(loc[-1])]
    cause = error.get("ctx", {}).get("error")
    if isinstance(cause, FieldConflict):
        return field_path((*loc, cause.field)), str(cause)
    if isinstance(cause, ValueError):
        return field_path(loc), str(cause)
    return field_path(loc), error["msg"]


def field_path(loc: tuple[str | int, ...]) -> str:
    """('pricing', 'input_token') -> 'pricing.input_token'; ('stop_sequences', 0) -> '...[0]'."""
    path = ""
    for part in loc:
        if isinstance(part, int):
            path += f"[{part}]"
        else:
            path += f".{part}" if path else part
    return path


def unknown_field_message(model: type[BaseModel], loc: tuple[str | int, ...]) -> str:
    owner = nested_model(model, loc[:-1])
    if owner is None or not loc or not isinstance(loc[-1], str):
        return "unknown field"
    return unknown_name_message(loc[-1], owner.model_fields)


def unknown_name_message(name: str, known: Iterable[str]) -> str:
    """The message for an unknown field: the closest ``known`` name is suggested, if any."""
    close = difflib.get_close_matches(name, list(known), n=1)
    return f'unknown field (did you mean "{close[0]}"?)' if close else "unknown field"


def nested_model(model: type[BaseModel], path: tuple[str | int, ...]) -> type[BaseModel] | None:
    """The pydantic model a field path leads to (``image`` -> ImageDefaults), if any."""
    current = model
    for part in path:
        info = current.model_fields.get(part) if isinstance(part, str) else None
        if info is None:
            return None
        found = model_in_annotation(info.annotation)
        if found is None:
            return None
        current = found
    return current


def model_in_annotation(annotation: object) -> type[BaseModel] | None:
    """The section model a field holds (``ImageDefaults``, ``PromptCaching | None``); a mapping
    of sections (``pricing.service_tiers``) is no section: its keys are not fields."""
    if get_origin(annotation) in (dict, Mapping):
        return None
    for candidate in (annotation, *get_args(annotation)):
        if isinstance(candidate, type) and issubclass(candidate, BaseModel):
            return candidate
    return None
