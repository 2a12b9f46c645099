"""Chat bots: a conversation in, streamed text out, through Converse / ConverseStream."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import aclosing
from dataclasses import dataclass, replace
from functools import partial
from itertools import takewhile
from typing import Literal

from fmgate.accounting.estimates import estimate_output_tokens
from fmgate.attachments.content import build_attachment_content
from fmgate.bedrock.client import BedrockRuntimeClient
from fmgate.bedrock.converse import converse, converse_stream, count_input_tokens
from fmgate.bedrock.system_prompt_tokens import count_system_tokens
from fmgate.bots.betas import BetaFilter
from fmgate.bots.cache_points import (
    place_cache_points,
    place_explicit_points,
    turn_anchor,
    without_cache_points,
)
from fmgate.bots.citations import check_citations
from fmgate.bots.dependencies import BotDependencies
from fmgate.bots.guardrail import (
    guard_request,
    request_guardrail,
    screen_attachments,
    screens_attachments,
)
from fmgate.bots.reasoning import request_reasoning, request_thinking
from fmgate.bots.reasoning_replay import reasoning_for
from fmgate.bots.structured_output import native_schema, offered_strictly, output_instruction
from fmgate.bots.system_prompt import answered_system_prompt, system_texts
from fmgate.bots.tool_use import NO_TOOLS_NOTICE, carries_tools, streams, without_tools
from fmgate.bots.turns import build_turns, in_place_instruction, split_system
from fmgate.config.bot_config import ChatBotConfig, ForcedToolChoice
from fmgate.core import parameters as p
from fmgate.core.bot_request import BotRequest, InputMessage
from fmgate.core.errors import AttachmentRejected, GatewayError, InvalidRequest, UpstreamTimeout
from fmgate.core.events import (
    OUTPUT_EVENTS,
    AnsweredBy,
    Done,
    Event,
    Notice,
    ReasoningDelta,
    StopReason,
    SystemPrompt,
    TextDelta,
    Usage,
)
from fmgate.core.model_request import (
    CachePoint,
    ChatMessage,
    ChatRequest,
    ContentBlock,
    SystemBlock,
    TextBlock,
    ToolChoice,
    ToolResultBlock,
    ToolSpec,
    ToolUseBlock,
    UseTool,
)
from fmgate.observability.tracing import upstream_span
from fmgate.resilience.fallback import Target, bot_targets, stream_with_fallbacks
from fmgate.resilience.timeouts import with_deadline, with_stream_timeouts

#: What the user is told when the model stopped for a reason other than finishing its answer.
STOP_NOTICES: dict[StopReason, str] = {
    "max_tokens": "The answer reached this bot's length limit and was cut off.",
    "content_filtered": "The model's content filters stopped this answer.",
    "guardrail_intervened": "A guardrail stopped this answer.",
}


#: Longest wait for CountTokens when estimating the usage of a broken stream (the request has
#: already failed; an upstream in trouble must not keep it open).
ESTIMATE_TIMEOUT_SECONDS = 5.0


class ChatBot:
    """The ``chat`` kind."""

    def __init__(self, config: ChatBotConfig, services: BotDependencies) -> None:
        self._config = config
        self._services = services
        #: The bot's own model, then its fallbacks; and each by (model id, region, tier).
        self._targets = bot_targets(config)
        self._by_place = {(t.model_id, t.aws_region, t.service_tier): t for t in self._targets}
        self._betas = BetaFilter(config.bot_name, config.anthropic_betas)
        self._guardrail = request_guardrail(config.guardrail)

    @property
    def config(self) -> ChatBotConfig:
        return self._config

    async def stream(self, request: BotRequest) -> AsyncIterator[Event]:
        prepared = await self._prepare(request)
        chat = prepared.chat
        for notice in prepared.notices:
            yield Notice(notice)
        blocked = await self._screen(prepared.attachment_texts)
        if blocked is not None:  # the guardrail stopped the files: the model is not called
            for event in blocked_answer(blocked):
                yield event
            return
        services = self._services
        targets = self._targets
        answering = targets[0]

        def on_retry(error: GatewayError, attempt: int, delay: float) -> None:
            services.on_retry(self._config.bot_name, error, attempt, delay)

        events = with_deadline(
            stream_with_fallbacks(
                targets,
                partial(self._call, chat),
                policy=services.retry,
                breakers=services.breakers,
                limits=services.limits,
                on_retry=on_retry,
            ),
            services.timeouts.chat_request_seconds,
        )
        delivered: list[str] = []
        reported_usage = False
        reported_system = False
        operation = "ConverseStream" if streams(self._config, chat) else "Converse"
        try:
            with (
                self._services.upstream.track(),
                upstream_span(operation, bot=self._config.bot_name, model_id=chat.model_id),
            ):
                async with aclosing(events):
                    async for event in events:
                        if isinstance(event, AnsweredBy):
                            place = (event.model_id, event.aws_region, event.service_tier)
                            answering = self._by_place[place]
                            yield event
                            announcement = self._fell_back(targets[0], answering)
                            if announcement is not None:
                                yield announcement
                            continue
                        if isinstance(event, TextDelta | ReasoningDelta):
                            delivered.append(event.text)
                        reported_usage = reported_usage or isinstance(event, Usage)
                        if isinstance(event, Done) and event.stop_reason in STOP_NOTICES:
                            yield Notice(STOP_NOTICES[event.stop_reason])
                        yield event
                        if not reported_system and isinstance(event, OUTPUT_EVENTS):
                            reported_system = True  # after the first output: never before it
                            system = self._system_prompt(chat, answering)
                            if system is not None:
                                yield system
        except GatewayError:
            if delivered and not reported_usage:
                # The stream broke before Bedrock's usage arrived: estimate what was delivered.
                counter = None
                if self._config.count_tokens:
                    counter = await services.bedrock.get(answering.aws_region)
                answered = reasoning_for(
                    without_cache_points(replace(chat, model_id=answering.model_id))
                )
                yield await estimated_usage(counter, answered, "".join(delivered))
            raise

    async def _call(self, chat: ChatRequest, target: Target) -> AsyncIterator[Event]:
        """One call to ``target`` (no retries): ConverseStream under the stream timeouts, or
        Converse."""
        request = replace(chat, service_tier=target.service_tier)
        if target.model_id != chat.model_id:
            # Another model may take no checkpoints and other betas (the same model elsewhere
            # takes the same).
            moved = replace(request, model_id=target.model_id, anthropic_betas=())
            request = without_cache_points(moved)
        request = reasoning_for(request)
        if streams(self._config, request):
            timeouts = self._services.timeouts
            transport = await self._services.bedrock.streams(target.aws_region)
            events = with_stream_timeouts(
                converse_stream(transport, request),
                first_output_seconds=timeouts.first_token_seconds,
                idle_seconds=timeouts.idle_seconds,
            )
            async with aclosing(events):
                async for event in events:
                    yield event
        else:
            client = await self._services.bedrock.get(target.aws_region)
            for event in await converse(client, request):
                yield event

    async def count_input_tokens(self, request: BotRequest) -> int:
        """Bedrock's CountTokens for the input this request would send (system, tools,
        messages, files fetched), on the bot's own model; ``InvalidRequest`` for a model that
        does not count (``count_tokens``), before Bedrock is asked."""
        config = self._config
        if not config.count_tokens:
            raise InvalidRequest(
                "count_tokens on a model that does not count",
                user_message=f"Model {config.bot_name} cannot count tokens (Bedrock's "
                "CountTokens does not support it).",
            )
        chat, _ = await self.build_request(request)
        client = await self._services.bedrock.get(config.aws_region)
        seconds = self._services.timeouts.first_token_seconds
        try:
            with self._services.upstream.track():
                async with asyncio.timeout(seconds):
                    return await count_input_tokens(client, without_cache_points(chat))
        except TimeoutError:
            raise UpstreamTimeout(f"CountTokens: no answer in {seconds:g}s") from None

    def _system_prompt(self, chat: ChatRequest, answering: Target) -> SystemPrompt | None:
        """The system prompt the answer reports for the billing split; its count asked for
        in the background when it is not known yet."""
        system = answered_system_prompt(self._config, chat, answering.model_id)
        if system is not None and system.digest is not None:
            count = partial(
                self._count_system, answering.aws_region, system.model_id, system_texts(chat)
            )
            self._services.system_prompts.request(system, count)
        return system

    async def _count_system(self, region: str, model_id: str, texts: tuple[str, ...]) -> int:
        client = await self._services.bedrock.get(region)
        with self._services.upstream.track():
            return await count_system_tokens(client, model_id, texts)

    def _fell_back(self, primary: Target, answering: Target) -> Notice | None:
        """Count a fallback's answer; the notice for the user, when they are to be told."""
        self._services.on_fallback(self._config.bot_name, answering.model_id)
        if not self._config.announce_fallback:
            return None
        return Notice(fallback_notice(primary, answering))

    async def _screen(self, texts: tuple[str, ...]) -> str | None:
        """The guardrail's blocked message when it screens attachments and intervened on
        ``texts`` (the latest message's files), else None."""
        guardrail = self._guardrail
        if not texts or guardrail is None or not screens_attachments(self._config.guardrail):
            return None
        client = await self._services.bedrock.get(self._config.aws_region)
        seconds = self._services.timeouts.first_token_seconds
        try:
            with self._services.upstream.track():
                async with asyncio.timeout(seconds):
                    return await screen_attachments(client, guardrail, texts)
        except TimeoutError:
            raise UpstreamTimeout(f"ApplyGuardrail: no answer in {seconds:g}s") from None

    async def build_request(self, request: BotRequest) -> tuple[ChatRequest, list[str]]:
        """The Converse request for this turn, and notices for the user (see
        :meth:`_prepare`)."""
        prepared = await self._prepare(request)
        return prepared.chat, prepared.notices

    async def _prepare(self, request: BotRequest) -> PreparedChat:
        """The Converse request for this turn, notices for the user (skipped files...), and
        the text of the latest message's files (for a guardrail to screen).

        With prompt caching on, the prompt keeps every earlier turn's bytes (system messages
        stay where they were sent, merged turns keep their blocks) and carries the checkpoints
        of :mod:`fmgate.bots.cache_points`: the previous and the last user turn are anchored
        here, where it is known which of their blocks later turns repeat. A caller's own
        checkpoints (``cache_control``) replace those: each goes at the end of its message.
        """
        config = self._config
        check_tool_choice(request, config)  # a forced choice is refused, not dropped
        check_citations(request, config)
        notices: list[str] = []
        attachment_texts: tuple[str, ...] = ()
        if config.tool_use == "none" and carries_tools(request):
            request = without_tools(request)
            notices.append(NO_TOOLS_NOTICE)
        caching = config.prompt_caching
        cached = caching is not None and caching.active
        explicit = cached and request.explicit_cache_points
        system, dialogue = split_system(request.messages, config.system_prompt, keep_prefix=cached)
        answer_form = output_instruction(request, config)
        if answer_form is not None:  # the answer's format, asked for last
            system = (*system, answer_form)
        leading = takewhile(lambda m: m.role == "system", request.messages)
        system_ttl = next((m.cache_point for m in leading if m.cache_point), None)
        users = [i for i, m in enumerate(dialogue) if m.role == "user"]
        if not users:
            raise InvalidRequest("no user message", user_message="There is no message to answer.")
        last_user = users[-1]
        anchored = set(users[-2:]) if cached and not explicit else set()
        messages: list[ChatMessage] = []
        for index, message in enumerate(dialogue):
            if message.role == "system":  # sent mid-conversation, kept in place (caching on)
                instruction: list[ContentBlock] = [in_place_instruction(message.text)]
                if explicit and message.cache_point:
                    instruction.append(CachePoint(message.cache_point))
                messages.append(ChatMessage("user", tuple(instruction)))
                continue
            # Replayed reasoning leads an assistant turn, tool results a user turn (Anthropic
            # models on Bedrock require both).
            content: list[ContentBlock] = [
                *message.reasoning,
                *message.tool_results,
                TextBlock(message.text),
            ]
            stable_blocks = len(content)
            if message.attachments and index == last_user:
                attached = await build_attachment_content(
                    message.attachments,
                    config,
                    self._services.attachments,
                    message_text=message.text,
                )
                if request.refuse_unusable_files and attached.notices:
                    raise AttachmentRejected(
                        "a file could not be used", user_message=" ".join(attached.notices)
                    )
                content.extend(attached.blocks)
                notices.extend(attached.notices)
                attachment_texts = attached.texts
            elif message.attachments:
                content.append(TextBlock(_earlier_attachments(message)))
            content.extend(message.tool_uses)
            if index in anchored:
                content = turn_anchor(content, stable_blocks)
            elif explicit and message.cache_point:
                at = stable_blocks if message.role == "user" else len(content)
                content = turn_anchor(content, at, message.cache_point)
            role: Literal["user", "assistant"] = "user" if message.role == "user" else "assistant"
            messages.append(ChatMessage(role, tuple(content)))
        turns = build_turns(
            system, messages, supports_system=config.supports_system_messages, keep_prefix=cached
        )
        if not turns.messages:  # blank texts and empty messages are left out
            raise InvalidRequest(
                "every message is blank",
                user_message="Every message is empty or blank: there is nothing to answer.",
            )
        if turns.messages[-1].role != "user":
            raise InvalidRequest(
                "conversation does not end with a user message",
                user_message="There is no message to answer.",
            )
        chat = self._sampling(request, turns.system, turns.messages)
        if caching is not None and explicit:  # markers for a bot without caching are dropped
            chat = place_explicit_points(
                chat, caching, system_ttl=system_ttl, tool_points=request.tool_cache_points
            )
        elif caching is not None and cached:
            chat = place_cache_points(chat, caching)
        return PreparedChat(guard_request(chat, config.guardrail), notices, attachment_texts)

    def _sampling(
        self,
        request: BotRequest,
        system: tuple[SystemBlock, ...],
        messages: tuple[ChatMessage, ...],
    ) -> ChatRequest:
        """Apply config defaults, then the caller's choices within the model's limits."""
        config = self._config
        params = request.parameters
        temperature = request.temperature
        chosen = p.number(params, p.TEMPERATURE)
        if chosen is not None:
            temperature = chosen
        if temperature is None:
            temperature = config.temperature
        if temperature is not None:
            temperature = p.clamp(temperature, 0.0, config.temperature_limit)

        max_tokens = float(config.max_tokens)
        for candidate in (request.max_tokens, p.number(params, p.MAX_TOKENS)):
            if candidate is not None:
                max_tokens = candidate
        max_tokens_int = int(p.clamp(max_tokens, 1, config.max_tokens_limit))
        reasoning = request_reasoning(params, config, max_tokens_int)

        stops = tuple(dict.fromkeys((*config.stop_sequences, *request.stop_sequences)))
        tools, tool_choice = offered_tools(request, messages)
        tools = offered_strictly(tools, config)
        return ChatRequest(
            model_id=config.model_id,
            messages=messages,
            system=system,
            max_tokens=reasoning.max_tokens,
            temperature=temperature,
            top_p=request.top_p if request.top_p is not None else config.top_p,
            stop_sequences=stops,
            reasoning_budget=reasoning.budget,
            adaptive_thinking=reasoning.adaptive,
            effort=reasoning.effort,
            optimize_latency=config.optimize_latency,
            additional_fields=dict(config.additional_model_request_fields),
            anthropic_betas=self._betas.taken(request.betas),
            tools=tools,
            tool_choice=tool_choice,
            guardrail=self._guardrail,
            service_tier=config.service_tier,
            output_schema=native_schema(request, config),
        )


