"""Which Bedrock the gateway talks to: real AWS, a configured endpoint, or the embedded emulator.

With no AWS credentials and no endpoint configured, ``fmgate serve`` starts the Bedrock emulator
(and a moto S3 for video results, when moto is installed) in background threads and points the
gateway at them, saying so on start-up. With credentials, the same code calls real Bedrock.

The emulator is the separate distribution ``fmgate-emulator`` (development and tests; not in the
production image): without it, asking for the embedded backend raises ``EmulatorNotInstalled``,
whose message says how to install it. moto is a dev dependency too: without it video results
have no embedded S3, and the description says so.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from typing import Literal

from fmgate.bedrock.access import AwsAccess
from fmgate.config.bot_config import VideoBotConfig
from fmgate.config.catalog import Catalog

EMULATOR_ACCESS_KEY_ID = "AKIDEMULATOR"
#: The embedded moto S3 accepts any credentials; these are not secrets.
EMBEDDED_S3_KEY = "embedded"


def aws_credentials_available() -> bool:
    """Whether botocore's default chain finds credentials (env, profile, SSO, role...)."""
    import botocore.session

    session = botocore.session.get_session()
    return session.get_credentials() is not None


class EmulatorNotInstalled(RuntimeError):
    """The embedded backend was asked for, but the ``fmgate_emulator`` package is missing."""

    def __init__(self) -> None:
        super().__init__(
            "the embedded Bedrock emulator is not installed (it is the package fmgate-emulator, "
            "for development and tests): pip install -e ./emulator (from a checkout)"
        )


@dataclass(frozen=True, slots=True)
class Backend:
    aws: AwsAccess
    embedded: bool
    description: str


@contextmanager
def choose_backend(
    catalog: Catalog, mode: Literal["auto", "always", "never"] | None = None
) -> Iterator[Backend]:
    """Yield the backend to use; an embedded emulator lives as long as the context."""
    mode = mode or catalog.gateway.emulator.enabled
    endpoint = catalog.gateway.bedrock_endpoint_url
    if mode == "never" or (mode == "auto" and (endpoint or aws_credentials_available())):
        where = endpoint or "AWS Bedrock (default endpoints)"
        yield Backend(aws=AwsAccess(endpoint_url=endpoint), embedded=False, description=where)
        return
    with ExitStack() as stack:
        yield stack.enter_context(embedded_backend(catalog))


@contextmanager
def embedded_backend(catalog: Catalog) -> Iterator[Backend]:
    """The emulator (and a moto S3 when installed) on loopback, for as long as the context."""
    try:
        from fmgate_emulator import Emulator, EmulatorConfig
    except ModuleNotFoundError as exc:
        if exc.name != "fmgate_emulator":
            raise
        raise EmulatorNotInstalled from None

    secret = secrets.token_urlsafe(24)
    with ExitStack() as stack:
        s3_url = stack.enter_context(embedded_s3())
        if s3_url is not None:
            create_video_buckets(catalog, s3_url)
        config = EmulatorConfig(
            access_key_id=EMULATOR_ACCESS_KEY_ID,
            secret_access_key=secret,
            profile=catalog.gateway.emulator.profile,
            s3_endpoint_url=s3_url,
            s3_access_key_id=EMBEDDED_S3_KEY if s3_url else None,
            s3_secret_access_key=EMBEDDED_S3_KEY if s3_url else None,
        )
        emulator = stack.enter_context(Emulator.running(config))
        yield Backend(
            aws=AwsAccess(
                endpoint_url=emulator.url,
                access_key_id=EMULATOR_ACCESS_KEY_ID,
                secret_access_key=secret,
                s3_endpoint_url=s3_url,
                s3_access_key_id=EMBEDDED_S3_KEY if s3_url else None,
                s3_secret_access_key=EMBEDDED_S3_KEY if s3_url else None,
            ),
            embedded=True,
            description=f"embedded Bedrock emulator at {emulator.url}"
            + embedded_s3_note(catalog, s3_url),
        )


def embedded_s3_note(catalog: Catalog, s3_url: str | None) -> str:
    """Where video results go; a warning when video bots have nowhere (moto not installed)."""
    if s3_url is not None:
        return f" (video results in an embedded S3 at {s3_url})"
    if any(isinstance(bot, VideoBotConfig) for bot in catalog.bots):
        return " (no embedded S3 for video results: moto is not installed, so video jobs fail)"
    return ""


@contextmanager
def embedded_s3() -> Iterator[str | None]:
    """A moto S3 server on loopback when moto is installed (dev installs), else None."""
    try:
        from moto.server import ThreadedMotoServer
    except ImportError:
        yield None
        return
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # moto's per-request access log
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    try:
        host, port = server.get_host_and_port()
        yield f"http://{host}:{port}"
    finally:
        server.stop()


def create_video_buckets(catalog: Catalog, s3_url: str) -> None:
    """Create the buckets the catalog's video bots write to, in the embedded S3."""
    import boto3  # present whenever moto is (moto depends on it)

    s3 = boto3.client(
        "s3",
        endpoint_url=s3_url,
        region_name="us-east-1",
        aws_access_key_id=EMBEDDED_S3_KEY,
        aws_secret_access_key=EMBEDDED_S3_KEY,
    )
    buckets = {
        bot.video.output_s3_uri.removeprefix("s3://").split("/", 1)[0]
        for bot in catalog.bots
        if isinstance(bot, VideoBotConfig)
    }
    for bucket in sorted(buckets):
        s3.create_bucket(Bucket=bucket)
