"""Virtual API keys: resolved from secret references, matched to their caller."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from fmgate.config.gateway_settings import ApiKeyRef
from fmgate.config.secrets import SecretError, SecretResolver
from fmgate.fronts.callers import ANONYMOUS_CALLER, DEV_CALLER, ApiKeys, resolve_api_keys

ENVIRON = {"KEY_A": "key-of-a", "KEY_B": "key-of-b"}
REFS = (ApiKeyRef(caller="a", key="env:KEY_A"), ApiKeyRef(caller="b", key="env:KEY_B"))


@pytest.fixture
async def secrets() -> AsyncIterator[SecretResolver]:
    resolver = SecretResolver(environ=ENVIRON)
    yield resolver
    await resolver.aclose()


async def test_each_key_names_its_caller(secrets: SecretResolver) -> None:
    keys = await resolve_api_keys(REFS, secrets)
    assert keys.caller("key-of-a") == "a"
    assert keys.caller("key-of-b") == "b"
    assert keys.caller("key-of-c") is None
    assert keys.caller("") is None
    assert keys.caller(None) is None


async def test_unresolvable_key_stops_start_up_unless_a_dev_key_stands_in(
    secrets: SecretResolver,
) -> None:
    missing = (ApiKeyRef(caller="c", key="env:NOT_SET"),)
    with pytest.raises(SecretError):
        await resolve_api_keys(missing, secrets)
    keys = await resolve_api_keys(missing, secrets, dev_access_key="dev-key")
    assert keys.caller("dev-key") == "c"


async def test_dev_modes(secrets: SecretResolver) -> None:
    dev = await resolve_api_keys((), secrets, dev_access_key="dev-key")
    assert dev.caller("dev-key") == DEV_CALLER
    assert dev.caller("other") is None
    keyless = await resolve_api_keys((), secrets, allow_without_key=True)
    assert keyless.caller(None) == ANONYMOUS_CALLER
    assert (await resolve_api_keys((), secrets)) == ApiKeys()
    assert ApiKeys().caller("anything") is None
