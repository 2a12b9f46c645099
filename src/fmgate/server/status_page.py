"""The status page at ``/``: every bot with its model, prices and live numbers from the metrics.

Plain HTML, no JavaScript: the page refreshes itself (``<meta http-equiv="refresh">``). Every
value that comes from the catalog (names, descriptions, model ids) is HTML-escaped. The live
numbers are read from the gateway's own Prometheus registry, the same values ``/metrics`` serves:
requests finished, errors, streams in flight, the TTFT median estimated from the histogram
buckets the way PromQL's ``histogram_quantile`` does (linear within the bucket), and the
prompt-cache hit ratio (``fmgate_tokens_total``: cache reads over every prompt token; "–" for
a bot without prompt caching or before its first prompt tokens). Below the
bots, one row per upstream target (a model in a region) the gateway has called: its circuit
breaker's state and its adaptive concurrency (limit, running, waiting). In a worker of
``fmgate serve --workers N`` the numbers are that worker's, and the page says so and names every
worker's metrics port.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from html import escape

from prometheus_client import CollectorRegistry

from fmgate.accounting.ledger import cache_hit_ratio
from fmgate.accounting.pricing import price_summary
from fmgate.bots.registry import DeployedBot
from fmgate.config.bot_config import BotConfig, ChatBotConfig
from fmgate.resilience.breaker import Breakers, BreakerState
from fmgate.resilience.concurrency import ConcurrencyLimits
from fmgate.server.worker_slot import WorkerSlot

REFRESH_SECONDS = 5

REQUESTS = "fmgate_requests_total"
ERRORS = "fmgate_errors_total"
INFLIGHT = "fmgate_inflight_streams"
TTFT_BUCKET = "fmgate_ttft_seconds_bucket"
TOKENS = "fmgate_tokens_total"
#: The ``direction`` labels of :data:`TOKENS` that make up a prompt.
PROMPT_DIRECTIONS = ("input", "cache_read", "cache_write")


@dataclass(slots=True)
class BotStats:
    """Live numbers of one bot, since the gateway started."""

    requests: float = 0.0
    errors: float = 0.0
    inflight: float = 0.0
    #: (upper bound in seconds, cumulative count), as in the histogram's ``le`` buckets.
    ttft_buckets: list[tuple[float, float]] = field(default_factory=list)
    #: Prompt tokens by :data:`PROMPT_DIRECTIONS` (input, cache_read, cache_write).
    prompt_tokens: dict[str, float] = field(default_factory=dict)

    @property
    def ttft_p50(self) -> float | None:
        """Median time to first token in seconds; None before any request delivered output."""
        return bucket_quantile(0.5, self.ttft_buckets)

    @property
    def cache_hit_ratio(self) -> float | None:
        """Cache reads over every prompt token; None before any prompt tokens."""
        tokens = self.prompt_tokens
        return cache_hit_ratio(
            tokens.get("input", 0.0), tokens.get("cache_read", 0.0), tokens.get("cache_write", 0.0)
        )


@dataclass(frozen=True, slots=True)
class UpstreamRow:
    """One target the gateway has called: its circuit and its adaptive concurrency."""

    model_id: str
    region: str
    circuit: str
    consecutive_failures: int
    #: Calls allowed at once (learned from Bedrock's refusals, or a static cap); ``None``: no limit.
    concurrency_limit: float | None
    running: int
    waiting: int

    def as_json(self) -> dict[str, object]:
        return asdict(self)


async def upstream_rows(breakers: Breakers, limits: ConcurrencyLimits) -> list[UpstreamRow]:
    """Every target either the breakers or the concurrency limits know, sorted."""
    circuits = {(s.key.model_id, s.key.aws_region): s for s in await breakers.statuses()}
    concurrency = {(s.model_id, s.aws_region): s for s in limits.statuses()}
    rows = []
    for model_id, region in sorted(circuits.keys() | concurrency.keys()):
        circuit = circuits.get((model_id, region))
        limit = concurrency.get((model_id, region))
        rows.append(
            UpstreamRow(
                model_id=model_id,
                region=region,
                circuit=(circuit.state if circuit else BreakerState.CLOSED).value,
                consecutive_failures=circuit.consecutive_failures if circuit else 0,
                concurrency_limit=shown_limit(limit.limit) if limit else None,
                running=limit.running if limit else 0,
                waiting=limit.waiting if limit else 0,
            )
        )
    return rows


def shown_limit(limit: float) -> float | None:
    """A concurrency limit as the status page shows it (``None``: no limit)."""
    return None if math.isinf(limit) else round(limit, 1)


def bot_stats(registry: CollectorRegistry) -> dict[str, BotStats]:
    """Per-bot numbers read from a metrics registry (bots never requested are absent)."""
    stats: defaultdict[str, BotStats] = defaultdict(BotStats)
    for family in registry.collect():
        for sample in family.samples:
            bot = sample.labels.get("bot")
            if bot is None:
                continue
            if sample.name == REQUESTS:
                stats[bot].requests += sample.value
            elif sample.name == ERRORS:
                stats[bot].errors += sample.value
            elif sample.name == INFLIGHT:
                stats[bot].inflight += sample.value
            elif sample.name == TTFT_BUCKET:
                stats[bot].ttft_buckets.append((float(sample.labels["le"]), sample.value))
            elif sample.name == TOKENS and sample.labels["direction"] in PROMPT_DIRECTIONS:
                tokens = stats[bot].prompt_tokens
                direction = sample.labels["direction"]
                tokens[direction] = tokens.get(direction, 0.0) + sample.value
    return dict(stats)


def caches_prompts(config: BotConfig) -> bool:
    """Whether the bot's requests use Bedrock's prompt cache (a chat bot with caching on)."""
    return (
        isinstance(config, ChatBotConfig)
        and config.prompt_caching is not None
        and config.prompt_caching.active
    )


def shown_hit_ratio(config: BotConfig, live: BotStats) -> float | None:
    """The bot's cache hit ratio as the page shows it: None without caching or prompt tokens."""
    return live.cache_hit_ratio if caches_prompts(config) else None


