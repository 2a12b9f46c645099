"""``fmgate models refresh``: bring the model table up to date from Bedrock's own listings.

For each region, Bedrock's control plane (the ``bedrock`` service, through aiobotocore) is asked
for ``ListFoundationModels`` and every page of ``ListInferenceProfiles`` (system-defined). The
listings are merged into a base table (the bundled one by default):

- **Known models keep what only the table knows** (prices and the date they were checked,
  context windows, output limits, names, reasoning, body families) and get refreshed what
  Bedrock reports: image input (chat models),
  on demand or only through an inference profile, the profile ids, the regions listing them.
- **New models are added without prices** (``prices: {}``), with their kind from the output
  modality and their input modalities; ``fmgate models add`` refuses them until someone writes
  their prices into the file, so no bot is ever deployed at price 0 by accident.
- Models Bedrock lists but nobody can call on demand (provisioned-throughput-only variants) or
  that produce something no bot kind serves (embeddings) are skipped, and reported.

A model is *profile-only* when some region lists it without ``ON_DEMAND`` and a system-defined
inference profile serves it: the profile id works wherever the profile exists.

The result is written with today's date as ``as_of`` (``var/model_table.yaml`` by default), where
``fmgate models add`` and ``fmgate models`` find it. Credentials come from the standard AWS chain;
``endpoint_url`` points the client elsewhere (the emulator, in tests: never AWS).
"""

from __future__ import annotations

import asyncio
import datetime
import re
from collections.abc import AsyncIterator, Iterable, Mapping, Sequence
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final, Protocol

import botocore.session
import yaml
from aiobotocore.config import AioConfig
from aiobotocore.session import get_session
from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    EndpointConnectionError,
    NoCredentialsError,
)

from fmgate.config.bot_config import BotKind
from fmgate.model_table.add_model import replace_file
from fmgate.model_table.table import (
    REFRESHED_TABLE_PATH,
    Modality,
    ModelFacts,
    ModelTable,
    bundled_table,
)

DEFAULT_REGIONS: Final = ("us-east-1",)
#: Bedrock's ``outputModalities`` value -> the bot kind that serves it (others are skipped).
KIND_BY_OUTPUT: Final[Mapping[str, BotKind]] = {"TEXT": "chat", "IMAGE": "image", "VIDEO": "video"}
ON_DEMAND: Final = "ON_DEMAND"
LEGACY: Final = "LEGACY"
FOUNDATION_MODEL_ARN: Final = re.compile(r":foundation-model/(?P<model_id>.+)$")
BOT_NAME_UNSAFE: Final = re.compile(r"[^a-z0-9-]+")

#: ClientError codes -> what to tell the operator (never the service's own text).
LISTING_REFUSALS: Final[Mapping[str, str]] = {
    "AccessDeniedException": "access denied (check the credentials, and that they allow "
    "bedrock:ListFoundationModels and bedrock:ListInferenceProfiles)",
    "UnrecognizedClientException": "the AWS credentials were not recognised",
    "InvalidClientTokenId": "the AWS credentials were not recognised",
    "InvalidSignatureException": "the request signature was refused (check the secret key and "
    "the clock)",
    "ExpiredTokenException": "the AWS session token has expired",
    "ThrottlingException": "Bedrock is throttling the listing; try again",
}


class RefreshError(Exception):
    """The listings could not be fetched or written; the message says why and what to do."""


class ProfilePaginator(Protocol):
    def paginate(self, **kwargs: object) -> AsyncIterator[Mapping[str, Any]]: ...


class BedrockControlClient(Protocol):
    """The two ``bedrock`` operations the refresh uses (an aiobotocore client)."""

    async def list_foundation_models(self, **kwargs: object) -> Mapping[str, Any]: ...

    def get_paginator(self, operation_name: str) -> ProfilePaginator: ...


@dataclass(frozen=True, slots=True)
class RegionListing:
    """What Bedrock listed in one region: model summaries and system-defined profiles."""

    region: str
    models: tuple[Mapping[str, Any], ...]
    profiles: tuple[Mapping[str, Any], ...]


@dataclass(frozen=True, slots=True)
class RefreshResult:
    """The merged table and what changed, for the command's report."""

    table: ModelTable
    #: Known models that Bedrock listed (their facts were refreshed).
    refreshed: tuple[str, ...]
    #: New models, added without prices.
    added: tuple[str, ...]
    #: Known models no listed region showed (kept unchanged).
    not_listed: tuple[str, ...]
    #: Listed models that were left out (not callable on demand, or no bot kind for them).
    skipped: tuple[str, ...]
    #: Listed models Bedrock marks LEGACY (to be retired).
    legacy: tuple[str, ...]


