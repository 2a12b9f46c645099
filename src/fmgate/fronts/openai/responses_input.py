"""Responses API input -> the neutral :class:`BotRequest`'s messages, tools and tool choice.

Items, oldest first (the stored conversation a request continues, then its own ``input``):

- ``message``: ``system`` / ``developer`` -> system text; ``user`` -> a user turn (``input_text``
  joined; ``input_image`` and ``input_file`` become attachments: ``data:`` URLs inline, http(s)
  URLs for the safe downloader, whose host rules apply); ``assistant`` -> an assistant turn
  (``output_text``, ``refusal``);
- ``function_call`` -> a tool use in an assistant turn; ``function_call_output`` -> a tool result
  in a user turn, answering the call with the same ``call_id`` (every call needs its output and
  every output its call, as OpenAI checks);
- ``reasoning`` -> dropped: reasoning is not replayed to models, on any front.

Anything else (other item types, hosted tools, file ids) is refused with a 400 that names it.
"""

from __future__ import annotations

import base64
import binascii
import mimetypes
from collections.abc import Sequence
from typing import Literal
from urllib.parse import unquote, urlsplit

import orjson

from fmgate.core.bot_request import Attachment, InputMessage, Role
from fmgate.core.model_request import ToolChoice, ToolResultBlock, ToolSpec, ToolUseBlock, UseTool
from fmgate.fronts.openai.parse import BadRequest
from fmgate.fronts.openai.responses_schema import (
    ContentPart,
    FunctionCallItem,
    FunctionCallOutputItem,
    FunctionTool,
    HostedTool,
    InputFile,
    InputImage,
    InputItem,
    InputText,
    MessageItem,
    OtherItem,
    OutputText,
    ReasoningItem,
    RefusalPart,
    ResponsesRequest,
    Tool,
    ToolChoiceFunction,
    ToolChoiceOther,
)

#: Message roles -> neutral roles (``developer`` messages are system text, as on chat).
ROLES: dict[str, Role] = {
    "user": "user",
    "assistant": "assistant",
    "system": "system",
    "developer": "system",
}
#: The schema of a tool that declares no parameters.
EMPTY_OBJECT_SCHEMA: dict[str, object] = {"type": "object", "properties": {}}


def input_items(body: ResponsesRequest) -> tuple[InputItem, ...]:
    """The request's ``input`` as items (a string is one user message)."""
    if isinstance(body.input, str):
        return (MessageItem(role="user", content=body.input),)
    return tuple(body.input)


def check_tool_pairing(items: Sequence[InputItem]) -> None:
    """Every ``function_call`` has its ``function_call_output`` after it, and every output
    answers an earlier call (Bedrock requires each tool use answered in the next turn)."""
    calls: dict[str, None] = {}
    answered: set[str] = set()
    for item in items:
        if isinstance(item, FunctionCallItem):
            calls[item.call_id] = None
        elif isinstance(item, FunctionCallOutputItem):
            if item.call_id not in calls:
                raise BadRequest(
                    f"No tool call found for function call output with call_id {item.call_id}.",
                    "input",
                )
            answered.add(item.call_id)
    for call_id in calls:
        if call_id not in answered:
            raise BadRequest(f"No tool output found for function call {call_id}.", "input")


def input_messages(
    instructions: str | None, items: Sequence[InputItem]
) -> tuple[InputMessage, ...]:
    """The conversation as neutral messages: ``instructions`` first (as system text)."""
    check_tool_pairing(items)
    messages = [InputMessage("system", instructions)] if instructions else []
    attachments = 0
    for item in items:
        match item:
            case MessageItem():
                message = message_of(item, attachments)
                attachments += len(message.attachments)
                messages.append(message)
            case FunctionCallItem():
                use = ToolUseBlock(item.call_id, item.name, call_arguments(item.arguments))
                messages.append(InputMessage("assistant", "", tool_uses=(use,)))
            case FunctionCallOutputItem():
                result = ToolResultBlock(item.call_id, tool_output_text(item.output))
                messages.append(InputMessage("user", "", tool_results=(result,)))
            case ReasoningItem():
                continue
            case OtherItem(type=kind):
                raise BadRequest(f"Input items of type '{kind[:64]}' are not supported.", "input")
    return tuple(messages)


def message_of(item: MessageItem, attachments_before: int) -> InputMessage:
    parts: Sequence[ContentPart] = (
        [InputText(type="input_text", text=item.content)]
        if isinstance(item.content, str)
        else item.content
    )
    texts: list[str] = []
    files: list[Attachment] = []
    for part in parts:
        match part:
            case InputText(text=text) | OutputText(text=text) | RefusalPart(refusal=text):
                texts.append(text)
            case InputImage() | InputFile() if item.role != "user":
                raise BadRequest(f"Files and images go in user messages, not {item.role}.", "input")
            case InputImage():
                files.append(image_attachment(part, attachments_before + len(files) + 1))
            case InputFile():
                files.append(file_attachment(part, attachments_before + len(files) + 1))
    return InputMessage(ROLES[item.role], "\n".join(texts), attachments=tuple(files))


