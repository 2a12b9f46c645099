"""upstream_span runs the wrapped code and lets its errors through (no SDK configured here)."""

from __future__ import annotations

import pytest

from fmgate.core.errors import Throttled
from fmgate.observability.tracing import upstream_span


def test_span_wraps_code_and_reraises() -> None:
    with upstream_span("converse_stream", bot="claude", model_id="amazon.nova-micro-v1:0"):
        answer = 42
    assert answer == 42
    with (
        pytest.raises(Throttled),
        upstream_span("converse", bot="claude", model_id="amazon.nova-micro-v1:0"),
    ):
        raise Throttled("throttled by upstream")