@dataclass(frozen=True, slots=True)
class PreparedChat:
    """A turn made ready for the model."""

    chat: ChatRequest
    #: For the user: files skipped or cut, tools left out.
    notices: list[str]
    #: The text of the latest message's files (expanded text, Poe's extracted text of
    #: documents), for the guardrail to screen when it screens attachments.
    attachment_texts: tuple[str, ...] = ()


def blocked_answer(message: str) -> tuple[Event, ...]:
    """The answer of a request whose attachments the guardrail blocked: its message, as a
    Converse call that the guardrail stopped ends (no usage: no model was called)."""
    return (
        TextDelta(message),
        Usage(),
        Notice(STOP_NOTICES["guardrail_intervened"]),
        Done("guardrail_intervened"),
    )


def check_tool_choice(request: BotRequest, config: ChatBotConfig) -> None:
    """Refuse a forced tool choice before Bedrock sees it: without tools, naming a tool the
    request does not offer, one the model does not take (``forced_tool_choices``, from the
    model table: Bedrock refuses ``toolChoice`` any / tool for other models), or with extended
    thinking in the request (Claude refuses forced tool use while thinking)."""
    choice = request.tool_choice
    match choice:
        case "auto" | "none":
            return
        case "any":
            kind: ForcedToolChoice = "any"
        case UseTool(name=name):
            kind = "tool"
            if name not in {tool.name for tool in request.tools}:
                raise InvalidRequest(
                    "tool_choice names a tool not offered",
                    user_message=f"tool_choice names the tool {name!r}, which is not in tools.",
                )
    if not request.tools:
        raise InvalidRequest(
            "forced tool choice without tools",
            user_message=f"tool_choice {kind!r} needs tools to choose from.",
        )
    if kind not in config.forced_tool_choices:
        taken = ", ".join(repr(c) for c in ("auto", *config.forced_tool_choices, "none"))
        raise InvalidRequest(
            f"tool_choice {kind} not taken by the model",
            user_message=(
                f"Model {config.bot_name} does not support tool_choice {kind!r} (Bedrock "
                f"cannot force its tool use); it supports {taken}."
            ),
        )
    if request_thinking(request.parameters, config) is not None:
        raise InvalidRequest(
            f"tool_choice {kind} with extended thinking",
            user_message=(
                f"Model {config.bot_name} thinks before answering, and a model that thinks "
                f"cannot be forced to use tools: tool_choice {kind!r} is not supported with "
                "extended thinking; use 'auto' or 'none'."
            ),
        )


