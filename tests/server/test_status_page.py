"""The status page at ``/`` and its JSON at ``/status.json``: bots, prices, live numbers."""

from __future__ import annotations

from pathlib import Path

import pytest

from fmgate.config.bot_config import ChatBotConfig, PromptCaching
from fmgate.observability.metrics import GatewayMetrics
from fmgate.server.status_page import BotStats, bot_stats, bucket_quantile, shown_hit_ratio
from tests.fakes.poe_api import FakePoeApi
from tests.harness.catalog_files import ServeFile, catalog_text
from tests.harness.poe_client import ask

HOSTILE = '<script>alert("x")</script> & "quotes"'


@pytest.fixture
def described_catalog(catalog_file: Path, poe_api: FakePoeApi) -> Path:
    text = catalog_text(
        poe_api.url, ("nova-micro", "amazon.nova-micro-v1:0"), ("nova-pro", "amazon.nova-pro-v1:0")
    )
    catalog_file.write_text(text + f"    description: '{HOSTILE}'\n")
    return catalog_file


async def test_page_lists_bots_with_prices_and_escapes_catalog_text(
    serve_file: ServeFile, described_catalog: Path
) -> None:
    async with serve_file(described_catalog) as served:
        response = await served.session.get("/")

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    page = response.text
    assert '<meta http-equiv="refresh"' in page
    assert 'data-bot="nova-micro"' in page
    assert 'data-bot="nova-pro"' in page
    assert "amazon.nova-pro-v1:0" in page
    assert "$1/$5 per 1M tok" in page  # 0.1 / 0.5 milli-cents per token
    assert "<script>" not in page
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &quot;quotes&quot;" in page


async def test_numbers_move_after_requests(serve_file: ServeFile, catalog_file: Path) -> None:
    async with serve_file(catalog_file) as served:
        before = (await served.session.get("/status.json")).json()
        assert before["bots"][0]["requests"] == 0
        assert before["bots"][0]["ttft_p50_ms"] is None

        assert (await ask(served.session, "nova-micro", "one")).error is None
        assert (await ask(served.session, "nova-micro", "two")).error is None
        await served.gateway.finisher.drain()  # accounting runs after the stream
        after = (await served.session.get("/status.json")).json()
        page = (await served.session.get("/")).text

    row = after["bots"][0]
    assert (row["bot"], row["kind"], row["path"]) == ("nova-micro", "chat", "/bot/nova-micro")
    assert row["requests"] == 2
    assert row["errors"] == 0
    assert row["inflight"] == 0
    assert row["ttft_p50_ms"] is not None
    assert row["ttft_p50_ms"] > 0
    assert '<td class="num requests">2</td>' in page
    assert '<td class="num ttft">–</td>' not in page


def test_quantile_interpolates_within_the_bucket() -> None:
    buckets = [(0.1, 0.0), (0.2, 4.0), (0.4, 8.0), (float("inf"), 8.0)]
    assert bucket_quantile(0.5, buckets) == pytest.approx(0.2)
    assert bucket_quantile(0.25, buckets) == pytest.approx(0.15)
    assert bucket_quantile(0.75, buckets) == pytest.approx(0.3)
    assert bucket_quantile(0.5, [(0.1, 0.0), (float("inf"), 0.0)]) is None
    assert bucket_quantile(0.5, [(0.1, 0.0), (float("inf"), 3.0)]) == 0.1


def test_the_hit_ratio_is_shown_for_bots_that_cache_once_they_have_prompt_tokens() -> None:
    metrics = GatewayMetrics()
    for name, reads, writes in (("claude", 300, 100), ("short", 0, 0), ("off", 0, 0)):
        cache = {"cache_read_tokens": reads, "cache_write_tokens": writes}
        metrics.request_finished(name, "poe", "ok", 0.1, 0.2, 100, 5, 1, **cache)
    stats = bot_stats(metrics.registry)
    caching = PromptCaching(min_tokens=1024)

    def bot(name: str, prompt_caching: PromptCaching | None) -> ChatBotConfig:
        return ChatBotConfig(
            bot_name=name, model_id="anthropic.claude-v1", prompt_caching=prompt_caching
        )

    assert shown_hit_ratio(bot("claude", caching), stats["claude"]) == 300 / 500
    # Caching on, prompts below the minimum: nothing read, which is worth seeing.
    assert shown_hit_ratio(bot("short", caching), stats["short"]) == 0.0
    off = caching.model_copy(update={"mode": "off"})
    assert shown_hit_ratio(bot("off", off), stats["off"]) is None
    assert shown_hit_ratio(bot("off", None), stats["off"]) is None  # a model without caching
    assert shown_hit_ratio(bot("fresh", caching), BotStats()) is None  # no prompt tokens yet
