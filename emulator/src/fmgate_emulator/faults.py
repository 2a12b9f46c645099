"""Fault injection: what the next matching requests should suffer.

A :class:`Fault` targets one model id (or all), one operation (or all) and, optionally, requests
asking for one service tier (``service_tier``: a throttled ``flex`` tier), and fires for the next
``count`` matching requests (``-1``: until cleared). Error faults answer an HTTP error before any
byte; stream faults act after ``after_tokens`` tokens of a streamed answer.

A ``concurrency_quota`` fault is a standing rule instead, like a Bedrock quota on calls at once:
a matching request that arrives while ``quota`` matching requests are in flight (a stream until
its last byte) is refused with ThrottlingException. Without a model id every model id sent has
its own quota. A new quota for the same model and operation replaces the old one at once.

An ``unknown_members`` fault is no failure: the next matching Converse / ConverseStream answers
carry members no Bedrock client models yet (:mod:`fmgate_emulator.unknown_members`), the way a
future Bedrock would answer an old client.
"""

from __future__ import annotations

import itertools
from collections.abc import Collection, Mapping
from dataclasses import asdict, dataclass
from enum import StrEnum
from typing import Any

from fmgate_emulator.errors import BedrockError


class FaultKind(StrEnum):
    THROTTLE = "throttle"
    SERVER_ERROR = "server_error"
    UNAVAILABLE = "unavailable"
    MODEL_NOT_READY = "model_not_ready"
    MODEL_TIMEOUT = "model_timeout"
    ACCESS_DENIED = "access_denied"
    VALIDATION = "validation"
    MID_STREAM_EXCEPTION = "mid_stream_exception"
    SLOW_FIRST_TOKEN = "slow_first_token"  # noqa: S105 - not a secret
    STALL = "stall"
    DROP_CONNECTION = "drop_connection"
    CONCURRENCY_QUOTA = "concurrency_quota"
    UNKNOWN_MEMBERS = "unknown_members"


#: Faults answered as an HTTP error before the response starts: (code, message).
ERROR_FAULTS: dict[FaultKind, tuple[str, str]] = {
    FaultKind.THROTTLE: (
        "ThrottlingException",
        "Too many requests, please wait before trying again.",
    ),
    FaultKind.SERVER_ERROR: (
        "InternalServerException",
        "The system encountered an unexpected error during processing. Try your request again.",
    ),
    FaultKind.UNAVAILABLE: (
        "ServiceUnavailableException",
        "Bedrock is unable to process your request.",
    ),
    FaultKind.MODEL_NOT_READY: (
        "ModelNotReadyException",
        "Model is not ready to serve inference requests. The AWS SDK will automatically retry "
        "the operation up to 5 times.",
    ),
    FaultKind.MODEL_TIMEOUT: (
        "ModelTimeoutException",
        "Model has timed out in processing the request.",
    ),
    FaultKind.ACCESS_DENIED: (
        "AccessDeniedException",
        "You don't have access to the model with the specified model ID.",
    ),
    FaultKind.VALIDATION: (
        "ValidationException",
        "Malformed input request, please reformat your input and try again.",
    ),
}

#: What a request over a ``concurrency_quota`` is answered with (Bedrock's throttling answer).
QUOTA_REFUSAL = ERROR_FAULTS[FaultKind.THROTTLE]

#: Exceptions an event stream may carry (``:exception-type`` values) and their messages.
STREAM_EXCEPTIONS: dict[str, str] = {
    "throttlingException": "Too many tokens, please wait before trying again.",
    "modelStreamErrorException": "The model stream encountered an error.",
    "internalServerException": "The system encountered an unexpected error during processing.",
    "serviceUnavailableException": "Bedrock is unable to process your request.",
    "validationException": "The model produced invalid output.",
}

#: Faults that only make sense inside a streamed answer; other operations skip them.
STREAM_ONLY = frozenset({FaultKind.MID_STREAM_EXCEPTION})
#: Faults that change a Converse answer's shape; other operations skip them.
CONVERSE_ONLY = frozenset({FaultKind.UNKNOWN_MEMBERS})
CONVERSE_OPERATIONS = frozenset({"Converse", "ConverseStream"})


@dataclass(frozen=True, slots=True)
class InFlightKey:
    """What a request in flight is, as quotas count it: the id sent, its catalogue id, the
    operation."""

    model_id: str
    base_model_id: str | None
    operation: str

    @property
    def model_ids(self) -> frozenset[str]:
        return frozenset(i for i in (self.model_id, self.base_model_id) if i is not None)


