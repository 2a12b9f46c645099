"""One Bedrock Runtime call as handlers see it: request, parsed body, model, fault, pacing."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from fmgate_emulator.errors import validation
from fmgate_emulator.faults import Fault
from fmgate_emulator.models import ResolvedModel, resolve_model
from fmgate_emulator.pacing import Pacer
from fmgate_emulator.state import EmulatorState

MALFORMED_INPUT = "Malformed input request, please reformat your input and try again."


@dataclass(slots=True)
class Call:
    """A routed, authenticated call; ``body`` is the parsed JSON (``None`` if not JSON)."""

    request: web.Request
    operation: str
    state: EmulatorState
    body: Any
    path_params: dict[str, str]
    fault: Fault | None = None
    started: float = field(default_factory=time.monotonic)

    def json_object(self) -> dict[str, Any]:
        """The body as a JSON object, or the ValidationException Bedrock gives for bad input."""
        if not isinstance(self.body, dict):
            raise validation(MALFORMED_INPUT)
        return self.body

    def model(self) -> ResolvedModel:
        return resolve_model(self.path_params["model_id"])

    def pacer(self) -> Pacer:
        return Pacer(self.state.timing, self.fault)

    def latency_ms(self) -> int:
        return int((time.monotonic() - self.started) * 1000)
