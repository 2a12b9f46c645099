"""One Bedrock Runtime call as handlers see it: request, parsed body, model, fault, pacing."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from fmgate_emulator.errors import validation
from fmgate_emulator.faults import Fault
from fmgate_emulator.models import ModelSpec, ResolvedModel, identify_model, resolve_model
from fmgate_emulator.pacing import Pacer
from fmgate_emulator.prompt_cache import Partition
from fmgate_emulator.sigv4 import Principal
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
    #: The authenticated caller (set once the signature is verified).
    principal: Principal | None = None
    #: This call's entry in the recorded requests (``/_emulator/requests``).
    record: dict[str, Any] = field(default_factory=dict)

    def json_object(self) -> dict[str, Any]:
        """The body as a JSON object, or the ValidationException Bedrock gives for bad input."""
        if not isinstance(self.body, dict):
            raise validation(MALFORMED_INPUT)
        return self.body

    def model(self) -> ResolvedModel:
        """The model to run (a profile-only model only through an inference profile)."""
        return resolve_model(self.path_params["model_id"])

    def named_model(self) -> ResolvedModel:
        """The model the path names, for operations that do not run it (CountTokens)."""
        return identify_model(self.path_params["model_id"])

    def pacer(self, uncached_input_tokens: int = 0) -> Pacer:
        return Pacer(self.state.timing, self.fault, uncached_input_tokens)

    def cache_partition(self, spec: ModelSpec) -> Partition:
        """Whose prompt cache this call uses: (access key id, model, region)."""
        principal = self.principal or Principal("", self.state.config.region)
        return (principal.key, spec.model_id, principal.region)

    def record_usage(self, usage: dict[str, Any]) -> None:
        """Keep the usage answered in the recorded request (tests read it back)."""
        self.record["usage"] = usage

    def latency_ms(self) -> int:
        return int((time.monotonic() - self.started) * 1000)
