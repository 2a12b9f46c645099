"""The report as plain text: the peers table (every path's status and headline figures, medians
of the rounds with their ranges), fmgate's headline ratios against each peer, one aligned table
of every figure (medians), the workers phase's small table (throughput per worker count, side by
side, and the ratio), the prompt-caching phase's table (each turn with caching off and auto:
tokens billed, cost, TTFT; totals), then notes on the run."""

from __future__ import annotations

from bench.caching_figures import CachingOutcome, ConversationTotals
from bench.comparison import comparison, headline_ratios, spread_of
from bench.figures import all_rows, headline_rows
from bench.report import FMGATE_PATHS, LABELS, PEERS, BenchReport, PathOutcome, WorkersOutcome
from bench.rounds import Spread

CACHING_HEADER = (
    "turn",
    "input off",
    "input auto",
    "cache read auto",
    "cache write auto",
    "cost off",
    "cost auto",
    "TTFT off",
    "TTFT auto",
)
FRONT_TITLES = {"fmgate": "Poe front", "fmgate-openai": "/v1/chat/completions"}


def fmt(value: float | None) -> str:
    if value is None:
        return "-"
    magnitude = abs(value)
    if magnitude >= 100:
        return f"{value:,.0f}"
    if magnitude >= 10:
        return f"{value:.1f}"
    return f"{value:.2f}"


def fmt_ratio(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}x"


def fmt_spread(found: Spread | None) -> str:
    """``3.39 (3.10..3.61)``: the median and, over more than one round, the range."""
    if found is None:
        return "-"
    if found.count < 2:
        return fmt(found.median)
    return f"{fmt(found.median)} ({fmt(found.low)}..{fmt(found.high)})"


def fmt_count(value: int) -> str:
    return f"{value:,}"


def fmt_plain(value: float | None) -> str:
    """A setting as written (no rounding to the table's digits): 300, 5,000, 62.5."""
    return "-" if value is None else f"{value:,g}"


def render_table(report: BenchReport) -> str:
    """The peers table, the headline ratios, every figure per path, the other phases, notes."""
    workers = workers_table(report.workers, report.cpu_placement)
    caching = caching_table(report.caching)
    return "\n".join(
        [
            *peers_table(report),
            "",
            *ratios_table(report),
            *aligned([detail_header(report), *table_cells(report)]),
            "",
            *workers,
            *caching,
            *notes(report),
        ]
    )


def peers_table(report: BenchReport) -> list[str]:
    """One line per path of the run: its status, version and headline figures."""
    rows = headline_rows(report.plan)
    header = ("path", "status", "version", *(row.title for row in rows))
    lines = [
        (
            LABELS.get(name, name),
            outcome.status,
            outcome.version or "-",
            *(fmt_spread(spread_of(report, name, row)) for row in rows),
        )
        for name, outcome in report.paths.items()
    ]
    rounds = len(report.round_orders)
    title = (
        f"peers: medians of {rounds} interleaved round{'s' if rounds != 1 else ''} "
        "(min..max over the rounds)"
    )
    return [title, *aligned([header, *lines])]


def ratios_table(report: BenchReport) -> list[str]:
    """How many times better each fmgate front is than each peer on each headline figure."""
    peers = [name for name in report.paths if name in PEERS]
    fronts = [name for name in FMGATE_PATHS if name in report.paths]
    if not peers or not fronts:
        return []
    ratios = headline_ratios(report)
    header = ("fmgate vs peer (>1x = fmgate better)", *peers)
    lines = [
        (
            f"{FRONT_TITLES[front]}: {row.title}",
            *(fmt_ratio(ratios[front][peer][row.key]) for peer in peers),
        )
        for front in fronts
        for row in headline_rows(report.plan)
    ]
    return [*aligned([header, *lines]), ""]


def measured_paths(report: BenchReport) -> list[str]:
    """The paths with figures, in the run's order: the detail table's columns."""
    return [name for name, outcome in report.paths.items() if outcome.figures is not None]


def detail_header(report: BenchReport) -> tuple[str, ...]:
    return ("figure", *measured_paths(report), "fmgate/direct")


