"""``fmgate poe api-bots sync``: make each chat bot's Poe API bot what the catalog says.

For every bot (those named, else ``gateway.poe.api_bots.bots``, else every chat bot), in
catalog order: ``GET bots/{handle}``; none there: ``POST bots`` creates it; one there:
``PATCH bots/{handle}`` updates it, with every field fmgate manages (the key too: Poe never
shows it, so a changed key cannot be seen and is always sent). Running it again changes
nothing but what the catalog changed: the sync is idempotent. A dry run only reads (the
``GET``), and says what it would do, with each bot's body as :meth:`printable` shows it.

Two keys are resolved from the catalog's references, exactly as the gateway resolves them:
the Poe API key (``poe_api_key``, sent to Poe's REST API) and the virtual key of
``api_bots.caller`` (``gateway.api_keys``: what Poe presents to the gateway). Neither reaches
an outcome, the output or a log line: httpx's loggers redact them while the sync runs.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Final, Literal

from fmgate.config.bot_config import BotConfig, ChatBotConfig
from fmgate.config.catalog import Catalog
from fmgate.config.gateway_settings import PoeApiBotSettings
from fmgate.config.secrets import SecretError, SecretResolver
from fmgate.fronts.poe.api_bots.client import BotsApiError, PoeBotsClient
from fmgate.fronts.poe.api_bots.definition import (
    ApiBotDefinition,
    NotAnApiBot,
    api_bot_definition,
)
from fmgate.fronts.poe.settings_sync import keys_hidden_from_logs

Action = Literal["created", "updated", "would create", "would update", "failed"]
#: The fields of a bot fmgate manages, compared with what Poe has for a dry run's report.
MANAGED_FIELDS: Final = ("description", "is_private", "api_bot_settings", "parameter_controls")


class ApiBotsNotConfigured(Exception):
    """The catalog has no ``gateway.poe.api_bots`` section."""


@dataclass(frozen=True, slots=True)
class ApiBotOutcome:
    """What happened to one bot (or would, in a dry run); never holds a key."""

    bot: str
    action: Action
    handle: str | None = None
    detail: str = ""
    #: The body sent (or that would be), with the key shown as its reference.
    printable: Mapping[str, object] | None = None

    @property
    def ok(self) -> bool:
        return self.action != "failed"

    def line(self) -> str:
        """One line for the command's output."""
        if not self.ok:
            return f"{self.bot}: FAILED: {self.detail}"
        detail = f" ({self.detail})" if self.detail else ""
        return f"{self.bot}: {self.action} as {self.handle}{detail}"


@dataclass(frozen=True, slots=True)
class Selection:
    """The chat bots to sync and the outcomes of the names that cannot be."""

    bots: list[ChatBotConfig] = field(default_factory=list)
    refused: list[ApiBotOutcome] = field(default_factory=list)


def selected_bots(catalog: Catalog, api_bots: PoeApiBotSettings, names: Sequence[str]) -> Selection:
    """The bots to sync: ``names``, else ``api_bots.bots``, else every chat bot."""
    by_name = {bot.bot_name: bot for bot in catalog.bots}
    wanted = list(names) or list(api_bots.bots)
    if not wanted:
        chat = [bot for bot in catalog.bots if isinstance(bot, ChatBotConfig)]
        return Selection(bots=chat)
    selection = Selection()
    for name in dict.fromkeys(wanted):
        bot: BotConfig | None = by_name.get(name)
        if bot is None:
            selection.refused.append(
                ApiBotOutcome(name, "failed", detail="no such bot in the catalog")
            )
        elif not isinstance(bot, ChatBotConfig):
            selection.refused.append(
                ApiBotOutcome(
                    name,
                    "failed",
                    detail=f"kind {bot.kind}: Poe's API bots answer with text (chat bots only)",
                )
            )
        else:
            selection.bots.append(bot)
    return selection


def endpoint_key_reference(catalog: Catalog, api_bots: PoeApiBotSettings) -> str:
    """The reference of the virtual key Poe presents (the catalog checked that it exists)."""
    [reference] = [ref.key for ref in catalog.gateway.api_keys if ref.caller == api_bots.caller]
    return reference


def changed_fields(existing: Mapping[str, object], wanted: Mapping[str, object]) -> list[str]:
    """The managed fields whose value on Poe differs from the catalog's (the key aside)."""
    changed = []
    for name in MANAGED_FIELDS:
        if name not in wanted:
            continue
        want = wanted[name]
        have = existing.get(name)
        if name == "api_bot_settings" and isinstance(want, Mapping) and isinstance(have, Mapping):
            want = {key: value for key, value in want.items() if key != "api_key"}
            have = {key: value for key, value in have.items() if key in want}
        if have != want:
            changed.append(name)
    return changed