def bucket_quantile(q: float, buckets: Iterable[tuple[float, float]]) -> float | None:
    """The ``q`` quantile of a cumulative histogram, interpolated within its bucket."""
    ordered = sorted(buckets)
    if not ordered or ordered[-1][1] <= 0:
        return None
    rank = q * ordered[-1][1]
    lower_bound, lower_count = 0.0, 0.0
    for upper_bound, count in ordered:
        if count >= rank:
            if math.isinf(upper_bound):
                return lower_bound  # beyond the last finite bucket: its bound is the best we know
            span = count - lower_count
            share = (rank - lower_count) / span if span else 1.0
            return lower_bound + (upper_bound - lower_bound) * share
        lower_bound, lower_count = upper_bound, count
    return lower_bound


def format_ttft(seconds: float | None) -> str:
    return "–" if seconds is None else f"{seconds * 1000:.0f} ms"


def format_count(value: float) -> str:
    return f"{value:,.0f}"


def format_ratio(ratio: float | None) -> str:
    return "–" if ratio is None else f"{ratio:.1%}"


def status_rows(
    bots: Iterable[DeployedBot], stats: Mapping[str, BotStats]
) -> list[dict[str, object]]:
    """One row per bot: what the page shows (and ``/status.json`` serves)."""
    rows: list[dict[str, object]] = []
    for deployed in bots:
        config = deployed.config
        live = stats.get(config.bot_name, BotStats())
        hit_ratio = shown_hit_ratio(config, live)
        rows.append(
            {
                "bot": config.bot_name,
                "kind": config.kind,
                "model_id": config.model_id,
                "region": config.aws_region,
                "description": config.description,
                "price": price_summary(config.pricing),
                "path": f"/bot/{config.bot_name}",
                "requests": int(live.requests),
                "errors": int(live.errors),
                "inflight": int(live.inflight),
                "ttft_p50_ms": None if live.ttft_p50 is None else round(live.ttft_p50 * 1000, 1),
                "cache_hit_ratio": None if hit_ratio is None else round(hit_ratio, 4),
            }
        )
    return rows


PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="refresh" content="{refresh}">
<title>fmgate status</title>
<style>
body {{ font: 14px/1.4 system-ui, sans-serif; margin: 2rem; color: #222; }}
table {{ border-collapse: collapse; width: 100%; }}
th, td {{ text-align: left; padding: .35rem .6rem; border-bottom: 1px solid #ddd; }}
th {{ background: #f4f4f4; }}
td.num {{ text-align: right; font-variant-numeric: tabular-nums; }}
tr.failing td.errors {{ color: #b00020; font-weight: 600; }}
tr.open td.circuit {{ color: #b00020; font-weight: 600; }}
small {{ color: #666; }}
</style>
</head>
<body>
<h1>fmgate</h1>
<p>{count} bots &middot; {requests} requests &middot; {errors} errors &middot;
{inflight} streaming now &middot; <a href="/metrics">metrics</a> &middot;
<a href="/status.json">status.json</a> &middot; refreshes every {refresh} s</p>
{worker}<table>
<thead><tr><th>bot</th><th>kind</th><th>model</th><th>region</th><th>price</th>
<th>requests</th><th>errors</th><th>in flight</th><th>TTFT p50</th>
<th title="prompt tokens read from the prompt cache, of all prompt tokens">cache hits</th></tr>
</thead>
<tbody>
{rows}
</tbody>
</table>
{upstreams}
</body>
</html>
"""

ROW = (
    '<tr class="{css}" data-bot="{bot}"><td><a href="{path}" title="{description}">{bot}</a></td>'
    "<td>{kind}</td><td><code>{model}</code></td><td>{region}</td><td>{price}</td>"
    '<td class="num requests">{requests}</td><td class="num errors">{errors}</td>'
    '<td class="num inflight">{inflight}</td><td class="num ttft">{ttft}</td>'
    '<td class="num cache-hits">{cache_hits}</td></tr>'
)


UPSTREAMS = """<h2>Upstreams</h2>
<table>
<thead><tr><th>model</th><th>region</th><th>circuit</th><th>failures in a row</th>
<th>concurrency limit</th><th>running</th><th>waiting</th></tr></thead>
<tbody>
{rows}
</tbody>
</table>"""

UPSTREAM_ROW = (
    '<tr class="{css}"><td><code>{model}</code></td><td>{region}</td>'
    '<td class="circuit">{circuit}</td><td class="num">{failures}</td>'
    '<td class="num limit">{limit}</td><td class="num">{running}</td>'
    '<td class="num">{waiting}</td></tr>'
)


def render_upstreams(upstreams: Iterable[UpstreamRow]) -> str:
    rows = [
        UPSTREAM_ROW.format(
            css="" if row.circuit == BreakerState.CLOSED.value else "open",
            model=escape(row.model_id),
            region=escape(row.region),
            circuit=escape(row.circuit.replace("_", "-")),
            failures=row.consecutive_failures,
            limit="no limit" if row.concurrency_limit is None else f"{row.concurrency_limit:g}",
            running=row.running,
            waiting=row.waiting,
        )
        for row in upstreams
    ]
    return UPSTREAMS.format(rows="\n".join(rows)) if rows else ""


WORKER = '<p class="worker">Numbers from {what}.</p>\n'


def render_worker(worker: WorkerSlot | None) -> str:
    """Which worker's numbers the page shows, when there are several workers."""
    if worker is None or worker.count < 2:
        return ""
    return WORKER.format(what=escape(worker.describe()))


def render_status_page(
    bots: Iterable[DeployedBot],
    registry: CollectorRegistry,
    upstreams: Iterable[UpstreamRow] = (),
    worker: WorkerSlot | None = None,
) -> str:
    """The whole HTML page (every catalog value escaped)."""
    stats = bot_stats(registry)
    bots = list(bots)
    rendered = []
    for deployed in bots:
        config = deployed.config
        live = stats.get(config.bot_name, BotStats())
        rendered.append(
            ROW.format(
                css="failing" if live.errors else "",
                bot=escape(config.bot_name),
                path=escape(f"/bot/{config.bot_name}"),
                description=escape(config.description or ""),
                kind=escape(config.kind),
                model=escape(config.model_id),
                region=escape(config.aws_region),
                price=escape(price_summary(config.pricing)),
                requests=format_count(live.requests),
                errors=format_count(live.errors),
                inflight=format_count(live.inflight),
                ttft=format_ttft(live.ttft_p50),
                cache_hits=format_ratio(shown_hit_ratio(config, live)),
            )
        )
    return PAGE.format(
        refresh=REFRESH_SECONDS,
        count=len(bots),
        requests=format_count(sum(s.requests for s in stats.values())),
        errors=format_count(sum(s.errors for s in stats.values())),
        inflight=format_count(sum(s.inflight for s in stats.values())),
        rows="\n".join(rendered),
        upstreams=render_upstreams(upstreams),
        worker=render_worker(worker),
    )
