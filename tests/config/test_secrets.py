"""Secret references resolved for real: environment, files, and a real moto Secrets Manager."""

from __future__ import annotations

import asyncio
import json
import traceback
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest

from fmgate.config.errors import SecretError
from fmgate.config.secrets import (
    AwsSecretRef,
    EnvRef,
    FileRef,
    Secret,
    SecretResolver,
    parse_secret_ref,
)
from fmgate.core.errors import BotMisconfigured

REGION = "us-east-1"
SECRET_VALUE = "poe-key-very-secret-3c9a7e1f0b2d"


class FakeClock:
    """Monotonic seconds that only move when the test says so."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def secretsmanager(moto_url: str) -> Iterator[Any]:
    """A boto3 Secrets Manager client on the test session's moto_server."""
    client = boto3.client(
        "secretsmanager",
        endpoint_url=moto_url,
        region_name=REGION,
        aws_access_key_id="moto",
        aws_secret_access_key="moto",
    )
    yield client
    client.close()


MakeResolver = Callable[..., SecretResolver]


@pytest.fixture
async def make_resolver(moto_url: str, clock: FakeClock) -> AsyncIterator[MakeResolver]:
    """Build resolvers on moto with the fake clock; all are closed at the end of the test."""
    made: list[SecretResolver] = []

    def make(**options: Any) -> SecretResolver:
        settings: dict[str, Any] = {
            "region": REGION,
            "endpoint_url": moto_url,
            "access_key_id": "moto",
            "secret_access_key": "moto",
            "clock": clock,
        }
        settings.update(options)
        resolver = SecretResolver(**settings)
        made.append(resolver)
        return resolver

    yield make
    for resolver in made:
        await resolver.aclose()


def unique(name: str) -> str:
    return f"fmgate/test/{name}-{uuid.uuid4().hex[:8]}"


def assert_value_hidden(error: SecretError, *values: str) -> None:
    """Neither the message, the repr nor the whole formatted traceback shows any value."""
    rendered = [str(error), repr(error), error.detail, error.user_message]
    rendered.append("".join(traceback.format_exception(error)))
    for value in values:
        for text in rendered:
            assert value not in text


# --- parsing -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("reference", "parsed"),
    [
        ("env:POE_ACCESS_KEY", EnvRef("POE_ACCESS_KEY")),
        ("file:/run/secrets/poe", FileRef(Path("/run/secrets/poe"))),
        ("aws-secretsmanager:prod/fmgate#poe_key", AwsSecretRef("prod/fmgate", "poe_key")),
        ("aws-secretsmanager:prod/fmgate", AwsSecretRef("prod/fmgate", None)),
    ],
)
def test_references_parse(reference: str, parsed: object) -> None:
    assert parse_secret_ref(reference) == parsed


def test_arn_secret_id_carries_its_region() -> None:
    arn = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:fmgate-AbCdEf"
    ref = parse_secret_ref(f"aws-secretsmanager:{arn}#key")
    assert ref == AwsSecretRef(arn, "key")
    assert isinstance(ref, AwsSecretRef)
    assert ref.region == "eu-west-1"
    assert AwsSecretRef("plain-name").region is None


@pytest.mark.parametrize(
    "reference",
    ["POE_KEY", "env:", "env:1BAD", "vault:x", "aws-secretsmanager:", "aws-secretsmanager:x#"],
)
def test_malformed_references_are_refused(reference: str) -> None:
    with pytest.raises(SecretError, match="not a secret reference"):
        parse_secret_ref(reference)


def test_a_pasted_secret_is_not_echoed_when_refused() -> None:
    pasted = "sk-0123456789abcdef:with-colon"
    with pytest.raises(SecretError) as caught:
        parse_secret_ref(pasted)
    assert_value_hidden(caught.value, pasted, "0123456789abcdef")


# --- the Secret wrapper --------------------------------------------------------------------


def test_secret_wrapper_hides_its_value() -> None:
    secret = Secret(SECRET_VALUE)
    assert repr(secret) == str(secret) == f"{secret}" == "Secret('****')"
    assert SECRET_VALUE not in repr([secret, {"k": secret}])
    assert secret.get_secret_value() == SECRET_VALUE
    assert secret == Secret(SECRET_VALUE)
    assert secret != Secret("other")


# --- env and file --------------------------------------------------------------------------


async def test_env_reference(make_resolver: MakeResolver) -> None:
    resolver = make_resolver(environ={"POE_ACCESS_KEY": SECRET_VALUE})
    assert await resolver.resolve("env:POE_ACCESS_KEY") == SECRET_VALUE


