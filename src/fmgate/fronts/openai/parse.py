"""OpenAI chat requests -> the neutral :class:`BotRequest`.

Roles: ``system``/``developer`` -> system; ``user`` -> user (text parts joined, ``image_url``
parts become attachments: ``data:`` URLs inline, http(s) URLs for the safe downloader);
``assistant`` -> assistant (its ``tool_calls`` replayed as tool uses); ``tool`` -> a user turn
carrying the tool result.

``response_format`` ``json_schema`` -> the answer's schema, ``json_object`` -> JSON mode (see
:mod:`fmgate.bots.structured_output`); a function's ``strict`` -> a strict tool.

What the gateway cannot honour is refused with a 400 naming the field rather than ignored:
``n`` other than 1, a ``json_schema`` format without its ``schema``, the retired ``functions``
/ ``function_call``.
"""

from __future__ import annotations

import base64
import binascii
import mimetypes
from collections.abc import Mapping, Sequence
from typing import Literal
from urllib.parse import unquote, urlsplit

import orjson
from pydantic import ValidationError

from fmgate.core.bot_request import (
    Attachment,
    BotRequest,
    InputMessage,
    JsonObjectOutput,
    OutputFormat,
)
from fmgate.core.model_request import (
    CacheTTL,
    OutputSchema,
    ToolChoice,
    ToolResultBlock,
    ToolSpec,
    ToolUseBlock,
    UseTool,
)
from fmgate.fronts.callers import ledger_user
from fmgate.fronts.openai.schema import (
    AssistantMessage,
    ChatCompletionRequest,
    ImagePart,
    Message,
    NamedToolChoice,
    ResponseFormat,
    SystemMessage,
    TextPart,
    Tool,
    ToolMessage,
    UserMessage,
)
from fmgate.fronts.pipeline import Refusal

#: The schema of a tool that declares no parameters.
EMPTY_OBJECT_SCHEMA: dict[str, object] = {"type": "object", "properties": {}}


class BadRequest(Refusal):
    """The request cannot be read as an OpenAI request, or asks for what the gateway cannot
    do (answered with 400)."""

    def __init__(
        self, message: str, param: str | None = None, code: str = "invalid_request"
    ) -> None:
        super().__init__(400, message, code, param=param)


def validation_error(exc: ValidationError) -> BadRequest:
    """A pydantic error -> a 400 naming the first offending field (no input echoed back)."""
    first = exc.errors()[0]
    param = ".".join(str(part) for part in first["loc"]) or None
    return BadRequest(f"Invalid value for '{param}': {first['msg']}.", param=param)


def parse_chat_request(data: dict[str, object]) -> ChatCompletionRequest:
    try:
        body = ChatCompletionRequest.model_validate(data)
    except ValidationError as exc:
        raise validation_error(exc) from exc
    refuse_unsupported(body)
    return body


def refuse_unsupported(body: ChatCompletionRequest) -> None:
    """A 400 for a field whose value the gateway cannot honour (never silently ignored)."""
    if body.n is not None and body.n != 1:
        raise BadRequest("n must be 1", "n", "unsupported_value")
    wanted = body.response_format
    if wanted is not None and wanted.type == "json_schema" and not has_schema(wanted):
        raise BadRequest(
            "response_format 'json_schema' needs json_schema.name and json_schema.schema (the "
            "JSON Schema the answer follows).",
            "response_format.json_schema",
        )
    if body.functions or body.function_call is not None:
        param = "functions" if body.functions else "function_call"
        raise BadRequest(
            f"{param} is not supported; declare the functions in tools (and choose one with "
            "tool_choice).",
            param,
            "unsupported_parameter",
        )


def has_schema(response_format: ResponseFormat) -> bool:
    wanted = response_format.json_schema
    return wanted is not None and wanted.json_schema is not None


def joined_text(content: str | Sequence[TextPart | ImagePart] | None) -> str:
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    return "\n".join(part.text for part in content if isinstance(part, TextPart))


def data_url_attachment(url: str, index: int) -> Attachment:
    """``data:<type>;base64,<data>`` -> an inline attachment."""
    header, comma, payload = url.partition(",")
    media_type, _, encoding = header.removeprefix("data:").partition(";")
    if not comma or encoding != "base64" or not media_type:
        raise BadRequest("Image data URLs must look like data:<type>;base64,<data>.", "messages")
    try:
        data = base64.b64decode(payload, validate=True)
    except binascii.Error as exc:
        raise BadRequest("An image data URL is not valid base64.", "messages") from exc
    extension = mimetypes.guess_extension(media_type) or ""
    return Attachment(name=f"image-{index}{extension}", content_type=media_type, data=data)


