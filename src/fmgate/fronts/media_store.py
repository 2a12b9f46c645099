"""Where a front puts generated media for the caller to fetch: the uploader protocol, and the
in-memory store the gateway serves at ``/media/`` in development (no Poe to upload to)."""

from __future__ import annotations

import secrets
from collections import OrderedDict
from dataclasses import dataclass
from typing import Protocol

from fmgate.core.events import Media


@dataclass(frozen=True, slots=True)
class UploadedMedia:
    url: str
    content_type: str
    name: str
    inline_ref: str


class MediaUploader(Protocol):
    async def upload(self, media: Media) -> UploadedMedia: ...


class LocalMediaStore:
    """Keeps the last ``capacity`` generated files in memory, served at ``<base_url><token>``.

    For development only (``fmgate serve`` on the embedded emulator): real Poe bots upload to
    Poe's file API instead.
    """

    def __init__(self, base_url: str, capacity: int = 64) -> None:
        self._base_url = base_url
        self._capacity = capacity
        self._files: OrderedDict[str, Media] = OrderedDict()

    async def upload(self, media: Media) -> UploadedMedia:
        token = secrets.token_urlsafe(16)
        self._files[token] = media
        while len(self._files) > self._capacity:
            self._files.popitem(last=False)
        return UploadedMedia(
            url=f"{self._base_url}{token}",
            content_type=media.content_type,
            name=media.name,
            inline_ref=secrets.token_hex(4),
        )

    def get(self, token: str) -> Media | None:
        return self._files.get(token)
