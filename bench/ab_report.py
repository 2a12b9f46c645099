"""What ``python -m bench.ab`` measured, and how it is reported: the figures per front and side
(median and range over the rounds), B/A as the ratio of the medians and as each round's own
ratio (median and range), the streams that failed, a small table and the JSON.

Pure: no processes, no clock. ``bench.ab`` fills an :class:`AbReport`; everything here reads it.
"""

from __future__ import annotations

import json
import math
import string
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from bench.health import PhaseFailure
from bench.report import clean
from bench.report_json import phase_json
from bench.report_table import fmt, fmt_ratio, fmt_spread
from bench.rounds import Spread, spread
from bench.stats import PhaseFigures

SCHEMA_VERSION = 1
SIDES = ("A", "B")
#: The fronts an A/B drives: Poe's ``POST /bot/<name>`` and ``POST /v1/chat/completions``.
FRONTS = ("poe", "openai")
FRONT_LABELS = {"poe": "Poe", "openai": "/v1/chat/completions"}


@dataclass(frozen=True, slots=True)
class AbPlan:
    """How much load each visit applies; the emulator's timing (zero latency, or realistic)."""

    rounds: int = 5
    #: Streams per level (at least the level's concurrency), and each level's time bound.
    requests_per_level: int = 1000
    seconds_per_level: float = 10.0
    levels: tuple[int, ...] = (1, 64)
    warmup_requests: int = 50
    max_tokens: int = 32
    fronts: tuple[str, ...] = FRONTS
    #: The realistic emulator (300 ms to the first token, 75 tokens/s) instead of zero latency.
    realistic: bool = False

    @property
    def ttft_ms(self) -> float:
        return 300.0 if self.realistic else 0.0

    @property
    def tokens_per_second(self) -> float:
        return 75.0 if self.realistic else 0.0  # 0 = as fast as possible

    @property
    def ramp_seconds(self) -> float:
        """Workers' starts spread over one stream's duration (realistic timing only)."""
        if not self.realistic:
            return 0.0
        return self.ttft_ms / 1000 + self.max_tokens / self.tokens_per_second

    def as_json(self) -> dict[str, object]:
        return {
            "rounds": self.rounds,
            "requests_per_level": self.requests_per_level,
            "seconds_per_level": self.seconds_per_level,
            "levels": list(self.levels),
            "warmup_requests": self.warmup_requests,
            "max_tokens": self.max_tokens,
            "fronts": list(self.fronts),
            "emulator": {
                "profile": "realistic" if self.realistic else "zero-latency",
                "ttft_ms": self.ttft_ms,
                "tokens_per_second": self.tokens_per_second or None,
            },
        }


@dataclass(frozen=True, slots=True)
class SideInfo:
    """One side: A (a commit, checked out apart) or B (the working tree, maybe with changes)."""

    label: str
    ref: str
    commit: str
    changes: bool = False

    def describe(self) -> str:
        """``HEAD~1 (1d63af3)``; ``working tree (1d63af3 + changes)``; a hash as ``1d63af3``."""
        extra = " + changes" if self.changes else ""
        is_hash = len(self.ref) >= 4 and all(c in string.hexdigits for c in self.ref)
        if is_hash and self.commit.startswith(self.ref.lower()) and not extra:
            return self.commit[:7]
        return f"{self.ref} ({self.commit[:7]}{extra})"

    def as_json(self) -> dict[str, object]:
        return {"ref": self.ref, "commit": self.commit, "uncommitted_changes": self.changes}


@dataclass(slots=True)
class Visit:
    """One side's front in one round: the warm-up (checked, not a figure), each level, and the
    server's CPU seconds per 1,000 streams over the levels."""

    side: str
    front: str
    round: int
    #: 1 or 2: first or second of the two sides on this front in this round.
    position: int
    warmup: PhaseFigures
    levels: dict[int, PhaseFigures] = field(default_factory=dict)
    cpu_seconds_per_1000_requests: float | None = None

    def as_json(self) -> dict[str, object]:
        return {
            "side": self.side,
            "front": self.front,
            "round": self.round,
            "position": self.position,
            "cpu_seconds_per_1000_requests": clean(self.cpu_seconds_per_1000_requests),
            "warmup": phase_json(self.warmup),
            "levels": {str(level): phase_json(p) for level, p in self.levels.items()},
        }


