"""A fake of Poe's own HTTP APIs (cost and file upload) on a real loopback server.

Poe's cost and file-upload APIs cannot run here, so this small aiohttp server stands in for
them, speaking the wire that fastapi_poe 0.0.83 speaks (checked by tests/fakes/test_poe_api.py
with fastapi_poe's own client functions):

- ``POST /bot/cost/{bot_query_id}/{authorize|capture}``: JSON ``{"amounts": [...],
  "access_key": ...}`` in, Server-Sent Events out (``event: result`` with a ``status``).
- ``POST /file_upload_3RD_PARTY_POST``: header ``Authorization: <key>``, multipart ``file`` or
  form ``download_url``; answers ``{"attachment_url", "mime_type"}``. The attachment URL points
  back at ``GET /files/{id}/{name}`` on this server, which serves the stored bytes.

Every call is recorded; tests read ``cost_calls``, ``captures``, ``authorizations`` and
``uploads``. Use ``with FakePoeApi.running() as api:`` and point a base URL at ``api.url``.
"""

from __future__ import annotations

import asyncio
import json
import mimetypes
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Literal
from urllib.parse import urlsplit

import aiohttp
from aiohttp import web

CostKind = Literal["authorize", "capture"]
LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost"})


@dataclass(frozen=True, slots=True)
class CostAmount:
    amount_usd_milli_cents: int
    description: str | None


@dataclass(frozen=True, slots=True)
class CostCall:
    """One call to the cost API, as received."""

    kind: CostKind
    bot_query_id: str
    amounts: tuple[CostAmount, ...]
    #: Whether the access key in the body equalled the expected one (True if none expected).
    key_ok: bool

    @property
    def total(self) -> int:
        return sum(amount.amount_usd_milli_cents for amount in self.amounts)


@dataclass(frozen=True, slots=True)
class Upload:
    """One file upload, as received."""

    id: int
    data: bytes
    filename: str
    content_type: str
    #: Set when the file came by ``download_url`` rather than as bytes.
    download_url: str | None
    key_ok: bool


