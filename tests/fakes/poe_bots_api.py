"""A fake of Poe's Bots REST API (API bots) on a real loopback server.

It serves what creator.poe.com's "Bots REST API" documents, and checks every call as Poe
would have to: ``Authorization: Bearer <Poe API key>`` (an unknown key: 401), the paths, and
the bodies (fields and values of the documented schema; ``parameter_controls`` validated with
fastapi_poe's own ``ParameterControls``; anything else: 400).

- ``GET /bots``: the account's bots; ``GET /bots/{handle}``: one (404 when it has none);
- ``POST /bots``: create (``handle`` in the body; 201 ``{"create_bot_status": "success"}``;
  409 when the handle is taken, by this account or, in ``taken_handles``, another);
- ``PATCH /bots/{handle}``: update the fields sent, ``api_bot_settings`` merged (404 when the
  account has no such bot).

``api_key`` is kept but never answered, as Poe documents. Calls are recorded in ``calls``;
``stored_key(handle)`` is the key a bot holds. ``refuse_with`` makes every write answer 400
with that message (which may quote what was sent, as a careless server's might).

    with FakePoeBotsApi.running(api_keys={"poe-key"}) as api:
        ...  # bots_api_url: api.url
"""

from __future__ import annotations

import copy
import json
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import fastapi_poe as fp
from aiohttp import web
from pydantic import ValidationError

from tests.fakes.poe_api import _serve_in_thread

BOT_FIELDS = frozenset({"description", "is_private", "api_bot_settings", "parameter_controls"})
SETTINGS_FIELDS = frozenset(
    {
        "model_name",
        "base_url",
        "api_key",
        "api_type",
        "max_input_tokens",
        "context_size",
        "input_modalities",
        "output_modalities",
        "supported_features",
        "param_definitions",
        "pricing",
    }
)
API_TYPES = frozenset({"chat_completions_api", "responses_api"})
INPUT_MODALITIES = frozenset({"text", "image", "video"})
#: US dollars per token, written as a plain decimal.
PRICE = re.compile(r"^\d+(\.\d+)?$")


@dataclass(frozen=True, slots=True)
class BotsApiCall:
    """One call, as received."""

    method: str
    path: str
    authorization: str
    body: dict[str, object] | None


def body_problem(body: object, creating: bool) -> str | None:
    """What is wrong with a create or update body, or None."""
    if not isinstance(body, dict):
        return "the body must be a JSON object"
    allowed = BOT_FIELDS | ({"handle"} if creating else set())
    if unknown := set(body) - allowed:
        return f"unknown fields {sorted(unknown)}"
    if creating and not isinstance(body.get("handle"), str):
        return "handle is required"
    if "is_private" in body and not isinstance(body["is_private"], bool):
        return "is_private must be a boolean"
    settings = body.get("api_bot_settings", {})
    if not isinstance(settings, dict):
        return "api_bot_settings must be an object"
    if unknown := set(settings) - SETTINGS_FIELDS:
        return f"unknown api_bot_settings fields {sorted(unknown)}"
    if settings.get("api_type", "chat_completions_api") not in API_TYPES:
        return "api_type must be chat_completions_api or responses_api"
    if not set(settings.get("input_modalities", ["text"])) <= INPUT_MODALITIES:
        return "input_modalities must be text, image or video"
    if settings.get("output_modalities", ["text"]) != ["text"]:
        return "output_modalities must be [text]"
    if not set(settings.get("supported_features", [])) <= {"tools"}:
        return "supported_features must be tools only"
    pricing = settings.get("pricing", {})
    if not isinstance(pricing, dict) or not all(
        isinstance(price, str) and PRICE.match(price) for price in pricing.values()
    ):
        return "pricing must hold decimal strings"
    if "parameter_controls" in body:
        try:
            fp.ParameterControls.model_validate(body["parameter_controls"])
        except ValidationError:
            return "parameter_controls are not valid"
    return None


def error_answer(status: type[web.HTTPException], message: str) -> web.HTTPException:
    """Poe's error shape: ``{"error": {"message": ...}}``."""
    return status(text=json.dumps({"error": {"message": message}}), content_type="application/json")


