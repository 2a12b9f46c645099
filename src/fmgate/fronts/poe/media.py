"""Generated media -> something Poe can show: an upload to Poe's file API (development on the
embedded emulator uses :class:`fmgate.fronts.media_store.LocalMediaStore` instead)."""

from __future__ import annotations

import secrets
from dataclasses import dataclass

import fastapi_poe as fp
import httpx
from fastapi_poe.client import AttachmentUploadError

from fmgate.core.errors import UpstreamUnavailable
from fmgate.core.events import Media
from fmgate.fronts.media_store import UploadedMedia


class MediaUploadFailed(UpstreamUnavailable):
    code = "media_upload_failed"
    default_message = "The result was generated but could not be delivered. Please try again."


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


def _quiet(exc: Exception, message: str) -> None:
    """fastapi_poe's default handler prints the exception; ours is logged once, by type."""