class FakePoeApi:
    """Records calls; answers per the attributes below (which tests may change at any time)."""

    def __init__(self, *, access_key: str | None = None) -> None:
        #: The key callers must present (cost: body ``access_key``; upload: ``Authorization``).
        self.expected_access_key = access_key
        #: Answer cost calls with a non-success result (Poe's "insufficient funds").
        self.insufficient_funds = False
        #: Answer cost calls with this HTTP status instead (e.g. 500), when set.
        self.cost_error_status: int | None = None
        self.url = ""
        self._lock = threading.Lock()
        self._cost_calls: list[CostCall] = []
        self._uploads: list[Upload] = []

    # -- what tests read ------------------------------------------------------------------------

    @property
    def cost_calls(self) -> list[CostCall]:
        with self._lock:
            return list(self._cost_calls)

    @property
    def captures(self) -> list[CostCall]:
        return [call for call in self.cost_calls if call.kind == "capture"]

    @property
    def authorizations(self) -> list[CostCall]:
        return [call for call in self.cost_calls if call.kind == "authorize"]

    @property
    def uploads(self) -> list[Upload]:
        with self._lock:
            return list(self._uploads)

    # -- running --------------------------------------------------------------------------------

    @classmethod
    @contextmanager
    def running(cls, *, access_key: str | None = None) -> Iterator[FakePoeApi]:
        """Serve on 127.0.0.1 (a free port) in a background thread; stop on exit."""
        api = cls(access_key=access_key)
        with _serve_in_thread(api.app()) as url:
            api.url = url
            yield api

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_post("/bot/cost/{bot_query_id}/{kind}", self._cost)
        app.router.add_post("/file_upload_3RD_PARTY_POST", self._upload)
        app.router.add_get("/files/{id}/{name}", self._file)
        return app

    # -- handlers -------------------------------------------------------------------------------

    def _key_ok(self, presented: object) -> bool:
        return self.expected_access_key is None or presented == self.expected_access_key

    async def _cost(self, request: web.Request) -> web.StreamResponse:
        kind = request.match_info["kind"]
        if kind not in ("authorize", "capture"):
            raise web.HTTPNotFound()
        body = await request.json()
        call = CostCall(
            kind="authorize" if kind == "authorize" else "capture",
            bot_query_id=request.match_info["bot_query_id"],
            amounts=tuple(
                CostAmount(int(item["amount_usd_milli_cents"]), item.get("description"))
                for item in body["amounts"]
            ),
            key_ok=self._key_ok(body.get("access_key")),
        )
        with self._lock:
            self._cost_calls.append(call)
        if not call.key_ok:
            return _sse_response(401, "error", {"message": "Invalid access key"})
        if self.cost_error_status is not None:
            return _sse_response(self.cost_error_status, "error", {"message": "cost API error"})
        status = "insufficient_fund" if self.insufficient_funds else "success"
        return _sse_response(200, "result", {"status": status})

    async def _upload(self, request: web.Request) -> web.Response:
        key_ok = self._key_ok(request.headers.get("Authorization"))
        form = await request.post()
        download_url = form.get("download_url")
        upload_file = form.get("file")
        if isinstance(upload_file, web.FileField):
            data = upload_file.file.read()
            filename = upload_file.filename
            content_type = upload_file.content_type
            source_url = None
        elif isinstance(download_url, str):
            data, content_type = await _download_from_loopback(download_url)
            filename = str(form.get("download_filename") or urlsplit(download_url).path[1:])
            source_url = download_url
        else:
            raise web.HTTPBadRequest(text="send `file` or `download_url`")
        if content_type in ("", "application/octet-stream"):
            content_type = mimetypes.guess_type(filename)[0] or "application/octet-stream"
        with self._lock:
            upload = Upload(
                id=len(self._uploads),
                data=data,
                filename=filename,
                content_type=content_type,
                download_url=source_url,
                key_ok=key_ok,
            )
            self._uploads.append(upload)
        if not key_ok:
            raise web.HTTPUnauthorized(text="Invalid API key")
        return web.json_response(
            {
                "attachment_url": f"{self.url}files/{upload.id}/{upload.filename}",
                "mime_type": upload.content_type,
            }
        )

    async def _file(self, request: web.Request) -> web.Response:
        uploads = self.uploads
        index = int(request.match_info["id"])
        if not 0 <= index < len(uploads):
            raise web.HTTPNotFound()
        upload = uploads[index]
        return web.Response(body=upload.data, content_type=upload.content_type)


def _sse_response(status: int, event: str, data: dict[str, object]) -> web.Response:
    body = f"event: {event}\ndata: {json.dumps(data)}\n\n"
    return web.Response(status=status, text=body, content_type="text/event-stream")


async def _download_from_loopback(url: str) -> tuple[bytes, str]:
    """Fetch a ``download_url`` (tests stay on loopback: other hosts are refused)."""
    if urlsplit(url).hostname not in LOOPBACK_HOSTS:
        raise web.HTTPBadRequest(text="the fake only downloads from loopback")
    async with aiohttp.ClientSession() as session, session.get(url) as response:
        if response.status != 200:
            raise web.HTTPBadRequest(text=f"download answered {response.status}")
        return await response.read(), response.content_type


@contextmanager
def _serve_in_thread(app: web.Application) -> Iterator[str]:
    """Run ``app`` on 127.0.0.1:<free port> in a thread with its own loop; yield its base URL."""
    loop = asyncio.new_event_loop()
    runner = web.AppRunner(app, access_log=None)
    started = threading.Event()
    stop = asyncio.Event()
    address: list[str] = []
    failure: list[BaseException] = []

    async def serve() -> None:
        await runner.setup()
        try:
            site = web.TCPSite(runner, "127.0.0.1", 0)
            await site.start()
            host, port = runner.addresses[0][:2]
            address.append(f"http://{host}:{port}/")
            started.set()
            await stop.wait()
        finally:
            await runner.cleanup()

    def run() -> None:
        try:
            loop.run_until_complete(serve())
        except BaseException as error:  # surfaced to the test thread below
            failure.append(error)
            started.set()
        finally:
            loop.close()

    thread = threading.Thread(target=run, name="fake-poe-api", daemon=True)
    thread.start()
    started.wait(timeout=10)
    if failure or not address:
        raise RuntimeError("the fake Poe API did not start") from (failure[0] if failure else None)
    try:
        yield address[0]
    finally:
        loop.call_soon_threadsafe(stop.set)
        thread.join(timeout=10)
