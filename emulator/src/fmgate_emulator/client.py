"""Clients for the control API (``/_emulator/...``): :class:`EmulatorClient` and its async twin.

Each call opens a short-lived HTTP connection, so clients need no closing.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx

CONTROL_TIMEOUT_SECONDS = 10.0


@dataclass(frozen=True, slots=True)
class ControlCall:
    """One control API request: method, path, JSON body, query."""

    method: str
    path: str
    json: dict[str, Any] | None = None
    params: dict[str, str] | None = None


def inject_call(
    kind: str,
    *,
    model_id: str | None,
    operation: str | None,
    count: int,
    after_tokens: int,
    delay_seconds: float,
    exception: str | None,
    quota: int | None = None,
    service_tier: str | None = None,
) -> ControlCall:
    spec: dict[str, Any] = {
        "kind": kind,
        "count": count,
        "after_tokens": after_tokens,
        "delay_seconds": delay_seconds,
    }
    optional = {
        "model_id": model_id,
        "operation": operation,
        "exception": exception,
        "quota": quota,
        "service_tier": service_tier,
    }
    spec.update({k: v for k, v in optional.items() if v is not None})
    return ControlCall("POST", "/_emulator/faults", json=spec)


def requests_call(model_id: str | None) -> ControlCall:
    params = {"model_id": model_id} if model_id is not None else None
    return ControlCall("GET", "/_emulator/requests", params=params)


def timing_call(
    ttft_ms: float, tokens_per_second: float | None, uncached_tokens_per_second: float | None
) -> ControlCall:
    body = {
        "ttft_ms": ttft_ms,
        "tokens_per_second": tokens_per_second,
        "uncached_tokens_per_second": uncached_tokens_per_second,
    }
    return ControlCall("PUT", "/_emulator/timing", json=body)


def clock_call(advance_seconds: float) -> ControlCall:
    return ControlCall("POST", "/_emulator/clock", json={"advance_seconds": advance_seconds})


def put_guardrail_call(guardrail_id: str, spec: dict[str, Any]) -> ControlCall:
    return ControlCall("PUT", f"/_emulator/guardrails/{guardrail_id}", json=spec)


def delete_guardrail_call(guardrail_id: str) -> ControlCall:
    return ControlCall("DELETE", f"/_emulator/guardrails/{guardrail_id}")


CLEAR_FAULTS = ControlCall("DELETE", "/_emulator/faults")
RESET = ControlCall("POST", "/_emulator/reset")
COUNTERS = ControlCall("GET", "/_emulator/counters")
FAULTS = ControlCall("GET", "/_emulator/faults")
GUARDRAILS = ControlCall("GET", "/_emulator/guardrails")


class EmulatorClient:
    """Synchronous control API client (for test set-up and scripts)."""

    def __init__(self, url: str) -> None:
        self.url = url.rstrip("/")

    def _send(self, call: ControlCall) -> Any:
        with httpx.Client(base_url=self.url, timeout=CONTROL_TIMEOUT_SECONDS) as http:
            response = http.request(call.method, call.path, json=call.json, params=call.params)
        response.raise_for_status()
        return response.json()

    def inject(
        self,
        kind: str,
        *,
        model_id: str | None = None,
        operation: str | None = None,
        count: int = 1,
        after_tokens: int = 0,
        delay_seconds: float = 0.0,
        exception: str | None = None,
        quota: int | None = None,
        service_tier: str | None = None,
    ) -> dict[str, Any]:
        """Make the next ``count`` matching requests fail as ``kind`` (-1: until cleared; only
        those asking for ``service_tier`` when given); for ``concurrency_quota``, refuse
        requests beyond ``quota`` in flight until cleared."""
        return dict(
            self._send(
                inject_call(
                    kind,
                    model_id=model_id,
                    operation=operation,
                    count=count,
                    after_tokens=after_tokens,
                    delay_seconds=delay_seconds,
                    exception=exception,
                    quota=quota,
                    service_tier=service_tier,
                )
            )
        )

    def faults(self) -> list[dict[str, Any]]:
        return list(self._send(FAULTS))

    def clear_faults(self) -> None:
        self._send(CLEAR_FAULTS)

    def reset(self) -> None:
        """Clear faults, counters, recorded requests and cached prompts; restore the timing."""
        self._send(RESET)

    def counters(self) -> dict[str, Any]:
        return dict(self._send(COUNTERS))

    def requests(self, model_id: str | None = None) -> list[dict[str, Any]]:
        return list(self._send(requests_call(model_id)))

    def set_timing(
        self,
        *,
        ttft_ms: float = 0.0,
        tokens_per_second: float | None = None,
        uncached_tokens_per_second: float | None = None,
    ) -> None:
        """Set time to first token, token rate (``None`` = unlimited) and the rate at which the
        uncached part of a prompt is read (adding to the time to first token; ``None`` = no
        delay) until reset."""
        self._send(timing_call(ttft_ms, tokens_per_second, uncached_tokens_per_second))

    def advance_clock(self, seconds: float) -> None:
        """Move the clock prompt-cache TTLs run on ``seconds`` forward."""
        self._send(clock_call(seconds))

    def guardrails(self) -> list[dict[str, Any]]:
        """The guardrails that exist (id, versions, messages, words, topics)."""
        return list(self._send(GUARDRAILS))

    def put_guardrail(self, guardrail_id: str, spec: dict[str, Any]) -> dict[str, Any]:
        """Create or replace a guardrail: ``{"versions", "blocked_input_messaging",
        "blocked_outputs_messaging", "words": [{"text", "input", "output"}], "topics":
        [{"name", "phrases", "input", "output"}]}`` (reset restores the defaults)."""
        return dict(self._send(put_guardrail_call(guardrail_id, spec)))

    def delete_guardrail(self, guardrail_id: str) -> None:
        self._send(delete_guardrail_call(guardrail_id))


class AsyncEmulatorClient:
    """The same control API client for async code."""

    def __init__(self, url: str) -> None:
        self.url = url.rstrip("/")

    async def _send(self, call: ControlCall) -> Any:
        async with httpx.AsyncClient(base_url=self.url, timeout=CONTROL_TIMEOUT_SECONDS) as http:
            response = await http.request(
                call.method, call.path, json=call.json, params=call.params
            )
        response.raise_for_status()
        return response.json()

    async def inject(
        self,
        kind: str,
        *,
        model_id: str | None = None,
        operation: str | None = None,
        count: int = 1,
        after_tokens: int = 0,
        delay_seconds: float = 0.0,
        exception: str | None = None,
        quota: int | None = None,
        service_tier: str | None = None,
    ) -> dict[str, Any]:
        """Make the next ``count`` matching requests fail as ``kind`` (-1: until cleared; only
        those asking for ``service_tier`` when given); for ``concurrency_quota``, refuse
        requests beyond ``quota`` in flight until cleared."""
        return dict(
            await self._send(
                inject_call(
                    kind,
                    model_id=model_id,
                    operation=operation,
                    count=count,
                    after_tokens=after_tokens,
                    delay_seconds=delay_seconds,
                    exception=exception,
                    quota=quota,
                    service_tier=service_tier,
                )
            )
        )

    async def faults(self) -> list[dict[str, Any]]:
        return list(await self._send(FAULTS))

    async def clear_faults(self) -> None:
        await self._send(CLEAR_FAULTS)

    async def reset(self) -> None:
        """Clear faults, counters, recorded requests and cached prompts; restore the timing."""
        await self._send(RESET)

    async def counters(self) -> dict[str, Any]:
        return dict(await self._send(COUNTERS))

    async def requests(self, model_id: str | None = None) -> list[dict[str, Any]]:
        return list(await self._send(requests_call(model_id)))

    async def set_timing(
        self,
        *,
        ttft_ms: float = 0.0,
        tokens_per_second: float | None = None,
        uncached_tokens_per_second: float | None = None,
    ) -> None:
        """Set time to first token, token rate (``None`` = unlimited) and the rate at which the
        uncached part of a prompt is read (adding to the time to first token; ``None`` = no
        delay) until reset."""
        await self._send(timing_call(ttft_ms, tokens_per_second, uncached_tokens_per_second))

    async def advance_clock(self, seconds: float) -> None:
        """Move the clock prompt-cache TTLs run on ``seconds`` forward."""
        await self._send(clock_call(seconds))

    async def guardrails(self) -> list[dict[str, Any]]:
        """The guardrails that exist (id, versions, messages, words, topics)."""
        return list(await self._send(GUARDRAILS))

    async def put_guardrail(self, guardrail_id: str, spec: dict[str, Any]) -> dict[str, Any]:
        """Create or replace a guardrail (see :meth:`EmulatorClient.put_guardrail`)."""
        return dict(await self._send(put_guardrail_call(guardrail_id, spec)))

    async def delete_guardrail(self, guardrail_id: str) -> None:
        await self._send(delete_guardrail_call(guardrail_id))
