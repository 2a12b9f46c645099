"""The gateway app configured from environment variables alone, for hosts that import an ASGI
factory instead of running ``fmgate serve`` (Modal's ``@modal.asgi_app``, ``uvicorn --factory``).

=============================  ===============================================================
variable                       meaning
=============================  ===============================================================
``FMGATE_CONFIG``              catalog file to serve and follow (unset: the bundled catalog)
``FMGATE_RELOAD_INTERVAL``     seconds between checks of that file for changes (default 2;
                               0: only on SIGHUP)
``FMGATE_BEDROCK_ENDPOINT_URL``  Bedrock Runtime endpoint (unset: the catalog's
                               ``gateway.bedrock_endpoint_url``, else AWS itself)
``FMGATE_LEDGER``              SQLite usage-ledger file (unset: no local ledger; containers that
                               come and go should use the catalog's shared ``gateway.ledger``)
``AWS_ACCESS_KEY_ID``,         AWS credentials; when unset, botocore's default chain (instance
``AWS_SECRET_ACCESS_KEY``,     or task role, web identity, profile) finds them
``AWS_SESSION_TOKEN``
=============================  ===============================================================

Never the embedded emulator: a deployment without AWS credentials fails its Bedrock calls
instead of serving synthetic replies (the same choice as ``fmgate serve --emulator never``).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from starlette.applications import Starlette

from fmgate.bedrock.access import AwsAccess
from fmgate.config.loader import load_catalog
from fmgate.server.app import create_app
from fmgate.server.gateway import GatewayOptions

CONFIG = "FMGATE_CONFIG"
RELOAD_INTERVAL = "FMGATE_RELOAD_INTERVAL"
BEDROCK_ENDPOINT_URL = "FMGATE_BEDROCK_ENDPOINT_URL"
LEDGER = "FMGATE_LEDGER"

#: The same default as ``fmgate serve --reload-interval``.
DEFAULT_RELOAD_SECONDS = 2.0


class InvalidEnvironment(ValueError):
    """An environment variable holds a value the gateway cannot use (the message names it)."""


def non_empty(environ: Mapping[str, str], name: str) -> str | None:
    """The variable's value, or None when it is unset or blank."""
    value = environ.get(name, "").strip()
    return value or None


def reload_interval(environ: Mapping[str, str]) -> float:
    """``FMGATE_RELOAD_INTERVAL`` as seconds (a non-negative number)."""
    text = non_empty(environ, RELOAD_INTERVAL)
    if text is None:
        return DEFAULT_RELOAD_SECONDS
    try:
        seconds = float(text)
    except ValueError:
        raise InvalidEnvironment(f"{RELOAD_INTERVAL} must be a number of seconds") from None
    if not seconds >= 0:  # also refuses NaN
        raise InvalidEnvironment(f"{RELOAD_INTERVAL} must be 0 or more")
    return seconds


def aws_access_from_environment(
    environ: Mapping[str, str], catalog_endpoint_url: str | None
) -> AwsAccess:
    """Where and as whom to call AWS: explicit keys when both are set, else the default chain."""
    key_id = non_empty(environ, "AWS_ACCESS_KEY_ID")
    secret = non_empty(environ, "AWS_SECRET_ACCESS_KEY")
    endpoint = non_empty(environ, BEDROCK_ENDPOINT_URL) or catalog_endpoint_url
    if key_id is None or secret is None:
        return AwsAccess(endpoint_url=endpoint)
    return AwsAccess(
        endpoint_url=endpoint,
        access_key_id=key_id,
        secret_access_key=secret,
        session_token=non_empty(environ, "AWS_SESSION_TOKEN"),
    )


def create_app_from_environment(environ: Mapping[str, str] | None = None) -> Starlette:
    """The gateway's ASGI app as the environment (default: ``os.environ``) describes it.

    The catalog is read and validated here, so a broken catalog fails the container at start-up
    with the file, bot and field named; the gateway itself opens in the app's lifespan.
    """
    env = os.environ if environ is None else environ
    config = non_empty(env, CONFIG)
    catalog_path = Path(config) if config is not None else None
    catalog = load_catalog(catalog_path)
    ledger = non_empty(env, LEDGER)
    options = GatewayOptions(
        aws=aws_access_from_environment(env, catalog.gateway.bedrock_endpoint_url),
        ledger_path=Path(ledger) if ledger is not None else None,
    )
    return create_app(
        catalog, options, catalog_path=catalog_path, reload_interval=reload_interval(env)
    )