def offered_tools(
    request: BotRequest, messages: tuple[ChatMessage, ...]
) -> tuple[tuple[ToolSpec, ...], ToolChoice]:
    """The tools this turn offers the model, and how it may use them.

    Converse cannot forbid tool use, so a caller's ``none`` offers no tools, unless earlier
    turns hold tool calls or results: Bedrock then requires the definitions, and the model is
    left to choose (``auto``).
    """
    if request.tool_choice != "none":
        return request.tools, request.tool_choice
    tool_blocks = (ToolUseBlock, ToolResultBlock)
    if any(isinstance(b, tool_blocks) for m in messages for b in m.content):
        return request.tools, "auto"
    return (), "auto"


def _earlier_attachments(message: InputMessage) -> str:
    """Earlier turns' files are not fetched again (their URLs expire); name them instead."""
    names = ", ".join(a.name for a in message.attachments)
    return f"[Files attached to this message earlier: {names}]"


def fallback_notice(primary: Target, answering: Target) -> str:
    """What users are told when a fallback answered."""
    return f"Answered by {answering.label} because {primary.label} is busy."


async def estimated_usage(
    counter: BedrockRuntimeClient | None, chat: ChatRequest, delivered: str
) -> Usage:
    """Input tokens from Bedrock's CountTokens (through ``counter``; None: the model does not
    count, 0), output from the text delivered; marked estimated."""
    input_tokens = 0  # the estimate stays marked as such; never fail the request over it
    if counter is not None:
        try:
            async with asyncio.timeout(ESTIMATE_TIMEOUT_SECONDS):
                input_tokens = await count_input_tokens(counter, chat)
        except (GatewayError, TimeoutError):
            input_tokens = 0
    return Usage(
        input_tokens=input_tokens,
        output_tokens=estimate_output_tokens(delivered),
        estimated=True,
    )
