"""A planned answer under a guardrail: blocked input, blocked output, or let through.

* **Input blocked**: the model is not called. The answer is the guardrail's
  ``blocked_input_messaging``, ``stopReason: guardrail_intervened``, and no tokens are reported
  (Bedrock does not bill model inference for a blocked prompt; AWS user guide, "How Amazon
  Bedrock Guardrails works", charges).
* **Output blocked, Converse**: the whole answer was generated, then assessed; it is replaced by
  ``blocked_outputs_messaging``. Its output tokens are billed.
* **Output blocked, ConverseStream**: the guardrail reads the answer in chunks of
  :data:`CHUNK_TOKENS` tokens. In ``sync`` mode a chunk reaches the client only once assessed,
  so the chunks before the one that matched are sent, then the blocked message. In ``async``
  mode chunks are sent as the model makes them while the guardrail assesses them behind, so the
  matching chunk itself goes out before the blocked message (AWS user guide, "Configure streaming
  response behavior": "response chunks may contain inappropriate content until guardrails scan
  completes"). Tokens are billed up to the end of the matching chunk, where the model stopped.

Reasoning and tool-use blocks are not assessed (Bedrock's guardrail does not evaluate tool-call
arguments).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from fmgate_emulator.answer_blocks import Block, CitedTextBlock, ReasoningBlock, TextBlock
from fmgate_emulator.content import count_tokens, split_tokens
from fmgate_emulator.conversation import Answer
from fmgate_emulator.guardrails import GuardrailCall, Verdict, find_rules

#: Tokens of output the guardrail assesses at a time in a stream.
CHUNK_TOKENS = 8
INTERVENED = "guardrail_intervened"


@dataclass(frozen=True, slots=True)
class BlockedTextBlock:
    """A text block cut by the guardrail mid-stream: the text let through, then its message."""

    released: str
    message: str


def blocked_input(call: GuardrailCall) -> Answer:
    """The answer to a prompt the guardrail blocked: its message, no tokens billed."""
    return Answer(blocks=[TextBlock(call.spec.blocked_input_messaging)], stop_reason=INTERVENED)


def answer_text(answer: Answer) -> str:
    """The text the guardrail assesses: the answer's text, cited passages included."""
    return "".join(
        block.text for block in answer.blocks if isinstance(block, TextBlock | CitedTextBlock)
    )


def guard_output(
    answer: Answer, verdict: Verdict, *, streaming: bool
) -> tuple[Answer, list[Block | BlockedTextBlock], Verdict]:
    """The answer as the guardrail lets it out: (billed answer, blocks to send, verdict)."""
    call = verdict.call
    text = answer_text(answer)
    findings = find_rules(call.spec, text, "output")
    assessed = replace(verdict, model_output=text, output_characters=len(text))
    if not findings:
        return answer, list(answer.blocks), assessed
    blocked = replace(assessed, output_findings=findings)
    reasoning = [b for b in answer.blocks if isinstance(b, ReasoningBlock)]
    reasoning_tokens = sum(count_tokens(b.text) for b in reasoning)
    message = call.spec.blocked_outputs_messaging
    if not streaming:
        billed = replace(answer, stop_reason=INTERVENED)
        return billed, [*reasoning, TextBlock(message)], blocked
    tokens = split_tokens(text)
    first = findings[0].end
    matched_in = next(i for i in range(len(tokens)) if len("".join(tokens[: i + 1])) >= first)
    chunk_start = matched_in - matched_in % CHUNK_TOKENS
    chunk_end = min(len(tokens), chunk_start + CHUNK_TOKENS)
    released = chunk_start if call.stream_mode == "sync" else chunk_end
    billed = replace(
        answer,
        stop_reason=INTERVENED,
        output_tokens=reasoning_tokens + count_tokens("".join(tokens[:chunk_end])),
    )
    cut = BlockedTextBlock("".join(tokens[:released]), message)
    return billed, [*reasoning, cut], replace(blocked, model_output="".join(tokens[:chunk_end]))
