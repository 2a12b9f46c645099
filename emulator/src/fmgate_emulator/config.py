"""The emulator's configuration: credentials it accepts, pacing profile, video and S3 settings."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

DEFAULT_ACCESS_KEY_ID = "AKIDEMULATOR"
DEFAULT_SECRET_ACCESS_KEY = "emulator-secret"  # noqa: S105 - a documented local-only default

Profile = Literal["fast", "realistic"]


@dataclass(frozen=True, slots=True)
class Timing:
    """How fast answers come: time to first token and token rate (``None`` = unlimited), and how
    fast the model reads the prompt's uncached input tokens (``None`` = instantly), which adds
    to the time to first token."""

    ttft_ms: float = 0.0
    tokens_per_second: float | None = None
    uncached_tokens_per_second: float | None = None


#: Timing of each named profile: "fast" for tests, "realistic" for benchmarks and demos.
PROFILE_TIMINGS: dict[str, Timing] = {
    "fast": Timing(ttft_ms=0.0, tokens_per_second=None),
    "realistic": Timing(ttft_ms=300.0, tokens_per_second=60.0, uncached_tokens_per_second=5000.0),
}


@dataclass(frozen=True, slots=True)
class EmulatorConfig:
    """Everything an :class:`~fmgate_emulator.Emulator` needs; every field has a safe default."""

    #: The AWS access key id SigV4-signed requests must use.
    access_key_id: str = DEFAULT_ACCESS_KEY_ID
    #: The secret SigV4 signatures are verified with (never logged or echoed).
    secret_access_key: str = DEFAULT_SECRET_ACCESS_KEY
    #: Bedrock API key accepted as ``Authorization: Bearer <token>`` (``None``: refuse bearer).
    bearer_token: str | None = None
    #: Pacing profile: "fast" (no delays) or "realistic" (~300 ms TTFT plus 1 s per 5,000
    #: uncached input tokens, ~60 tokens/s).
    profile: Profile = "fast"
    #: Explicit time to first token in milliseconds (overrides the profile).
    ttft_ms: float | None = None
    #: Explicit token rate (overrides the profile); 0 or less means unlimited.
    tokens_per_second: float | None = None
    #: How long an async (video) invocation stays InProgress before it completes.
    video_delay_seconds: float = 0.5
    #: S3 endpoint video results are written to (``None``: AWS's default endpoint).
    s3_endpoint_url: str | None = None
    #: Credentials for that S3 endpoint (``None``: the default AWS credential chain).
    s3_access_key_id: str | None = None
    s3_secret_access_key: str | None = None
    #: Region used in ARNs the emulator makes up (async invocation ARNs).
    region: str = "us-east-1"

    def timing(self) -> Timing:
        """The configured timing: the profile's, with explicit overrides applied."""
        base = PROFILE_TIMINGS[self.profile]
        ttft = base.ttft_ms if self.ttft_ms is None else self.ttft_ms
        rate = base.tokens_per_second if self.tokens_per_second is None else self.tokens_per_second
        return Timing(
            ttft_ms=ttft,
            tokens_per_second=rate if rate and rate > 0 else None,
            uncached_tokens_per_second=base.uncached_tokens_per_second,
        )
