"""``gateway.poe.api_bots``: the key Poe calls with must exist and report usage in streams."""

from __future__ import annotations

import re
import textwrap
from pathlib import Path

import pytest

from fmgate.config.errors import CatalogError
from fmgate.config.loader import parse_catalog


def catalog(stream_usage: str = "always", caller: str = "poe-api-bots") -> str:
    return f"""version: 1
gateway:
  api_keys:
    - {{caller: poe-api-bots, key: "env:FMGATE_KEY_POE", stream_usage: {stream_usage}}}
  poe:
    api_bots:
      endpoint_url: https://fmgate.example.com/v1
      caller: {caller}
      poe_api_key: env:POE_API_KEY
      handle_prefix: Acme-
      handles: {{nova-pro: AcmeNovaPro}}
bots:
  - bot_name: nova-lite
    model_id: amazon.nova-lite-v1:0
  - bot_name: nova-pro
    model_id: amazon.nova-pro-v1:0
"""


def problem(text: str) -> str:
    with pytest.raises(CatalogError) as caught:
        parse_catalog(text, "catalog.yaml")
    [found] = caught.value.problems
    return str(found)


def test_api_bots_settings_give_each_bot_its_handle() -> None:
    api_bots = parse_catalog(catalog(), "catalog.yaml").gateway.poe.api_bots
    assert api_bots is not None
    assert api_bots.handle("nova-lite") == "Acme-nova-lite"
    assert api_bots.handle("nova-pro") == "AcmeNovaPro"
    assert api_bots.bots_api_url == "https://api.poe.com/"
    assert api_bots.private is True


def test_the_caller_must_have_a_key() -> None:
    assert "poe.api_bots.caller 'nobody' is not a caller in api_keys" in problem(
        catalog(caller="nobody")
    )


def test_the_key_must_report_usage_in_every_stream() -> None:
    assert "needs stream_usage: always" in problem(catalog(stream_usage="when_asked"))


def test_the_documented_setup_is_a_valid_catalog() -> None:
    doc = Path(__file__).parents[2] / "docs" / "poe-api-bots.md"
    match = re.search(r"```yaml\n(.*?)```", doc.read_text(encoding="utf-8"), re.DOTALL)
    assert match is not None
    block = textwrap.dedent(match.group(1))
    text = f"version: 1\n{block}bots:\n  - {{bot_name: nova-pro, model_id: amazon.nova-pro-v1:0}}\n"
    api_bots = parse_catalog(text, "poe-api-bots.md").gateway.poe.api_bots
    assert api_bots is not None
    assert api_bots.handle("nova-pro") == "Acme-nova-pro"
    assert api_bots.endpoint_url == "https://fmgate.example.com/v1"
