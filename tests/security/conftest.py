"""Security tests run against the real gateway app (``tests.harness.poe_gateway``): other limits."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from fmgate.config.catalog import Catalog
from fmgate.config.gateway_settings import RequestLimits


def with_limits(catalog: Catalog, **changes: object) -> Catalog:
    """The catalog with some ``gateway.limits`` changed."""
    limits = RequestLimits.model_validate({**catalog.gateway.limits.model_dump(), **changes})
    settings = catalog.gateway.model_copy(update={"limits": limits})
    return catalog.model_copy(update={"gateway": settings})


@pytest.fixture
def limited(catalog: Catalog) -> Callable[..., Catalog]:
    """Make a copy of the test catalog with other limits: ``limited(max_messages=5)``."""

    def make(**changes: object) -> Catalog:
        return with_limits(catalog, **changes)

    return make
