"""``fmgate poe sync``: tell Poe to fetch each bot's settings again from the gateway.

Poe caches a server bot's settings (rate card, parameter controls, attachments...) and refetches
them only when asked. This asks, for every bot (or the ones named), with fastapi_poe's own
:func:`fastapi_poe.client.sync_bot_settings`: a POST to
``<settings_base_url>fetch_settings/<bot>/<access key>/<protocol version>``, after which Poe calls
the bot's server for its settings. ``settings_base_url`` is ``gateway.poe.settings_base_url``.

Each bot's access key is resolved from its catalog reference exactly as the gateway resolves it
(:class:`~fmgate.config.secrets.SecretResolver`). fastapi_poe's call is blocking httpx, so it runs
in worker threads, at most :data:`DEFAULT_PARALLELISM` at a time.

The access key sits in the URL's *path*, and httpx logs every request URL at INFO. While syncing,
the ``httpx``/``httpcore`` loggers redact the keys (so every handler, ours or not, sees ``***``),
and the keys are registered with fmgate's log redaction. Failures are described from the
exception's *type* (fastapi_poe's ``BotError`` for a non-200 answer, httpx's transport errors),
never from its text, which may quote the URL.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import logging
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Final
from urllib.parse import urlsplit

import httpx
from fastapi_poe.client import BotError, sync_bot_settings

from fmgate.config.bot_config import BotConfig
from fmgate.config.catalog import Catalog
from fmgate.config.secrets import SecretError, SecretResolver
from fmgate.observability.logging import SecretRedactionFilter, SecretRegistry, register_secret

DEFAULT_PARALLELISM: Final = 4
#: Loggers that may write the request URL (hence the access key) of fastapi_poe's call.
URL_LOGGERS: Final = (
    "httpx",
    "httpcore.connection",
    "httpcore.http11",
    "httpcore.http2",
    "httpcore.proxy",
)


@dataclass(frozen=True, slots=True)
class SyncOutcome:
    """What happened to one bot: synced, or why not (never containing its key)."""

    bot: str
    synced: bool
    reason: str = ""

    def line(self) -> str:
        """One line for the command's output."""
        return f"{self.bot}: synced" if self.synced else f"{self.bot}: FAILED: {self.reason}"


def settings_url_base(base_url: str) -> str:
    """fastapi_poe appends ``fetch_settings/...`` directly: the base must end with ``/``."""
    return base_url if base_url.endswith("/") else base_url + "/"


def describe_failure(error: Exception, base_url: str) -> str:
    """Why a sync failed, from the exception's type (its text may hold the URL, hence the key)."""
    host = urlsplit(base_url).netloc or base_url
    if isinstance(error, BotError):
        if isinstance(error.__cause__, httpx.TimeoutException):
            return f"{host} did not answer in time; try again"
        return (
            "Poe refused the sync (a non-200 answer): check the bot's access key, and that the "
            "bot's server URL on Poe reaches this gateway"
        )
    if isinstance(error, httpx.ConnectError | httpx.ConnectTimeout):
        return f"could not reach {host}"
    if isinstance(error, httpx.TimeoutException):
        return f"{host} did not answer in time; try again"
    if isinstance(error, httpx.UnsupportedProtocol | httpx.InvalidURL):
        return "gateway.poe.settings_base_url is not a usable http(s) URL"
    if isinstance(error, httpx.HTTPError):
        return f"the connection to {host} failed ({type(error).__name__})"
    return f"unexpected error ({type(error).__name__})"


@contextlib.contextmanager
def keys_hidden_from_logs(keys: Sequence[str]) -> Iterator[None]:
    """Redact ``keys`` from every record the URL-writing loggers emit, for the duration."""
    registry = SecretRegistry()
    for key in keys:
        registry.add(key)
        register_secret(key)
    redaction = SecretRedactionFilter(registry)
    loggers = [logging.getLogger(name) for name in URL_LOGGERS]
    for logger in loggers:
        logger.addFilter(redaction)
    try:
        yield
    finally:
        for logger in loggers:
            logger.removeFilter(redaction)


def select_bots(catalog: Catalog, names: Sequence[str]) -> tuple[list[BotConfig], list[str]]:
    """The bots to sync (all when ``names`` is empty) and the names the catalog lacks."""
    if not names:
        return list(catalog.bots), []
    by_name = {bot.bot_name: bot for bot in catalog.bots}
    return [by_name[n] for n in names if n in by_name], [n for n in names if n not in by_name]


async def resolve_access_key(bot: BotConfig, resolver: SecretResolver) -> str | SyncOutcome:
    """The bot's access key, or the outcome saying why it cannot be had."""
    if bot.access_key is None:
        return SyncOutcome(bot.bot_name, False, "no access_key in the catalog")
    try:
        return await resolver.resolve(bot.access_key)
    except SecretError as error:  # names the reference and the reason, never the value
        return SyncOutcome(bot.bot_name, False, f"access key unavailable ({error})")


async def sync_one(
    bot_name: str, access_key: str, base_url: str, limit: asyncio.Semaphore
) -> SyncOutcome:
    async with limit:
        try:
            await asyncio.to_thread(sync_bot_settings, bot_name, access_key, base_url=base_url)
        except Exception as error:  # every failure is reported per bot, by type
            return SyncOutcome(bot_name, False, describe_failure(error, base_url))
    return SyncOutcome(bot_name, True)


async def sync_settings(
    catalog: Catalog,
    names: Sequence[str] = (),
    *,
    resolver: SecretResolver | None = None,
    parallelism: int = DEFAULT_PARALLELISM,
) -> list[SyncOutcome]:
    """Ask Poe to refetch the settings of ``names`` (default: every bot), in catalog order.

    ``resolver`` resolves the access keys (default: a fresh :class:`SecretResolver` on the
    standard AWS chain, closed afterwards). Bots without a resolvable key are reported, not
    raised. fastapi_poe prints Poe's answer to stdout; callers that own the terminal may want
    :func:`poe_answers_discarded` around this.
    """
    bots, unknown = select_bots(catalog, names)
    base_url = settings_url_base(catalog.gateway.poe.settings_base_url)
    own_resolver = resolver is None
    resolver = resolver or SecretResolver()
    try:
        keys = await asyncio.gather(*(resolve_access_key(bot, resolver) for bot in bots))
    finally:
        if own_resolver:
            await resolver.aclose()
    outcomes: dict[str, SyncOutcome] = {
        name: SyncOutcome(name, False, "no such bot in the catalog") for name in unknown
    }
    to_sync: dict[str, str] = {}
    for bot, key in zip(bots, keys, strict=True):
        if isinstance(key, SyncOutcome):
            outcomes[bot.bot_name] = key
        else:
            to_sync[bot.bot_name] = key
    limit = asyncio.Semaphore(max(1, parallelism))
    with keys_hidden_from_logs(list(to_sync.values())):
        synced = await asyncio.gather(
            *(sync_one(name, key, base_url, limit) for name, key in to_sync.items())
        )
    outcomes.update((outcome.bot, outcome) for outcome in synced)
    order = list(names) if names else [bot.bot_name for bot in catalog.bots]
    return [outcomes[name] for name in dict.fromkeys(order)]


@contextlib.contextmanager
def poe_answers_discarded() -> Iterator[None]:
    """Discard what fastapi_poe's sync prints (Poe's raw answer) while the block runs.

    This redirects the process's ``sys.stdout``: use it only where nothing else prints
    meanwhile (the ``fmgate poe sync`` command).
    """
    with contextlib.redirect_stdout(io.StringIO()):
        yield
