"""Where and as whom the gateway calls AWS."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class AwsAccess:
    """Where and as whom the gateway calls AWS. All None: AWS itself, default credential chain."""

    endpoint_url: str | None = None
    access_key_id: str | None = None
    secret_access_key: str | None = None
    session_token: str | None = None
    s3_endpoint_url: str | None = None
    s3_access_key_id: str | None = None
    s3_secret_access_key: str | None = None
    #: Secrets Manager: its own endpoint and credentials (all None: AWS, default chain).
    secrets_endpoint_url: str | None = None
    secrets_access_key_id: str | None = None
    secrets_secret_access_key: str | None = None