def url_attachment(url: str, index: int) -> Attachment:
    """An http(s) image URL -> an attachment the safe downloader fetches (its host rules apply)."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise BadRequest("Image URLs must be data: URLs or http(s) URLs.", "messages")
    name = unquote(parts.path.rsplit("/", 1)[-1]) or f"image-{index}"
    content_type = mimetypes.guess_type(name)[0] or "image/jpeg"
    return Attachment(name=name, content_type=content_type, url=url)


def image_attachment(part: ImagePart, index: int) -> Attachment:
    url = part.image_url.url
    if url.startswith("data:"):
        return data_url_attachment(url, index)
    return url_attachment(url, index)


def cache_point(content: str | Sequence[TextPart | ImagePart] | None) -> CacheTTL | None:
    """A message's checkpoint (at its end): the TTL of its last part with ``cache_control``."""
    if content is None or isinstance(content, str):
        return None
    ttls = [p.cache_control.ttl for p in content if isinstance(p, TextPart) and p.cache_control]
    return ttls[-1] if ttls else None


def user_message(message: UserMessage) -> InputMessage:
    if isinstance(message.content, str):
        return InputMessage("user", message.content)
    images = [part for part in message.content if isinstance(part, ImagePart)]
    return InputMessage(
        "user",
        joined_text(message.content),
        attachments=tuple(image_attachment(part, i + 1) for i, part in enumerate(images)),
        cache_point=cache_point(message.content),
    )


def tool_arguments(arguments: str) -> dict[str, object]:
    try:
        value = orjson.loads(arguments or "{}")
    except orjson.JSONDecodeError as exc:
        raise BadRequest("Tool call arguments must be a JSON object.", "messages") from exc
    if not isinstance(value, dict):
        raise BadRequest("Tool call arguments must be a JSON object.", "messages")
    return value


def assistant_message(message: AssistantMessage) -> InputMessage:
    uses = tuple(
        ToolUseBlock(call.id, call.function.name, tool_arguments(call.function.arguments))
        for call in message.tool_calls
    )
    return InputMessage(
        "assistant",
        joined_text(message.content),
        tool_uses=uses,
        cache_point=cache_point(message.content),
    )


def tool_message(message: ToolMessage) -> InputMessage:
    result = ToolResultBlock(message.tool_call_id, joined_text(message.content))
    return InputMessage(
        "user", "", tool_results=(result,), cache_point=cache_point(message.content)
    )


def input_message(message: Message) -> InputMessage:
    match message:
        case SystemMessage():
            return InputMessage(
                "system", joined_text(message.content), cache_point=cache_point(message.content)
            )
        case UserMessage():
            return user_message(message)
        case AssistantMessage():
            return assistant_message(message)
        case ToolMessage():
            return tool_message(message)


def tool_spec(tool: Tool) -> ToolSpec:
    function = tool.function
    return ToolSpec(
        name=function.name,
        description=function.description or function.name,
        input_schema=function.parameters or EMPTY_OBJECT_SCHEMA,
        strict=function.strict is True,
    )


def output_format(response_format: ResponseFormat | None) -> OutputFormat | None:
    """``response_format`` as the form of the answer (``text``: None, free text)."""
    if response_format is None or response_format.type == "text":
        return None
    if response_format.type == "json_object":
        return JsonObjectOutput()
    wanted = response_format.json_schema
    if wanted is None or wanted.json_schema is None:  # refused by refuse_unsupported
        raise BadRequest("response_format 'json_schema' needs json_schema.schema.")
    return OutputSchema(wanted.json_schema, name=wanted.name, description=wanted.description)


def tool_choice(body: ChatCompletionRequest) -> ToolChoice | Literal["none"]:
    """OpenAI's ``tool_choice`` -> the neutral one (``required`` is Converse's ``any``); a
    choice that needs a tool ``tools`` does not hold is a 400."""
    names = [tool.function.name for tool in body.tools]
    match body.tool_choice:
        case None | "auto":
            return "auto"
        case "none":
            return "none"
        case "required":
            if not names:
                raise BadRequest(
                    "Invalid value for 'tool_choice': 'required' needs at least one tool in "
                    "'tools'.",
                    "tool_choice",
                )
            return "any"
        case NamedToolChoice(function=function):
            if function.name not in names:
                raise BadRequest(
                    f"Invalid value for 'tool_choice': no function named '{function.name}' "
                    "in 'tools'.",
                    "tool_choice",
                )
            return UseTool(function.name)


def stop_sequences(stop: str | list[str] | None) -> tuple[str, ...]:
    """``stop`` as Converse ``stopSequences`` (an empty string, which stops nothing and which
    Converse refuses, is left out)."""
    if stop is None:
        return ()
    sequences = (stop,) if isinstance(stop, str) else tuple(stop)
    return tuple(sequence for sequence in sequences if sequence)


def to_bot_request(
    body: ChatCompletionRequest,
    request_id: str,
    caller: str,
    parameters: Mapping[str, object] | None = None,
) -> BotRequest:
    """The bot's request; ``parameters`` are the options the endpoint worked out from the body
    with the bot's config (the thinking budget of a ``reasoning_effort``)."""
    return BotRequest(
        request_id=request_id,
        messages=tuple(input_message(message) for message in body.messages),
        user_id=ledger_user(caller, body.end_user),
        temperature=body.temperature,
        stop_sequences=stop_sequences(body.stop),
        max_tokens=body.max_completion_tokens or body.max_tokens,
        parameters=dict(parameters or {}),
        tools=tuple(tool_spec(tool) for tool in body.tools),
        tool_choice=tool_choice(body),
        output_format=output_format(body.response_format),
    )
