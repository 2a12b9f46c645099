"""Hot reload: catalog file edits reach the running gateway without a restart."""

from __future__ import annotations

import asyncio
import os
import signal
from pathlib import Path

import fastapi_poe as fp
import httpx

from fmgate_emulator import AsyncEmulatorClient
from fmgate_emulator.content import reply_text
from tests.fakes.poe_api import FakePoeApi
from tests.harness.catalog_files import (
    ServeApp,
    ServeFile,
    answer_over_http,
    catalog_text,
    is_served,
    wait_until_served,
    write_atomically,
)
from tests.harness.poe_client import TEST_POE_KEY, ask, query

NOVA_MICRO = ("nova-micro", "amazon.nova-micro-v1:0")
NOVA_LITE = ("nova-lite", "amazon.nova-lite-v1:0")
WAIT_SECONDS = 10.0


def expected(text: str) -> str:
    return reply_text(text, 256)[0]


async def test_added_bot_answers_after_the_file_changes(
    serve_file: ServeFile, catalog_file: object, poe_api: FakePoeApi
) -> None:
    async with serve_file(catalog_file) as served, served.reloader.watching():
        assert not await is_served(served.session, "nova-lite")

        write_atomically(served.path, catalog_text(poe_api.url, NOVA_MICRO, NOVA_LITE))
        outcome = await asyncio.wait_for(served.reloader.next_outcome(), WAIT_SECONDS)

        assert outcome.status == "applied"
        assert outcome.added == ("nova-lite",)
        assert outcome.removed == outcome.changed == outcome.restart_needed == ()
        reply = await ask(served.session, "nova-lite", "hello")
        assert reply.error is None
        assert reply.text == expected("hello")
        assert (await ask(served.session, "nova-micro", "still here")).text == expected(
            "still here"
        )


async def test_an_invalid_catalog_is_rejected_and_the_old_bots_keep_serving(
    serve_file: ServeFile, catalog_file: object, poe_api: FakePoeApi
) -> None:
    async with serve_file(catalog_file) as served:
        broken = catalog_text(poe_api.url, NOVA_MICRO, NOVA_LITE).replace(
            "max_tokens: 256", "max_tokens: -1", 1
        )
        write_atomically(served.path, broken)

        outcome = await served.reloader.check()

        assert outcome is not None
        assert outcome.status == "rejected"
        assert outcome.problem is not None
        assert 'bot "nova-micro"' in outcome.problem
        assert "max_tokens" in outcome.problem
        assert served.reloader.last_outcome == outcome
        assert [d.config.bot_name for d in served.gateway.registry] == ["nova-micro"]
        assert (await ask(served.session, "nova-micro", "hi")).text == expected("hi")
        # the same broken content is reported once, not at every poll
        assert await served.reloader.check() is None


async def test_a_missing_secret_rejects_the_catalog(
    serve_file: ServeFile, catalog_file: object, poe_api: FakePoeApi
) -> None:
    async with serve_file(catalog_file) as served:
        text = catalog_text(poe_api.url, NOVA_MICRO, NOVA_LITE)
        text += "    access_key: env:FMGATE_TEST_NOT_SET\n"  # nova-lite's own, unresolvable key
        write_atomically(served.path, text)

        outcome = await served.reloader.reload()

        assert outcome.status == "rejected"
        assert outcome.problem is not None
        assert "FMGATE_TEST_NOT_SET" in outcome.problem
        assert served.gateway.registry.get("nova-lite") is None
        assert (await ask(served.session, "nova-micro", "hi")).text == expected("hi")


async def test_gateway_settings_changes_need_a_restart(
    serve_file: ServeFile, catalog_file: object, poe_api: FakePoeApi
) -> None:
    async with serve_file(catalog_file) as served:
        running = served.gateway.settings
        text = catalog_text(
            poe_api.url, NOVA_MICRO, NOVA_LITE, gateway_extra="  max_pool_connections: 7\n"
        )
        write_atomically(served.path, text)

        outcome = await served.reloader.reload()

        assert outcome.status == "applied"
        assert outcome.restart_needed == ("max_pool_connections",)
        assert "restart needed for gateway.max_pool_connections" in outcome.summary()
        assert served.gateway.settings == running  # the pools are not rebuilt live
        assert served.gateway.registry.get("nova-lite") is not None


async def test_touching_the_file_without_changes_does_not_reload(
    serve_file: ServeFile, catalog_file: object
) -> None:
    async with serve_file(catalog_file) as served:
        registry = served.gateway.registry
        first = await served.reloader.check()
        assert first is not None
        assert first.status == "unchanged"
        write_atomically(served.path, served.path.read_text())  # new mtime, same bytes
        assert await served.reloader.check() is None
        assert served.gateway.registry is registry


async def test_sighup_reloads(
    serve_file: ServeFile, catalog_file: object, poe_api: FakePoeApi
) -> None:
    async with serve_file(catalog_file, poll_interval=0) as served:
        async with served.reloader.watching():
            write_atomically(served.path, catalog_text(poe_api.url, NOVA_MICRO, NOVA_LITE))
            waiting = asyncio.ensure_future(served.reloader.next_outcome())
            await asyncio.sleep(0)  # the waiter is registered before the signal arrives
            os.kill(os.getpid(), signal.SIGHUP)
            outcome = await asyncio.wait_for(waiting, WAIT_SECONDS)
        assert outcome.added == ("nova-lite",)
        assert (await ask(served.session, "nova-lite", "hi")).text == expected("hi")


async def test_a_stream_in_flight_finishes_on_the_bot_it_started_with(
    serve_app: ServeApp, catalog_file: Path, poe_api: FakePoeApi, emu: AsyncEmulatorClient
) -> None:
    await emu.set_timing(tokens_per_second=20)  # the answer takes seconds to stream
    message = "keep talking across the swap " * 6
    async with serve_app(catalog_file) as url, httpx.AsyncClient(base_url=url) as session:
        stream = fp.stream_request(
            query(("user", message)),
            "nova-micro",
            TEST_POE_KEY,
            base_url=f"{url}/bot/",
            session=session,
            num_tries=1,
        )
        text = ""
        after_swap = 0
        swapped = False
        async for partial in stream:
            text += partial.text
            if swapped:
                after_swap += 1
            elif partial.text:
                # mid-stream: nova-micro leaves the catalog, and the gateway notices
                write_atomically(catalog_file, catalog_text(poe_api.url, NOVA_LITE))
                await wait_until_served(session, "nova-micro", served=False)
                swapped = True
                metrics = (await session.get("/metrics")).text
                assert 'fmgate_inflight_streams{bot="nova-micro"} 1.0' in metrics

        assert text == expected(message)
        assert after_swap > 0  # the stream went on after the swap
        assert await is_served(session, "nova-lite")
        assert await answer_over_http(session, url, "nova-lite", "hi") == expected("hi")
    # the removed bot's request was still charged, with its key (captures finish at shutdown)
    captured = poe_api.captures
    assert len(captured) == 2
    assert all(call.key_ok for call in captured)
    assert all(call.total > 0 for call in captured)