@dataclass(slots=True)
class ListedModel:
    """One model id across every region's listing."""

    model_id: str
    provider: str = ""
    model_name: str = ""
    inputs: set[str] = field(default_factory=set)
    outputs: list[str] = field(default_factory=list)
    regions: list[str] = field(default_factory=list)
    on_demand_regions: list[str] = field(default_factory=list)
    profile_ids: set[str] = field(default_factory=set)
    legacy: bool = False

    @property
    def kind(self) -> BotKind | None:
        """The bot kind serving its (single) output modality; None when none does."""
        kinds = {KIND_BY_OUTPUT.get(output) for output in self.outputs}
        if len(kinds) != 1:
            return None
        return next(iter(kinds))

    @property
    def callable_on_demand(self) -> bool:
        """Callable without provisioned throughput: on demand somewhere, or via a profile."""
        return bool(self.on_demand_regions or self.profile_ids)

    @property
    def profile_only(self) -> bool:
        """Some listing region lacks on-demand calls, and an inference profile serves it."""
        return bool(self.profile_ids) and len(self.on_demand_regions) < len(self.regions)


# -- fetching ------------------------------------------------------------------------------------


def credentials_available() -> bool:
    """Whether botocore's default chain finds credentials (env, profile, SSO, role...)."""
    return botocore.session.get_session().get_credentials() is not None


async def fetch_listing(
    client: BedrockControlClient, region: str, *, page_size: int | None = None
) -> RegionListing:
    """ListFoundationModels and every page of ListInferenceProfiles (system-defined)."""
    models = await client.list_foundation_models()
    pagination = {"PageSize": page_size} if page_size else {}
    profiles: list[Mapping[str, Any]] = []
    paginator = client.get_paginator("list_inference_profiles")
    async for page in paginator.paginate(typeEquals="SYSTEM_DEFINED", PaginationConfig=pagination):
        profiles.extend(page.get("inferenceProfileSummaries", ()))
    return RegionListing(region, tuple(models.get("modelSummaries", ())), tuple(profiles))


async def fetch_listings(
    regions: Sequence[str],
    *,
    endpoint_url: str | None = None,
    page_size: int | None = None,
) -> list[RegionListing]:
    """Every region's listing, fetched concurrently; :class:`RefreshError` on any failure."""
    config = AioConfig(
        connect_timeout=10,
        read_timeout=30,
        retries={"mode": "standard", "total_max_attempts": 3},
    )
    session = get_session()
    async with AsyncExitStack() as stack:
        clients = [
            await stack.enter_async_context(
                session.create_client(
                    "bedrock", region_name=region, endpoint_url=endpoint_url, config=config
                )
            )
            for region in regions
        ]
        try:
            return list(
                await asyncio.gather(
                    *(
                        fetch_listing(client, region, page_size=page_size)
                        for client, region in zip(clients, regions, strict=True)
                    )
                )
            )
        except NoCredentialsError:
            raise RefreshError(no_credentials_message()) from None
        except ClientError as exc:
            code = str(exc.response.get("Error", {}).get("Code", "Unknown"))
            reason = LISTING_REFUSALS.get(code, f"Bedrock answered {code}")
            raise RefreshError(f"Bedrock refused to list the models: {reason}") from None
        except EndpointConnectionError:
            where = endpoint_url or "Bedrock's endpoint"
            raise RefreshError(f"could not reach {where}") from None
        except BotoCoreError as exc:
            raise RefreshError(f"listing the models failed ({type(exc).__name__})") from None


def no_credentials_message() -> str:
    return (
        "no AWS credentials found, so Bedrock's model listings cannot be read. Configure "
        "credentials (AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, a profile, SSO or a role) with "
        "bedrock:ListFoundationModels and bedrock:ListInferenceProfiles; for a local emulator "
        "pass --endpoint-url and its keys in those variables. The bundled model table stays in use."
    )


# -- merging -------------------------------------------------------------------------------------


def collect(listings: Iterable[RegionListing]) -> dict[str, ListedModel]:
    """Every listed model id, with what each region said about it and its profiles."""
    listed: dict[str, ListedModel] = {}
    for listing in listings:
        for summary in listing.models:
            model_id = str(summary["modelId"])
            model = listed.setdefault(model_id, ListedModel(model_id))
            model.provider = str(summary.get("providerName") or model.provider)
            model.model_name = str(summary.get("modelName") or model.model_name)
            model.inputs.update(summary.get("inputModalities", ()))
            for output in summary.get("outputModalities", ()):
                if output not in model.outputs:
                    model.outputs.append(output)
            model.regions.append(listing.region)
            if ON_DEMAND in summary.get("inferenceTypesSupported", ()):
                model.on_demand_regions.append(listing.region)
            lifecycle = summary.get("modelLifecycle") or {}
            model.legacy = model.legacy or lifecycle.get("status") == LEGACY
    for listing in listings:
        for profile in listing.profiles:
            for routed in profile.get("models", ()):
                found = FOUNDATION_MODEL_ARN.search(str(routed.get("modelArn", "")))
                if found and found["model_id"] in listed:
                    listed[found["model_id"]].profile_ids.add(str(profile["inferenceProfileId"]))
    return listed


def refreshed_input(current: tuple[Modality, ...], listed_inputs: set[str]) -> tuple[Modality, ...]:
    """Image input as Bedrock lists it; documents as the table says (Bedrock does not list
    document support)."""
    modalities: list[Modality] = ["text"]
    if "IMAGE" in listed_inputs:
        modalities.append("image")
    if "document" in current:
        modalities.append("document")
    return tuple(modalities)


