"""Structured logging: request ids bound to every line, JSON or plain, secrets redacted.

- :func:`bind_request` (a context manager) or :func:`bind_request_context` (for a whole task)
  put ``request_id``, ``bot`` and ``user_id`` into a context variable; every log line written
  inside carries them, whichever logger wrote it.
- :func:`register_secret` adds a value (an access key, an AWS secret) to the set that
  :class:`SecretRedactionFilter` replaces with ``***`` in messages, arguments and tracebacks;
  anything that looks like an AWS secret key after ``aws_secret_access_key`` is redacted too.
- :func:`configure_logging` installs one stderr handler on the root logger with both filters and
  a :class:`JsonFormatter` (orjson, one object per line) or a :class:`PlainFormatter`.
"""

from __future__ import annotations

import logging
import re
import secrets
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Final

import orjson

REDACTED: Final = "***"

#: Values shorter than this are not registered as secrets (they would redact ordinary words).
MIN_SECRET_LENGTH: Final = 8

#: ``aws_secret_access_key`` followed (within a few separator characters) by a 40-char key.
AWS_SECRET_PATTERN: Final = re.compile(
    r"(aws_secret_access_key\W{0,5})[A-Za-z0-9/+=]{40}(?![A-Za-z0-9/+=])", re.IGNORECASE
)

HANDLER_NAME: Final = "fmgate"

#: Loggers that write whole request/response bodies at DEBUG (botocore, and aiobotocore through
#: it): a Secrets Manager answer holds the secret itself (and its JSON siblings) before anything
#: could register it for redaction, and Bedrock bodies hold users' conversations. Never below INFO.
WIRE_BODY_LOGGERS: Final = ("botocore.parsers", "botocore.endpoint")


# -- request context ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RequestContext:
    """The identifiers bound to every log line of one request."""

    request_id: str
    bot: str
    user_id: str


_current_request: ContextVar[RequestContext | None] = ContextVar("fmgate_request", default=None)


def new_request_id() -> str:
    """A short, unique, URL-safe id for one request (16 characters, 96 random bits)."""
    return secrets.token_urlsafe(12)


@contextmanager
def bind_request(request_id: str, bot: str, user_id: str) -> Iterator[RequestContext]:
    """Bind the request's ids to every log line written inside the ``with`` block."""
    context = RequestContext(request_id, bot, user_id)
    token = _current_request.set(context)
    try:
        yield context
    finally:
        _current_request.reset(token)


def bind_request_context(request_id: str, bot: str, user_id: str) -> None:
    """Bind the request's ids for the rest of the current task (its context ends with it)."""
    _current_request.set(RequestContext(request_id, bot, user_id))


def current_request() -> RequestContext | None:
    return _current_request.get()


class RequestContextFilter(logging.Filter):
    """Adds ``request_id``, ``bot`` and ``user_id`` to each record ("-" outside a request)."""

    def filter(self, record: logging.LogRecord) -> bool:
        context = _current_request.get()
        record.request_id = context.request_id if context else "-"
        record.bot = context.bot if context else "-"
        record.user_id = context.user_id if context else "-"
        return True


# -- secrets -----------------------------------------------------------------------------------


class SecretRegistry:
    """Values that must never be written out; thread-safe, append-only."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._values: set[str] = set()
        self._pattern: re.Pattern[str] | None = None

    def add(self, value: str) -> None:
        if len(value) < MIN_SECRET_LENGTH:
            return
        with self._lock:
            if value in self._values:
                return
            self._values.add(value)
            # Longest first, so a secret containing another is replaced whole.
            ordered = sorted(self._values, key=len, reverse=True)
            self._pattern = re.compile("|".join(map(re.escape, ordered)))

    def redact(self, text: str) -> str:
        """``text`` with every registered secret and AWS-secret-looking value replaced."""
        pattern = self._pattern
        if pattern is not None:
            text = pattern.sub(REDACTED, text)
        return AWS_SECRET_PATTERN.sub(rf"\g<1>{REDACTED}", text)


#: The process's secrets (logging itself is process-wide, so this registry is too).
SECRETS: Final = SecretRegistry()


def register_secret(value: str) -> None:
    """Never log ``value``: every handler set up by :func:`configure_logging` redacts it."""
    SECRETS.add(value)


def redact(text: str) -> str:
    return SECRETS.redact(text)


class SecretRedactionFilter(logging.Filter):
    """Redacts secrets from a record's message, arguments and traceback before formatting."""

    def __init__(self, registry: SecretRegistry = SECRETS) -> None:
        super().__init__()
        self._registry = registry

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        record.msg = self._registry.redact(message)
        record.args = None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = self._registry.redact(record.exc_text)
        if record.stack_info:
            record.stack_info = self._registry.redact(record.stack_info)
        return True


# -- formatters --------------------------------------------------------------------------------

#: LogRecord attributes that are not user-supplied ``extra`` fields.
_STANDARD_ATTRIBUTES: Final = frozenset(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {
    "message",
    "asctime",
    "request_id",
    "bot",
    "user_id",
}


def _timestamp(record: logging.LogRecord) -> str:
    seconds = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
    return f"{seconds}.{int(record.msecs):03d}Z"


def _context_fields(record: logging.LogRecord) -> tuple[str, str, str]:
    return (
        str(getattr(record, "request_id", "-")),
        str(getattr(record, "bot", "-")),
        str(getattr(record, "user_id", "-")),
    )


class JsonFormatter(logging.Formatter):
    """One JSON object per line: ts, level, logger, message, request_id, bot, user_id, extras."""

    def __init__(self, registry: SecretRegistry = SECRETS) -> None:
        super().__init__()
        self._registry = registry

    def format(self, record: logging.LogRecord) -> str:
        request_id, bot, user_id = _context_fields(record)
        entry: dict[str, object] = {
            "ts": _timestamp(record),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": request_id,
            "bot": bot,
            "user_id": user_id,
        }
        for key, value in vars(record).items():
            if key not in _STANDARD_ATTRIBUTES and not key.startswith("_"):
                entry[key] = value
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            entry["exc"] = record.exc_text
        return self._registry.redact(orjson.dumps(entry, default=str).decode())


class PlainFormatter(logging.Formatter):
    """``ts LEVEL logger [request_id bot user_id] message`` (then the traceback, if any)."""

    def __init__(self, registry: SecretRegistry = SECRETS) -> None:
        super().__init__()
        self._registry = registry

    def format(self, record: logging.LogRecord) -> str:
        request_id, bot, user_id = _context_fields(record)
        line = (
            f"{_timestamp(record)} {record.levelname:<7} {record.name} "
            f"[request_id={request_id} bot={bot} user={user_id}] {record.getMessage()}"
        )
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            line = f"{line}\n{record.exc_text}"
        return self._registry.redact(line)


def configure_logging(*, json: bool = False, level: str = "INFO") -> None:
    """Send all logging to stderr through fmgate's filters and formatter (idempotent)."""
    handler = logging.StreamHandler(sys.stderr)
    handler.name = HANDLER_NAME
    handler.addFilter(RequestContextFilter())
    handler.addFilter(SecretRedactionFilter())
    handler.setFormatter(JsonFormatter() if json else PlainFormatter())
    root = logging.getLogger()
    for existing in list(root.handlers):
        if existing.name == HANDLER_NAME:
            root.removeHandler(existing)
    root.addHandler(handler)
    root.setLevel(level.upper())
    for name in WIRE_BODY_LOGGERS:
        wire = logging.getLogger(name)
        wire.setLevel(max(logging.INFO, wire.getEffectiveLevel()))
