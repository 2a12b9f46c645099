"""Poe's cost API: authorize an expected cost, capture the actual one — on the wire as
fastapi_poe 0.0.83 speaks it (``PoeBot._cost_requests_inner``).

``POST {base_url}bot/cost/{bot_query_id}/{authorize|capture}`` with JSON
``{"amounts": [{"amount_usd_milli_cents": int, "description": str}], "access_key": key}``; the
answer is Server-Sent Events, and a ``result`` event with ``status == "success"`` means the
user can pay. Any other result (or none) is :class:`fmgate.core.errors.InsufficientFunds`; a non-200
answer or a transport failure is :class:`CostApiError`.

The access key travels only in the request body: it never appears in an exception, a log line
or a URL. One pooled ``httpx.AsyncClient`` serves every call.
"""

from __future__ import annotations

import json
import logging
from typing import Final, Literal

import httpx
import httpx_sse

from fmgate.accounting.pricing import Cost
from fmgate.core.errors import InsufficientFunds, OperatorError

logger = logging.getLogger("fmgate.fronts.poe.cost")

CostCall = Literal["authorize", "capture"]

#: Poe's cost descriptions are shown to users; keep them short.
MAX_DESCRIPTION_CHARS: Final = 200

DEFAULT_TIMEOUT: Final = httpx.Timeout(30.0, connect=10.0)


class CostApiError(OperatorError):
    """Poe's cost API could not be reached or refused the call (not a funds problem)."""

    status = 502
    code = "cost_api"


class PoeCostClient:
    """Calls Poe's cost API for one gateway (one pooled HTTP client, closed by ``aclose``)."""

    def __init__(self, base_url: str, *, http: httpx.AsyncClient | None = None) -> None:
        self._base_url = base_url if base_url.endswith("/") else base_url + "/"
        self._owns_http = http is None
        self._http = http if http is not None else httpx.AsyncClient(timeout=DEFAULT_TIMEOUT)

    async def authorize(self, bot_query_id: str, access_key: str, cost: Cost) -> None:
        """Reserve ``cost`` before an expensive call; raises InsufficientFunds if the user can't."""
        await self._call("authorize", bot_query_id, access_key, cost)

    async def capture(self, bot_query_id: str, access_key: str, cost: Cost) -> None:
        """Charge ``cost`` (what was actually used). Send it once per request: see CaptureOnce."""
        await self._call("capture", bot_query_id, access_key, cost)

    async def aclose(self) -> None:
        if self._owns_http:
            await self._http.aclose()

    async def _call(self, call: CostCall, bot_query_id: str, access_key: str, cost: Cost) -> None:
        url = f"{self._base_url}bot/cost/{bot_query_id}/{call}"
        body = {"amounts": [cost_amount(cost)], "access_key": access_key}
        try:
            async with httpx_sse.aconnect_sse(self._http, "POST", url, json=body) as event_source:
                status = event_source.response.status_code
                if status != 200:
                    # The body is not read into the error: it could echo what we sent.
                    raise CostApiError(f"Poe cost {call} answered HTTP {status}")
                succeeded = False
                async for event in event_source.aiter_sse():
                    if event.event == "result":
                        succeeded = result_status(event.data) == "success"
                        break
        except httpx.HTTPError as error:
            raise CostApiError(f"Poe cost {call} failed: {type(error).__name__}") from None
        if not succeeded:
            raise InsufficientFunds(f"Poe declined the cost {call}")
        logger.debug("cost %s of %d milli-cents accepted", call, cost.total_rounded)


def cost_amount(cost: Cost) -> dict[str, object]:
    """The one amount sent for a request: the rounded-up total, described by its items."""
    return {
        "amount_usd_milli_cents": cost.total_rounded,
        "description": cost.description[:MAX_DESCRIPTION_CHARS],
    }


def result_status(data: str) -> str | None:
    """The ``status`` of a ``result`` event's JSON data (None when unreadable)."""
    try:
        parsed = json.loads(data)
    except ValueError:
        return None
    if isinstance(parsed, dict):
        status = parsed.get("status")
        return status if isinstance(status, str) else None
    return None


class CaptureOnce:
    """Captures one request's cost at most once, however often (or concurrently) it is asked.

    The first call claims the capture before it awaits anything, so a second call — a retry,
    the disconnect handler racing the normal end — sends nothing. A zero cost sends nothing
    but still counts as the capture. A capture that failed is not retried: it may have reached
    Poe, and charging twice is worse than charging nothing.
    """

    def __init__(self, client: PoeCostClient, bot_query_id: str, access_key: str) -> None:
        self._client = client
        self._bot_query_id = bot_query_id
        self._access_key = access_key
        self._claimed = False

    @property
    def claimed(self) -> bool:
        """Whether a capture was already made (or attempted) for this request."""
        return self._claimed

    async def capture(self, cost: Cost) -> bool:
        """Send the capture unless one was already made; True if this call made it."""
        if self._claimed:
            return False
        self._claimed = True
        if cost.total_rounded <= 0:
            return True
        await self._client.capture(self._bot_query_id, self._access_key, cost)
        return True
