"""The configuration example in docs/shared-state.md is valid and means what it says."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from fmgate.config.gateway_settings import SharedStateSettings

DOC = Path(__file__).parents[2] / "docs" / "shared-state.md"


def test_the_documented_example_is_valid_shared_state_settings() -> None:
    [example] = re.findall(r"```yaml\n(.*?)```", DOC.read_text(encoding="utf-8"), re.DOTALL)
    gateway = yaml.safe_load(example)["gateway"]
    settings = SharedStateSettings.model_validate(gateway["shared_state"])
    assert settings.redis_url == "env:FMGATE_REDIS_URL"
    assert settings.key_prefix == "fmgate:"
