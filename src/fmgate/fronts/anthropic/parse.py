"""Anthropic Messages requests -> the neutral :class:`BotRequest`.

``system`` -> system messages; user content: text joined, ``image``/``document`` blocks become
attachments (base64 and plain text inline, URLs for the safe downloader, whose host and address
rules apply; a file that cannot be used refuses the request; a document's ``citations.enabled``
says whether the model is to cite it), ``tool_result`` blocks tool results; assistant content:
text joined, ``tool_use`` blocks replayed as tool uses, ``thinking`` blocks with their
signature and ``redacted_thinking`` blocks replayed as the turn's reasoning, to the bot's own
model only (a thinking block without a signature is not). Blank texts and empty messages are
left out by the bot (Bedrock refuses blank text). ``thinking`` and ``output_config.effort`` ->
reasoning parameters (:mod:`fmgate.fronts.anthropic.reasoning`). ``tool_choice`` -> the
neutral tool choice; ``metadata.user_id`` -> the ledger's user after the caller; the
``anthropic-beta`` header's flags -> ``betas`` (the bot keeps those its model takes);
``output_config.format`` (or the beta's ``output_format``) -> the answer's JSON schema, a tool's
``strict`` -> a strict tool (see :mod:`fmgate.bots.structured_output`). A count_tokens request is
the same prompt without the generation settings.
"""

from __future__ import annotations

import base64
import binascii
import mimetypes
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from itertools import pairwise
from typing import Literal, TypeVar
from urllib.parse import unquote, urlsplit

from pydantic import ValidationError

from fmgate.core.bot_request import Attachment, BotRequest, InputMessage
from fmgate.core.model_request import (
    CacheTTL,
    OutputSchema,
    ReasoningBlock,
    RedactedReasoningBlock,
    ReplayedReasoning,
    ToolChoice,
    ToolResultBlock,
    ToolSpec,
    ToolUseBlock,
    UseTool,
)
from fmgate.fronts.anthropic.schema import (
    AnthropicModel,
    AnyToolChoice,
    AutoToolChoice,
    Base64Source,
    Cacheable,
    ContentIn,
    CountTokensRequest,
    DocumentIn,
    ImageIn,
    MessageIn,
    MessagesRequest,
    NamedToolChoice,
    NoToolChoice,
    RedactedThinkingIn,
    TextIn,
    TextSource,
    ThinkingIn,
    ToolChoiceIn,
    ToolIn,
    ToolResultIn,
    ToolUseIn,
)
from fmgate.fronts.callers import ledger_user
from fmgate.fronts.pipeline import Refusal


class BadRequest(Refusal):
    """The request cannot be read as a Messages request (answered with 400)."""

    def __init__(self, message: str) -> None:
        super().__init__(400, message, "invalid_request")


#: Anthropic's (and Bedrock's) limit of prompt-cache checkpoints in one request.
MAX_CACHE_CONTROL = 4
TTL_SECONDS: dict[CacheTTL, int] = {"5m": 300, "1h": 3600}
#: The tool type a request may declare (also implied when a tool names no type).
CUSTOM_TOOL = "custom"

Prompt = TypeVar("Prompt", bound=CountTokensRequest)


def parse_prompt(model: type[Prompt], data: dict[str, object]) -> Prompt:
    """A Messages or count_tokens body, checked as Anthropic checks it, or a 400."""
    try:
        body = model.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"])
        raise BadRequest(f"{where}: {first['msg']}") from exc
    check_tools(body.tools)
    check_cache_control(body)
    return body


def parse_messages_request(data: dict[str, object]) -> MessagesRequest:
    return parse_prompt(MessagesRequest, data)


def parse_count_tokens_request(data: dict[str, object]) -> CountTokensRequest:
    return parse_prompt(CountTokensRequest, data)


def check_tools(tools: Sequence[ToolIn]) -> None:
    """Custom tools only: Converse runs none of Anthropic's server or client tools."""
    for index, tool in enumerate(tools):
        if tool.type not in (None, CUSTOM_TOOL):
            raise BadRequest(
                f"tools.{index}: tools of type {tool.type[:64]!r} are not supported here: "
                "only custom tools (name, description, input_schema) reach the model."
            )


