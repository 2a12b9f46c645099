"""``bench.ab``: the figures and ratios it reports, the git commands it runs, its arguments, and
one tiny A/B of HEAD against the working tree end to end (real worktree, emulator, servers).

The smoke test asserts no timings: both sides measured, every stream completed, B/A reported
for every figure (HEAD against itself: near 1x, bounded only loosely), the worktree gone.
"""

from __future__ import annotations

import json
import math
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from bench.ab import build_parser, levels_argument, plan_of
from bench.ab_report import (
    AbPlan,
    AbReport,
    SideInfo,
    Visit,
    ab_json,
    ratio,
    render,
    result_name,
    rows,
    stream_failures,
)
from bench.processes import REPO_ROOT
from bench.procstat import process_tree
from bench.rounds import Spread
from bench.stats import PhaseFigures


def phase(
    concurrency: int, throughput: float = 100.0, ttft: float = 5.0, failed: int = 0
) -> PhaseFigures:
    streams = 30
    return PhaseFigures(
        concurrency=concurrency,
        streams=streams,
        completed=streams - failed,
        failed=failed,
        ttft_p50_ms=ttft,
        ttft_p99_ms=ttft * 2,
        total_p50_ms=ttft * 3,
        total_p99_ms=ttft * 4,
        throughput_per_s=throughput,
        wall_seconds=1.0,
        failures={"HTTP 500": failed} if failed else {},
    )


def visit(side: str, round_number: int, cpu: float, throughput: float, ttft: float) -> Visit:
    found = Visit(side, "poe", round_number, 1 if side == "A" else 2, warmup=phase(8))
    found.levels = {1: phase(1, ttft=ttft), 64: phase(64, throughput=throughput)}
    found.cpu_seconds_per_1000_requests = cpu
    return found


def small_report() -> AbReport:
    report = AbReport(
        started_at="2026-12-01T13:50:00Z",
        a=SideInfo("A", "HEAD~1", "a" * 40),
        b=SideInfo("B", "working tree", "b" * 40, changes=True),
        plan=AbPlan(rounds=3, fronts=("poe",)),
    )
    report.visits = [
        visit("A", 1, cpu=4.0, throughput=200.0, ttft=6.0),
        visit("B", 1, cpu=2.0, throughput=400.0, ttft=3.0),
        visit("B", 2, cpu=3.0, throughput=300.0, ttft=3.0),
        visit("A", 2, cpu=5.0, throughput=250.0, ttft=6.0),
        visit("A", 3, cpu=6.0, throughput=150.0, ttft=6.0),
        visit("B", 3, cpu=3.0, throughput=300.0, ttft=4.0),
    ]
    report.round_orders = [["A poe", "B poe"], ["B poe", "A poe"], ["A poe", "B poe"]]
    return report


def test_ratio_is_b_over_a_and_undefined_without_a_positive_a() -> None:
    assert ratio(2.0, 4.0) == 0.5
    assert ratio(3.0, 0.0) is None
    assert ratio(None, 1.0) is None
    assert ratio(1.0, None) is None
    assert ratio(math.nan, 1.0) is None


def test_a_side_is_named_by_its_ref_and_commit() -> None:
    commit = "1d63af3e03bc" + "0" * 28
    assert SideInfo("A", "HEAD~1", commit).describe() == "HEAD~1 (1d63af3)"
    assert SideInfo("A", "1D63AF3E", commit).describe() == "1d63af3"  # a hash is its own name
    assert SideInfo("B", "working tree", commit, True).describe() == (
        "working tree (1d63af3 + changes)"
    )


def test_rows_give_medians_ranges_and_round_by_round_ratios() -> None:
    found = {row.figure.key: row for row in rows(small_report())}
    assert list(found) == ["cpu_seconds_per_1000_requests", "throughput_c64", "ttft_p50_ms_c1"]
    cpu = found["cpu_seconds_per_1000_requests"]
    assert cpu.a == Spread(5.0, 4.0, 6.0, 3)
    assert cpu.b == Spread(3.0, 2.0, 3.0, 3)
    assert cpu.b_over_a == pytest.approx(0.6)  # ratio of the medians
    assert cpu.b_over_a_by_round == Spread(0.5, 0.5, 0.6, 3)  # 2/4, 3/5, 3/6
    throughput = found["throughput_c64"]
    assert throughput.b_over_a == pytest.approx(300 / 200)
    ttft = found["ttft_p50_ms_c1"]
    assert ttft.b_over_a_by_round == Spread(0.5, 0.5, 4 / 6, 3)