def table_cells(report: BenchReport) -> list[tuple[str, ...]]:
    """One line of cells per figure (medians over the rounds), formatted."""
    data = comparison(report)
    names = measured_paths(report)
    lines: list[tuple[str, ...]] = []
    for row in all_rows(report.plan):
        entry = data[row.key]
        paths = entry["paths"]
        assert isinstance(paths, dict)
        medians = [paths[name]["median"] if paths.get(name) else None for name in names]
        over_direct = entry["fmgate_over_direct"]
        assert over_direct is None or isinstance(over_direct, float)
        lines.append((row.label, *(fmt(m) for m in medians), fmt_ratio(over_direct)))
    return lines


def workers_table(outcome: WorkersOutcome | None, placement: dict[str, list[int]]) -> list[str]:
    """Throughput with each ``--workers`` count at each level, and the ratio to the first."""
    if outcome is None:
        return []
    if outcome.status != "ok" or not outcome.counts:
        return [f"workers phase: {outcome.status} ({outcome.reason})", ""]
    counts = list(outcome.counts)
    first = counts[0]
    levels = list(dict.fromkeys(level for phases in outcome.counts.values() for level in phases))
    header = (
        "fmgate throughput (streams/s)",
        *(f"{count} worker{'s' if count > 1 else ''}" for count in counts),
        *(f"{count}/{first}" for count in counts[1:]),
    )
    lines = [
        (
            f"c={level}",
            *(fmt(outcome.throughput(count, level)) for count in counts),
            *(fmt_ratio(outcome.ratio(count, level)) for count in counts[1:]),
        )
        for level in levels
    ]
    load = placement.get("load_generator_and_emulator") or []
    where = (
        f"fmgate on CPUs {cpu_list(outcome.fmgate_cpus)}, the load generator and the emulator "
        f"on CPUs {cpu_list(load)}"
        if outcome.fmgate_cpus
        else "no CPU pinning"
    )
    return [*aligned([header, *lines]), f"workers phase: {where}", ""]


def caching_table(outcome: CachingOutcome | None) -> list[str]:
    """Each turn with caching off and auto side by side: input tokens billed at the input price,
    the auto conversation's cache reads and writes, the ledger's cost, the client's TTFT; then
    the totals, the mean TTFT from turn 2 and the ratios."""
    if outcome is None:
        return []
    if outcome.status != "ok" or not outcome.turns:
        return [f"prompt caching phase: {outcome.status} ({outcome.reason})", ""]
    rows = [
        (
            str(off.turn),
            fmt_count(off.input_tokens),
            fmt_count(auto.input_tokens),
            fmt_count(auto.cache_read_tokens),
            fmt_count(auto.cache_write_tokens),
            fmt_count(off.cost_milli_cents),
            fmt_count(auto.cost_milli_cents),
            fmt(off.ttft_ms),
            fmt(auto.ttft_ms),
        )
        for off, auto in outcome.side_by_side()
    ]
    off, auto = outcome.totals("off"), outcome.totals("auto")
    total = (
        "total",
        fmt_count(off.input_tokens),
        fmt_count(auto.input_tokens),
        fmt_count(auto.cache_read_tokens),
        fmt_count(auto.cache_write_tokens),
        fmt_count(off.cost_milli_cents),
        fmt_count(auto.cost_milli_cents),
        "-",
        "-",
    )
    mean = (
        "mean from turn 2",
        *[""] * 6,
        fmt(off.mean_ttft_ms_from_turn_2),
        fmt(auto.mean_ttft_ms_from_turn_2),
    )
    title = (
        f"prompt caching: {off.turns} turns with {outcome.source_bot} ({outcome.model_id}), "
        "caching off vs auto"
    )
    return [
        title,
        *aligned([CACHING_HEADER, *rows, total, mean]),
        *caching_notes(outcome, off, auto),
        "",
    ]


def caching_notes(
    outcome: CachingOutcome, off: ConversationTotals, auto: ConversationTotals
) -> list[str]:
    """The ratios, and where the figures come from."""
    prices = ", ".join(
        f"{name.removesuffix('_token').replace('_', ' ')} {value:g}"
        for name, value in outcome.pricing.items()
    )
    timing = outcome.emulator_timing
    return [
        f"prompt caching: total cost auto/off {fmt_ratio(outcome.cost_ratio)} "
        f"({fmt_count(auto.cost_milli_cents)} vs {fmt_count(off.cost_milli_cents)} milli-cents), "
        f"mean TTFT from turn 2 auto/off {fmt_ratio(outcome.ttft_ratio)} "
        f"({fmt(auto.mean_ttft_ms_from_turn_2)} vs {fmt(off.mean_ttft_ms_from_turn_2)} ms)",
        "prompt caching: tokens and costs are fmgate's ledger rows; input = tokens billed at the "
        "input price; cache reads and writes are the auto conversation's (off sends no checkpoint)",
        f"prompt caching: cost in milli-cents ($1 = 100,000) at the bot's catalog prices per "
        f"token: {prices}",
        f"prompt caching: TTFT in ms at the Poe client; emulator: "
        f"{fmt_plain(timing.get('ttft_ms'))} ms + 1 s per "
        f"{fmt_plain(timing.get('uncached_tokens_per_second'))} uncached input tokens, "
        f"{fmt_plain(timing.get('tokens_per_second'))} tokens/s",
    ]


