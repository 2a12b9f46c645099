"""The status page and /status.json show each upstream's circuit and concurrency limit."""

from __future__ import annotations

from fmgate_emulator import AsyncEmulatorClient
from tests.harness.load import load
from tests.resilience.catalog import PRIMARY, WEST, OpenServed

STREAM = "ConverseStream"


async def test_an_open_circuit_and_the_concurrency_limits_show_on_the_status_page(
    served: OpenServed, emu: AsyncEmulatorClient
) -> None:
    await emu.inject("unavailable", model_id=PRIMARY, operation=STREAM, count=-1)
    async with served(threshold=2) as s:
        await load(s, "resilient", 4)
        status = (await s.session.get("/status.json")).json()
        page = (await s.session.get("/")).text
    upstreams = {(row["model_id"], row["region"]): row for row in status["upstreams"]}
    primary = upstreams[PRIMARY, "us-east-1"]
    west = upstreams[WEST, "us-west-2"]
    assert primary["circuit"] == "open"
    assert west["circuit"] == "closed"
    assert primary["concurrency_limit"] == 1.0  # refused with nothing answering: min_limit
    assert west["concurrency_limit"] is None  # never refused: no limit
    assert (west["running"], west["waiting"]) == (0, 0)
    assert "<h2>Upstreams</h2>" in page
    assert f'<tr class="open"><td><code>{PRIMARY}</code></td><td>us-east-1</td>' in page
    assert '<td class="circuit">open</td>' in page
    assert '<td class="num limit">1</td>' in page
    assert '<td class="num limit">no limit</td>' in page
