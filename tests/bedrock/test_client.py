"""BedrockClients: pooled clients per region, closing, and transport failures on loopback."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import boto3
import pytest

from fmgate.bedrock.client import BedrockClients
from fmgate.bedrock.converse import converse
from fmgate.bedrock.video import fetch_video
from fmgate.core.errors import UpstreamTimeout, UpstreamUnavailable
from fmgate.core.model_request import ChatMessage, ChatRequest, TextBlock
from tests.harness.credentials import TEST_ACCESS_KEY_ID, TEST_SECRET_ACCESS_KEY
from tests.harness.servers import free_port

HELLO = ChatRequest(
    model_id="amazon.nova-lite-v1:0", messages=(ChatMessage("user", (TextBlock("hi"),)),)
)


def clients(endpoint_url: str, *, read_timeout: float = 5.0) -> BedrockClients:
    return BedrockClients(
        endpoint_url=endpoint_url,
        access_key_id=TEST_ACCESS_KEY_ID,
        secret_access_key=TEST_SECRET_ACCESS_KEY,
        connect_timeout=2.0,
        read_timeout=read_timeout,
    )


async def test_one_client_per_region_even_for_concurrent_first_calls() -> None:
    pool = clients("http://127.0.0.1:9")
    try:
        first = await asyncio.gather(*(pool.get("us-east-1") for _ in range(10)))
        other = await pool.get("eu-west-1")
        assert all(c is first[0] for c in first)
        assert other is not first[0]
        assert await pool.s3("us-east-1") is await pool.s3("us-east-1")
    finally:
        await pool.aclose()

    with pytest.raises(RuntimeError):
        await pool.get("us-west-2")


async def test_refused_connection_is_upstream_unavailable() -> None:
    pool = clients(f"http://127.0.0.1:{free_port()}")
    try:
        with pytest.raises(UpstreamUnavailable):
            await converse(await pool.get("us-east-1"), HELLO)
    finally:
        await pool.aclose()


@pytest.fixture
async def silent_server() -> AsyncIterator[str]:
    """A loopback server that accepts connections and never answers."""
    held: list[asyncio.StreamWriter] = []

    async def hold(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        held.append(writer)

    server = await asyncio.start_server(hold, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        for writer in held:
            writer.close()
        server.close()
        await server.wait_closed()


async def test_no_answer_within_the_read_timeout_is_upstream_timeout(silent_server: str) -> None:
    pool = clients(silent_server, read_timeout=0.3)
    try:
        with pytest.raises(UpstreamTimeout):
            await converse(await pool.get("us-east-1"), HELLO)
    finally:
        await pool.aclose()


async def test_s3_client_reads_video_results_from_its_own_endpoint(moto_url: str) -> None:
    s3 = boto3.client(
        "s3",
        endpoint_url=moto_url,
        region_name="us-east-1",
        aws_access_key_id="moto",
        aws_secret_access_key="moto",
    )
    s3.create_bucket(Bucket="fmgate-client-test")
    s3.put_object(Bucket="fmgate-client-test", Key="jobs/abc/output.mp4", Body=b"\x00mp4 bytes")
    pool = BedrockClients(
        endpoint_url="http://127.0.0.1:9",
        s3_endpoint_url=moto_url,
        s3_access_key_id="moto",
        s3_secret_access_key="moto",
    )
    try:
        data = await fetch_video(await pool.s3("us-east-1"), "s3://fmgate-client-test/jobs/abc")
    finally:
        await pool.aclose()

    assert data == b"\x00mp4 bytes"
