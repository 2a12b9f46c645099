"""``GET /v1/models``: every deployed bot as an OpenAI model (id = bot name)."""

from __future__ import annotations

from fmgate.bots.registry import DeployedBot, Registry

#: A fixed creation time: bots have none, and clients only display it.
CREATED = 1_700_000_000


def model_body(deployed: DeployedBot) -> dict[str, object]:
    config = deployed.config
    return {
        "id": config.bot_name,
        "object": "model",
        "created": CREATED,
        "owned_by": "fmgate",
        "kind": config.kind,
    }


def models_body(registry: Registry) -> dict[str, object]:
    return {"object": "list", "data": [model_body(deployed) for deployed in registry]}
