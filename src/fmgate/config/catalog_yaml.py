"""Catalog YAML: safe loading that remembers where each mapping starts and finds repeated keys.

Problems are recorded in a :class:`~fmgate.config.errors.ProblemList` with their line, so every
message about a bot can point at the line its entry starts on.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import yaml

from fmgate.config.errors import ProblemList


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
