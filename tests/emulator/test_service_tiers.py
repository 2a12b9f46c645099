"""Service tiers through the real SDK: taken per model, reported back, refused as Bedrock
refuses, and a fault aimed at the flex tier only."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError

from fmgate_emulator import EmulatorClient
from tests.emulator.sdk import user

NOVA_PRO = "amazon.nova-pro-v1:0"
NOVA_LITE = "amazon.nova-lite-v1:0"


@pytest.mark.parametrize("tier", ["default", "priority", "flex"])
def test_a_tier_the_model_offers_is_reported_back(bedrock: Any, tier: str) -> None:
    answer = bedrock.converse(modelId=NOVA_PRO, messages=[user("hi")], serviceTier={"type": tier})
    assert answer["serviceTier"] == {"type": tier}
    events = list(
        bedrock.converse_stream(
            modelId=NOVA_PRO, messages=[user("hi")], serviceTier={"type": tier}
        )["stream"]
    )
    assert events[-1]["metadata"]["serviceTier"] == {"type": tier}


def test_no_tier_asked_none_reported(bedrock: Any) -> None:
    answer = bedrock.converse(modelId=NOVA_PRO, messages=[user("hi")])
    assert "serviceTier" not in answer


@pytest.mark.parametrize(("model", "tier"), [(NOVA_LITE, "flex"), (NOVA_PRO, "reserved")])
def test_a_tier_the_model_does_not_offer_is_refused(bedrock: Any, model: str, tier: str) -> None:
    with pytest.raises(ClientError) as raised:
        bedrock.converse(modelId=model, messages=[user("hi")], serviceTier={"type": tier})
    error = raised.value.response
    assert error["Error"]["Code"] == "ValidationException"
    assert error["ResponseMetadata"]["HTTPStatusCode"] == 400


def test_the_default_tier_is_taken_by_every_model(bedrock: Any) -> None:
    answer = bedrock.converse(
        modelId=NOVA_LITE, messages=[user("hi")], serviceTier={"type": "default"}
    )
    assert answer["serviceTier"] == {"type": "default"}


def test_a_fault_can_throttle_the_flex_tier_only(bedrock: Any, control: EmulatorClient) -> None:
    control.inject("throttle", model_id=NOVA_PRO, service_tier="flex", count=-1)
    with pytest.raises(ClientError) as raised:
        bedrock.converse(modelId=NOVA_PRO, messages=[user("hi")], serviceTier={"type": "flex"})
    assert raised.value.response["Error"]["Code"] == "ThrottlingException"
    answer = bedrock.converse(
        modelId=NOVA_PRO, messages=[user("hi")], serviceTier={"type": "default"}
    )
    assert answer["serviceTier"] == {"type": "default"}
    assert bedrock.converse(modelId=NOVA_PRO, messages=[user("hi")])["stopReason"] == "end_turn"
    [fault] = control.faults()
    assert fault["service_tier"] == "flex"