def test_a_round_without_its_other_side_has_no_paired_ratio() -> None:
    report = small_report()
    report.visits = [v for v in report.visits if (v.side, v.round) != ("A", 3)]
    cpu = rows(report)[0]
    assert cpu.a == Spread(4.5, 4.0, 5.0, 2)
    assert cpu.b_over_a_by_round == Spread(0.55, 0.5, 0.6, 2)


def test_table_shows_each_front_and_figure_with_both_sides_and_the_ratio() -> None:
    text = render(small_report())
    lines = text.splitlines()
    assert lines[0].split() == [
        "front",
        "figure",
        "A:",
        "HEAD~1",
        "(aaaaaaa)",
        "B:",
        "working",
        "tree",
        "(bbbbbbb",
        "+",
        "changes)",
        "B/A",
        "B/A",
        "by",
        "round",
    ]
    cpu_line = next(line for line in lines if "CPU s per 1,000 requests" in line)
    assert cpu_line.split()[:2] == ["Poe", "CPU"]
    assert "5.00 (4.00..6.00)" in cpu_line
    assert "3.00 (2.00..3.00)" in cpu_line
    assert cpu_line.rstrip().endswith("0.60x  0.50x..0.60x")
    assert "throughput c=64 (streams/s)" in text
    assert "TTFT p50 c=1 (ms)" in text
    assert "round 2: B poe, A poe" in text


def test_every_failed_stream_is_named_warm_up_included() -> None:
    report = small_report()
    assert stream_failures(report) == []
    report.visits[1].warmup = phase(8, failed=1)
    report.visits[4].levels[64] = phase(64, failed=3)
    failures = [failure.describe() for failure in stream_failures(report)]
    assert failures == [
        "B Poe round 1 warm-up: 1 of 30 streams failed (HTTP 500: 1)",
        "A Poe round 3 c=64: 3 of 30 streams failed (HTTP 500: 3)",
    ]
    data = ab_json(report)
    assert data["ok"] is False
    assert len(data["stream_failures"]) == 2  # type: ignore[arg-type]


def test_json_has_both_sides_each_figure_and_every_visit() -> None:
    data = ab_json(small_report())
    assert data["ok"] is True
    assert data["a"] == {"ref": "HEAD~1", "commit": "a" * 40, "uncommitted_changes": False}
    cpu = data["figures"]["poe"]["cpu_seconds_per_1000_requests"]  # type: ignore[index]
    assert cpu["a"] == {"median": 5.0, "min": 4.0, "max": 6.0, "rounds": 3}
    assert cpu["b_over_a"] == 0.6
    assert len(data["visits"]) == 6  # type: ignore[arg-type]
    json.dumps(data)  # serializable as it is
    assert result_name("2026-12-01T13:50:00Z") == "ab-20261201T135000Z.json"


def test_plan_from_the_command_line() -> None:
    plan = plan_of(build_parser().parse_args(["v1.0", "--rounds", "2", "--requests", "30"]))
    assert (plan.rounds, plan.requests_per_level, plan.levels) == (2, 30, (1, 64))
    assert (plan.ttft_ms, plan.ramp_seconds) == (0.0, 0.0)
    assert build_parser().parse_args([]).ref == "HEAD~1"
    realistic = plan_of(build_parser().parse_args(["--realistic", "--fronts", "poe"]))
    assert (realistic.levels, realistic.fronts) == ((64,), ("poe",))
    assert realistic.ramp_seconds == pytest.approx(0.3 + 32 / 75)
    assert levels_argument("1, 16,64") == (1, 16, 64)
    with pytest.raises(Exception, match="positive"):
        levels_argument("0,64")


def ab_worktrees(repo: Path) -> set[str]:
    """The worktrees of ``repo``'s repository that ``bench.ab`` made (its temporary ones)."""
    done = subprocess.run(
        ["git", "-C", str(repo), "worktree", "list", "--porcelain"],
        capture_output=True,
        text=True,
        check=True,
    )
    return {line for line in done.stdout.splitlines() if "fmgate-ab-" in line}


