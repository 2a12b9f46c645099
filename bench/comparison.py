"""Each figure per path over the rounds (median and range), fmgate over direct, and how many
times better each fmgate front is than each peer (a ratio of medians)."""

from __future__ import annotations

from bench.figures import Better, Row, all_rows, headline_rows
from bench.report import FMGATE_PATHS, PATHS, PEERS, BenchReport, clean
from bench.rounds import Spread, paired_differences, spread


def values_of(report: BenchReport, name: str, row: Row) -> dict[int, float | None]:
    """Path ``name``'s figure for ``row`` per round (an ``added`` row: minus direct's, same
    round); empty when the path has no figures."""
    figures = report.figures(name)
    if figures is None:
        return {}
    values = row.values(figures)
    if not row.added:
        return values
    direct = report.figures("direct")
    return paired_differences(values, row.values(direct) if direct is not None else {})


def spread_of(report: BenchReport, name: str, row: Row) -> Spread | None:
    """Median and range of path ``name``'s figure over the rounds, or None."""
    return spread(values_of(report, name, row).values())


def median_of(report: BenchReport, name: str, row: Row) -> float | None:
    found = spread_of(report, name, row)
    return clean(found.median) if found is not None else None


def advantage(fmgate: float | None, other: float | None, better: Better) -> float | None:
    """How many times better fmgate is than ``other`` (> 1 = better); None when undefined."""
    if fmgate is None or other is None:
        return None
    if better == "higher":
        return clean(fmgate / other) if other > 0 else None
    return clean(other / fmgate) if fmgate > 0 and other >= 0 else None


def ratio(value: float | None, base: float | None) -> float | None:
    if value is None or base is None or base <= 0:
        return None
    return clean(value / base)


def advantages(report: BenchReport, front: str, row: Row) -> dict[str, float | None]:
    """fmgate ``front``'s advantage over each peer for ``row`` (medians)."""
    mine = median_of(report, front, row)
    return {peer: advantage(mine, median_of(report, peer, row), row.better) for peer in PEERS}


def advantage_key(front: str) -> str:
    """``fmgate`` -> ``fmgate_advantage``, ``fmgate-openai`` -> ``fmgate_openai_advantage``."""
    return f"{front.replace('-', '_')}_advantage"


def comparison(report: BenchReport) -> dict[str, dict[str, object]]:
    """Per figure: each path's median and range, fmgate/direct, each front's advantages."""
    table: dict[str, dict[str, object]] = {}
    for row in all_rows(report.plan):
        spreads = {name: spread_of(report, name, row) for name in PATHS}
        medians = {name: clean(s.median) if s else None for name, s in spreads.items()}
        over_direct = None if row.added else ratio(medians["fmgate"], medians["direct"])
        table[row.key] = {
            "label": row.label,
            "per_round": row.per_round is not None,
            "paths": {name: s.as_json() if s else None for name, s in spreads.items()},
            "fmgate_over_direct": over_direct,
            **{advantage_key(front): advantages(report, front, row) for front in FMGATE_PATHS},
        }
    return table


def headline_ratios(report: BenchReport) -> dict[str, dict[str, dict[str, float | None]]]:
    """fmgate front -> peer -> headline figure -> how many times better fmgate is."""
    rows = headline_rows(report.plan)
    return {
        front: {
            peer: {
                row.key: advantage(
                    median_of(report, front, row), median_of(report, peer, row), row.better
                )
                for row in rows
            }
            for peer in PEERS
        }
        for front in FMGATE_PATHS
    }
