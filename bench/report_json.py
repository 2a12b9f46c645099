"""The report as JSON (schema version 4): the run, its rounds, each path's figures (each round's
visit, then the once-per-run phases; two holds for fmgate's Poe front), the comparison (each
figure's median and range per path, fmgate/direct, each fmgate front's advantage over each
peer), the peers table (headline figures per path, with its status and why, and the headline
ratios), the workers phase and the prompt-caching phase (each ``null`` when it was not run), and
the phases in which a stream failed: fmgate's and direct's (the run failed) and the peers'.

Schema 4 added the rounds, the peers and their statuses (``unavailable``), medians with ranges
in ``comparison``, ``peers`` and ``peer_phase_failures``; schema 3 added ``caching``; schema 2
had the rest."""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path

from bench.caching_figures import MODES, CachingOutcome
from bench.comparison import comparison, headline_ratios, spread_of
from bench.figures import headline_rows
from bench.health import healthy_phase_failures, peer_phase_failures
from bench.measure import RoundFigures
from bench.report import LABELS, BenchReport, PathOutcome, WorkersOutcome, clean
from bench.stats import PhaseFigures

SCHEMA_VERSION = 4


def phase_json(phase: PhaseFigures | None) -> dict[str, object] | None:
    if phase is None:
        return None
    return {k: clean(v) if isinstance(v, float) else v for k, v in phase.as_json().items()}


def rounded(data: dict[str, object]) -> dict[str, object]:
    """Floats cleaned (NaN -> null, rounded), nested objects too."""
    out: dict[str, object] = {}
    for key, value in data.items():
        if isinstance(value, float):
            out[key] = clean(value)
        elif isinstance(value, dict):
            out[key] = rounded(value)
        else:
            out[key] = value
    return out


def round_json(visit: RoundFigures) -> dict[str, object]:
    return {
        "round": visit.round,
        "position": visit.position,
        "cpu_seconds_per_1000_requests": clean(visit.cpu_seconds_per_1000_requests),
        "levels": {str(c): phase_json(p) for c, p in visit.levels.items()},
    }


def path_json(outcome: PathOutcome) -> dict[str, object]:
    data: dict[str, object] = {
        "label": LABELS.get(outcome.name, outcome.name),
        "status": outcome.status,
        "reason": outcome.reason,
        "version": outcome.version,
    }
    figures = outcome.figures
    if figures is not None:
        data["rounds"] = [round_json(visit) for visit in figures.rounds]
        data["realistic"] = phase_json(figures.realistic)
        data["server"] = None
        if figures.server is not None:
            data["server"] = rounded(asdict(figures.server))
    return data


def workers_json(outcome: WorkersOutcome | None) -> dict[str, object] | None:
    """Per worker count: throughput per level; per level: each count's ratio to the first."""
    if outcome is None:
        return None
    levels = list(dict.fromkeys(level for phases in outcome.counts.values() for level in phases))
    return {
        "status": outcome.status,
        "reason": outcome.reason,
        "fmgate_cpus": outcome.fmgate_cpus,
        "throughput_per_s": {
            str(count): {str(level): clean(outcome.throughput(count, level)) for level in levels}
            for count in outcome.counts
        },
        "ratio_to_first": {
            str(count): {str(level): clean(outcome.ratio(count, level)) for level in levels}
            for count in outcome.counts
        },
        "phases": {
            str(count): {str(level): phase_json(phase) for level, phase in phases.items()}
            for count, phases in outcome.counts.items()
        },
    }


def caching_json(outcome: CachingOutcome | None) -> dict[str, object] | None:
    """Per mode: every turn as billed and the totals; the ratios of auto to off."""
    if outcome is None:
        return None
    return {
        "status": outcome.status,
        "reason": outcome.reason,
        "source_bot": outcome.source_bot,
        "model_id": outcome.model_id,
        "pricing_milli_cents_per_token": outcome.pricing,
        "emulator_timing": outcome.emulator_timing,
        "turns": {
            mode: [rounded(asdict(bill)) for bill in outcome.turns.get(mode, [])] for mode in MODES
        },
        "totals": {mode: rounded(asdict(outcome.totals(mode))) for mode in MODES},
        "cost_ratio_auto_to_off": clean(outcome.cost_ratio),
        "mean_ttft_ratio_auto_to_off_from_turn_2": clean(outcome.ttft_ratio),
    }


def peers_json(report: BenchReport) -> dict[str, object]:
    """Every path of the run with its status and headline figures; fmgate's headline ratios."""
    rows = headline_rows(report.plan)
    paths: dict[str, object] = {}
    for name, outcome in report.paths.items():
        spreads = {row.key: spread_of(report, name, row) for row in rows}
        paths[name] = {
            "label": LABELS.get(name, name),
            "status": outcome.status,
            "reason": outcome.reason,
            "version": outcome.version,
            "figures": {key: s.as_json() if s else None for key, s in spreads.items()},
        }
    return {
        "figures": [row.key for row in rows],
        "paths": paths,
        #: fmgate front -> peer -> figure -> how many times better fmgate is (ratio of medians).
        "fmgate_advantage": headline_ratios(report),
    }


def report_json(report: BenchReport) -> dict[str, object]:
    return {
        "schema_version": SCHEMA_VERSION,
        "started_at": report.started_at,
        "finished_at": report.finished_at,
        "machine": report.machine,
        "plan": asdict(report.plan),
        "cpu_placement": report.cpu_placement,
        "rounds": {"count": len(report.round_orders), "orders": report.round_orders},
        "load_generator": {"ceiling": phase_json(report.load_generator)},
        "paths": {name: path_json(outcome) for name, outcome in report.paths.items()},
        "peers": peers_json(report),
        "comparison": comparison(report),
        "workers": workers_json(report.workers),
        "caching": caching_json(report.caching),
        #: Phases of the healthy emulator in which a stream failed on direct or fmgate: the run
        #: failed if any.
        "healthy_phase_failures": [f.as_json() for f in healthy_phase_failures(report)],
        #: The same for the peers (reported; they do not fail the run).
        "peer_phase_failures": [f.as_json() for f in peer_phase_failures(report)],
    }


def write_json(report: BenchReport, out: Path, history_dir: Path | None) -> list[Path]:
    """Write ``out`` (latest) and, when ``history_dir``, a timestamped copy beside it."""
    text = json.dumps(report_json(report), indent=2) + "\n"
    written = []
    targets = [out]
    if history_dir is not None:
        stamp = report.started_at.replace(":", "").replace("-", "")
        targets.append(history_dir / f"{stamp}.json")
    for target in targets:
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text)
        written.append(target)
    return written
