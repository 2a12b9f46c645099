"""OpenTelemetry spans around upstream (Bedrock) calls — real when an OTel SDK is configured.

The OpenTelemetry API is a dependency of FastAPI and so always importable; without an SDK and
exporter configured by the operator, its tracer is a no-op and a span costs next to nothing.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from opentelemetry import trace

from fmgate.core.errors import GatewayError

TRACER_NAME = "fmgate"


@contextmanager
def upstream_span(operation: str, *, bot: str, model_id: str) -> Iterator[None]:
    """A span named ``bedrock.<operation>`` carrying the bot and model; errors mark it failed.

    Gateway errors are recorded by their stable ``code`` (never their text, which stays in our
    own logs), other exceptions by type.
    """
    # Not made "current": the span may wrap an async generator, which can be closed from another
    # context, where detaching a current-span token would fail.
    tracer = trace.get_tracer(TRACER_NAME)
    with tracer.start_span(
        f"bedrock.{operation}",
        kind=trace.SpanKind.CLIENT,
        attributes={"fmgate.bot": bot, "gen_ai.request.model": model_id},
        record_exception=False,
        set_status_on_exception=False,
    ) as span:
        try:
            yield
        except GatewayError as error:
            span.set_attribute("error.type", error.code)
            span.set_status(trace.Status(trace.StatusCode.ERROR, error.code))
            raise
        except BaseException as error:
            span.set_attribute("error.type", type(error).__name__)
            span.set_status(trace.Status(trace.StatusCode.ERROR, type(error).__name__))
            raise
