"""AttachmentFetcher against a real loopback file server: caps, timeouts, redirects, SSRF."""

from __future__ import annotations

import asyncio

import pytest

from fmgate.attachments.download import AttachmentFetcher, AttachmentTooLarge
from fmgate.config.bot_config import AttachmentLimits
from fmgate.core.errors import AttachmentRejected
from tests.harness.attachment_files import HUGE_BYTES, NOTES_TXT, PNG, FileServer
from tests.harness.servers import free_port

MB = 1024 * 1024


async def test_downloads_an_allowed_file(
    fetcher: AttachmentFetcher, file_server: FileServer
) -> None:
    downloaded = await fetcher.fetch(file_server.url("files/notes.txt"), max_bytes=MB)
    assert downloaded.data == NOTES_TXT.encode()
    assert downloaded.content_type == "text/plain"


async def test_binary_file_arrives_intact(
    fetcher: AttachmentFetcher, file_server: FileServer
) -> None:
    downloaded = await fetcher.fetch(file_server.url("files/photo.png"), max_bytes=MB)
    assert downloaded.data == PNG
    assert downloaded.content_type == "image/png"


async def test_pooled_client_serves_many_downloads(
    fetcher: AttachmentFetcher, file_server: FileServer
) -> None:
    for _ in range(5):
        await fetcher.fetch(file_server.url("files/data.csv"), max_bytes=MB)
    assert len(file_server.requests) == 5


async def test_streamed_body_over_the_cap_stops_early(
    fetcher: AttachmentFetcher, file_server: FileServer
) -> None:
    with pytest.raises(AttachmentTooLarge) as caught:
        await fetcher.fetch(file_server.url("huge"), max_bytes=256 * 1024, name="big.log")
    assert caught.value.user_message == '"big.log" is too large: the limit is 256 KB.'
    # The server noticed the closed connection long before it sent everything.
    await _wait_for_handler(file_server, "huge")
    assert file_server.sent["huge"] < HUGE_BYTES // 4


async def test_declared_length_over_the_cap_is_refused_before_reading(
    fetcher: AttachmentFetcher, file_server: FileServer
) -> None:
    with pytest.raises(AttachmentTooLarge):
        await fetcher.fetch(file_server.url("declared-huge"), max_bytes=MB)
    await _wait_for_handler(file_server, "declared")
    assert file_server.sent["declared"] < HUGE_BYTES // 4


async def test_stalled_server_hits_the_read_timeout(
    fetcher: AttachmentFetcher, file_server: FileServer
) -> None:
    with pytest.raises(AttachmentRejected) as caught:
        await fetcher.fetch(file_server.url("slow"), max_bytes=MB, name="slow.txt")
    assert (
        caught.value.user_message
        == '"slow.txt" could not be downloaded: the download took too long.'
    )
    assert caught.value.detail.endswith("ReadTimeout")


async def test_trickling_server_hits_the_total_time_limit(
    fetcher: AttachmentFetcher, file_server: FileServer
) -> None:
    with pytest.raises(AttachmentRejected) as caught:
        await fetcher.fetch(file_server.url("drip"), max_bytes=MB, time_limit=0.3)
    assert "took too long" in caught.value.user_message


async def test_http_error_status_is_reported_without_the_signed_query(
    fetcher: AttachmentFetcher, file_server: FileServer
) -> None:
    url = file_server.url("signed/secret-report.pdf?token=SIGNED-abc123&expires=99")
    with pytest.raises(AttachmentRejected) as caught:
        await fetcher.fetch(url, max_bytes=MB)
    message = caught.value.user_message
    assert (
        message
        == '"secret-report.pdf" could not be downloaded: its server answered with HTTP status 403.'
    )
    assert "SIGNED" not in message + caught.value.detail
    assert "SIGNED" not in str(caught.value)


async def test_compressed_answers_are_refused(
    fetcher: AttachmentFetcher, file_server: FileServer
) -> None:
    with pytest.raises(AttachmentRejected, match="content-encoding"):
        await fetcher.fetch(file_server.url("gzip"), max_bytes=MB)


async def test_redirect_to_an_allowed_path_is_followed(
    fetcher: AttachmentFetcher, file_server: FileServer
) -> None:
    url = file_server.url("redirect?to=/files/notes.txt")
    downloaded = await fetcher.fetch(url, max_bytes=MB)
    assert downloaded.data == NOTES_TXT.encode()


async def test_redirect_to_another_host_is_refused(
    fetcher: AttachmentFetcher, file_server: FileServer
) -> None:
    url = file_server.url("redirect?to=http://evil.example/steal")
    with pytest.raises(AttachmentRejected) as caught:
        await fetcher.fetch(url, max_bytes=MB, name="a.txt")
    assert caught.value.user_message == (
        '"a.txt" could not be downloaded: it is not hosted on an allowed attachment server.'
    )