def tool_output_text(output: str | list[ContentPart]) -> str:
    if isinstance(output, str):
        return output
    texts = []
    for part in output:
        if not isinstance(part, InputText | OutputText):
            raise BadRequest("A function_call_output may hold text only here.", "input")
        texts.append(part.text)
    return "\n".join(texts)


def call_arguments(arguments: str) -> dict[str, object]:
    try:
        value = orjson.loads(arguments or "{}")
    except orjson.JSONDecodeError as exc:
        raise BadRequest("Function call arguments must be a JSON object.", "input") from exc
    if not isinstance(value, dict):
        raise BadRequest("Function call arguments must be a JSON object.", "input")
    return value


def data_url_attachment(url: str, name: str) -> Attachment:
    """``data:<type>;base64,<data>`` -> an inline attachment called ``name``."""
    header, comma, payload = url.partition(",")
    media_type, _, encoding = header.removeprefix("data:").partition(";")
    if not comma or encoding != "base64" or not media_type:
        raise BadRequest("Data URLs must look like data:<type>;base64,<data>.", "input")
    try:
        data = base64.b64decode(payload, validate=True)
    except binascii.Error as exc:
        raise BadRequest("A data URL is not valid base64.", "input") from exc
    if "." not in name:
        name += mimetypes.guess_extension(media_type) or ""
    return Attachment(name=name, content_type=media_type, data=data)


def url_attachment(url: str, fallback_name: str, default_type: str) -> Attachment:
    """An http(s) URL -> an attachment the safe downloader fetches (its host rules apply)."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise BadRequest("File and image URLs must be data: URLs or http(s) URLs.", "input")
    name = unquote(parts.path.rsplit("/", 1)[-1]) or fallback_name
    content_type = mimetypes.guess_type(name)[0] or default_type
    return Attachment(name=name, content_type=content_type, url=url)


def no_file_ids() -> BadRequest:
    return BadRequest(
        "File ids are not supported (there is no Files API here): send the file inline as a "
        "data: URL, or by URL.",
        "input",
    )


def image_attachment(part: InputImage, index: int) -> Attachment:
    if part.image_url is None:
        raise no_file_ids() if part.file_id else BadRequest("An input_image needs image_url.")
    if part.image_url.startswith("data:"):
        return data_url_attachment(part.image_url, f"image-{index}")
    return url_attachment(part.image_url, f"image-{index}", "image/jpeg")


def file_attachment(part: InputFile, index: int) -> Attachment:
    name = part.filename or f"file-{index}"
    if part.file_data is not None:
        if part.file_data.startswith("data:"):
            return data_url_attachment(part.file_data, name)
        content_type = mimetypes.guess_type(name)[0]
        if content_type is None:
            raise BadRequest("Send file_data as a data: URL, or name the file's type.", "input")
        return data_url_attachment(f"data:{content_type};base64,{part.file_data}", name)
    if part.file_url is not None:
        return url_attachment(part.file_url, name, "application/octet-stream")
    raise no_file_ids() if part.file_id else BadRequest("An input_file needs file_data.", "input")


def tool_specs(tools: Sequence[Tool]) -> tuple[ToolSpec, ...]:
    """Function tools -> Converse tool specs; a hosted tool is refused by its type."""
    specs = []
    for index, tool in enumerate(tools):
        match tool:
            case FunctionTool():
                specs.append(
                    ToolSpec(
                        name=tool.name,
                        description=tool.description or tool.name,
                        input_schema=tool.parameters or EMPTY_OBJECT_SCHEMA,
                        strict=tool.strict is True,
                    )
                )
            case HostedTool(type=kind):
                raise BadRequest(
                    f"The '{kind[:64]}' tool is not supported: this gateway serves function "
                    "tools only (Bedrock cannot run OpenAI's hosted tools).",
                    f"tools[{index}].type",
                )
    return tuple(specs)


def tool_choice(body: ResponsesRequest, tools: Sequence[ToolSpec]) -> ToolChoice | Literal["none"]:
    """``tool_choice`` -> how the model may use ``tools`` (``"none"``: not at all)."""
    choice = body.tool_choice
    match choice:
        case None | "auto":
            return "auto"
        case "none":
            return "none"
        case "required":
            if not tools:
                raise BadRequest("tool_choice 'required' needs tools.", "tool_choice")
            return "any"
        case ToolChoiceFunction(name=name):
            if name not in {tool.name for tool in tools}:
                raise BadRequest(f"tool_choice names '{name[:64]}', not a tool.", "tool_choice")
            return UseTool(name)
        case ToolChoiceOther(type=kind):
            raise BadRequest(
                f"tool_choice of type '{kind[:64]}' is not supported: only function tools.",
                "tool_choice",
            )
