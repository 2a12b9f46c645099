"""The neutral event fold: what a stream delivered, in order, whatever the number of deltas."""

from __future__ import annotations

from fmgate.core.events import Done, Event, ReasoningDelta, TextDelta, Usage, accumulate


def test_fold_keeps_order_and_totals() -> None:
    events: list[Event] = [ReasoningDelta("think "), ReasoningDelta("more")]
    events += [TextDelta(f"{n} ") for n in range(5000)]
    summary = accumulate([*events, Usage(input_tokens=3, output_tokens=5000), Done("max_tokens")])
    assert summary.reasoning == "think more"
    assert summary.text == "".join(f"{n} " for n in range(5000))
    assert summary.usage == Usage(input_tokens=3, output_tokens=5000)
    assert summary.stop_reason == "max_tokens"
    assert summary.finished


def test_a_running_fold_continues() -> None:
    summary = accumulate([TextDelta("a")])
    accumulate([TextDelta("b")], into=summary)
    assert summary.text == "ab"
    assert not summary.finished
