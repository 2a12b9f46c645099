"""What the emulator has seen: request counters, requests in flight, the most recent requests."""

from __future__ import annotations

from collections import Counter, deque
from collections.abc import Mapping
from typing import Any

from fmgate_emulator.faults import InFlightKey

MAX_RECORDED_REQUESTS = 500
#: Headers never recorded (credentials).
HIDDEN_HEADERS = frozenset({"authorization", "x-amz-security-token"})


class Traffic:
    """Counters per model and per operation, plus the last :data:`MAX_RECORDED_REQUESTS`."""

    def __init__(self) -> None:
        self.total = 0
        #: Bedrock requests being answered right now (a stream counts until its last byte).
        self.in_progress = 0
        #: Model requests past authentication and quotas, being answered now (quotas count them).
        self.in_flight: Counter[InFlightKey] = Counter()
        #: Requests refused because a ``concurrency_quota`` was full.
        self.quota_refusals = 0
        self.by_model: Counter[str] = Counter()
        self.by_operation: Counter[str] = Counter()
        self.recorded: deque[dict[str, Any]] = deque(maxlen=MAX_RECORDED_REQUESTS)

    def record(
        self,
        operation: str,
        model_id: str | None,
        body: Any,
        headers: Mapping[str, str],
        base_model_id: str | None = None,
    ) -> dict[str, Any]:
        """Count and keep one request; its handler may add the ``usage`` it answers."""
        self.total += 1
        self.by_operation[operation] += 1
        if model_id is not None:
            self.by_model[model_id] += 1
        entry: dict[str, Any] = {
            "operation": operation,
            "model_id": model_id,
            "base_model_id": base_model_id,
            "body": body,
            "headers": {k: v for k, v in headers.items() if k.lower() not in HIDDEN_HEADERS},
        }
        self.recorded.append(entry)
        return entry

    def counters(self) -> dict[str, Any]:
        return {
            "total": self.total,
            "in_progress": self.in_progress,
            "quota_refusals": self.quota_refusals,
            "by_model": dict(self.by_model),
            "by_operation": dict(self.by_operation),
        }

    def requests(self, model_id: str | None = None) -> list[dict[str, Any]]:
        """Recorded requests, oldest first; ``model_id`` matches the id sent or its base model."""
        return [
            r
            for r in self.recorded
            if model_id is None or model_id in (r["model_id"], r["base_model_id"])
        ]

    def begin(self, key: InFlightKey) -> None:
        self.in_flight[key] += 1

    def end(self, key: InFlightKey) -> None:
        self.in_flight[key] -= 1
        if self.in_flight[key] <= 0:
            del self.in_flight[key]

    def reset(self) -> None:
        """Forget counters and recorded requests (requests in flight stay counted)."""
        self.total = 0
        self.quota_refusals = 0
        self.by_model.clear()
        self.by_operation.clear()
        self.recorded.clear()
