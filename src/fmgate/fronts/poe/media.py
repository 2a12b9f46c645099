"""Generated media -> something Poe can show: an upload to Poe's file API, or (development on
the embedded emulator, where there is no Poe) a local store the gateway serves itself."""

from __future__ import annotations

import secrets
from collections import OrderedDict
from dataclasses import dataclass
from typing import Protocol

import fastapi_poe as fp
import httpx
from fastapi_poe.client import AttachmentUploadError

from fmgate.errors import UpstreamUnavailable
from fmgate.events import Media


class MediaUploadFailed(UpstreamUnavailable):
    code = "media_upload_failed"
    default_message = "The result was generated but could not be delivered. Please try again."


@dataclass(frozen=True, slots=True)
class UploadedMedia:
    url: str
    content_type: str
    name: str
    inline_ref: str


class MediaUploader(Protocol):
    async def upload(self, media: Media) -> UploadedMedia: ...


@dataclass(frozen=True, slots=True)
class PoeMediaUploader:
    """Uploads media with the bot's access key to ``base_url`` (Poe, or a local fake in tests)."""

    base_url: str
    access_key: str

    async def upload(self, media: Media) -> UploadedMedia:
        try:
            attachment = await fp.upload_file(
                file=media.data,
                file_name=media.name,
                api_key=self.access_key,
                base_url=self.base_url,
                on_error=_quiet,
            )
        except (AttachmentUploadError, httpx.HTTPError, OSError) as exc:
            raise MediaUploadFailed(f"upload of {media.name} failed: {type(exc).__name__}") from exc
        return UploadedMedia(
            url=attachment.url,
            content_type=attachment.content_type or media.content_type,
            name=media.name,
            inline_ref=secrets.token_hex(4),
        )


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


def _quiet(exc: Exception, message: str) -> None:
    """fastapi_poe's default handler prints the exception; ours is logged once, by type."""
