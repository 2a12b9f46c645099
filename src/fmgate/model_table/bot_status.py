"""What `fmgate models` says about each bot: ready to serve, or what stands in the way.

Offline checks (no call to Bedrock or Poe): the bot's access key resolves; its model is in the
model table, of the bot's kind; a profile-only model is called through an inference profile;
the region is one the table saw the model listed in (when it knows); the bot charges something
for a priced model. A warning, not a problem: the table's prices for the model were checked more
than 90 days ago (the bot's prices came from there). With a running gateway's ``/status.json``
(``--url``), each bot also gets its live numbers and the circuit of its model.
"""

from __future__ import annotations

import asyncio
import datetime
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from fmgate.bedrock.model_ids import PROFILE_PREFIXES
from fmgate.config.bot_config import BotConfig
from fmgate.config.errors import SecretError
from fmgate.config.pricing import Pricing
from fmgate.config.secrets import AwsSecretRef, SecretResolver, parse_secret_ref
from fmgate.model_table.table import STALE_AFTER_DAYS, ModelTable, UnknownModel, find_model


@dataclass(frozen=True, slots=True)
class BotStatus:
    """One bot's verdict: ``problems`` empty means ready (``warnings`` do not stand in the
    way); ``live`` from a running gateway."""

    bot: str
    problems: tuple[str, ...]
    live: str = ""
    warnings: tuple[str, ...] = ()

    @property
    def ready(self) -> bool:
        return not self.problems

    @property
    def text(self) -> str:
        verdict = "; ".join(self.problems) if self.problems else "ready"
        if self.warnings:
            verdict = f"{verdict}; {'; '.join(self.warnings)}"
        return f"{verdict} | {self.live}" if self.live else verdict


def model_problems(config: BotConfig, table: ModelTable) -> list[str]:
    """What the model table says is wrong with the bot's model, region or prices."""
    try:
        facts = find_model(config.model_id, table)
    except UnknownModel:
        return ["model not in the model table"]
    problems = []
    if facts.kind != config.kind:
        problems.append(f"table says {facts.kind} model")
    if facts.profile_only and not config.model_id.startswith(PROFILE_PREFIXES):
        problems.append(f"needs a profile id: {facts.invocation_id(config.aws_region)}")
    if facts.regions and config.aws_region not in facts.regions:
        problems.append(f"not listed in {config.aws_region}")
    if facts.priced and config.pricing == Pricing():
        problems.append("charges nothing for a priced model")
    return problems


def model_warnings(config: BotConfig, table: ModelTable, today: datetime.date) -> list[str]:
    """What may be out of date: the table's prices for the bot's model, when stale."""
    try:
        facts = find_model(config.model_id, table)
    except UnknownModel:
        return []
    if facts.prices_as_of is None or not facts.prices_stale(today):
        return []
    return [f"table prices of {facts.prices_as_of.isoformat()}, over {STALE_AFTER_DAYS} days old"]


async def key_problems(config: BotConfig, secrets: SecretResolver) -> list[str]:
    """Whether the access key reference resolves (the value is never shown). Secrets Manager
    references are not fetched: listing bots never calls AWS."""
    if config.access_key is None:
        return ["no access key (dev only)"]
    if isinstance(parse_secret_ref(config.access_key), AwsSecretRef):
        return []
    try:
        await secrets.resolve(config.access_key)
    except SecretError:
        return [f"access key {config.access_key} does not resolve"]
    return []


def live_summary(row: Mapping[str, object], circuits: Mapping[tuple[str, str], str]) -> str:
    """``12 req, 1 err, TTFT 230 ms`` from a ``/status.json`` bot row, plus an open circuit."""
    parts = [f"{row.get('requests', 0)} req", f"{row.get('errors', 0)} err"]
    ttft = row.get("ttft_p50_ms")
    if ttft is not None:
        parts.append(f"TTFT {ttft} ms")
    circuit = circuits.get((str(row.get("model_id")), str(row.get("region"))), "closed")
    if circuit != "closed":
        parts.append(f"circuit {circuit.replace('_', '-')}")
    return ", ".join(parts)


async def bot_statuses(
    bots: Sequence[BotConfig],
    table: ModelTable,
    secrets: SecretResolver,
    live: Mapping[str, object] | None = None,
    today: datetime.date | None = None,
) -> list[BotStatus]:
    """One :class:`BotStatus` per bot, in catalog order; ``live`` is a ``/status.json`` body;
    prices are judged stale relative to ``today`` (default: the local date)."""
    today = today or datetime.date.today()
    keys = await asyncio.gather(*(key_problems(config, secrets) for config in bots))
    rows: dict[str, Mapping[str, object]] = {}
    circuits: dict[tuple[str, str], str] = {}
    if live is not None:
        for bot_row in _dicts(live.get("bots")):
            rows[str(bot_row.get("bot"))] = bot_row
        for upstream in _dicts(live.get("upstreams")):
            target = (str(upstream.get("model_id")), str(upstream.get("region")))
            circuits[target] = str(upstream.get("circuit", "closed"))
    statuses = []
    for config, key in zip(bots, keys, strict=True):
        row = rows.get(config.bot_name)
        statuses.append(
            BotStatus(
                bot=config.bot_name,
                problems=(*key, *model_problems(config, table)),
                live=live_summary(row, circuits) if row is not None else "",
                warnings=tuple(model_warnings(config, table, today)),
            )
        )
    return statuses


def _dicts(value: object) -> list[Mapping[str, object]]:
    return [item for item in value if isinstance(item, Mapping)] if isinstance(value, list) else []
