"""A bot's event stream as the API fronts consume it: tracked, and opened before responding.

:func:`tracked_events` records every event on the request's tracker and hands the tracker to
accounting exactly once, however the stream ends; ``on_start`` and ``on_end`` bracket the
request's answer (the in-flight count, the overload guard's open streams). :func:`opened`
waits until the stream has something to show, so that a failure before any output is answered
with the API's own HTTP error status instead of a stream that starts and then breaks.

With a :class:`~fmgate.core.shutdown.ShutdownSignal`, each wait for the bot's next event is watched:
when the server cuts streams at the end of its shutdown grace period, the wait ends with
:class:`~fmgate.core.errors.ServerRestarting`, which the fronts send in their own error shape.
One watch (:class:`~fmgate.core.shutdown.StreamCut`) serves the whole stream and interrupts
whichever task waits (the route handler for the first event, the response for the rest), so it
never depends on one task owning the stream and costs nothing per event.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable

from fmgate.accounting.tracker import RequestTracker
from fmgate.bots.base import Bot
from fmgate.core.bot_request import BotRequest
from fmgate.core.errors import GatewayError
from fmgate.core.events import Event, Notice, Progress, close_stream
from fmgate.core.shutdown import ShutdownSignal, cut_on_shutdown, stream_cut
from fmgate.security.rate_limits import Lease

logger = logging.getLogger("fmgate.api")


def unexpected_error() -> GatewayError:
    return GatewayError("unexpected error in an API front stream")


async def tracked_events(
    bot: Bot,
    request: BotRequest,
    tracker: RequestTracker,
    on_end: Callable[[RequestTracker], None],
    shutdown: ShutdownSignal | None = None,
    *,
    lease: Lease | None = None,
    before: Callable[[], Awaitable[None]] | None = None,
    on_start: Callable[[], None] | None = None,
) -> AsyncGenerator[Event, None]:
    """Forward ``bot``'s events; failures come out as :class:`GatewayError` only. ``before``
    runs ahead of the bot, and a failure there ends the request like the bot's would. The
    caller's per-user ``lease`` is given back however the stream ends. ``on_start`` runs when
    the stream is first asked for an event; ``on_end`` always follows it."""
    if on_start is not None:
        on_start()
    try:
        if before is not None:
            async with cut_on_shutdown(shutdown):
                await before()
        events = bot.stream(request)
        try:
            with stream_cut(shutdown) as cut:
                while True:
                    try:
                        event = await cut.next(events)
                    except StopAsyncIteration:
                        break
                    tracker.observe(event)
                    if isinstance(event, Notice):
                        logger.info("notice for the caller: %s", event.text)
                    yield event
        finally:
            await close_stream(events)
        tracker.succeeded()
    except GatewayError as error:
        tracker.failed(error)
        logger.warning("request failed: %s (%s)", error.code, error.detail or error.user_message)
        raise
    except Exception as exc:
        logger.exception("unexpected error while answering")
        unexpected = unexpected_error()
        tracker.failed(unexpected)
        raise unexpected from exc
    finally:
        tracker.cancelled()  # no-op unless nothing above ended the request
        on_end(tracker)
        if lease is not None:
            await lease.release()


async def opened(events: AsyncGenerator[Event, None]) -> AsyncGenerator[Event, None]:
    """Read ``events`` up to their first output (or end); raises what the stream raises by then.

    Returns a stream that replays what was read, then continues; closing it closes ``events``.
    """
    buffered: list[Event] = []
    async for event in events:
        buffered.append(event)
        if not isinstance(event, Notice | Progress):
            break
    return _replay(buffered, events)


async def _replay(
    buffered: list[Event], events: AsyncGenerator[Event, None]
) -> AsyncGenerator[Event, None]:
    try:
        for event in buffered:
            yield event
        async for event in events:
            yield event
    finally:
        await events.aclose()


async def collected(events: AsyncIterator[Event]) -> list[Event]:
    """Every event of a stream (non-streaming answers)."""
    return [event async for event in events]