async def test_env_reference_reads_the_process_environment_by_default(
    make_resolver: MakeResolver, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FMGATE_TEST_SECRET_ENV", SECRET_VALUE)
    assert await make_resolver().resolve("env:FMGATE_TEST_SECRET_ENV") == SECRET_VALUE


async def test_missing_env_variable(make_resolver: MakeResolver) -> None:
    resolver = make_resolver(environ={})
    with pytest.raises(SecretError) as caught:
        await resolver.resolve("env:POE_ACCESS_KEY")
    assert (
        str(caught.value)
        == "secret env:POE_ACCESS_KEY: environment variable POE_ACCESS_KEY is not set"
    )
    assert caught.value.reference == "env:POE_ACCESS_KEY"
    assert isinstance(caught.value, BotMisconfigured)


async def test_empty_env_variable_is_an_error(make_resolver: MakeResolver) -> None:
    with pytest.raises(SecretError, match="the secret is empty"):
        await make_resolver(environ={"EMPTY": ""}).resolve("env:EMPTY")


async def test_file_reference_strips_surrounding_whitespace(
    make_resolver: MakeResolver, tmp_path: Path
) -> None:
    path = tmp_path / "poe_key"
    path.write_text(f"  {SECRET_VALUE}\n", encoding="utf-8")
    assert await make_resolver().resolve(f"file:{path}") == SECRET_VALUE


async def test_missing_file(make_resolver: MakeResolver, tmp_path: Path) -> None:
    path = tmp_path / "absent"
    with pytest.raises(SecretError) as caught:
        await make_resolver().resolve(f"file:{path}")
    assert (
        str(caught.value) == f"secret file:{path}: cannot read the file (No such file or directory)"
    )


async def test_binary_file_is_refused_without_showing_it(
    make_resolver: MakeResolver, tmp_path: Path
) -> None:
    path = tmp_path / "binary"
    path.write_bytes(b"\xff\xfe" + SECRET_VALUE.encode())
    with pytest.raises(SecretError, match="not UTF-8") as caught:
        await make_resolver().resolve(f"file:{path}")
    assert_value_hidden(caught.value, SECRET_VALUE)


# --- AWS Secrets Manager (moto_server) -----------------------------------------------------


async def test_json_key_of_a_secret(make_resolver: MakeResolver, secretsmanager: Any) -> None:
    name = unique("json")
    document = {"poe_key": SECRET_VALUE, "other": "x"}
    secretsmanager.create_secret(Name=name, SecretString=json.dumps(document))
    resolver = make_resolver()
    assert await resolver.resolve(f"aws-secretsmanager:{name}#poe_key") == SECRET_VALUE
    assert await resolver.resolve(f"aws-secretsmanager:{name}#other") == "x"


async def test_whole_string_secret(make_resolver: MakeResolver, secretsmanager: Any) -> None:
    name = unique("whole")
    secretsmanager.create_secret(Name=name, SecretString=SECRET_VALUE)
    assert await make_resolver().resolve(f"aws-secretsmanager:{name}") == SECRET_VALUE


async def test_secret_by_arn(make_resolver: MakeResolver, secretsmanager: Any) -> None:
    name = unique("arn")
    arn = secretsmanager.create_secret(Name=name, SecretString=SECRET_VALUE)["ARN"]
    assert await make_resolver().resolve(f"aws-secretsmanager:{arn}") == SECRET_VALUE


async def test_binary_secret_is_read_as_text(
    make_resolver: MakeResolver, secretsmanager: Any
) -> None:
    name = unique("binary")
    secretsmanager.create_secret(Name=name, SecretBinary=SECRET_VALUE.encode())
    assert await make_resolver().resolve(f"aws-secretsmanager:{name}") == SECRET_VALUE


async def test_missing_secret(make_resolver: MakeResolver) -> None:
    ref = f"aws-secretsmanager:{unique('absent')}#poe_key"
    with pytest.raises(SecretError) as caught:
        await make_resolver().resolve(ref)
    assert str(caught.value) == f"secret {ref}: no such secret in Secrets Manager"


async def test_missing_json_key_does_not_show_the_secret(
    make_resolver: MakeResolver, secretsmanager: Any
) -> None:
    name = unique("nokey")
    secretsmanager.create_secret(Name=name, SecretString=json.dumps({"poe_key": SECRET_VALUE}))
    ref = f"aws-secretsmanager:{name}#missing"
    with pytest.raises(SecretError) as caught:
        await make_resolver().resolve(ref)
    assert str(caught.value) == f'secret {ref}: the secret has no key "missing"'
    assert_value_hidden(caught.value, SECRET_VALUE)


async def test_json_key_on_a_non_json_secret_does_not_show_it(
    make_resolver: MakeResolver, secretsmanager: Any
) -> None:
    name = unique("notjson")
    secretsmanager.create_secret(Name=name, SecretString=SECRET_VALUE)
    ref = f"aws-secretsmanager:{name}#poe_key"
    with pytest.raises(SecretError, match="not a JSON object") as caught:
        await make_resolver().resolve(ref)
    assert_value_hidden(caught.value, SECRET_VALUE)
    assert caught.value.__cause__ is None


async def test_non_string_json_value_does_not_show_it(
    make_resolver: MakeResolver, secretsmanager: Any
) -> None:
    name = unique("number")
    secretsmanager.create_secret(Name=name, SecretString=json.dumps({"pin": 918273645}))
    with pytest.raises(SecretError, match="is not a string") as caught:
        await make_resolver().resolve(f"aws-secretsmanager:{name}#pin")
    assert_value_hidden(caught.value, "918273645")


async def test_unreachable_secrets_manager(clock: FakeClock) -> None:
    from tests.harness.servers import free_port

    resolver = SecretResolver(
        endpoint_url=f"http://127.0.0.1:{free_port()}",
        access_key_id="moto",
        secret_access_key="moto",
        max_attempts=1,
        clock=clock,
    )
    try:
        with pytest.raises(SecretError, match="cannot reach Secrets Manager"):
            await resolver.resolve("aws-secretsmanager:anything")
    finally:
        await resolver.aclose()


# --- caching and refresh -------------------------------------------------------------------


async def test_value_is_cached_until_the_ttl_expires_then_refreshed(
    make_resolver: MakeResolver, secretsmanager: Any, clock: FakeClock
) -> None:
    name = unique("rotating")
    secretsmanager.create_secret(Name=name, SecretString=json.dumps({"k": "first"}))
    resolver = make_resolver(ttl_seconds=300)
    ref = f"aws-secretsmanager:{name}#k"
    assert await resolver.resolve(ref) == "first"

    secretsmanager.put_secret_value(SecretId=name, SecretString=json.dumps({"k": "second"}))
    clock.advance(299)
    assert await resolver.resolve(ref) == "first"  # still fresh: served from the cache
    clock.advance(1)
    assert await resolver.resolve(ref) == "second"  # expired: fetched again
    clock.advance(100)
    assert await resolver.resolve(ref) == "second"


async def test_env_values_refresh_on_expiry_too(
    make_resolver: MakeResolver, clock: FakeClock
) -> None:
    environ = {"KEY": "old"}
    resolver = make_resolver(environ=environ, ttl_seconds=60)
    assert await resolver.resolve("env:KEY") == "old"
    environ["KEY"] = "new"
    assert await resolver.resolve("env:KEY") == "old"
    clock.advance(60)
    assert await resolver.resolve("env:KEY") == "new"


async def test_invalidate_forces_a_fetch(make_resolver: MakeResolver) -> None:
    environ = {"KEY": "old"}
    resolver = make_resolver(environ=environ)
    assert await resolver.resolve("env:KEY") == "old"
    environ["KEY"] = "new"
    resolver.invalidate("env:KEY")
    assert await resolver.resolve("env:KEY") == "new"


async def test_zero_ttl_disables_the_cache(make_resolver: MakeResolver) -> None:
    environ = {"KEY": "old"}
    resolver = make_resolver(environ=environ, ttl_seconds=0)
    assert await resolver.resolve("env:KEY") == "old"
    environ["KEY"] = "new"
    assert await resolver.resolve("env:KEY") == "new"


async def test_concurrent_resolves_share_one_fetch(
    make_resolver: MakeResolver, tmp_path: Path
) -> None:
    """Ten callers at once: one file read; the file is gone afterwards, yet all got the value."""
    path = tmp_path / "key"
    path.write_text(SECRET_VALUE, encoding="utf-8")
    resolver = make_resolver()
    ref = f"file:{path}"
    results = await asyncio.gather(*(resolver.resolve(ref) for _ in range(10)))
    path.unlink()
    assert results == [SECRET_VALUE] * 10
    assert await resolver.resolve(ref) == SECRET_VALUE  # cached; the file is not read again


async def test_resolve_secret_returns_the_wrapper(make_resolver: MakeResolver) -> None:
    secret = await make_resolver(environ={"KEY": SECRET_VALUE}).resolve_secret("env:KEY")
    assert secret == Secret(SECRET_VALUE)
    assert repr(secret) == "Secret('****')"


async def test_aclose_is_idempotent_and_forgets_values(
    make_resolver: MakeResolver, secretsmanager: Any
) -> None:
    name = unique("close")
    secretsmanager.create_secret(Name=name, SecretString=SECRET_VALUE)
    resolver = make_resolver()
    assert await resolver.resolve(f"aws-secretsmanager:{name}") == SECRET_VALUE
    await resolver.aclose()
    await resolver.aclose()
    with pytest.raises(RuntimeError, match="closed"):
        await resolver.resolve(f"aws-secretsmanager:{name}")


def test_negative_ttl_is_refused() -> None:
    with pytest.raises(ValueError, match="ttl_seconds"):
        SecretResolver(ttl_seconds=-1)
