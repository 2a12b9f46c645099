"""Poe's Bots REST API, as far as ``fmgate poe api-bots sync`` uses it.

Paths (relative to ``gateway.poe.api_bots.bots_api_url``, ``https://api.poe.com/`` by default;
creator.poe.com's "Bots REST API" reference):

- ``GET bots/{handle}``: the bot, or 404 when the account has none of that handle;
- ``POST bots``: create (the handle in the body), answered 201 (``create_bot_status``);
- ``PATCH bots/{handle}``: update the fields sent, ``api_bot_settings`` merged into Poe's
  (its success status is not documented: any 2xx is taken as success, for writes).

Every call carries ``Authorization: Bearer <Poe API key>``. The key, and the endpoint key in a
body, never reach an exception or a log line: failures are described from the HTTP status and
the exception's type, and a message Poe sends back is shown with every secret of the call
replaced by ``***``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Final
from urllib.parse import quote, urlsplit

import httpx

#: The collection of the account's bots, and one bot of it.
BOTS_PATH: Final = "bots"
#: Longest part of Poe's own error message shown.
MAX_MESSAGE_CHARS: Final = 300


def bot_path(handle: str) -> str:
    return f"{BOTS_PATH}/{quote(handle, safe='')}"


class BotsApiError(Exception):
    """The Bots REST API refused a call or could not be reached; the message is safe to show."""


def status_meaning(status: int) -> str:
    if status in (401, 403):
        return (
            "Poe refused the Poe API key: check gateway.poe.api_bots.poe_api_key, and that the "
            "account may create API bots"
        )
    if status == 409:
        return "the handle is taken on Poe (choose another with handles or handle_prefix)"
    if status == 429:
        return "Poe is limiting requests; try again later"
    if status >= 500:
        return "Poe failed to answer; try again later"
    return "Poe refused the request"


def poe_message(response: httpx.Response, secrets: Sequence[str]) -> str:
    """The message in Poe's error answer, if any, with the call's secrets blanked out."""
    try:
        document = response.json()
    except ValueError:
        return ""
    found: object = None
    if isinstance(document, dict):
        error = document.get("error")
        found = error.get("message") if isinstance(error, dict) else error
        found = found or document.get("message") or document.get("detail")
    if not isinstance(found, str):
        return ""
    for secret in secrets:
        if secret:
            found = found.replace(secret, "***")
    return found[:MAX_MESSAGE_CHARS]


def refusal(call: str, response: httpx.Response, secrets: Sequence[str]) -> BotsApiError:
    message = poe_message(response, secrets)
    said = f": {message}" if message else ""
    return BotsApiError(
        f"{call} answered HTTP {response.status_code}: {status_meaning(response.status_code)}{said}"
    )


def transport_failure(error: httpx.HTTPError, base_url: str) -> BotsApiError:
    host = urlsplit(base_url).netloc or base_url
    if isinstance(error, httpx.ConnectError | httpx.ConnectTimeout):
        return BotsApiError(f"could not reach {host}")
    if isinstance(error, httpx.TimeoutException):
        return BotsApiError(f"{host} did not answer in time; try again")
    if isinstance(error, httpx.UnsupportedProtocol | httpx.InvalidURL):
        return BotsApiError("gateway.poe.api_bots.bots_api_url is not a usable http(s) URL")
    return BotsApiError(f"the connection to {host} failed ({type(error).__name__})")


class PoeBotsClient:
    """The account's API bots on Poe (one pooled HTTP client, closed by :meth:`aclose`).

    ``secrets`` are what a message from Poe must never show (the endpoint keys sent in bodies;
    the Poe API key is always added).
    """

    def __init__(
        self,
        base_url: str,
        api_key: str,
        *,
        timeout_seconds: float = 30.0,
        secrets: Sequence[str] = (),
    ) -> None:
        self._base_url = base_url if base_url.endswith("/") else base_url + "/"
        self._secrets = (api_key, *secrets)
        self._http = httpx.AsyncClient(
            base_url=self._base_url,
            headers={"Authorization": f"Bearer {api_key}"},
            timeout=httpx.Timeout(timeout_seconds, connect=min(10.0, timeout_seconds)),
        )

    async def aclose(self) -> None:
        await self._http.aclose()

    async def get_bot(self, handle: str) -> Mapping[str, object] | None:
        """The bot of this handle as Poe has it, or None when the account has no such bot."""
        response = await self._send("GET", bot_path(handle), None)
        if response.status_code == 404:
            return None
        call = f"GET {bot_path(handle)}"
        if response.status_code != 200:
            raise refusal(call, response, self._secrets)
        try:
            document = response.json()
        except ValueError:
            raise BotsApiError(f"{call} answered something that is not JSON") from None
        if not isinstance(document, dict):
            raise BotsApiError(f"{call} answered JSON that is not an object")
        return document

    async def create_bot(self, body: Mapping[str, object]) -> None:
        response = await self._send("POST", BOTS_PATH, body)
        if not response.is_success:
            raise refusal("POST bots", response, self._secrets)

    async def update_bot(self, handle: str, body: Mapping[str, object]) -> None:
        response = await self._send("PATCH", bot_path(handle), body)
        if not response.is_success:
            raise refusal(f"PATCH {bot_path(handle)}", response, self._secrets)

    async def _send(
        self, method: str, path: str, body: Mapping[str, object] | None
    ) -> httpx.Response:
        try:
            return await self._http.request(method, path, json=body)
        except httpx.HTTPError as error:
            raise transport_failure(error, self._base_url) from None
