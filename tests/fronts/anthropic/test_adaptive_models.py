"""Adaptive thinking and Anthropic's effort end to end, on the first model of the bundled table
that takes them (Claude Opus 4.6 and later), as ``fmgate models add`` writes its bot: the
caller's ``thinking: adaptive`` and ``output_config.effort`` reach Bedrock as the model takes
them, and the emulator's reasoning shows the effort. Skipped while the table holds no such model
(the newer Claude entries come with their own change)."""

from __future__ import annotations

import pytest
import yaml
from anthropic import AsyncAnthropic
from anthropic.types import ThinkingBlock

from fmgate.config.catalog import Catalog
from fmgate.config.loader import parse_catalog
from fmgate.model_table.add_model import catalog_entry
from fmgate.model_table.table import ModelFacts, bundled_table
from fmgate_emulator import AsyncEmulatorClient
from fmgate_emulator.content import reasoning_text
from tests.fakes.poe_api import FakePoeApi
from tests.harness.poe_gateway import pointed_at
from tests.harness.reasoning_catalog import additional_fields


def first_model(thinking: str) -> ModelFacts | None:
    return next(
        (
            facts
            for facts in bundled_table().models
            if thinking in facts.reasoning_controls.thinking
            and facts.reasoning_controls.effort_field == "output_config"
            and facts.priced
        ),
        None,
    )


ADAPTIVE = first_model("adaptive")
pytestmark = pytest.mark.skipif(
    ADAPTIVE is None, reason="the model table holds no model with adaptive thinking yet"
)


@pytest.fixture
def facts() -> ModelFacts:
    assert ADAPTIVE is not None
    return ADAPTIVE


@pytest.fixture
def catalog(monkeypatch: pytest.MonkeyPatch, poe_api: FakePoeApi, facts: ModelFacts) -> Catalog:
    monkeypatch.setenv("FMGATE_TEST_POE_KEY", "unused-poe-key-0123456789")
    entry = catalog_entry(facts, region=facts.default_region)
    document = {
        "version": 1,
        "defaults": {"access_key": "env:FMGATE_TEST_POE_KEY"},
        "bots": [{"bot_name": "adaptive", **entry}],
    }
    return pointed_at(parse_catalog(yaml.safe_dump(document), "adaptive.yaml"), poe_api)


async def test_adaptive_thinking_at_an_effort_reaches_bedrock(
    anthropic_client: AsyncAnthropic, emu: AsyncEmulatorClient, facts: ModelFacts
) -> None:
    level = facts.reasoning_controls.efforts[0]
    message = await anthropic_client.messages.create(
        model="adaptive",
        max_tokens=2048,
        messages=[{"role": "user", "content": "Is 17 prime?"}],
        thinking={"type": "adaptive"},
        output_config={"effort": level},
    )
    [call] = await emu.requests(model_id=facts.model_id)
    fields = additional_fields(call)
    assert fields["thinking"] == {"type": "adaptive"}
    assert fields["output_config"] == {"effort": level}
    beta = facts.reasoning_controls.effort_beta
    if beta is not None:
        assert beta in fields["anthropic_beta"]
    thinking = message.content[0]
    assert isinstance(thinking, ThinkingBlock)
    assert thinking.thinking == reasoning_text("Is 17 prime?", level)
    assert thinking.signature
