"""Authentication of Bedrock Runtime calls: SigV4 (signing name ``bedrock``) or a bearer API key.

The signature is recomputed with botocore's own :class:`~botocore.auth.SigV4Auth` from what
arrived on the wire: the raw, still percent-encoded path and query, the headers the client says it
signed, and the body. A request signed more than five minutes away from the emulator's clock is
refused, as AWS does.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from fmgate_emulator.errors import BedrockError

SIGNING_NAME = "bedrock"
MAX_CLOCK_SKEW = timedelta(minutes=5)
_AMZ_DATE_FORMAT = "%Y%m%dT%H%M%SZ"
_AUTHORIZATION = re.compile(
    r"AWS4-HMAC-SHA256\s+Credential=(?P<key>[^/]+)/(?P<date>\d{8})/(?P<region>[^/]+)/"
    r"(?P<service>[^/]+)/aws4_request,\s*SignedHeaders=(?P<signed>[^,]+),\s*"
    r"Signature=(?P<signature>[0-9a-f]{64})$"
)

MISSING_TOKEN = "Missing Authentication Token"  # noqa: S105 - an error message
UNKNOWN_KEY = "The security token included in the request is invalid."
BAD_SIGNATURE = (
    "The request signature we calculated does not match the signature you provided. "
    "Check your AWS Secret Access Key and signing method. Consult the service documentation "
    "for details."
)
BAD_BEARER = "Authentication failed: Please make sure your API Key is valid."


@dataclass(frozen=True, slots=True)
class Credentials4:
    """What the emulator accepts: one access key pair and optionally one bearer token."""

    access_key_id: str
    secret_access_key: str
    bearer_token: str | None = None


@dataclass(frozen=True, slots=True)
class Principal:
    """Who called, as far as per-caller state (the prompt cache) cares: the access key id (or
    a digest of the bearer key) and the region of the credential scope."""

    key: str
    region: str


@dataclass(frozen=True, slots=True)
class SignedRequest:
    """The parts of an HTTP request that a SigV4 signature covers, exactly as received."""

    method: str
    host_url: str  # scheme://host[:port]
    raw_path: str  # percent-encoded path plus ``?query``
    headers: Mapping[str, str]
    body: bytes


def verify(
    request: SignedRequest,
    accepted: Credentials4,
    now: datetime | None = None,
    default_region: str = "us-east-1",
) -> Principal:
    """The caller if ``request`` is authenticated, else raise the 403 error AWS would answer
    (a bearer key carries no region: ``default_region``)."""
    headers = {name.lower(): value for name, value in request.headers.items()}
    authorization = headers.get("authorization")
    if not authorization:
        raise BedrockError("AccessDeniedException", MISSING_TOKEN)
    if authorization.startswith("Bearer "):
        token = authorization.removeprefix("Bearer ").strip()
        verify_bearer(token, accepted)
        digest = hashlib.sha256(token.encode()).hexdigest()[:16]
        return Principal(f"bearer:{digest}", default_region)
    match = _AUTHORIZATION.match(authorization.strip())
    if match is None:
        raise BedrockError("AccessDeniedException", BAD_SIGNATURE)
    if not hmac.compare_digest(match["key"], accepted.access_key_id):
        raise BedrockError("UnrecognizedClientException", UNKNOWN_KEY)
    if match["service"] != SIGNING_NAME:
        raise BedrockError(
            "AccessDeniedException",
            f"Credential should be scoped to correct service: '{SIGNING_NAME}'.",
        )
    amz_date = headers.get("x-amz-date", "")
    check_clock_skew(amz_date, now or datetime.now(UTC))
    signed = {name: headers.get(name, "") for name in match["signed"].split(";")}
    expected = expected_signature(request, signed, amz_date, match["region"], accepted)
    if not hmac.compare_digest(expected, match["signature"]):
        raise BedrockError("AccessDeniedException", BAD_SIGNATURE)
    return Principal(match["key"], match["region"])


def verify_bearer(token: str, accepted: Credentials4) -> None:
    """Accept a bearer API key only when one is configured and it matches."""
    if accepted.bearer_token is None or not hmac.compare_digest(
        token.encode(), accepted.bearer_token.encode()
    ):
        raise BedrockError("AccessDeniedException", BAD_BEARER)


def check_clock_skew(amz_date: str, now: datetime) -> None:
    """Refuse a missing/unparsable ``X-Amz-Date`` or one more than five minutes from ``now``."""
    try:
        signed_at = datetime.strptime(amz_date, _AMZ_DATE_FORMAT).replace(tzinfo=UTC)
    except ValueError:
        raise BedrockError("AccessDeniedException", BAD_SIGNATURE) from None
    if abs(now - signed_at) > MAX_CLOCK_SKEW:
        earliest = (now - MAX_CLOCK_SKEW).strftime(_AMZ_DATE_FORMAT)
        raise BedrockError(
            "InvalidSignatureException",
            f"Signature expired: {amz_date} is now earlier than {earliest} "
            f"({now.strftime(_AMZ_DATE_FORMAT)} - 5 min.)",
        )


def expected_signature(
    request: SignedRequest,
    signed_headers: Mapping[str, str],
    amz_date: str,
    region: str,
    accepted: Credentials4,
) -> str:
    """The signature botocore computes for this request with the accepted secret."""
    aws_request = AWSRequest(
        method=request.method,
        url=request.host_url + request.raw_path,
        headers=dict(signed_headers),
        data=request.body,
    )
    aws_request.context["timestamp"] = amz_date
    signer = SigV4Auth(
        Credentials(accepted.access_key_id, accepted.secret_access_key), SIGNING_NAME, region
    )
    canonical = signer.canonical_request(aws_request)
    return str(signer.signature(signer.string_to_sign(aws_request, canonical), aws_request))