def is_checkout(path: Path) -> bool:
    done = subprocess.run(
        ["git", "-C", str(path), "rev-parse", "--verify", "--quiet", "HEAD"],
        capture_output=True,
        check=False,
    )
    return done.returncode == 0


@pytest.mark.skipif(
    shutil.which("git") is None or not is_checkout(REPO_ROOT), reason="not a git checkout"
)
def test_tiny_ab_of_head_against_the_working_tree(tmp_path: Path) -> None:
    out = tmp_path / "ab.json"
    before = ab_worktrees(REPO_ROOT)
    command = [sys.executable, "-m", "bench.ab", "HEAD", "--rounds", "2", "--requests", "30"]
    done = subprocess.run(
        [*command, "--out", str(out), "--logs", str(tmp_path / "logs")],
        capture_output=True,
        text=True,
        cwd=REPO_ROOT,
        timeout=110,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    data = json.loads(out.read_text())
    assert data["ok"] is True
    assert data["stream_failures"] == []
    assert data["a"]["commit"] == data["b"]["commit"]  # HEAD against HEAD (+ any changes)
    assert data["round_orders"] == [
        ["A poe", "B poe", "A openai", "B openai"],
        ["B poe", "A poe", "B openai", "A openai"],
    ]
    assert len(data["visits"]) == 8
    for visit_data in data["visits"]:
        assert visit_data["warmup"]["failed"] == 0
        for level in visit_data["levels"].values():
            assert (level["failed"], level["completed"]) == (0, level["streams"])
    for front in ("poe", "openai"):
        figures = data["figures"][front]
        assert set(figures) == {"cpu_seconds_per_1000_requests", "throughput_c64", "ttft_p50_ms_c1"}
        for figure in figures.values():
            for side in ("a", "b"):
                assert figure[side]["rounds"] == 2
                assert figure[side]["median"] > 0
            assert figure["b_over_a"] > 0
            assert figure["b_over_a_by_round"]["rounds"] == 2
        # The same code on both sides: near 1x, bounded loosely (a busy machine moves it).
        assert 0.25 < figures["cpu_seconds_per_1000_requests"]["b_over_a"] < 4
    assert "/v1/chat/completions  CPU s per 1,000 requests" in done.stdout
    assert "A: HEAD (" in done.stdout
    assert ab_worktrees(REPO_ROOT) == before  # its temporary worktree is gone
    server_logs = sorted(log.name for log in (tmp_path / "logs").glob("fmgate-*.log"))
    assert server_logs == ["fmgate-A.log", "fmgate-B.log"]


def processes_mentioning(text: str) -> list[int]:
    """Live processes whose command line contains ``text``."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if text.encode() in (entry / "cmdline").read_bytes():
                found.append(int(entry.name))
        except OSError:
            continue
    return found


@pytest.mark.skipif(
    shutil.which("git") is None or not is_checkout(REPO_ROOT), reason="not a git checkout"
)
def test_sigterm_mid_run_stops_every_server_and_removes_the_worktree(tmp_path: Path) -> None:
    logs = tmp_path / "logs"
    before = ab_worktrees(REPO_ROOT)
    command = [sys.executable, "-m", "bench.ab", "HEAD", "--rounds", "50", "--requests", "30"]
    process = subprocess.Popen(
        [*command, "--logs", str(logs), "--out", str(tmp_path / "ab.json")],
        cwd=REPO_ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stderr is not None
        for line in process.stderr:  # until the rounds have begun: both servers are up
            if "round 1/50" in line:
                break
        started = process_tree(process.pid)  # it, the emulator and both servers
        assert len(started) >= 4
        assert len(processes_mentioning(str(logs))) >= 3  # it and both servers
        process.terminate()
        assert process.wait(timeout=60) == 130
    finally:
        if process.poll() is None:
            process.kill()
    assert processes_mentioning(str(logs)) == []
    assert [pid for pid in started if Path(f"/proc/{pid}").exists()] == []
    assert ab_worktrees(REPO_ROOT) == before
    assert not (tmp_path / "ab.json").exists()  # nothing is reported from a stopped run
