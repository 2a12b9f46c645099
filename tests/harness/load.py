"""Concurrent Poe requests over loopback, and what every one of them must look like after."""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from dataclasses import dataclass, field

import httpx
import httpx_sse
from prometheus_client.parser import text_string_to_metric_families

from fmgate.accounting.ledger import UsageRecord
from fmgate.server.gateway import Gateway
from tests.harness.poe_client import BASE_URL, TEST_POE_KEY, query

#: No scenario may take longer than this, however the gateway misbehaves.
SCENARIO_LIMIT_SECONDS = 60.0


@dataclass(frozen=True, slots=True)
class Served:
    gateway: Gateway
    session: httpx.AsyncClient


@dataclass(slots=True)
class Outcome:
    """One request as its Poe client saw it."""

    request_id: str = ""
    events: list[tuple[str, dict[str, object]]] = field(default_factory=list)

    @property
    def names(self) -> list[str]:
        return [name for name, _ in self.events]

    @property
    def text(self) -> str:
        return "".join(str(data["text"]) for name, data in self.events if name == "text")

    @property
    def error(self) -> dict[str, object] | None:
        errors = [data for name, data in self.events if name == "error"]
        return errors[0] if errors else None


async def ask(session: httpx.AsyncClient, bot: str, user: str, text: str = "hello") -> Outcome:
    body = query(("user", text), user_id=user, conversation_id=f"c-{user}").model_dump()
    async with httpx_sse.aconnect_sse(
        session,
        "POST",
        BASE_URL + bot,
        json=body,
        headers={"Authorization": f"Bearer {TEST_POE_KEY}"},
    ) as source:
        request_id = source.response.headers["x-request-id"]
        events = [(sse.event, json.loads(sse.data)) async for sse in source.aiter_sse()]
    return Outcome(request_id, events)


async def load(served: Served, bot: str, count: int, *, first: int = 0) -> list[Outcome]:
    """``count`` concurrent requests to ``bot``, one user each (per-user limits stay out of it)."""
    async with asyncio.timeout(SCENARIO_LIMIT_SECONDS):
        return list(
            await asyncio.gather(
                *(ask(served.session, bot, f"user-{first + i}") for i in range(count))
            )
        )


def assert_well_formed(outcome: Outcome) -> None:
    """meta first, done last and once, at most one error (right before done), something said."""
    names = [name for name, _ in outcome.events]
    assert names[0] == "meta", names
    assert names[-1] == "done", names
    assert names.count("done") == 1, names
    assert names.count("error") <= 1, names
    if "error" in names:
        assert names[-2] == "error", names
    else:
        assert outcome.text, names


async def ledger_rows(served: Served, outcomes: list[Outcome]) -> list[UsageRecord]:
    """Exactly one ledger row per request, in the order of ``outcomes``."""
    gateway = served.gateway
    await gateway.finisher.drain()
    assert gateway.ledger is not None
    rows = []
    for outcome in outcomes:
        row = await gateway.ledger.get(outcome.request_id)
        assert row is not None, outcome.request_id
        rows.append(row)
    totals = await gateway.ledger.totals_by_bot_day()
    assert sum(t.requests for t in totals) == finished_requests(gateway)
    return rows


def metric(gateway: Gateway, name: str, **labels: str) -> float:
    """The sum of a counter's samples whose labels include ``labels``."""
    text = gateway.metrics.render()[0].decode()
    return sum(
        sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        if sample.name == name and labels.items() <= sample.labels.items()
    )


def finished_requests(gateway: Gateway) -> int:
    return int(metric(gateway, "fmgate_requests_total"))


def outcomes_of(rows: list[UsageRecord]) -> Counter[str]:
    return Counter(row.outcome for row in rows)


def models_of(rows: list[UsageRecord]) -> Counter[str]:
    return Counter(row.model_id for row in rows)
