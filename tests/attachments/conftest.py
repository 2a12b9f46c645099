"""A fetcher allowed to reach exactly the test file server (``tests.harness.attachment_files``)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from fmgate.attachments.download import AttachmentFetcher
from fmgate.config.bot_config import AttachmentLimits
from tests.harness.attachment_files import FileServer

TEST_LIMITS = AttachmentLimits(download_timeout_seconds=2.0)


@pytest.fixture
async def fetcher(file_server: FileServer) -> AsyncIterator[AttachmentFetcher]:
    """A fetcher that allows exactly the test file server's host:port."""
    async with AttachmentFetcher(
        [file_server.host_port], TEST_LIMITS, connect_timeout=1.0, read_timeout=0.5
    ) as fetcher:
        yield fetcher
