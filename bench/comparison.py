"""Each figure's value per path, fmgate over direct, and fmgate's advantage over LiteLLM."""

from __future__ import annotations

from bench.figures import Better, Row, all_rows
from bench.report import PATHS, BenchReport, clean


def value_of(report: BenchReport, name: str, row: Row) -> float | None:
    """Path ``name``'s figure for ``row`` (an ``added`` row: minus direct's), or None."""
    figures = report.figures(name)
    if figures is None:
        return None
    value = clean(row.get(figures))
    if not row.added or value is None:
        return value
    direct = report.figures("direct")
    base = clean(row.get(direct)) if direct is not None else None
    return clean(value - base) if base is not None else None


def advantage(fmgate: float | None, other: float | None, better: Better) -> float | None:
    """How many times better fmgate is than ``other`` (> 1 = better); None when undefined."""
    if fmgate is None or other is None:
        return None
    if better == "higher":
        return clean(fmgate / other) if other > 0 else None
    return clean(other / fmgate) if fmgate > 0 else None


def ratio(value: float | None, base: float | None) -> float | None:
    if value is None or base is None or base <= 0:
        return None
    return clean(value / base)


def comparison(report: BenchReport) -> dict[str, dict[str, float | None]]:
    """Per figure: each path's value, fmgate/direct, and fmgate's advantage vs LiteLLM."""
    table: dict[str, dict[str, float | None]] = {}
    for row in all_rows(report.plan):
        values = {name: value_of(report, name, row) for name in PATHS}
        entry: dict[str, float | None] = dict(values)
        entry["fmgate_over_direct"] = (
            None if row.added else ratio(values["fmgate"], values["direct"])
        )
        entry["fmgate_advantage_vs_litellm"] = advantage(
            values["fmgate"], values["litellm"], row.better
        )
        table[row.key] = entry
    return table