@dataclass(slots=True)
class AbReport:
    """One A/B run: both sides, the plan, where things ran, every visit in order."""

    started_at: str
    a: SideInfo
    b: SideInfo
    plan: AbPlan
    finished_at: str = ""
    machine: dict[str, object] = field(default_factory=dict)
    cpu_placement: dict[str, list[int]] = field(default_factory=dict)
    #: Each round's visits in order, as ``A poe``, ``B poe``, ...
    round_orders: list[list[str]] = field(default_factory=list)
    visits: list[Visit] = field(default_factory=list)
    #: Share of a CPU each side's server used, idle, while the other side was measured.
    idle_cpu_share: dict[str, float | None] = field(default_factory=dict)
    #: The machine's 1-minute load average at the start and at the end.
    load_average: dict[str, float] = field(default_factory=dict)

    def side(self, label: str) -> SideInfo:
        return self.a if label == "A" else self.b


@dataclass(frozen=True, slots=True)
class Figure:
    """One row of the table per front: its key (JSON), its label, how a visit gives it."""

    key: str
    label: str
    read: Callable[[Visit], float | None]


def level_value(level: int, attribute: str) -> Callable[[Visit], float | None]:
    def read(visit: Visit) -> float | None:
        phase = visit.levels.get(level)
        return None if phase is None else float(getattr(phase, attribute))

    return read


def figures(plan: AbPlan) -> list[Figure]:
    """CPU per 1,000 streams (over every level), throughput at the highest level, TTFT p50 at
    the lowest."""
    top, bottom = max(plan.levels), min(plan.levels)
    return [
        Figure(
            "cpu_seconds_per_1000_requests",
            "CPU s per 1,000 requests",
            lambda visit: visit.cpu_seconds_per_1000_requests,
        ),
        Figure(
            f"throughput_c{top}",
            f"throughput c={top} (streams/s)",
            level_value(top, "throughput_per_s"),
        ),
        Figure(
            f"ttft_p50_ms_c{bottom}",
            f"TTFT p50 c={bottom} (ms)",
            level_value(bottom, "ttft_p50_ms"),
        ),
    ]


def ratio(b: float | None, a: float | None) -> float | None:
    """``b / a``; None when either is missing or not finite, or ``a`` is not above 0."""
    if a is None or b is None or not (math.isfinite(a) and math.isfinite(b)) or a <= 0:
        return None
    return b / a


def per_round(
    visits: list[Visit], side: str, front: str, figure: Figure
) -> dict[int, float | None]:
    """``figure`` of ``side``'s ``front``, keyed by round."""
    return {
        visit.round: figure.read(visit)
        for visit in visits
        if visit.side == side and visit.front == front
    }


@dataclass(frozen=True, slots=True)
class Row:
    """One figure of one front: A and B over the rounds, B/A of the medians, B/A per round."""

    front: str
    figure: Figure
    a: Spread | None
    b: Spread | None
    #: Ratio of the medians.
    b_over_a: float | None
    #: Each round's B / A (the two visits of a round are next to each other), over the rounds.
    b_over_a_by_round: Spread | None

    def as_json(self) -> dict[str, object]:
        return {
            "label": self.figure.label,
            "a": self.a.as_json() if self.a else None,
            "b": self.b.as_json() if self.b else None,
            "b_over_a": clean(self.b_over_a),
            "b_over_a_by_round": self.b_over_a_by_round.as_json()
            if self.b_over_a_by_round
            else None,
        }


def rows(report: AbReport) -> list[Row]:
    """Every figure of every front, in the plan's order."""
    found = []
    for front in report.plan.fronts:
        for figure in figures(report.plan):
            a_rounds = per_round(report.visits, "A", front, figure)
            b_rounds = per_round(report.visits, "B", front, figure)
            a, b = spread(a_rounds.values()), spread(b_rounds.values())
            paired = [ratio(value, a_rounds.get(key)) for key, value in b_rounds.items()]
            found.append(
                Row(
                    front=front,
                    figure=figure,
                    a=a,
                    b=b,
                    b_over_a=ratio(b.median if b else None, a.median if a else None),
                    b_over_a_by_round=spread(paired),
                )
            )
    return found


def stream_failures(report: AbReport) -> list[PhaseFailure]:
    """Every phase of every visit (the warm-up too) in which a stream failed, on either side:
    the emulator is healthy, so each is a failure of that side's fmgate."""
    failures = []
    for visit in report.visits:
        where = f"{visit.side} {FRONT_LABELS.get(visit.front, visit.front)}"
        phases = [("warm-up", visit.warmup)]
        phases += [(f"c={level}", phase) for level, phase in visit.levels.items()]
        for name, phase in phases:
            if phase.failed:
                failures.append(
                    PhaseFailure(
                        where,
                        f"round {visit.round} {name}",
                        phase.failed,
                        phase.streams,
                        phase.failures,
                    )
                )
    return failures


