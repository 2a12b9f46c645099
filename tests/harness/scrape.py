"""Read GatewayMetrics the way Prometheus does: render, then parse with prometheus_client."""

from __future__ import annotations

from prometheus_client.parser import text_string_to_metric_families
from prometheus_client.samples import Sample

from fmgate.observability.metrics import GatewayMetrics


def samples(metrics: GatewayMetrics) -> list[Sample]:
    body, content_type = metrics.render()
    assert content_type.startswith("text/plain; version=")
    return [s for family in text_string_to_metric_families(body.decode()) for s in family.samples]


def value(metrics: GatewayMetrics, name: str, **labels: str) -> float | None:
    """The sample ``name`` with exactly ``labels``, or None when it is not exposed."""
    for sample in samples(metrics):
        if sample.name == name and sample.labels == labels:
            return sample.value
    return None
