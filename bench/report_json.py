"""The report as JSON (schema version 3): the run, each path's figures (two holds for fmgate),
the comparison, the workers phase and the prompt-caching phase (each ``null`` when it was not
run), and the healthy phases in which a stream failed.

Schema 3 added ``caching``; schema 2 had everything else."""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path

from bench.caching_figures import MODES, CachingOutcome
from bench.comparison import comparison
from bench.health import healthy_phase_failures
from bench.report import BenchReport, PathOutcome, WorkersOutcome, clean
from bench.stats import PhaseFigures

SCHEMA_VERSION = 3


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


def path_json(outcome: PathOutcome) -> dict[str, object]:
    data: dict[str, object] = {
        "status": outcome.status,
        "reason": outcome.reason,
        "version": outcome.version,
    }
    figures = outcome.figures
    if figures is not None:
        data["levels"] = {str(c): phase_json(p) for c, p in figures.levels.items()}
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


def report_json(report: BenchReport) -> dict[str, object]:
    return {
        "schema_version": SCHEMA_VERSION,
        "started_at": report.started_at,
        "finished_at": report.finished_at,
        "machine": report.machine,
        "plan": asdict(report.plan),
        "cpu_placement": report.cpu_placement,
        "load_generator": {"ceiling": phase_json(report.load_generator)},
        "paths": {name: path_json(outcome) for name, outcome in report.paths.items()},
        "comparison": comparison(report),
        "workers": workers_json(report.workers),
        "caching": caching_json(report.caching),
        #: Phases of the healthy emulator in which a stream failed: the run failed if any.
        "healthy_phase_failures": [f.as_json() for f in healthy_phase_failures(report)],
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