async def test_redirect_to_the_metadata_service_is_refused(
    fetcher: AttachmentFetcher, file_server: FileServer
) -> None:
    url = file_server.url("redirect?to=http://169.254.169.254/latest/meta-data/")
    with pytest.raises(AttachmentRejected, match="refused by policy"):
        await fetcher.fetch(url, max_bytes=MB)


async def test_redirect_loops_end(fetcher: AttachmentFetcher, file_server: FileServer) -> None:
    with pytest.raises(AttachmentRejected) as caught:
        await fetcher.fetch(file_server.url("loop"), max_bytes=MB)
    assert "redirected too many times" in caught.value.user_message


@pytest.mark.parametrize(
    "url",
    [
        "file:///etc/passwd",
        "ftp://127.0.0.1/notes.txt",
        "gopher://127.0.0.1:70/",
        "http://evil.example/notes.txt",
        "http://2130706433/notes.txt",  # 127.0.0.1 as a decimal number
        "http://[::1]/notes.txt",
        "http://0.0.0.0/notes.txt",
        "not a url at all",
    ],
)
async def test_urls_outside_the_policy_are_refused(fetcher: AttachmentFetcher, url: str) -> None:
    with pytest.raises(AttachmentRejected, match=r"refused by policy|invalid URL"):
        await fetcher.fetch(url, max_bytes=MB)


async def test_userinfo_tricks_are_refused(
    fetcher: AttachmentFetcher, file_server: FileServer
) -> None:
    tricks = [
        f"http://{file_server.host_port}@evil.example/notes.txt",
        f"http://user:pass@{file_server.host_port}/files/notes.txt",
    ]
    for url in tricks:
        with pytest.raises(AttachmentRejected) as caught:
            await fetcher.fetch(url, max_bytes=MB, name="notes.txt")
        assert "user names or passwords" in caught.value.user_message
    assert file_server.requests == []


async def test_a_name_resolving_to_loopback_is_refused_without_host_port_entry(
    file_server: FileServer,
) -> None:
    async with AttachmentFetcher(["localhost"]) as fetcher:
        with pytest.raises(AttachmentRejected) as caught:
            await fetcher.fetch(
                f"http://localhost:{file_server.port}/files/notes.txt", max_bytes=MB
            )
    assert "private or internal network address" in caught.value.user_message
    assert file_server.requests == []


async def test_a_bare_loopback_ip_entry_does_not_trust_the_address(file_server: FileServer) -> None:
    async with AttachmentFetcher(["127.0.0.1"]) as fetcher:
        with pytest.raises(AttachmentRejected, match="refused by policy"):
            await fetcher.fetch(file_server.url("files/notes.txt"), max_bytes=MB)
    assert file_server.requests == []


async def test_metadata_address_is_refused_even_when_allow_listed_by_name() -> None:
    async with AttachmentFetcher(["169.254.169.254", "fd00:ec2::254"]) as fetcher:
        for url in ("http://169.254.169.254/latest/", "http://[fd00:ec2::254]/latest/"):
            with pytest.raises(AttachmentRejected) as caught:
                await fetcher.fetch(url, max_bytes=MB)
            assert "private or internal" in caught.value.user_message


async def test_host_port_entry_allows_only_that_port(file_server: FileServer) -> None:
    async with AttachmentFetcher([f"127.0.0.1:{file_server.port + 1}"]) as fetcher:
        with pytest.raises(AttachmentRejected, match="refused by policy"):
            await fetcher.fetch(file_server.url("files/notes.txt"), max_bytes=MB)


async def test_localhost_host_port_entry_is_trusted(file_server: FileServer) -> None:
    async with AttachmentFetcher([f"localhost:{file_server.port}"]) as fetcher:
        url = f"http://localhost:{file_server.port}/files/notes.txt"
        downloaded = await fetcher.fetch(url, max_bytes=MB)
    assert downloaded.data == NOTES_TXT.encode()


async def test_default_time_limit_comes_from_the_limits(file_server: FileServer) -> None:
    limits = AttachmentLimits(download_timeout_seconds=0.3)
    async with AttachmentFetcher([file_server.host_port], limits, read_timeout=5.0) as fetcher:
        with pytest.raises(AttachmentRejected, match="total timeout"):
            await fetcher.fetch(file_server.url("drip"), max_bytes=MB)


async def test_closed_port_is_reported_as_unreachable() -> None:
    port = free_port()
    async with AttachmentFetcher([f"127.0.0.1:{port}"]) as fetcher:
        with pytest.raises(AttachmentRejected) as caught:
            await fetcher.fetch(f"http://127.0.0.1:{port}/a.txt", max_bytes=MB)
    assert caught.value.user_message == (
        '"a.txt" could not be downloaded: its server could not be reached.'
    )


async def _wait_for_handler(server: FileServer, name: str) -> None:
    """Let the server's handler notice the closed connection (bounded, no timing assertion)."""
    for _ in range(200):
        before = server.sent.get(name, 0)
        await asyncio.sleep(0.01)
        if server.sent.get(name, 0) == before:
            return