def beta_flags(headers: Iterable[str]) -> tuple[str, ...]:
    """The flags of the ``anthropic-beta`` headers (comma-separated; the header may repeat)."""
    flags = (flag.strip() for value in headers for flag in value.split(","))
    return tuple(dict.fromkeys(flag for flag in flags if flag))


def marked(blocks: Sequence[AnthropicModel] | str | None) -> list[CacheTTL]:
    """The TTLs of the ``cache_control`` markers among ``blocks`` (none for a plain string)."""
    if not isinstance(blocks, list):
        return []
    return [b.cache_control.ttl for b in blocks if isinstance(b, Cacheable) and b.cache_control]


def check_cache_control(body: CountTokensRequest) -> None:
    """Refuse what Anthropic refuses: more than 4 markers, a longer TTL after a shorter one
    (in prompt order: tools, system, messages)."""
    ttls = [*marked(body.tools), *marked(body.system)]
    for message in body.messages:
        ttls.extend(marked(message.content))
    if len(ttls) > MAX_CACHE_CONTROL:
        raise BadRequest(
            f"A maximum of {MAX_CACHE_CONTROL} blocks with cache_control may be provided. "
            f"Found {len(ttls)}."
        )
    for before, after in pairwise(ttls):
        if TTL_SECONDS[after] > TTL_SECONDS[before]:
            raise BadRequest(
                f"A ttl='{after}' cache_control block must not come after a "
                f"ttl='{before}' cache_control block."
            )


def cache_point(blocks: Sequence[AnthropicModel] | str | None) -> CacheTTL | None:
    """A message's checkpoint (at its end): the TTL of its last ``cache_control`` marker."""
    ttls = marked(blocks)
    return ttls[-1] if ttls else None


def texts(content: str | Sequence[object]) -> str:
    if isinstance(content, str):
        return content
    return "\n".join(block.text for block in content if isinstance(block, TextIn))


def attachment(block: ImageIn | DocumentIn, index: int) -> Attachment:
    if isinstance(block, DocumentIn):
        cited = block.citations is not None and block.citations.enabled
        return replace(file_attachment(block, index), citations=cited)
    return file_attachment(block, index)


