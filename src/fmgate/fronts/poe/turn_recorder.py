"""One answer's events folded into the state its bot message keeps (:mod:`message_state`).

The answer's assistant turn is what the model produced: reasoning blocks closed by their
signature (readable reasoning without one is shown, never replayed, so it is not kept),
redacted reasoning, the text, the tool calls. Turns carried from the query come first: a
follow-up of a tool call stands for the whole loop (the tool-calling turn, the results, this
answer), as fastapi_poe's client sends it as the same message. Reasoning is kept only with a
turn that has text or tool calls: a turn may not end with reasoning.

A plain answer keeps no state: its message's text is what the model said. State is sent when
the text is not (reasoning, notices or citation footnotes were shown with it), or when it holds
what text cannot: reasoning to replay, tool calls and results, a fallback's answer.
"""

from __future__ import annotations

import base64
import json

from fmgate.core.events import (
    AnsweredBy,
    Citation,
    Done,
    Event,
    Notice,
    ReasoningDelta,
    ReasoningSignature,
    RedactedReasoning,
    TextDelta,
    ToolCall,
)
from fmgate.fronts.poe import sse
from fmgate.fronts.poe.message_state import (
    STATE_VERSION,
    MessageState,
    Reasoning,
    Redacted,
    StateTurn,
    ToolUse,
    encode_state,
    without_reasoning,
)


class TurnRecorder:
    """Folds one answer's events; :meth:`data_event` is the ``data`` event that stores them."""

    __slots__ = (
        "_bot",
        "_carried",
        "_carried_model",
        "_finished",
        "_model",
        "_own_model",
        "_reasoning",
        "_shown_besides",
        "_text",
        "_thought",
        "_tool_uses",
    )

    def __init__(
        self,
        bot: str,
        model: str,
        carried: tuple[StateTurn, ...] = (),
        carried_model: str | None = None,
    ) -> None:
        """``model``: the bot's own; ``carried``: turns from the query this answer continues,
        whose reasoning ``carried_model`` produced (None: the bot's own model)."""
        self._bot = bot
        self._model = model
        self._own_model = model
        self._carried = carried
        self._carried_model = carried_model or model
        self._reasoning: list[Reasoning | Redacted] = []
        self._thought: list[str] = []
        self._text: list[str] = []
        self._tool_uses: list[ToolUse] = []
        self._finished = False
        #: Something besides the model's text was shown in the message (reasoning, notices).
        self._shown_besides = False

    def record(self, event: Event) -> None:
        match event:
            case TextDelta(text=text):
                self._text.append(text)
            case ReasoningDelta(text=text):
                self._thought.append(text)
                self._shown_besides = True
            case Notice() | Citation():  # a notice, footnotes: shown besides the model's text
                self._shown_besides = True
            case ReasoningSignature(signature=signature):
                self._reasoning.append(Reasoning(text="".join(self._thought), signature=signature))
                self._thought.clear()
            case RedactedReasoning(data=data):
                self._reasoning.append(Redacted(redacted=encode_blob(data)))
            case ToolCall(id=call_id, name=name, input_json=arguments):
                self._tool_uses.append(ToolUse(id=call_id, name=name, input=json_object(arguments)))
            case AnsweredBy(model_id=model_id):
                self._model = model_id
            case Done():
                self._finished = True
            case _:
                pass

    def state(self) -> MessageState:
        text = "".join(self._text)
        keeps_reasoning = bool(text.strip() or self._tool_uses)
        answer = StateTurn(
            role="assistant",
            reasoning=tuple(self._reasoning) if keeps_reasoning else (),
            text=text,
            tool_uses=tuple(self._tool_uses),
        )
        carried = self._carried
        if self._carried_model != self._model:  # a state names one model for all its reasoning
            carried = tuple(without_reasoning(turn) for turn in carried)
        return MessageState(
            fmgate=STATE_VERSION, bot=self._bot, model=self._model, turns=(*carried, answer)
        )

    def worth_keeping(self, state: MessageState) -> bool:
        """Whether the message needs its state (see the module docstring)."""
        return (
            self._shown_besides
            or self._model != self._own_model
            or len(state.turns) > 1
            or any(turn.reasoning or turn.tool_uses for turn in state.turns)
        )

    def data_event(self) -> bytes:
        """The ``data`` event storing the state, once the answer finished and when it is worth
        keeping (nothing otherwise)."""
        state = self.state()
        if not self._finished or not self.worth_keeping(state):
            return b""
        encoded = encode_state(state)
        return sse.event("data", {"metadata": encoded}) if encoded is not None else b""


def encode_blob(data: bytes) -> str:
    return base64.b64encode(data).decode()


def json_object(arguments: str) -> dict[str, object]:
    """A tool call's input as the object it is (the converse layer gives JSON text); input
    that is not a JSON object (a model's malformed call) is kept as an empty one."""
    try:
        parsed = json.loads(arguments or "{}")
    except ValueError:
        return {}
    return parsed if isinstance(parsed, dict) else {}
