"""A Converse request, validated the way Bedrock validates it, and the answer the emulator plans.

:func:`parse_converse` checks the request against the model's declared capabilities and raises
Bedrock's ValidationException texts; :func:`plan_answer` decides the content blocks (reasoning,
text, cited text, toolUse: :mod:`fmgate_emulator.answer_blocks`), the stop reason and the usage.
Both the JSON and the streaming handlers render the same :class:`Answer`, so Converse and
ConverseStream always agree.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

from fmgate_emulator.answer_blocks import (
    Block,
    ReasoningBlock,
    RedactedReasoningBlock,
    TextBlock,
    ToolUseBlock,
    output_text,
)
from fmgate_emulator.citations import CitedDocument, cited_answer, documents_to_cite, within_tokens
from fmgate_emulator.content import (
    REDACT_MARKER,
    block_text,
    count_tokens,
    cut_to_tokens,
    is_filtered,
    reasoning_signature,
    reasoning_text,
    redacted_reasoning,
    reply_text,
    stable_id,
)
from fmgate_emulator.errors import validation
from fmgate_emulator.models import ModelSpec, Reasoning
from fmgate_emulator.prompt_cache import (
    CacheUsage,
    Checkpoint,
    PromptBlocks,
    block_tokens,
    find_checkpoints,
    is_cache_point,
)
from fmgate_emulator.reasoning_controls import parse_reasoning, unknown_field
from fmgate_emulator.schema_values import schema_value
from fmgate_emulator.service_tiers import parse_service_tier
from fmgate_emulator.structured_output import OutputSchema, parse_output_config, strict_tools
from fmgate_emulator.tool_turns import (
    check_reasoning_replay,
    check_tool_pairing,
    check_tool_support,
)

MUST_START_WITH_USER = (
    "A conversation must start with a user message. Try again with a conversation that starts "
    "with a user message."
)
MUST_ALTERNATE = (
    "A conversation must alternate between user and assistant roles. Make sure the conversation "
    "alternates between user and assistant roles and try again."
)
NO_SYSTEM_MESSAGES = "This model doesn't support system messages. Try again without them."
NO_IMAGES = (
    "This model doesn't support the image content block that you provided. Try again with a "
    "model that supports images."
)
NO_DOCUMENTS = (
    "This model doesn't support the document content block that you provided. Try again with a "
    "model that supports documents."
)
TOOL_CONFIG_REQUIRED = (
    "The toolConfig field must be defined when using toolUse and toolResult content blocks."
)
#: What Bedrock says for a ``text`` block that is empty or only whitespace.
BLANK_TEXT = (
    "The text field in the {block} object at {where} is blank. Add text to the text field, and "
    "try again."
)
#: A tool whose input schema does not describe an object (Bedrock's words).
NOT_AN_OBJECT_SCHEMA = (
    "The value at toolConfig.tools.{index}.toolSpec.inputSchema.json.type must be one of the "
    "following: object."
)
#: Claude refuses a forced tool choice with extended thinking on.
FORCED_TOOL_WHILE_THINKING = (
    "The model returned the following errors: Thinking may not be enabled when tool_choice "
    "forces tool use."
)
#: An ``anthropic_beta`` value the Claude model does not take.
INVALID_BETA_FLAG = "The model returned the following errors: invalid beta flag"
_USE_TOOL = re.compile(r"\buse tool ([A-Za-z0-9_-]+)", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class ConverseCall:
    """The parts of a Converse / ConverseStream request the emulator acts on."""

    messages: list[dict[str, Any]]
    system: list[dict[str, Any]]
    max_tokens: int
    stop_sequences: list[str]
    tool_names: list[str]
    tool_choice: dict[str, Any]
    #: Anthropic extended thinking (a budget or adaptive): signed reasoning leads the answer.
    thinking: bool
    tool_config: dict[str, Any] | None
    performance_latency: str | None
    #: The prompt-cache checkpoints, in prompt order (validated for the model).
    checkpoints: list[Checkpoint] = field(default_factory=list)
    #: The ``serviceTier.type`` asked for (taken by the model), None when none.
    service_tier: str | None = None
    #: The reasoning effort asked for (taken by the model), None: its default.
    effort: str | None = None
    #: Reasoning the effort itself turns on (Nova 2's ``reasoningConfig``), unsigned.
    effort_thinking: bool = False
    #: The JSON schema the answer follows (``outputConfig.textFormat``), None when none.
    output_schema: OutputSchema | None = None
    #: The input schemas of the strict tools, by tool name.
    strict_tools: dict[str, Any] = field(default_factory=dict)
    #: The documents to cite (all the request's, when it asks for citations), in prompt order.
    cited_documents: list[CitedDocument] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class Answer:
    """What the model "generates": blocks in order, why it stopped, and token usage."""

    blocks: list[Block] = field(default_factory=list)
    stop_reason: str = "end_turn"
    #: Every input token, cached or not (what CountTokens counts).
    input_tokens: int = 0
    output_tokens: int = 0
    #: What the prompt read from / wrote to the cache (``None``: it had no checkpoints).
    cache: CacheUsage | None = None

    @property
    def uncached_input_tokens(self) -> int:
        """Input tokens the model processed: all but those read from the cache."""
        return self.input_tokens - (self.cache.read if self.cache else 0)

    @property
    def usage(self) -> dict[str, Any]:
        """Bedrock's TokenUsage: ``inputTokens`` excludes cached tokens, ``totalTokens`` counts
        them."""
        if self.cache is None:
            return {
                "inputTokens": self.input_tokens,
                "outputTokens": self.output_tokens,
                "totalTokens": self.input_tokens + self.output_tokens,
            }
        uncached = self.input_tokens - self.cache.read - self.cache.written
        return {
            "inputTokens": uncached,
            "outputTokens": self.output_tokens,
            "totalTokens": self.input_tokens + self.output_tokens,
            **self.cache.usage_fields(),
        }


def as_list(value: Any, what: str) -> list[Any]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise validation(f"{what} must be a list.")
    return value


def parse_converse(
    body: dict[str, Any], spec: ModelSpec, *, streaming: bool = False
) -> ConverseCall:
    """Validate a Converse (``streaming``: ConverseStream) request for ``spec``; raise
    ValidationException like Bedrock does."""
    messages = as_list(body.get("messages"), "messages")
    check_roles(messages)
    system = as_list(body.get("system"), "system")
    if system and not spec.system_messages:
        raise validation(NO_SYSTEM_MESSAGES)
    check_system(system)
    check_content(messages, spec)
    cited_documents = documents_to_cite(messages, spec)
    inference = body.get("inferenceConfig") or {}
    max_tokens = inference.get("maxTokens", spec.max_output_tokens)
    if not isinstance(max_tokens, int) or max_tokens < 1:
        raise validation("The value of maxTokens must be a positive integer.")
    if max_tokens > spec.max_output_tokens:
        limit = spec.max_output_tokens
        raise validation(
            f"The maximum tokens you requested exceeds the model limit of {limit}. Try again "
            f"with a maximum tokens value that is lower than {limit}."
        )
    tool_config = body.get("toolConfig")
    check_tool_support(tool_config, spec, streaming=streaming)
    tool_names, tool_choice = parse_tools(tool_config, spec)
    if tool_config is None and uses_tool_blocks(messages):
        raise validation(TOOL_CONFIG_REQUIRED)
    check_tool_pairing(messages)
    additional = body.get("additionalModelRequestFields") or {}
    reasoning = parse_reasoning(additional, inference, spec)
    thinking = reasoning.thinking
    if thinking and ("any" in tool_choice or "tool" in tool_choice):
        raise validation(FORCED_TOOL_WHILE_THINKING)
    if thinking:
        check_reasoning_replay(messages)
    check_betas(additional, spec)
    latency = (body.get("performanceConfig") or {}).get("latency")
    if latency not in (None, "standard", "optimized"):
        raise validation("performanceConfig.latency must be 'standard' or 'optimized'.")
    tools = as_list((tool_config or {}).get("tools"), "toolConfig.tools")
    checkpoints = find_checkpoints(PromptBlocks(tools, system, messages), spec)
    service_tier = parse_service_tier(body.get("serviceTier"), spec)
    output_schema = parse_output_config(body.get("outputConfig"), spec)
    return ConverseCall(
        messages=messages,
        system=system,
        max_tokens=max_tokens,
        stop_sequences=[str(s) for s in as_list(inference.get("stopSequences"), "stopSequences")],
        tool_names=tool_names,
        tool_choice=tool_choice,
        thinking=thinking,
        effort=reasoning.effort,
        effort_thinking=reasoning.effort_thinking,
        tool_config=tool_config,
        performance_latency=latency,
        checkpoints=checkpoints,
        service_tier=service_tier,
        output_schema=output_schema,
        strict_tools=strict_tools(tools, spec),
        cited_documents=cited_documents,
    )


def check_roles(messages: list[Any]) -> None:
    """Messages start with ``user`` and alternate user / assistant."""
    if not messages or not isinstance(messages[0], dict) or messages[0].get("role") != "user":
        raise validation(MUST_START_WITH_USER)
    previous = None
    for message in messages:
        role = message.get("role") if isinstance(message, dict) else None
        if role not in ("user", "assistant") or role == previous:
            raise validation(MUST_ALTERNATE)
        if not isinstance(message.get("content"), list) or not message["content"]:
            raise validation("A message must have a non-empty content list.")
        previous = role


def is_blank(block: Any) -> bool:
    return isinstance(block, dict) and "text" in block and not str(block["text"]).strip()


def check_system(system: list[Any]) -> None:
    """No blank system text."""
    for index, block in enumerate(system):
        if is_blank(block):
            where = f"system.{index}"
            raise validation(BLANK_TEXT.format(block="SystemContentBlock", where=where))


def check_content(messages: list[dict[str, Any]], spec: ModelSpec) -> None:
    """No blank text; image and document blocks only for models that declare support for them."""
    for message_index, message in enumerate(messages):
        for block_index, block in enumerate(message["content"]):
            if is_blank(block):
                where = f"messages.{message_index}.content.{block_index}"
                raise validation(BLANK_TEXT.format(block="ContentBlock", where=where))
            if "image" in block and not spec.vision:
                raise validation(NO_IMAGES)
            if "document" in block and not spec.documents:
                raise validation(NO_DOCUMENTS)


def uses_tool_blocks(messages: list[dict[str, Any]]) -> bool:
    return any("toolUse" in b or "toolResult" in b for m in messages for b in m["content"])


def parse_tools(tool_config: Any, spec: ModelSpec) -> tuple[list[str], dict[str, Any]]:
    """Tool names declared in ``toolConfig`` and its ``toolChoice`` (default ``auto``); a
    ``toolChoice`` beyond ``auto`` only for models that take it."""
    if tool_config is None:
        return [], {"auto": {}}
    tools = as_list(tool_config.get("tools"), "toolConfig.tools")
    names = [t["toolSpec"]["name"] for t in tools if "toolSpec" in t]
    if not names:
        raise validation("The toolConfig field must contain at least one tool specification.")
    for index, tool in enumerate(tools):
        schema = ((tool.get("toolSpec") or {}).get("inputSchema") or {}).get("json")
        if "toolSpec" in tool and (not isinstance(schema, dict) or schema.get("type") != "object"):
            raise validation(NOT_AN_OBJECT_SCHEMA.format(index=index))
    choice = tool_config.get("toolChoice") or {"auto": {}}
    for member in ("any", "tool"):
        if member in choice and member not in spec.tool_choices:
            raise validation(
                f"This model doesn't support the toolConfig.toolChoice.{member} field. Remove "
                f"toolConfig.toolChoice.{member} and try again."
            )
    forced = (choice.get("tool") or {}).get("name")
    if forced is not None and forced not in names:
        raise validation(f"The tool {forced} in toolChoice is not defined in toolConfig.tools.")
    return names, choice


def check_betas(fields: dict[str, Any], spec: ModelSpec) -> None:
    """``anthropic_beta``: a list of flags the Claude model takes; unknown to other models."""
    betas = fields.get("anthropic_beta")
    if betas is None:
        return
    if spec.anthropic_betas is None:
        raise unknown_field(spec, "anthropic_beta")
    if not isinstance(betas, list) or not all(flag in spec.anthropic_betas for flag in betas):
        raise validation(INVALID_BETA_FLAG)


def last_user_text(messages: list[dict[str, Any]]) -> str:
    """Text of the last user message: its text blocks, or else its tool results."""
    user = next((m for m in reversed(messages) if m.get("role") == "user"), None)
    if user is None:
        return ""
    texts = [block_text(b) for b in user["content"] if "text" in b or "guardContent" in b]
    if texts:
        return "\n".join(texts)
    return " ".join(block_text(b) for b in user["content"]).strip()


def count_input_tokens(
    system: list[dict[str, Any]],
    messages: list[dict[str, Any]],
    tool_config: dict[str, Any] | None = None,
) -> int:
    """Input tokens: system text + every message block + each tool spec + a fixed cost per
    media block (``cachePoint`` blocks cost nothing)."""
    tools = (tool_config or {}).get("tools") or []
    prompt = PromptBlocks(tools=tools, system=system, messages=messages)
    return sum(
        block_tokens(item)
        for _, tag, item in prompt.walk()
        if tag != "R" and not is_cache_point(item)
    )


def chosen_tools(call: ConverseCall, user_text: str, answering_tool_result: bool) -> list[str]:
    """The tools the model calls, in order: the one toolChoice forces (``any``: the first
    declared), or each declared tool asked for with "use tool <name>" (several in one turn, as
    models call tools in parallel)."""
    if not call.tool_names:
        return []
    if "tool" in call.tool_choice:
        return [str(call.tool_choice["tool"]["name"])]
    if "any" in call.tool_choice:
        return call.tool_names[:1]
    if answering_tool_result:
        return []
    asked = [name for name in _USE_TOOL.findall(user_text) if name in call.tool_names]
    return list(dict.fromkeys(asked))


def plan_answer(call: ConverseCall, spec: ModelSpec) -> Answer:
    """The answer for ``call``: optional reasoning, then text or toolUse blocks."""
    user_text = last_user_text(call.messages)
    blocks: list[Block] = []
    if call.thinking or call.effort_thinking or spec.reasoning is Reasoning.ALWAYS:
        thought = reasoning_text(user_text, call.effort)
        if call.thinking and REDACT_MARKER in user_text:
            blocks.append(RedactedReasoningBlock(redacted_reasoning(thought), thought))
        else:
            signature = reasoning_signature(thought) if call.thinking else None
            blocks.append(ReasoningBlock(thought, signature))
    last = call.messages[-1]
    answering_tool_result = any("toolResult" in b for b in last["content"])
    tools = chosen_tools(call, user_text, answering_tool_result)
    if tools:
        for tool in tools:
            tool_id = stable_id("tooluse_", tool, user_text, str(len(call.messages)))
            blocks.append(ToolUseBlock(tool_id, tool, tool_input(call, tool, user_text)))
        stop_reason = "tool_use"
    elif is_filtered(user_text):
        blocks.append(TextBlock("I can"))
        stop_reason = "content_filtered"
    elif call.output_schema is not None:
        document = json.dumps(schema_value(call.output_schema.schema, user_text))
        text, stop_reason = cut_to_tokens(document, call.max_tokens)
        blocks.append(TextBlock(text))
    else:
        text, stop_reason = reply_text(user_text, call.max_tokens, call.stop_sequences)
        if call.cited_documents and stop_reason == "end_turn":
            cited = cited_answer(text, call.cited_documents, user_text)
            answer, cut = within_tokens(cited, call.max_tokens)
            blocks.extend(answer)
            stop_reason = "max_tokens" if cut else stop_reason
        else:
            blocks.append(TextBlock(text))
    return Answer(
        blocks=blocks,
        stop_reason=stop_reason,
        input_tokens=count_input_tokens(call.system, call.messages, call.tool_config),
        output_tokens=sum(count_tokens(output_text(block)) for block in blocks),
    )


def tool_input(call: ConverseCall, tool: str, user_text: str) -> dict[str, Any]:
    """A call's input: what a strict tool's schema describes, else the request's text."""
    schema = call.strict_tools.get(tool)
    if schema is None:
        return {"request": user_text}
    value = schema_value(schema, user_text)
    return value if isinstance(value, dict) else {"request": user_text}
