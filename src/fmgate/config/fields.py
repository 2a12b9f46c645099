"""Field types and rules shared by every part of the catalog's schema.

Secret references, name and region patterns, Bedrock model ids, the strict base model (unknown
fields are errors, values are frozen) and :class:`FieldConflict`, the error a rule across fields
raises to name the field to fix.
"""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

#: A reference to a secret, never the secret itself: ``env:NAME``, ``file:/path`` or
#: ``aws-secretsmanager:SECRET_ID#json_key`` (``#json_key`` optional: whole string secret).
SECRET_REF_PATTERN = r"^(env:[A-Za-z_][A-Za-z0-9_]*|file:.+|aws-secretsmanager:[^#]+(#.+)?)$"  # noqa: S105 (a pattern, not a secret)
SecretRef = Annotated[str, Field(pattern=SECRET_REF_PATTERN)]

BOT_NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$"
AWS_REGION_PATTERN = r"^[a-z]{2}(-gov)?-[a-z]+-\d$"

#: Bedrock model ids: ``provider.model-name-vN:M`` (optionally ``:context`` such as ``:18k``),
#: the same behind a cross-region inference-profile prefix (``us.``, ``eu.``, ``apac.``,
#: ``global.``, ...), or a Bedrock ARN (foundation model, inference profile, provisioned model...).
MODEL_ID_PATTERN = re.compile(
    r"(?:(?:us|us-gov|eu|apac|jp|au|ca|global)\.)?[a-z0-9-]+\.[a-z0-9][a-z0-9._-]*(?::[a-z0-9]+){0,2}"
    r"|arn:aws(?:-[a-z]+)*:bedrock:[a-z0-9-]+:\d{0,12}:[a-z-]+/[A-Za-z0-9._:/-]+"
)


def check_model_id(model_id: str) -> str:
    """Reject strings that cannot be a Bedrock model id (syntax only: no AWS call)."""
    if MODEL_ID_PATTERN.fullmatch(model_id) is None:
        raise ValueError(
            "not a Bedrock model id: expected provider.model-vN:M (amazon.nova-pro-v1:0), "
            "an inference-profile id (us.anthropic.claude-sonnet-4-5-20250929-v1:0) or an ARN"
        )
    return model_id


BedrockModelId = Annotated[str, AfterValidator(check_model_id)]


class FieldConflict(ValueError):
    """A rule across fields failed; ``field`` names the field to fix (used in error reports)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


class StrictModel(BaseModel):
    """Every catalog model: unknown fields are errors, and a validated value never changes."""

    model_config = ConfigDict(extra="forbid", frozen=True)