def refreshed_facts(facts: ModelFacts, model: ListedModel) -> ModelFacts:
    """A known model with Bedrock's view applied; prices and limits untouched."""
    update: dict[str, object] = {
        "profile_only": model.profile_only,
        "profile_ids": tuple(sorted(model.profile_ids)),
        "regions": tuple(model.regions),
    }
    if facts.kind == "chat":
        update["input"] = refreshed_input(facts.input, model.inputs)
    return facts.model_copy(update=update)


def suggested_name(model_id: str, taken: set[str]) -> str:
    """``amazon.nova-2-lite-v1:0`` -> ``nova-2-lite-v1-0`` (provider-qualified if taken)."""
    provider, _, rest = model_id.partition(".")
    name = BOT_NAME_UNSAFE.sub("-", (rest or model_id).lower()).strip("-")[:60] or "model"
    if name in taken:
        name = BOT_NAME_UNSAFE.sub("-", f"{provider}-{name}").strip("-")[:64]
    return name


def new_facts(model: ListedModel, kind: BotKind, name: str, as_of: str) -> ModelFacts:
    """A model only the listings know: no prices, no limits (the catalog's defaults apply)."""
    inputs: tuple[Modality, ...] = ("text", "image") if "IMAGE" in model.inputs else ("text",)
    label = " ".join(part for part in (model.provider, model.model_name) if part)
    return ModelFacts(
        model_id=model.model_id,
        kind=kind,
        name=name,
        description=f"{label or model.model_id} (listed by Bedrock on {as_of}; not priced yet).",
        input=inputs if kind == "chat" else ("text",),
        profile_only=model.profile_only,
        prices={},
        profile_ids=tuple(sorted(model.profile_ids)),
        regions=tuple(model.regions),
    )


def merge_listings(
    base: ModelTable, listings: Sequence[RegionListing], as_of: str
) -> RefreshResult:
    """The base table refreshed from ``listings``, dated ``as_of`` (pure)."""
    listed = collect(listings)
    models: list[ModelFacts] = []
    refreshed, not_listed, skipped = [], [], []
    for facts in base.models:
        model = listed.get(facts.model_id)
        if model is None:
            not_listed.append(facts.model_id)
            models.append(facts)
        elif not model.callable_on_demand:
            skipped.append(facts.model_id)
            models.append(facts)
        else:
            refreshed.append(facts.model_id)
            models.append(refreshed_facts(facts, model))
    known = {facts.model_id for facts in base.models}
    taken = {facts.name for facts in base.models}
    added = []
    for model_id in sorted(set(listed) - known):
        model = listed[model_id]
        kind = model.kind
        if kind is None or not model.callable_on_demand or model.legacy:
            skipped.append(model_id)
            continue
        name = suggested_name(model_id, taken)
        taken.add(name)
        models.append(new_facts(model, kind, name, as_of))
        added.append(model_id)
    return RefreshResult(
        table=ModelTable(as_of=as_of, models=tuple(models)),
        refreshed=tuple(refreshed),
        added=tuple(added),
        not_listed=tuple(not_listed),
        skipped=tuple(skipped),
        legacy=tuple(model_id for model_id, model in listed.items() if model.legacy),
    )


# -- writing -------------------------------------------------------------------------------------


def table_yaml(table: ModelTable, regions: Sequence[str], base_as_of: str) -> str:
    """The table as YAML, with a header saying where it came from and what is unpriced."""
    header = (
        "# fmgate's model table, refreshed by `fmgate models refresh` from Bedrock's\n"
        f"# ListFoundationModels / ListInferenceProfiles on {table.as_of} "
        f"(regions: {', '.join(regions)}).\n"
        f"# Prices, context windows and output limits come from the model table of {base_as_of};\n"
        "# each entry's prices_as_of says when its prices were checked.\n"
        "# Entries with `prices: {}` are NOT PRICED: write their list prices (milli-cents) before\n"
        "# `fmgate models add` will add them.\n"
    )
    document = table.model_dump(mode="json", exclude_defaults=True)
    body = yaml.safe_dump(document, sort_keys=False, default_flow_style=None, width=100)
    return header + body


async def refresh_model_table(
    regions: Sequence[str] = DEFAULT_REGIONS,
    *,
    out: Path = REFRESHED_TABLE_PATH,
    endpoint_url: str | None = None,
    base: ModelTable | None = None,
    today: datetime.date | None = None,
    page_size: int | None = None,
) -> RefreshResult:
    """Fetch every region's listing, merge it into ``base`` (the bundled table) and write
    the result to ``out`` (atomically). :class:`RefreshError` when listing fails."""
    base = base or bundled_table()
    listings = await fetch_listings(regions, endpoint_url=endpoint_url, page_size=page_size)
    as_of = (today or datetime.date.today()).isoformat()
    result = merge_listings(base, listings, as_of)
    text = table_yaml(result.table, regions, base.as_of)
    try:
        await asyncio.to_thread(replace_file, out, text)
    except OSError as exc:
        raise RefreshError(f"cannot write {out} ({exc.strerror or type(exc).__name__})") from None
    return result
