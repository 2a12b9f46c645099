"""A fake of Poe's settings-sync API on a real loopback server (for ``fmgate poe sync``).

fastapi_poe 0.0.83's :func:`fastapi_poe.client.sync_bot_settings` POSTs to
``{base_url}fetch_settings/{bot_name}/{access_key}/{protocol_version}`` (no body: Poe then asks
the bot's server for its settings) or, given settings, to ``{base_url}update_settings/...`` with
them as JSON. It treats any status but 200 as a failure. This fake serves both under ``/bot/``
(so ``base_url`` is ``api.base_url``), records every call, and answers 401 when a bot's key is
not the expected one, or ``error_status`` for every call when that is set.

With ``bot_server_url`` set, a ``fetch_settings`` call does what Poe then does: it POSTs a
``settings`` request to ``{bot_server_url}/bot/{bot_name}`` with the bot's access key as a
Bearer token, keeps the JSON answer in ``fetched`` and answers 502 unless the bot answered 200.

    with FakePoeSettingsApi.running(access_keys={"nova": "key"}) as api:
        sync_bot_settings("nova", "key", base_url=api.base_url)
        assert api.calls[0].bot_name == "nova"
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass

import aiohttp
from aiohttp import web

from tests.fakes.poe_api import _serve_in_thread

OPERATIONS = ("fetch_settings", "update_settings")


@dataclass(frozen=True, slots=True)
class SettingsSyncCall:
    """One sync request, as received."""

    operation: str
    bot_name: str
    access_key: str
    protocol_version: str
    body: bytes
    content_type: str


class FakePoeSettingsApi:
    """Records sync calls; answers per the attributes below (tests may change them any time)."""

    def __init__(self, *, access_keys: Mapping[str, str] | None = None) -> None:
        #: Bot name -> the key Poe knows for it (a bot missing here: any key is accepted).
        self.access_keys = dict(access_keys or {})
        #: Answer every call with this status instead (e.g. 403, 500), when set.
        self.error_status: int | None = None
        #: Where Poe would reach the bots' server (fetch_settings then asks it), when set.
        self.bot_server_url: str | None = None
        #: Bot name -> the settings its server answered to the last fetch.
        self.fetched: dict[str, object] = {}
        self.url = ""
        self._lock = threading.Lock()
        self._calls: list[SettingsSyncCall] = []

    @property
    def base_url(self) -> str:
        """What to pass as fastapi_poe's ``base_url`` (or ``settings_base_url``)."""
        return f"{self.url}bot/"

    @property
    def calls(self) -> list[SettingsSyncCall]:
        with self._lock:
            return list(self._calls)

    @classmethod
    @contextmanager
    def running(
        cls, *, access_keys: Mapping[str, str] | None = None
    ) -> Iterator[FakePoeSettingsApi]:
        """Serve on 127.0.0.1 (a free port) in a background thread; stop on exit."""
        api = cls(access_keys=access_keys)
        with _serve_in_thread(api.app()) as url:
            api.url = url
            yield api

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_post("/bot/{operation}/{bot_name}/{access_key}/{version}", self._sync)
        return app

    async def _sync(self, request: web.Request) -> web.Response:
        operation = request.match_info["operation"]
        if operation not in OPERATIONS:
            raise web.HTTPNotFound()
        call = SettingsSyncCall(
            operation=operation,
            bot_name=request.match_info["bot_name"],
            access_key=request.match_info["access_key"],
            protocol_version=request.match_info["version"],
            body=await request.read(),
            content_type=request.headers.get("Content-Type", ""),
        )
        with self._lock:
            self._calls.append(call)
        if self.error_status is not None:
            return web.Response(status=self.error_status, text="settings sync failed")
        expected = self.access_keys.get(call.bot_name)
        if expected is not None and call.access_key != expected:
            return web.Response(status=401, text="Invalid access key")
        if operation == "fetch_settings" and self.bot_server_url is not None:
            return await self._fetch_from_bot(call)
        return web.json_response({"status": "ok"})

    async def _fetch_from_bot(self, call: SettingsSyncCall) -> web.Response:
        """Ask the bot's server for its settings, as Poe does after a fetch_settings call."""
        url = f"{self.bot_server_url}/bot/{call.bot_name}"
        request = {"version": call.protocol_version, "type": "settings"}
        headers = {"Authorization": f"Bearer {call.access_key}"}
        async with (
            aiohttp.ClientSession() as session,
            session.post(url, json=request, headers=headers) as answer,
        ):
            if answer.status != 200:
                return web.Response(status=502, text=f"the bot answered {answer.status}")
            settings = await answer.json()
        with self._lock:
            self.fetched[call.bot_name] = settings
        return web.json_response({"status": "ok"})