class FakePoeBotsApi:
    """The API bots of every account (one per Poe API key); see the module."""

    def __init__(self, api_keys: set[str]) -> None:
        #: Poe API keys the fake knows; each is its own account.
        self.api_keys = set(api_keys)
        #: Handles other accounts hold (creating one: 409).
        self.taken_handles: set[str] = set()
        #: When set, every write answers 400 with this message.
        self.refuse_with: str | None = None
        self.url = ""
        self._lock = threading.Lock()
        self._calls: list[BotsApiCall] = []
        self._bots: dict[str, dict[str, dict[str, object]]] = {key: {} for key in api_keys}

    @classmethod
    @contextmanager
    def running(cls, *, api_keys: set[str]) -> Iterator[FakePoeBotsApi]:
        """Serve on 127.0.0.1 (a free port) in a background thread; stop on exit."""
        api = cls(api_keys)
        with _serve_in_thread(api.app()) as url:
            api.url = url
            yield api

    @property
    def calls(self) -> list[BotsApiCall]:
        with self._lock:
            return list(self._calls)

    def bots(self, api_key: str) -> dict[str, dict[str, object]]:
        """The account's bots as GET answers them (no key), by handle."""
        with self._lock:
            return {handle: self._answer(bot) for handle, bot in self._bots[api_key].items()}

    def stored_key(self, api_key: str, handle: str) -> object:
        """The endpoint key the account's bot holds (never answered by the API)."""
        with self._lock:
            settings = self._bots[api_key][handle]["api_bot_settings"]
        assert isinstance(settings, dict)
        return settings.get("api_key")

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_get("/bots", self._list)
        app.router.add_post("/bots", self._create)
        app.router.add_get("/bots/{handle}", self._get)
        app.router.add_patch("/bots/{handle}", self._update)
        return app

    # -- handlers -------------------------------------------------------------------------------

    @staticmethod
    def _answer(bot: dict[str, object]) -> dict[str, object]:
        shown = copy.deepcopy(bot)
        settings = shown.get("api_bot_settings")
        if isinstance(settings, dict):
            settings.pop("api_key", None)
        return shown

    async def _account(self, request: web.Request, creating: bool | None) -> tuple[str, object]:
        """The caller's account key and the body; raises the HTTP error Poe would answer."""
        authorization = request.headers.get("Authorization", "")
        body: object = await request.json() if request.can_read_body else None
        with self._lock:
            self._calls.append(
                BotsApiCall(
                    request.method,
                    request.path,
                    authorization,
                    body if isinstance(body, dict) else None,
                )
            )
        key = authorization.removeprefix("Bearer ")
        if not authorization.startswith("Bearer ") or key not in self.api_keys:
            raise error_answer(web.HTTPUnauthorized, "Invalid API key")
        if creating is not None:
            if self.refuse_with is not None:
                raise error_answer(web.HTTPBadRequest, self.refuse_with)
            problem = body_problem(body, creating)
            if problem is not None:
                raise error_answer(web.HTTPBadRequest, problem)
        return key, body

    async def _list(self, request: web.Request) -> web.Response:
        key, _ = await self._account(request, None)
        return web.json_response({"bots": list(self.bots(key).values())})

    async def _get(self, request: web.Request) -> web.Response:
        key, _ = await self._account(request, None)
        bot = self.bots(key).get(request.match_info["handle"])
        if bot is None:
            raise web.HTTPNotFound()
        return web.json_response(bot)

    async def _create(self, request: web.Request) -> web.Response:
        key, body = await self._account(request, True)
        assert isinstance(body, dict)
        handle = body["handle"]
        assert isinstance(handle, str)
        with self._lock:
            if handle in self._bots[key] or handle in self.taken_handles:
                raise error_answer(web.HTTPConflict, "handle taken")
            bot = {name: value for name, value in body.items() if name != "handle"}
            self._bots[key][handle] = {"handle": handle, **bot}
        return web.json_response({"create_bot_status": "success"}, status=201)

    async def _update(self, request: web.Request) -> web.Response:
        key, body = await self._account(request, False)
        assert isinstance(body, dict)
        handle = request.match_info["handle"]
        with self._lock:
            bot = self._bots[key].get(handle)
            if bot is None:
                raise web.HTTPNotFound()
            for name, value in body.items():
                current = bot.get(name)
                if name == "api_bot_settings" and isinstance(current, dict):
                    assert isinstance(value, dict)
                    bot[name] = {**current, **value}
                else:
                    bot[name] = value
        return web.json_response({"edit_bot_status": "success"})