def update_detail(existing: Mapping[str, object], definition: ApiBotDefinition) -> str:
    changed = changed_fields(existing, definition.printable())
    if not changed:
        return "no change but the key, which Poe does not show"
    return "changes " + ", ".join(changed)


async def sync_one(
    client: PoeBotsClient, config: ChatBotConfig, definition: ApiBotDefinition, dry_run: bool
) -> ApiBotOutcome:
    handle = definition.handle
    printable = definition.printable()
    try:
        existing = await client.get_bot(handle)
        if existing is None:
            if not dry_run:
                await client.create_bot(definition.create_body())
            action: Action = "would create" if dry_run else "created"
            return ApiBotOutcome(config.bot_name, action, handle, printable=printable)
        detail = update_detail(existing, definition)
        if not dry_run:
            await client.update_bot(handle, definition.update_body())
        action = "would update" if dry_run else "updated"
        return ApiBotOutcome(config.bot_name, action, handle, detail, printable)
    except BotsApiError as error:  # its message names the call and status, never a key
        return ApiBotOutcome(config.bot_name, "failed", handle, str(error))


class KeyUnavailable(Exception):
    """A key the sync needs cannot be resolved; the message names its reference."""


async def resolved(resolver: SecretResolver, reference: str, what: str) -> str:
    """The secret, or :class:`KeyUnavailable` naming what it is for."""
    try:
        return await resolver.resolve(reference)
    except SecretError as error:  # names the reference and the reason, never the value
        raise KeyUnavailable(f"{what} unavailable ({error})") from None


async def sync_api_bots(
    catalog: Catalog,
    names: Sequence[str] = (),
    *,
    context_windows: Mapping[str, int] | None = None,
    dry_run: bool = False,
    resolver: SecretResolver | None = None,
) -> list[ApiBotOutcome]:
    """Create or update the API bots of ``names`` (see the module), in catalog order.

    ``context_windows`` gives each bot's ``context_size`` by bot name (the model table's).
    ``resolver`` resolves the two keys (default: a fresh :class:`SecretResolver`, closed
    afterwards). Raises :class:`ApiBotsNotConfigured` without ``gateway.poe.api_bots``.
    """
    api_bots = catalog.gateway.poe.api_bots
    if api_bots is None:
        raise ApiBotsNotConfigured("the catalog has no gateway.poe.api_bots section")
    selection = selected_bots(catalog, api_bots, names)
    endpoint_reference = endpoint_key_reference(catalog, api_bots)
    own_resolver = resolver is None
    resolver = resolver or SecretResolver()
    try:
        poe_key = await resolved(resolver, api_bots.poe_api_key, "the Poe API key")
        endpoint_key = await resolved(
            resolver, endpoint_reference, f"the key of caller {api_bots.caller!r}"
        )
    except KeyUnavailable as unavailable:
        failed = [
            ApiBotOutcome(bot.bot_name, "failed", detail=str(unavailable)) for bot in selection.bots
        ]
        return ordered(catalog, names, [*failed, *selection.refused])
    finally:
        if own_resolver:
            await resolver.aclose()
    windows = context_windows or {}
    outcomes = list(selection.refused)
    with keys_hidden_from_logs([poe_key, endpoint_key]):
        client = PoeBotsClient(
            api_bots.bots_api_url,
            poe_key,
            timeout_seconds=api_bots.timeout_seconds,
            secrets=[endpoint_key],
        )
        try:
            for bot in selection.bots:
                try:
                    definition = api_bot_definition(
                        bot, api_bots, endpoint_key, endpoint_reference, windows.get(bot.bot_name)
                    )
                except NotAnApiBot as refused:
                    outcomes.append(ApiBotOutcome(bot.bot_name, "failed", detail=str(refused)))
                    continue
                outcomes.append(await sync_one(client, bot, definition, dry_run))
        finally:
            await client.aclose()
    return ordered(catalog, names, outcomes)


def ordered(
    catalog: Catalog, names: Sequence[str], outcomes: list[ApiBotOutcome]
) -> list[ApiBotOutcome]:
    """The outcomes in the order the names were given, else in catalog order."""
    order = list(dict.fromkeys(names)) or [bot.bot_name for bot in catalog.bots]
    position = {name: index for index, name in enumerate(order)}
    return sorted(outcomes, key=lambda outcome: position.get(outcome.bot, len(position)))