@dataclass(slots=True)
class Fault:
    """One injected fault and how many more requests it applies to."""

    id: int
    kind: FaultKind
    model_id: str | None = None
    operation: str | None = None
    count: int = 1
    after_tokens: int = 0
    delay_seconds: float = 0.0
    exception: str = "throttlingException"
    #: Requests in flight at once (``concurrency_quota`` only).
    quota: int | None = None
    #: Only requests asking for this service tier (``serviceTier.type``); None: any.
    service_tier: str | None = None

    def matches(
        self,
        model_ids: Collection[str],
        operation: str,
        streaming: bool,
        service_tier: str | None = None,
    ) -> bool:
        if self.kind in STREAM_ONLY and not streaming:
            return False
        if self.kind in CONVERSE_ONLY and operation not in CONVERSE_OPERATIONS:
            return False
        if self.model_id is not None and self.model_id not in model_ids:
            return False
        if self.service_tier is not None and self.service_tier != service_tier:
            return False
        return self.operation is None or self.operation == operation

    def covers(self, running: InFlightKey, arriving: InFlightKey) -> bool:
        """Whether a ``running`` request counts toward this quota for an ``arriving`` one."""
        if self.operation is not None and running.operation != self.operation:
            return False
        if self.model_id is not None:
            return self.model_id in running.model_ids
        return running.model_id == arriving.model_id  # every model id its own quota

    def as_error(self) -> BedrockError | None:
        """The HTTP error this fault answers with, or ``None`` for a timing/stream fault."""
        entry = ERROR_FAULTS.get(self.kind)
        return BedrockError(*entry) if entry else None

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def parse_fault(spec: dict[str, Any], fault_id: int) -> Fault:
    """Build a fault from the control API's JSON; ``ValueError`` names what is wrong."""
    unknown = set(spec) - {
        "kind",
        "model_id",
        "operation",
        "count",
        "after_tokens",
        "delay_seconds",
        "exception",
        "quota",
        "service_tier",
    }
    if unknown:
        raise ValueError(f"unknown fault fields: {sorted(unknown)}")
    kind = FaultKind(str(spec.get("kind")))
    exception = spec.get("exception") or "throttlingException"
    if exception not in STREAM_EXCEPTIONS:
        raise ValueError(f"exception must be one of {sorted(STREAM_EXCEPTIONS)}")
    count = int(spec.get("count", 1))
    if count == 0 or count < -1:
        raise ValueError("count must be a positive number or -1 (until cleared)")
    after_tokens = int(spec.get("after_tokens", 0))
    delay = float(spec.get("delay_seconds", 0.0))
    if after_tokens < 0 or delay < 0:
        raise ValueError("after_tokens and delay_seconds must not be negative")
    quota = parse_quota(kind, spec.get("quota"))
    if quota is not None:
        count = -1  # a standing rule, until cleared or replaced
    service_tier = spec.get("service_tier")
    if service_tier is not None and (quota is not None or not isinstance(service_tier, str)):
        raise ValueError("service_tier is a tier name, and not for concurrency_quota faults")
    return Fault(
        id=fault_id,
        kind=kind,
        model_id=spec.get("model_id"),
        operation=spec.get("operation"),
        count=count,
        after_tokens=after_tokens,
        delay_seconds=delay,
        exception=exception,
        quota=quota,
        service_tier=service_tier,
    )


def parse_quota(kind: FaultKind, value: Any) -> int | None:
    """``quota``: a whole number >= 0 for ``concurrency_quota``, absent for the other kinds."""
    if kind is not FaultKind.CONCURRENCY_QUOTA:
        if value is not None:
            raise ValueError("quota is only for concurrency_quota faults")
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError("concurrency_quota needs quota: a whole number >= 0")
    return value


class FaultBook:
    """The pending faults, consulted once per request (in injection order)."""

    def __init__(self) -> None:
        self._faults: list[Fault] = []
        self._ids = itertools.count(1)

    def inject(self, spec: dict[str, Any]) -> Fault:
        fault = parse_fault(spec, next(self._ids))
        if fault.kind is FaultKind.CONCURRENCY_QUOTA:
            self._faults = [old for old in self._faults if not same_quota(old, fault)]
        self._faults.append(fault)
        return fault

    def over_quota(self, arriving: InFlightKey, in_flight: Mapping[InFlightKey, int]) -> bool:
        """Whether a matching ``concurrency_quota`` has no room for the ``arriving`` request."""
        for fault in self._faults:
            if fault.quota is None:
                continue
            if not fault.matches(arriving.model_ids, arriving.operation, streaming=False):
                continue
            running = sum(n for key, n in in_flight.items() if fault.covers(key, arriving))
            if running >= fault.quota:
                return True
        return False

    def take(
        self,
        model_ids: Collection[str],
        operation: str,
        streaming: bool,
        service_tier: str | None = None,
    ) -> Fault | None:
        """The first fault matching this request (its model, operation and the service tier it
        asks for), used up by one (quotas are not taken)."""
        for fault in self._faults:
            if fault.quota is None and fault.matches(model_ids, operation, streaming, service_tier):
                if fault.count > 0:
                    fault.count -= 1
                    if fault.count == 0:
                        self._faults.remove(fault)
                return fault
        return None

    def pending(self) -> list[Fault]:
        return list(self._faults)

    def clear(self) -> None:
        self._faults.clear()


def same_quota(old: Fault, new: Fault) -> bool:
    return old.quota is not None and (old.model_id, old.operation) == (new.model_id, new.operation)
