"""Bedrock's rules for tools: which models take them, how tool calls and results pair up across
turns, and the reasoning blocks extended thinking requires back.

Checked against the texts Bedrock (and Anthropic models behind it, whose errors Bedrock wraps in
"The model returned the following errors: ...") answers with:

* ``toolConfig`` for a model without tool use, or in ConverseStream for a model that takes tools
  in Converse only;
* a user turn with more ``toolResult`` blocks than the assistant turn before it had ``toolUse``
  blocks; a result for an id that turn did not call; calls left without results in the next turn;
* with thinking enabled: the assistant turn whose tool calls the last user turn answers must
  start with its reasoning block, and every replayed reasoning block must carry the signature the
  model gave it (redacted reasoning: the data it gave).
"""

from __future__ import annotations

from typing import Any

from fmgate_emulator.content import is_redacted_reasoning, reasoning_signature
from fmgate_emulator.errors import validation
from fmgate_emulator.models import ModelSpec, ToolUse

NO_TOOL_USE = "This model doesn't support tool use."
NO_STREAMING_TOOL_USE = "This model doesn't support tool use in streaming mode."
MODEL_ERRORS = "The model returned the following errors: "
THINKING_DOCS = "https://docs.claude.com/en/docs/build-with-claude/extended-thinking"

#: Converse block member -> the Anthropic block type its errors name.
ANTHROPIC_BLOCK_TYPES = {
    "text": "text",
    "toolUse": "tool_use",
    "toolResult": "tool_result",
    "image": "image",
    "document": "document",
}


def check_tool_support(tool_config: Any, spec: ModelSpec, *, streaming: bool) -> None:
    """``toolConfig`` only for models that take tools (in ConverseStream: streamed tools)."""
    if tool_config is None:
        return
    if spec.tool_use is ToolUse.NONE:
        raise validation(NO_TOOL_USE)
    if streaming and spec.tool_use is ToolUse.WHOLE:
        raise validation(NO_STREAMING_TOOL_USE)


def tool_use_ids(message: dict[str, Any]) -> list[str]:
    return [str(b["toolUse"].get("toolUseId")) for b in message["content"] if "toolUse" in b]


def check_tool_pairing(messages: list[dict[str, Any]]) -> None:
    """Each ``toolResult`` answers a ``toolUse`` of the turn just before it, and every
    ``toolUse`` is answered in the next turn."""
    for index, message in enumerate(messages):
        check_results(index, message, tool_use_ids(messages[index - 1]) if index > 0 else [])
    for index, message in enumerate(messages[:-1]):
        answered = {
            str(b["toolResult"].get("toolUseId"))
            for b in messages[index + 1]["content"]
            if "toolResult" in b
        }
        missing = [i for i in tool_use_ids(message) if i not in answered]
        if missing:
            raise validation(
                f"{MODEL_ERRORS}messages.{index}: `tool_use` ids were found without "
                f"`tool_result` blocks immediately after: {', '.join(missing)}. Each `tool_use` "
                "block must have a corresponding `tool_result` block in the next message."
            )


def check_results(index: int, message: dict[str, Any], called: list[str]) -> None:
    """The ``toolResult`` blocks of ``messages[index]`` against the ids the turn before called."""
    results = [
        (position, str(block["toolResult"].get("toolUseId")))
        for position, block in enumerate(message["content"])
        if "toolResult" in block
    ]
    if len(results) > len(called):
        raise validation(
            f"The number of toolResult blocks at messages.{index}.content exceeds the number of "
            "toolUse blocks of previous turn."
        )
    for position, tool_use_id in results:
        if tool_use_id not in called:
            raise validation(
                f"{MODEL_ERRORS}messages.{index}.content.{position}: unexpected `tool_use_id` "
                f"found in `tool_result` blocks: {tool_use_id}. Each `tool_result` block must "
                "have a corresponding `tool_use` block in the previous message."
            )


def check_reasoning_replay(messages: list[dict[str, Any]]) -> None:
    """With thinking enabled: signed reasoning blocks, and the tool-calling turn the last user
    turn answers starts with one."""
    for index, message in enumerate(messages):
        for position, block in enumerate(message["content"]):
            if "reasoningContent" in block:
                check_reasoning_block(
                    block["reasoningContent"], f"messages.{index}.content.{position}"
                )
    last = len(messages) - 1
    if last < 1 or not any("toolResult" in b for b in messages[last]["content"]):
        return
    first = messages[last - 1]["content"][0]
    if "reasoningContent" in first:
        return
    found = next((ANTHROPIC_BLOCK_TYPES[k] for k in first if k in ANTHROPIC_BLOCK_TYPES), "text")
    raise validation(
        f"{MODEL_ERRORS}messages.{last - 1}.content.0.type: Expected `thinking` or "
        f"`redacted_thinking`, but found `{found}`. When `thinking` is enabled, a final "
        "`assistant` message must start with a thinking block (preceeding the lastmost set of "
        "`tool_use` and `tool_result` blocks). We recommend you include thinking blocks from "
        "previous turns. To avoid this requirement, disable `thinking`. Please consult our "
        f"documentation at {THINKING_DOCS}"
    )


def check_reasoning_block(reasoning: Any, where: str) -> None:
    """A replayed reasoning block: the text with the signature the model gave it, or the
    redacted data it gave."""
    if not isinstance(reasoning, dict):
        raise validation(f"{MODEL_ERRORS}{where}: Invalid reasoning content.")
    if "redactedContent" in reasoning:
        # Anthropic's wording for forged redacted data is not confirmed; the refusal is.
        if not is_redacted_reasoning(str(reasoning["redactedContent"])):
            raise validation(f"{MODEL_ERRORS}{where}: Invalid `data` in `redacted_thinking` block")
        return
    text = reasoning.get("reasoningText") or {}
    signature = text.get("signature")
    if not signature:
        raise validation(f"{MODEL_ERRORS}{where}.thinking.signature: Field required")
    if signature != reasoning_signature(str(text.get("text", ""))):
        raise validation(f"{MODEL_ERRORS}{where}: Invalid `signature` in `thinking` block")
