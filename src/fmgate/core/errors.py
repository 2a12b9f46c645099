"""The gateway's error tree.

Every failure a user can see is one of these. Foreign errors (botocore ``ClientError`` codes,
httpx errors, pydantic validation) are translated exactly once, where they enter the gateway
(``fmgate.bedrock.errors``, ``fmgate.attachments.content``, ...), with ``raise ... from``.

    GatewayError                      status  retryable  who must act
    ├── UpstreamError                                    (Bedrock had a problem)
    │   ├── Throttled                   429     yes       wait
    │   ├── ModelNotReady               429     yes       wait
    │   ├── UpstreamTimeout             504     yes       wait
    │   ├── UpstreamUnavailable         503     yes       wait (5xx, connection trouble)
    │   │   └── ServiceUnavailable      503     yes       wait (Bedrock: no capacity now)
    │   ├── ModelBusy                   503     yes       wait (our own queue for it is full)
    │   └── ModelStreamFailed           502     yes       wait (model failed mid-answer)
    ├── RequestRejected                                  (the user can change the request)
    │   ├── InvalidRequest              400     no        user
    │   ├── ContextTooLong              400     no        user (shorter conversation)
    │   ├── ContentFiltered             400     no        user (other wording)
    │   └── AttachmentRejected          400     no        user (other file)
    ├── OperatorError                                    (the gateway's operator must fix it)
    │   ├── AccessDenied                403     no        operator (credentials / model access)
    │   ├── ModelNotFound               404     no        operator (model id / region)
    │   └── BotMisconfigured            500     no        operator
    ├── InsufficientFunds               402     no        user (credits or points)
    ├── Unauthorized                    401     no        caller (access key)
    └── ServerRestarting                503     yes       wait (the gateway is shutting down)

``capacity_refusal`` marks what Bedrock says when it has no room for another call (throttled,
model not ready, service unavailable): the adaptive concurrency limit learns from those only.

``user_message`` is safe to show to an end user: it never contains upstream text, ids, ARNs,
account numbers or secrets. ``detail`` is for operators' logs only (still secret-free: it is
built from error codes and our own words, never from credentials).
"""

from __future__ import annotations

from typing import ClassVar


class GatewayError(Exception):
    """Base of every error the gateway reports to a caller."""

    status: ClassVar[int] = 500
    retryable: ClassVar[bool] = False
    default_message: ClassVar[str] = "The bot ran into an unexpected problem. Please try again."
    #: Short stable name used in metrics labels and the usage ledger.
    code: ClassVar[str] = "internal"
    #: Retrying helps even after part of the answer reached the caller: the model did not fail,
    #: the gateway stopped (a retry starts the answer afresh, elsewhere).
    retry_after_partial_answer: ClassVar[bool] = False
    #: Bedrock refused the call for want of capacity: the concurrency limit learns from it.
    capacity_refusal: ClassVar[bool] = False

    def __init__(self, detail: str = "", *, user_message: str | None = None) -> None:
        super().__init__(detail or self.default_message)
        self.detail = detail
        self.user_message = user_message or self.default_message


class UpstreamError(GatewayError):
    """Bedrock (or the network to it) failed; trying again later may work."""

    status = 502
    retryable = True
    code = "upstream"
    default_message = "The model service had a temporary problem. Please try again."


class Throttled(UpstreamError):
    status = 429
    code = "throttled"
    capacity_refusal = True
    default_message = "The model is in high demand right now. Please try again in a moment."


class ModelNotReady(UpstreamError):
    status = 429
    code = "model_not_ready"
    capacity_refusal = True
    default_message = "The model is starting up. Please try again in a moment."


class UpstreamTimeout(UpstreamError):
    status = 504
    code = "timeout"
    default_message = "The model took too long to answer. Please try again."


class UpstreamUnavailable(UpstreamError):
    status = 503
    code = "unavailable"
    default_message = "The model service is temporarily unavailable. Please try again."


class ServiceUnavailable(UpstreamUnavailable):
    """Bedrock's own ``ServiceUnavailableException``: it has no capacity for the call right now
    (unlike a 5xx or a dropped connection, which say nothing about capacity)."""

    capacity_refusal = True


class ModelBusy(UpstreamError):
    """The gateway's own concurrency limit for the model had no free slot in time."""

    status = 503
    code = "busy"
    default_message = "The model is busy right now. Please try again in a moment."


class ModelStreamFailed(UpstreamError):
    status = 502
    code = "stream_failed"
    default_message = "The model stopped answering part-way. Please try again."


class RequestRejected(GatewayError):
    """The request cannot succeed as sent; the user can change it."""

    status = 400
    code = "rejected"
    default_message = "The model could not process this request."


class InvalidRequest(RequestRejected):
    code = "invalid_request"


class ContextTooLong(RequestRejected):
    code = "context_too_long"
    default_message = (
        "This conversation is too long for the model. Start a new chat or send a shorter message."
    )


class ContentFiltered(RequestRejected):
    code = "content_filtered"
    default_message = (
        "The model's content filters blocked this request. Please rephrase and try again."
    )


class AttachmentRejected(RequestRejected):
    code = "attachment_rejected"
    default_message = "An attachment could not be used."


class OperatorError(GatewayError):
    """Misconfiguration on the gateway's side; retrying does not help and users cannot fix it."""

    status = 500
    code = "operator"
    default_message = "This bot is not configured correctly. The bot's operator has been notified."


class AccessDenied(OperatorError):
    status = 403
    code = "access_denied"


class ModelNotFound(OperatorError):
    status = 404
    code = "model_not_found"


class BotMisconfigured(OperatorError):
    code = "bot_misconfigured"


class InsufficientFunds(GatewayError):
    status = 402
    code = "insufficient_funds"
    default_message = "You do not have enough points for this request."


class Unauthorized(GatewayError):
    status = 401
    code = "unauthorized"
    default_message = "Invalid access key"


class ServerRestarting(GatewayError):
    """The gateway is shutting down (a deploy, a restart) and cut a request still running.

    Another instance (or this one, restarted) can answer it: retrying is right even after part
    of the answer went out.
    """

    status = 503
    retryable = True
    retry_after_partial_answer = True
    code = "shutdown"
    default_message = "The bot is restarting; please try again."
