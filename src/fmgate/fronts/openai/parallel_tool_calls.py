"""``parallel_tool_calls``: whether one turn may hold several tool calls.

Converse has no such switch: a model may call several tools in one turn whatever the caller
asked. With ``parallel_tool_calls: false`` the gateway keeps the turn's first tool call and
drops the later ones (their start, argument pieces and whole call), streamed or whole, so the
caller gets at most one call per turn, as OpenAI promises. The dropped calls' tokens were still
generated and are billed; the caller replays only the call it received, which is what Bedrock
expects on the next turn (a tool result for every tool use it is shown).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from fmgate.core.events import Event, ToolCall, ToolCallStart, ToolInputDelta


@dataclass(slots=True)
class ToolCallLimit:
    """Which tool-call events of one turn reach the caller (all of them when ``parallel``)."""

    parallel: bool = True
    #: The turn's first tool call, once one began (the only one kept when not ``parallel``).
    first_call_id: str | None = None

    def keeps(self, event: Event) -> bool:
        if self.parallel:
            return True
        match event:
            case ToolCallStart(id=call_id) | ToolInputDelta(id=call_id) | ToolCall(id=call_id):
                if self.first_call_id is None:
                    self.first_call_id = call_id
                return call_id == self.first_call_id
            case _:
                return True


def kept_events(events: Iterable[Event], parallel: bool) -> list[Event]:
    """``events`` without the tool calls ``parallel_tool_calls`` leaves out."""
    limit = ToolCallLimit(parallel)
    return [event for event in events if limit.keeps(event)]
