"""The prompt-caching phase's figures, table and JSON on made-up turns (no processes)."""

from __future__ import annotations

from typing import Any

from bench.caching_figures import CachingOutcome, TurnBill, conversation_totals, ratio
from bench.measure import BenchPlan
from bench.report import BenchReport
from bench.report_json import SCHEMA_VERSION, report_json
from bench.report_table import render_table

OFF = [
    TurnBill(1, 3000, 0, 0, 32, 948, 900.0),
    TurnBill(2, 3200, 0, 0, 32, 1008, 940.0),
    TurnBill(3, 3400, 0, 0, 32, 1068, 980.0),
]
AUTO = [
    TurnBill(1, 0, 0, 3000, 32, 1173, 910.0),
    TurnBill(2, 0, 3000, 200, 32, 213, 340.0),
    TurnBill(3, 0, 3200, 200, 32, 219, 360.0),
]
PRICING = {"input_token": 0.3, "output_token": 1.5, "cache_read_token": 0.03}
TIMING: dict[str, float | None] = {
    "ttft_ms": 300.0,
    "tokens_per_second": 60.0,
    "uncached_tokens_per_second": 5000.0,
}


def outcome() -> CachingOutcome:
    return CachingOutcome(
        "ok",
        source_bot="claude-sonnet-4",
        model_id="us.anthropic.claude-sonnet-4-20250514-v1:0",
        pricing=PRICING,
        emulator_timing=TIMING,
        turns={"off": OFF, "auto": AUTO},
    )


def with_caching(caching: CachingOutcome | None) -> BenchReport:
    return BenchReport("t0", "t1", {}, BenchPlan(), {}, None, caching=caching)


def test_totals_sum_the_turns_and_average_ttft_from_turn_2() -> None:
    totals = conversation_totals(AUTO)
    assert (totals.turns, totals.input_tokens, totals.output_tokens) == (3, 0, 96)
    assert (totals.cache_read_tokens, totals.cache_write_tokens) == (6200, 3400)
    assert totals.cost_milli_cents == 1173 + 213 + 219
    assert totals.mean_ttft_ms_from_turn_2 == 350.0
    assert conversation_totals(OFF[:1]).mean_ttft_ms_from_turn_2 is None
    assert conversation_totals([]).cost_milli_cents == 0
    assert AUTO[2].prompt_tokens == OFF[2].input_tokens  # the same prompt, billed otherwise


def test_ratios_are_auto_over_off_and_undefined_without_a_base() -> None:
    run = outcome()
    assert run.cost_ratio == (1173 + 213 + 219) / (948 + 1008 + 1068)
    assert run.ttft_ratio == 350.0 / 960.0
    assert ratio(1.0, 0.0) is None
    assert ratio(None, 2.0) is None
    assert CachingOutcome("failed", reason="boom").cost_ratio is None


def test_table_shows_each_turn_side_by_side_with_totals_and_ratios() -> None:
    lines = render_table(with_caching(outcome())).splitlines()
    start = lines.index(next(line for line in lines if line.startswith("prompt caching: 3 turns")))
    title, header, rule, one, two, three, total, mean, *notes = lines[start:]
    assert title == (
        "prompt caching: 3 turns with claude-sonnet-4 "
        "(us.anthropic.claude-sonnet-4-20250514-v1:0), caching off vs auto"
    )
    assert header.split("  ")[0].strip() == "turn"
    assert header.endswith("cost off  cost auto  TTFT off  TTFT auto")
    assert set(rule) == {"-", " "}
    assert len({len(line) for line in (header, rule, one, two, three, total)}) == 1
    assert one.split() == ["1", "3,000", "0", "0", "3,000", "948", "1,173", "900", "910"]
    assert two.split() == ["2", "3,200", "0", "3,000", "200", "1,008", "213", "940", "340"]
    assert three.split()[0] == "3"
    assert total.split() == ["total", "9,600", "0", "6,200", "3,400", "3,024", "1,605", "-", "-"]
    assert mean.split() == ["mean", "from", "turn", "2", "960", "350"]
    assert notes[0] == (
        "prompt caching: total cost auto/off 0.53x (1,605 vs 3,024 milli-cents), "
        "mean TTFT from turn 2 auto/off 0.36x (350 vs 960 ms)"
    )
    assert "per token: input 0.3, output 1.5, cache read 0.03" in notes[2]
    assert notes[3].endswith("emulator: 300 ms + 1 s per 5,000 uncached input tokens, 60 tokens/s")


def test_json_has_every_turn_the_totals_and_the_ratios() -> None:
    data: Any = report_json(with_caching(outcome()))
    assert data["schema_version"] == SCHEMA_VERSION == 4
    caching = data["caching"]
    assert caching["status"] == "ok"
    assert caching["pricing_milli_cents_per_token"] == PRICING
    assert caching["emulator_timing"] == TIMING
    assert caching["turns"]["auto"][1] == {
        "turn": 2,
        "input_tokens": 0,
        "cache_read_tokens": 3000,
        "cache_write_tokens": 200,
        "output_tokens": 32,
        "cost_milli_cents": 213,
        "ttft_ms": 340.0,
    }
    assert [turn["turn"] for turn in caching["turns"]["off"]] == [1, 2, 3]
    assert caching["totals"]["off"]["cost_milli_cents"] == 3024
    assert caching["totals"]["auto"]["mean_ttft_ms_from_turn_2"] == 350.0
    assert caching["cost_ratio_auto_to_off"] == round(1605 / 3024, 4)
    assert caching["mean_ttft_ratio_auto_to_off_from_turn_2"] == round(350 / 960, 4)


def test_a_caching_phase_that_failed_or_did_not_run() -> None:
    assert report_json(with_caching(None))["caching"] is None
    assert "prompt caching" not in render_table(with_caching(None))
    failed = with_caching(CachingOutcome("failed", reason="RuntimeError: no ledger row"))
    assert "prompt caching phase: failed (RuntimeError: no ledger row)" in render_table(failed)
    assert report_json(failed)["caching"]["turns"] == {"off": [], "auto": []}  # type: ignore[index]