def file_attachment(block: ImageIn | DocumentIn, index: int) -> Attachment:
    kind = "image" if isinstance(block, ImageIn) else "document"
    source = block.source
    if isinstance(source, TextSource):
        name = (block.title if isinstance(block, DocumentIn) else None) or f"{kind}-{index}.txt"
        return Attachment(name=name, content_type=source.media_type, data=source.data.encode())
    if isinstance(source, Base64Source):
        try:
            data = base64.b64decode(source.data, validate=True)
        except binascii.Error as exc:
            raise BadRequest(f"{kind} source data is not valid base64") from exc
        extension = mimetypes.guess_extension(source.media_type) or ""
        title = block.title if isinstance(block, DocumentIn) and block.title else None
        name = title or f"{kind}-{index}{extension}"
        return Attachment(name=name, content_type=source.media_type, data=data)
    parts = urlsplit(source.url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise BadRequest(f"{kind} source url must be an http(s) URL")
    name = unquote(parts.path.rsplit("/", 1)[-1]) or f"{kind}-{index}"
    content_type = mimetypes.guess_type(name)[0] or (
        "image/jpeg" if kind == "image" else "application/pdf"
    )
    return Attachment(name=name, content_type=content_type, url=source.url)


def tool_result(block: ToolResultIn) -> ToolResultBlock:
    return ToolResultBlock(block.tool_use_id, texts(block.content), is_error=block.is_error)


def replayed_reasoning(block: ContentIn, model_id: str) -> ReplayedReasoning | None:
    """A ``thinking`` block with its signature, or a ``redacted_thinking`` block, as reasoning
    for ``model_id`` (the bot's own model); None for other blocks and unsigned thinking."""
    match block:
        case ThinkingIn(thinking=thought, signature=signature) if signature:
            return ReasoningBlock(thought, signature, model_id)
        case RedactedThinkingIn(data=data):
            try:
                return RedactedReasoningBlock(base64.b64decode(data, validate=True), model_id)
            except binascii.Error as exc:
                raise BadRequest("redacted_thinking data is not valid base64") from exc
        case _:
            return None


def input_message(message: MessageIn, model_id: str) -> InputMessage:
    """One message; an assistant message's reasoning goes back to ``model_id`` only."""
    if isinstance(message.content, str):
        return InputMessage(message.role, message.content)
    blocks: list[ContentIn] = list(message.content)
    files = [b for b in blocks if isinstance(b, ImageIn | DocumentIn)]
    if message.role == "assistant":
        uses = tuple(
            ToolUseBlock(b.id, b.name, dict(b.input)) for b in blocks if isinstance(b, ToolUseIn)
        )
        reasoning = (replayed_reasoning(block, model_id) for block in blocks)
        return InputMessage(
            "assistant",
            texts(blocks),
            tool_uses=uses,
            reasoning=tuple(block for block in reasoning if block is not None),
            cache_point=cache_point(blocks),
        )
    return InputMessage(
        "user",
        texts(blocks),
        attachments=tuple(attachment(b, i + 1) for i, b in enumerate(files)),
        tool_results=tuple(tool_result(b) for b in blocks if isinstance(b, ToolResultIn)),
        cache_point=cache_point(blocks),
    )


def tool_spec(tool: ToolIn) -> ToolSpec:
    return ToolSpec(
        tool.name, tool.description or tool.name, tool.input_schema, strict=tool.strict is True
    )


def output_schema(body: MessagesRequest) -> OutputSchema | None:
    """The answer's schema: ``output_config.format``, else the beta's ``output_format``; both
    at once is refused, as the SDK refuses it."""
    configured = body.output_config.format if body.output_config is not None else None
    if configured is not None and body.output_format is not None:
        raise BadRequest(
            "Both output_format and output_config.format were provided; use only "
            "output_config.format (output_format is deprecated)."
        )
    chosen = configured or body.output_format
    return OutputSchema(chosen.json_schema) if chosen is not None else None


def system_messages(system: str | list[TextIn] | None) -> list[InputMessage]:
    if system is None:
        return []
    return [InputMessage("system", texts(system), cache_point=cache_point(system))]


def tool_choice(choice: ToolChoiceIn | None) -> ToolChoice | Literal["none"]:
    """Anthropic's ``tool_choice`` as the neutral one (``disable_parallel_tool_use`` is not)."""
    match choice:
        case None | AutoToolChoice():
            return "auto"
        case AnyToolChoice():
            return "any"
        case NamedToolChoice(name=name):
            return UseTool(name)
        case NoToolChoice():
            return "none"


@dataclass(frozen=True, slots=True)
class BotSide:
    """What parsing needs of the bot: its model (whose reasoning comes back) and the reasoning
    parameters worked out from the request with its config."""

    model_id: str
    reasoning: Mapping[str, object] = field(default_factory=dict)


def prompt_request(
    body: CountTokensRequest,
    request_id: str,
    caller: str,
    bot: BotSide,
    betas: tuple[str, ...] = (),
) -> BotRequest:
    """The prompt of a Messages or count_tokens request: system, messages, tools, reasoning."""
    return BotRequest(
        request_id=request_id,
        messages=(
            *system_messages(body.system),
            *(input_message(message, bot.model_id) for message in body.messages),
        ),
        user_id=caller,
        parameters=dict(bot.reasoning),
        tools=tuple(tool_spec(tool) for tool in body.tools),
        tool_choice=tool_choice(body.tool_choice),
        tool_cache_points=tuple(
            (index, tool.cache_control.ttl)
            for index, tool in enumerate(body.tools)
            if tool.cache_control
        ),
        betas=betas,
        refuse_unusable_files=True,
    )


def to_bot_request(
    body: MessagesRequest,
    request_id: str,
    caller: str,
    bot: BotSide,
    betas: tuple[str, ...] = (),
) -> BotRequest:
    """A Messages request: its prompt and its generation settings."""
    end_user = body.metadata.user_id if body.metadata is not None else None
    return replace(
        prompt_request(body, request_id, caller, bot, betas),
        user_id=ledger_user(caller, end_user),
        temperature=body.temperature,
        stop_sequences=tuple(body.stop_sequences),
        max_tokens=body.max_tokens,
        output_format=output_schema(body),
    )
