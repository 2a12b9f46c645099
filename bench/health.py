"""Every healthy phase must complete every stream: a dropped or failed stream fails the run.

The emulator is healthy in every phase of the benchmark (no fault injected), so a stream that
fails — under throughput load in any round, in the realistic phase, or among the streams held
open — is the path's failure, not noise. :func:`healthy_phase_failures` names each such phase of
the direct path and of fmgate (and a path of theirs that did not start); ``bench.run`` prints
them, records them in the JSON and exits non-zero. The peers' are :func:`peer_phase_failures`:
printed and recorded the same way, but a peer that cannot start or drops streams does not fail
fmgate's benchmark (its figures then count only the streams that completed).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from bench.measure import PathFigures
from bench.report import PEERS, BenchReport


@dataclass(frozen=True, slots=True)
class PhaseFailure:
    path: str
    phase: str
    failed: int
    streams: int
    reasons: dict[str, int]

    def describe(self) -> str:
        why = ", ".join(f"{reason}: {count}" for reason, count in self.reasons.items())
        return f"{self.path} {self.phase}: {self.failed} of {self.streams} streams failed ({why})"

    def as_json(self) -> dict[str, object]:
        return {
            "path": self.path,
            "phase": self.phase,
            "failed": self.failed,
            "streams": self.streams,
            "reasons": self.reasons,
        }


def healthy_phase_failures(report: BenchReport) -> list[PhaseFailure]:
    """The phases of ``report`` in which a stream failed (the load generator's ceiling too) on
    the direct path or fmgate, those of them that should have run and did not, and a
    prompt-caching phase that failed (its conversation stops at the first turn that fails)."""
    failures: list[PhaseFailure] = []
    ceiling = report.load_generator
    if ceiling is not None and ceiling.failed:
        failures.append(
            PhaseFailure(
                "load generator", "ceiling", ceiling.failed, ceiling.streams, ceiling.failures
            )
        )
    failures.extend(outcome_failures(report, gated=True))
    caching = report.caching
    if caching is not None and caching.status == "failed":
        reasons = {caching.reason or "failed": 1}
        failures.append(PhaseFailure("fmgate", "prompt caching", 1, 1, reasons))
    return failures


def peer_phase_failures(report: BenchReport) -> list[PhaseFailure]:
    """The peers' failed streams per phase, and a peer that failed to start or broke."""
    return list(outcome_failures(report, gated=False))


def outcome_failures(report: BenchReport, *, gated: bool) -> Iterator[PhaseFailure]:
    """Failures of fmgate's and direct's paths (``gated``) or of the peers'."""
    for name, outcome in report.paths.items():
        if (name not in PEERS) != gated:
            continue
        if outcome.status == "failed":
            yield PhaseFailure(name, "start", 1, 1, {outcome.reason or "failed": 1})
        if outcome.figures is not None:
            yield from path_failures(name, outcome.figures)


def path_failures(name: str, figures: PathFigures) -> Iterator[PhaseFailure]:
    for visit in figures.rounds:
        for level, phase in visit.levels.items():
            if phase.failed:
                where = f"round {visit.round} c={level}"
                yield PhaseFailure(name, where, phase.failed, phase.streams, phase.failures)
    realistic = figures.realistic
    if realistic is not None and realistic.failed:
        yield PhaseFailure(
            name, "realistic", realistic.failed, realistic.streams, realistic.failures
        )
    server = figures.server
    if server is None:
        return
    for hold in (server.hold, server.large_hold):
        if hold is not None and hold.dropped:
            reasons = hold.failures or {"did not complete": hold.dropped}
            yield PhaseFailure(
                name, f"hold {hold.requested}", hold.dropped, hold.requested, reasons
            )
