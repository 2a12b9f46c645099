"""Catalog templates: named partial bot configs, each flattened along its ``extends`` chain.

A template is its base template's fields with its own on top (``deep_merge``), for chains of any
length. A template that names or inherits a ``kind`` may hold only that kind's fields: a chat
field in an image template is reported at that template. A cycle, an unknown base or a bad
``extends`` breaks the template (reported once, where it is written); bots naming a broken
template say so.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from typing import Any

from fmgate.config.catalog_yaml import line_of
from fmgate.config.errors import ProblemList
from fmgate.config.layers import deep_merge, fit_to_kind, partial_section

#: Keys a template may hold besides bot fields.
TEMPLATE_KEYS = ("extends",)

#: A flattened template; None when it cannot be used.
Resolved = dict[str, Any] | None


def resolve_templates(section: object, problems: ProblemList) -> dict[str, Resolved]:
    """Each template flattened along its ``extends`` chain; None for a template that is broken."""
    if section is None:
        return {}
    if not isinstance(section, dict):
        problems.add("templates", "", "must be a mapping of template name -> fields")
        return {}
    chain = TemplateChain(problems)
    for name, body in section.items():
        place = template_place(name)
        if body is not None and not isinstance(body, dict):
            problems.add(place, "", "must be a mapping of bot fields", line_of(section))
            continue
        fields = partial_section(body, place, problems, extra_keys=TEMPLATE_KEYS)
        chain.add(str(name), fields, line_of(body))
    resolved = {name: chain.resolve(name) for name in chain.names}
    for name in section:
        resolved.setdefault(str(name), None)
    return resolved


def template_place(name: object) -> str:
    return f'template "{name}"'


def unknown_template_message(name: str, known: Mapping[str, object]) -> str:
    close = difflib.get_close_matches(name, list(known), n=1)
    hint = f' (did you mean "{close[0]}"?)' if close else ""
    return f'unknown template "{name}"{hint}'


class TemplateChain:
    """The templates as written, flattened on demand (each once, base first)."""

    def __init__(self, problems: ProblemList) -> None:
        self._problems = problems
        self._written: dict[str, dict[str, Any]] = {}
        self._lines: dict[str, int | None] = {}
        self._resolved: dict[str, Resolved] = {}
        self._reported_cycles: set[frozenset[str]] = set()

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(self._written)

    def add(self, name: str, fields: dict[str, Any], line: int | None) -> None:
        self._written[name] = fields
        self._lines[name] = line

    def resolve(self, name: str, below: tuple[str, ...] = ()) -> Resolved:
        """Template ``name`` flattened; ``below`` are the templates extending it on this walk."""
        if name not in self._resolved:
            self._resolved[name] = self._flatten(name, below)
        return self._resolved[name]

    def _flatten(self, name: str, below: tuple[str, ...]) -> Resolved:
        written = self._written[name]
        base = self._base(name, written.get("extends"), below)
        if base is None:
            return None
        fields = {key: value for key, value in written.items() if key not in TEMPLATE_KEYS}
        merged = deep_merge(base, fields)
        kind = merged.get("kind")
        if kind is None:
            return merged
        return fit_to_kind(merged, kind, template_place(name), self._lines[name], self._problems)

    def _base(self, name: str, parent: object, below: tuple[str, ...]) -> Resolved:
        """What ``name`` builds on: its parent flattened, {} without one, None when broken."""
        if parent is None:
            return {}
        place, line = template_place(name), self._lines[name]
        if not isinstance(parent, str):
            self._problems.add(place, "extends", "must be the name of another template", line)
            return None
        if parent in (*below, name):
            self._report_cycle([*below, name], parent)
            return None
        if parent not in self._written:
            message = unknown_template_message(parent, self._written)
            self._problems.add(place, "extends", message, line)
            return None
        return self.resolve(parent, (*below, name))

    def _report_cycle(self, walk: list[str], parent: str) -> None:
        """``walk`` extends down to ``parent``'s child: report the loop once, at that child."""
        cycle = [*walk[walk.index(parent) :], parent]
        if frozenset(cycle) in self._reported_cycles:
            return
        self._reported_cycles.add(frozenset(cycle))
        child = walk[-1]
        message = f"template cycle: {' -> '.join(cycle)}"
        self._problems.add(template_place(child), "extends", message, self._lines[child])