def fmt_range_ratio(found: Spread | None) -> str:
    """``0.91x..0.97x`` (the one value over a single round)."""
    if found is None:
        return "-"
    if found.count < 2:
        return fmt_ratio(found.median)
    return f"{fmt_ratio(found.low)}..{fmt_ratio(found.high)}"


def render(report: AbReport) -> str:
    """The table (one line per front and figure), then the sides, the rounds and the notes."""
    header = (
        "front",
        "figure",
        f"A: {report.a.describe()}",
        f"B: {report.b.describe()}",
        "B/A",
        "B/A by round",
    )
    lines: list[tuple[str, ...]] = [header]
    for row in rows(report):
        lines.append(
            (
                FRONT_LABELS.get(row.front, row.front),
                row.figure.label,
                fmt_spread(row.a),
                fmt_spread(row.b),
                fmt_ratio(row.b_over_a),
                fmt_range_ratio(row.b_over_a_by_round),
            )
        )
    return "\n".join([*columns(lines), "", *notes(report)])


def columns(lines: list[tuple[str, ...]], left: int = 2) -> list[str]:
    """``lines`` in columns, the first ``left`` left-aligned, the others right; a rule under
    the first line."""
    widths = [max(len(line[i]) for line in lines) for i in range(len(lines[0]))]
    out = []
    for index, line in enumerate(lines):
        cells = [
            cell.ljust(width) if column < left else cell.rjust(width)
            for column, (cell, width) in enumerate(zip(line, widths, strict=True))
        ]
        out.append("  ".join(cells).rstrip())
        if index == 0:
            out.append("  ".join("-" * width for width in widths))
    return out


def notes(report: AbReport) -> list[str]:
    plan = report.plan
    profile = "realistic (300 ms TTFT, 75 tokens/s)" if plan.realistic else "zero-latency"
    levels = ", ".join(f"c={level}" for level in plan.levels)
    lines = [
        f"A = {report.a.describe()}, checked out apart; B = {report.b.describe()}",
        f"{plan.rounds} rounds, {profile} emulator; a visit: a warm-up of "
        f"{plan.warmup_requests} streams, then {levels}",
        f"  ({plan.requests_per_level:,} streams or {fmt(plan.seconds_per_level)} s each), "
        "the server's CPU read from /proc over the levels",
        "B/A: ratio of the medians; by round: each round's B over its A, lowest..highest",
        "  (below 1x: B spends less CPU, starts sooner; above 1x: B has more throughput)",
    ]
    for index, order in enumerate(report.round_orders, start=1):
        lines.append(f"round {index}: {', '.join(order)}")
    idle = [
        f"{side} {100 * share:.2f}%"
        for side, share in report.idle_cpu_share.items()
        if share is not None
    ]
    if idle:
        lines.append(f"idle server while the other was measured: {', '.join(idle)} of a CPU")
    if report.load_average:
        start, end = report.load_average.get("start"), report.load_average.get("end")
        lines.append(f"load average (1 min): {fmt(start)} at the start, {fmt(end)} at the end")
    return lines


def ab_json(report: AbReport) -> dict[str, object]:
    failures = stream_failures(report)
    by_front: dict[str, dict[str, object]] = {}
    for row in rows(report):
        by_front.setdefault(row.front, {})[row.figure.key] = row.as_json()
    return {
        "schema": SCHEMA_VERSION,
        "kind": "ab",
        "started_at": report.started_at,
        "finished_at": report.finished_at,
        "ok": not failures,
        "a": report.a.as_json(),
        "b": report.b.as_json(),
        "machine": report.machine,
        "cpu_placement": report.cpu_placement,
        "load_average": report.load_average,
        "plan": report.plan.as_json(),
        "round_orders": report.round_orders,
        "figures": by_front,
        "visits": [visit.as_json() for visit in report.visits],
        "idle_cpu_share": {k: clean(v) for k, v in report.idle_cpu_share.items()},
        "stream_failures": [failure.as_json() for failure in failures],
    }


def result_name(started_at: str) -> str:
    """``ab-20261201T135000Z.json`` for a run started at ``2026-12-01T13:50:00Z``."""
    return f"ab-{started_at.replace(':', '').replace('-', '')}.json"


def write(report: AbReport, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(ab_json(report), indent=2) + "\n")
    return path
