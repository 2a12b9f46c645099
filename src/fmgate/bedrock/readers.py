"""Typed readers for Bedrock's JSON answers.

aiobotocore returns untyped dicts. These helpers read one field and check its type, so the
translation code stays typed without ``Any`` and a missing or odd field is a clear
:class:`fmgate.core.errors.ModelStreamFailed` /
:class:`fmgate.core.errors.UpstreamUnavailable` instead of a ``KeyError`` deep inside a stream.
"""

from __future__ import annotations

from collections.abc import Mapping

from fmgate.core.errors import UpstreamUnavailable

#: A JSON object as Bedrock (through botocore) hands it to us.
Shape = Mapping[str, object]

EMPTY: Shape = {}


class UnexpectedShape(UpstreamUnavailable):
    """Bedrock answered with a body the gateway does not understand."""

    code = "unexpected_response"


def mapping(value: object) -> Shape:
    """``value`` as a JSON object, or an empty one when it is missing (``None``)."""
    if value is None:
        return EMPTY
    if isinstance(value, Mapping):
        return value
    raise UnexpectedShape(f"expected an object, got {type(value).__name__}")


def field(shape: Shape, name: str) -> Shape:
    """The object member ``name`` (empty when absent)."""
    return mapping(shape.get(name))


def text(shape: Shape, name: str, default: str | None = None) -> str:
    """The string member ``name``; ``default`` when absent (an error when no default)."""
    value = shape.get(name)
    if isinstance(value, str):
        return value
    if value is None and default is not None:
        return default
    raise UnexpectedShape(f"expected a string in {name!r}, got {type(value).__name__}")


def optional_text(shape: Shape, name: str) -> str | None:
    """The string member ``name``, or ``None`` when absent or null."""
    value = shape.get(name)
    if value is None or isinstance(value, str):
        return value
    raise UnexpectedShape(f"expected a string or null in {name!r}, got {type(value).__name__}")


def integer(shape: Shape, name: str, default: int = 0) -> int:
    """The integer member ``name`` (``default`` when absent)."""
    value = shape.get(name)
    if value is None:
        return default
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    raise UnexpectedShape(f"expected an integer in {name!r}, got {type(value).__name__}")


def items(shape: Shape, name: str) -> list[object]:
    """The array member ``name`` (empty when absent)."""
    value = shape.get(name)
    if value is None:
        return []
    if isinstance(value, list):
        return value
    raise UnexpectedShape(f"expected an array in {name!r}, got {type(value).__name__}")
