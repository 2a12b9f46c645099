"""The status page as a real browser shows it: headless Chromium against a real uvicorn.

The gateway serves on 127.0.0.1, answers a few Poe queries, then Chromium loads ``/`` and dumps
the rendered DOM and a screenshot. Chromium is kept off every other host: no background
networking, component updates, sync or QUIC, and a host-resolver rule that resolves nothing but
127.0.0.1. The screenshot is kept in ``test-artifacts/status-page.png`` at the repository root.

Chromium comes from ``scripts/system-packages.sh``: when it is missing the test fails under CI
(``CI`` set) and is skipped elsewhere.
"""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import signal
from html.parser import HTMLParser
from pathlib import Path

import httpx
import pytest
from PIL import Image, ImageStat

from fmgate.server.app import build_app
from tests.fakes.poe_api import FakePoeApi
from tests.harness.catalog_files import BOUND, ServeFile, answer_over_http, catalog_text
from tests.harness.servers import uvicorn_serving

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts"
WINDOW = (1280, 900)
#: Longest Chromium may take to load, render and dump the page before the test fails.
CHROMIUM_SECONDS = 90.0

CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-extensions",
    "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
    f"--window-size={WINDOW[0]},{WINDOW[1]}",
    "--hide-scrollbars",
)


def chromium_program() -> str:
    """Chromium's path; missing: fail under CI, skip elsewhere."""
    program = shutil.which("chromium") or shutil.which("chromium-browser")
    if program is None:
        reason = "chromium is not installed (scripts/system-packages.sh installs it)"
        if os.environ.get("CI"):
            pytest.fail(reason)
        pytest.skip(reason)
    return program


async def render_in_chromium(program: str, url: str, screenshot: Path, profile: Path) -> str:
    """Load ``url`` in headless Chromium; return the rendered DOM, write a PNG screenshot."""
    process = await asyncio.create_subprocess_exec(
        program,
        *CHROMIUM_FLAGS,
        f"--user-data-dir={profile}",
        "--dump-dom",
        f"--screenshot={screenshot}",
        url,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env={**os.environ, "HOME": str(profile)},
        start_new_session=True,  # its own process group: renderer and helpers end with it
    )
    try:
        async with asyncio.timeout(CHROMIUM_SECONDS):
            out, err = await process.communicate()
    except TimeoutError:
        os.killpg(process.pid, signal.SIGKILL)
        await process.wait()
        pytest.fail(f"chromium did not finish within {CHROMIUM_SECONDS:.0f} s")
    assert process.returncode == 0, err.decode(errors="replace")[-2000:]
    return out.decode()


class StatusTable(HTMLParser):
    """The status table of a rendered page: each bot's cells by column heading."""

    def __init__(self) -> None:
        super().__init__()
        self.headings: list[str] = []
        self.rows: dict[str, list[str]] = {}
        self.summary = ""
        self._cell: list[str] | None = None
        self._row: list[str] | None = None
        self._in_summary = False
        self._bots_table_done = False  # the upstreams table that follows has its own headings

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        if tag == "tr" and attributes.get("data-bot"):
            self._row = self.rows.setdefault(str(attributes["data-bot"]), [])
        elif tag in ("td", "th"):
            self._cell = []
        elif tag == "p" and not self.summary:
            self._in_summary = True

    def handle_endtag(self, tag: str) -> None:
        if tag in ("td", "th") and self._cell is not None:
            text = " ".join("".join(self._cell).split())
            if tag == "th":
                if not self._bots_table_done:
                    self.headings.append(text)
            elif self._row is not None:
                self._row.append(text)
            self._cell = None
        elif tag == "tr":
            self._row = None
        elif tag == "p":
            self._in_summary = False
        elif tag == "table":
            self._bots_table_done = True

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)
        if self._in_summary:
            self.summary += data

    def row(self, bot: str) -> dict[str, str]:
        return dict(zip(self.headings, self.rows[bot], strict=True))


def read_status_table(dom: str) -> StatusTable:
    table = StatusTable()
    table.feed(dom)
    table.close()
    return table


def assert_real_screenshot(path: Path) -> None:
    """A PNG of the window's size that shows text on a light page (not blank, not one colour)."""
    with Image.open(path) as image:
        assert image.format == "PNG"
        assert image.size == WINDOW
        gray = image.convert("L")
    histogram = gray.histogram()  # pixels per grey level, 0 (black) to 255 (white)
    assert sum(1 for count in histogram if count) > 16  # anti-aliased text, rules, shading
    share = sum(histogram[:128]) / (WINDOW[0] * WINDOW[1])
    assert 0.001 < share < 0.5, share  # some text drawn, but not a black or inverted page
    assert ImageStat.Stat(gray).mean[0] > 180  # the page's light background


@pytest.fixture
def two_bots(catalog_file: Path, poe_api: FakePoeApi) -> Path:
    """The catalog file, now serving nova-micro and nova-pro."""
    catalog_file.write_text(
        catalog_text(
            poe_api.url,
            ("nova-micro", "amazon.nova-micro-v1:0"),
            ("nova-pro", "amazon.nova-pro-v1:0"),
        )
    )
    return catalog_file


@pytest.fixture
def screenshot() -> Path:
    """Where the screenshot goes (kept after the run: test-artifacts/ is git-ignored)."""
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / "status-page.png"
    path.unlink(missing_ok=True)
    return path


async def test_status_page_renders_live_numbers_in_headless_chromium(
    serve_file: ServeFile, two_bots: Path, screenshot: Path, tmp_path: Path
) -> None:
    program = chromium_program()
    async with (
        serve_file(two_bots) as served,
        uvicorn_serving(build_app(served.gateway)) as url,
    ):
        async with httpx.AsyncClient(timeout=BOUND) as http:
            for bot, text in (("nova-micro", "one"), ("nova-micro", "two"), ("nova-pro", "3")):
                assert await answer_over_http(http, url, bot, text)
        await served.gateway.finisher.drain()  # accounting runs after each stream
        dom = await render_in_chromium(program, f"{url}/", screenshot, tmp_path / "profile")

    print(f"status page screenshot: {screenshot}")
    table = read_status_table(dom)
    assert table.headings[:5] == ["bot", "kind", "model", "region", "price"]
    micro, pro = table.row("nova-micro"), table.row("nova-pro")
    assert (micro["bot"], micro["kind"], micro["model"]) == (
        "nova-micro",
        "chat",
        "amazon.nova-micro-v1:0",
    )
    assert pro["model"] == "amazon.nova-pro-v1:0"
    assert micro["price"] == pro["price"] == "$1/$5 per 1M tok"
    assert (micro["requests"], micro["errors"], micro["in flight"]) == ("2", "0", "0")
    assert pro["requests"] == "1"
    for row in (micro, pro):
        assert re.fullmatch(r"\d[\d,]* ms", row["TTFT p50"]), row["TTFT p50"]
        assert row["cache hits"] == "–"  # the catalog's bots have no prompt caching
    assert "2 bots" in table.summary
    assert "3 requests" in table.summary
    assert_real_screenshot(screenshot)
