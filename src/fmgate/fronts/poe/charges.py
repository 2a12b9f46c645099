"""What Poe charges for one request: an authorization before the model runs (for bots whose
pricing asks for it), and one capture of the actual cost when the request has ended.

Both are bound, when the request starts, to the deployed bot that serves it (its access key) and
to Poe's ``bot_query_id``, so a reload that removes or changes the bot meanwhile cannot lose or
misdirect the charge.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping
from functools import partial

from fmgate.accounting.expected_cost import expected_cost
from fmgate.accounting.finisher import FinishHook
from fmgate.accounting.pricing import Cost
from fmgate.accounting.tracker import RequestTracker
from fmgate.bots.registry import DeployedBot
from fmgate.core.errors import GatewayError
from fmgate.fronts.poe.cost import CaptureOnce, PoeCostClient

logger = logging.getLogger("fmgate.fronts.poe.charges")


def cost_authorization(
    client: PoeCostClient,
    deployed: DeployedBot,
    bot_query_id: str,
    parameters: Mapping[str, object],
) -> Callable[[], Awaitable[None]] | None:
    """Poe's cost authorization to run before calling the model, when the bot asks for it."""
    cost = expected_cost(deployed.config, parameters)
    key = deployed.access_key
    if cost is None or cost.total_rounded <= 0 or not bot_query_id or key is None:
        return None
    return partial(client.authorize, bot_query_id, key, cost)


def cost_capture(
    client: PoeCostClient, access_key: str | None, bot_query_id: str
) -> FinishHook | None:
    """The finish hook that captures the request's cost once, with the serving bot's key."""
    if not bot_query_id or access_key is None:
        return None
    once = CaptureOnce(client, bot_query_id, access_key)

    async def capture(tracker: RequestTracker, cost: Cost) -> None:
        try:
            await once.capture(cost)
        except GatewayError as error:
            logger.warning("cost capture failed: %s", error.code)

    return capture