def cpu_list(cpus: list[int]) -> str:
    return ",".join(str(cpu) for cpu in cpus) or "-"


def aligned(lines: list[tuple[str, ...]]) -> list[str]:
    """``lines`` in columns: the first left-aligned, the others right; a rule under the first."""
    widths = [max(len(line[i]) for line in lines) for i in range(len(lines[0]))]
    out = []
    for index, line in enumerate(lines):
        cells = [line[0].ljust(widths[0])] + [
            c.rjust(w) for c, w in zip(line[1:], widths[1:], strict=True)
        ]
        out.append("  ".join(cells))
        if index == 0:
            out.append("  ".join("-" * w for w in widths))
    return out


def notes(report: BenchReport) -> list[str]:
    """Lines under the tables: the rounds, the load generator's ceiling, paths that did not run
    and why, held streams, failed streams."""
    lines = []
    rounds = report.round_orders
    if rounds:
        orders = "; ".join(" ".join(order) for order in rounds)
        lines.append(
            f"rounds: {len(rounds)}, each path once per round in rotating order ({orders}); "
            "zero-latency latency, throughput and CPU are medians of the rounds, realistic "
            "latency and memory are measured once after them"
        )
    ceiling = report.load_generator
    if ceiling is not None:
        lines.append(
            f"load generator ceiling: {ceiling.throughput_per_s:,.0f} streams/s at "
            f"c={ceiling.concurrency} against a trivial SSE server "
            f"(TTFT p50 {ceiling.ttft_p50_ms:.2f} ms)"
        )
    for name, outcome in report.paths.items():
        lines.extend(path_notes(name, outcome))
    idle = idle_note(report)
    if idle:
        lines.append(idle)
    if report.workers is not None:
        failed = sum(p.failed for phases in report.workers.counts.values() for p in phases.values())
        if failed:
            lines.append(f"workers phase: {failed} streams failed")
    lines.append(
        "fmgate vs peer: ratio of medians, >1x = fmgate better by that factor "
        "(lower latency/memory/CPU, higher throughput)"
    )
    return lines


def idle_note(report: BenchReport) -> str | None:
    """What each server spent idle (every server stays up during the rounds)."""
    shares = []
    for name, outcome in report.paths.items():
        server = outcome.figures.server if outcome.figures is not None else None
        if server is not None and server.idle_cpu_share is not None:
            shares.append(f"{name} {server.idle_cpu_share * 100:.2f}%")
    if not shares:
        return None
    return (
        "idle servers: every server stays up during the rounds; CPU each used while the other "
        f"paths were measured (share of one CPU): {', '.join(shares)}"
    )


def path_notes(name: str, outcome: PathOutcome) -> list[str]:
    """Why a path has no figures, or its held streams; streams that failed under load."""
    lines = []
    if outcome.status != "ok":
        lines.append(f"{name}: {outcome.status} ({outcome.reason})")
    if outcome.figures is not None and outcome.figures.server is not None:
        server = outcome.figures.server
        for hold in (server.hold, server.large_hold):
            if hold is not None:
                lines.append(
                    f"{name}: {hold.requested} streams held open, "
                    f"{hold.open_at_reading} open at the RSS reading, {hold.dropped} dropped, "
                    f"{hold.rss_per_1000_mb:.1f} MiB per 1,000 open streams"
                )
    if outcome.figures is not None:
        failed = sum(
            phase.failed for visit in outcome.figures.rounds for phase in visit.levels.values()
        )
        if outcome.figures.realistic is not None:
            failed += outcome.figures.realistic.failed
        if failed:
            lines.append(f"{name}: {failed} streams failed during the load phases")
    return lines
