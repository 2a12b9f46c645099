"""What a front needs from the running gateway, and where a request finds it.

The server opens the gateway in the ASGI lifespan and hands it to the fronts through Starlette's
lifespan state (``request.state``); a front reads it per request, so a reload that swaps the
registry is seen by the next request. :class:`FrontContext` is the part of the gateway the
fronts use; the server's ``Gateway`` satisfies it.
"""

from __future__ import annotations

from typing import Protocol, cast

from starlette.requests import Request

from fmgate.accounting.caller_documents import CallerDocuments
from fmgate.accounting.finisher import RequestFinisher
from fmgate.bots.registry import Registry
from fmgate.config.gateway_settings import RequestLimits
from fmgate.core.shutdown import ShutdownSignal
from fmgate.fronts.callers import ApiKeys
from fmgate.fronts.media_store import LocalMediaStore
from fmgate.observability.metrics import GatewayMetrics
from fmgate.resilience.overload import OverloadGuard
from fmgate.security.rate_limits import Limiter


class FrontContext(Protocol):
    @property
    def registry(self) -> Registry:
        """The bots served now (swapped by a reload)."""

    @property
    def limiter(self) -> Limiter:
        """Per-caller concurrency and rate limits."""

    @property
    def finisher(self) -> RequestFinisher:
        """Accounting after each request."""

    @property
    def metrics(self) -> GatewayMetrics: ...

    @property
    def overload(self) -> OverloadGuard:
        """This process's saturation (``gateway.overload``): open streams, event-loop lag."""

    @property
    def limits(self) -> RequestLimits:
        """``gateway.limits``: body time limit, query size limits."""

    @property
    def max_request_bytes(self) -> int: ...

    @property
    def api_keys(self) -> ApiKeys:
        """Callers of the OpenAI- and Anthropic-compatible fronts."""

    @property
    def local_media(self) -> LocalMediaStore | None:
        """DEV ONLY: generated files served by the gateway itself at ``/media/``."""

    @property
    def documents(self) -> CallerDocuments:
        """Caller-scoped documents (the Responses API's stored responses)."""


def context_of(request: Request) -> FrontContext:
    """The running gateway, from the lifespan state."""
    return cast(FrontContext, request.state.gateway)


def shutdown_of(request: Request) -> ShutdownSignal | None:
    """The serving server's shutdown signal (None when nothing drives one, as in tests)."""
    return cast(ShutdownSignal | None, request.state.shutdown)
