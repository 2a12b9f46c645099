"""Hostile and malformed Poe requests against the real app: a clear 4xx or a clear error event.

Attacks tried here (each a test below); SSRF through redirects and slow attachment servers are
tried on the downloader itself in ``tests/attachments/test_attachments_download.py``
(``test_redirect_to_another_host_is_refused``, ``test_redirect_to_the_metadata_service_is_refused``,
``test_redirect_loops_end``, ``test_userinfo_tricks_are_refused``,
``test_a_name_resolving_to_loopback_is_refused_without_host_port_entry``,
``test_trickling_server_hits_the_total_time_limit``); slow request bodies in
``test_slow_clients.py``.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable

import fastapi_poe as fp
import httpx
import orjson
import pytest

from fmgate.config.catalog import Catalog
from tests.harness.attachment_files import FileServer
from tests.harness.poe_client import TEST_POE_KEY, ask, query, raw_events
from tests.harness.poe_gateway import GatewaySession

AUTH = {"Authorization": f"Bearer {TEST_POE_KEY}"}
BOT = "/bot/nova-lite"


def query_body(*messages: dict[str, object], **fields: object) -> dict[str, object]:
    """A raw query body (plain JSON, so tests can break it in any way)."""
    body: dict[str, object] = {
        "version": "1.2",
        "type": "query",
        "query": list(messages),
        "user_id": "u-hostile",
        "conversation_id": "c-hostile",
        "message_id": "m-hostile",
    }
    body.update(fields)
    return body


def user(content: str, **fields: object) -> dict[str, object]:
    return {"role": "user", "content": content, **fields}


def assert_clear_refusal(response: httpx.Response, status: int) -> str:
    """The status we expect, a short JSON ``detail``, and nothing internal."""
    assert response.status_code == status, response.text[:300]
    detail = response.json()["detail"]
    assert isinstance(detail, str)
    assert len(detail) < 300
    for internal in ("Traceback", "Error:", "pydantic", "orjson", 'File "'):
        assert internal not in response.text
    return detail


async def post(
    poe: httpx.AsyncClient, content: bytes, headers: dict[str, str] = AUTH
) -> httpx.Response:
    return await poe.post(
        BOT, content=content, headers={"Content-Type": "application/json", **headers}
    )


# -- invalid bodies ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"{not json",
        b"[]",
        b"null",
        b'"query"',
        b"42",
        b"NaN",
        b'{"type": 5}',
        b'{"type": ["query"]}',
        b'{"type": "query", "query": [{"content": 1e999}]}',
        b'{"type": "query", "query": [{"role": "user", "content": "\\ud800"}]}',  # lone surrogate
    ],
)
async def test_invalid_json_is_400(poe: httpx.AsyncClient, body: bytes) -> None:
    assert_clear_refusal(await post(poe, body), 400)


@pytest.mark.parametrize(
    "body",
    [
        b'{"version": "1.2", "type": "query", "query": [{"role": "user", "content": "\xff\xfe"}]}',
        b'\xef\xbb\xbf{"type": "settings"}',  # a UTF-8 byte-order mark
        '{"type": "settings"}'.encode("utf-16"),
        b'{"type": "query", "query": [{"role": "user", "content": "\xed\xa0\x80"}]}',  # CESU
    ],
)
async def test_invalid_utf8_is_400(poe: httpx.AsyncClient, body: bytes) -> None:
    assert_clear_refusal(await post(poe, body), 400)


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"query": "hello"}, "query"),
        ({"query": [{"role": "admin", "content": "hi"}]}, "query.0.role"),
        ({"query": [{"role": "user", "content": 12}]}, "query.0.content"),
        ({"query": [{"role": "user", "content": None}]}, "query.0.content"),
        ({"query": [user("hi", attachments={"url": "x"})]}, "query.0.attachments"),
        ({"query": [user("hi", parameters=[1, 2])]}, "query.0.parameters"),
        ({"temperature": "hot"}, "temperature"),
        ({"user_id": {"$ne": ""}}, "user_id"),
        ({"stop_sequences": "STOP"}, "stop_sequences"),
        ({"version": 1.2}, "version"),
    ],
)
async def test_wrong_types_are_400_naming_the_field(
    poe: httpx.AsyncClient, change: dict[str, object], field: str
) -> None:
    body = {**query_body(user("hi")), **change}
    detail = assert_clear_refusal(await post(poe, orjson.dumps(body)), 400)
    assert field in detail


@pytest.mark.parametrize("kind", ["x", "QUERY", "query ", "admin", "__proto__", "é" * 1000])
async def test_unknown_request_types_are_501(poe: httpx.AsyncClient, kind: str) -> None:
    body = orjson.dumps({"version": "1.2", "type": kind})
    assert_clear_refusal(await post(poe, body), 501)


# -- size and shape ----------------------------------------------------------------------------


async def test_body_over_the_size_limit_is_413(poe: httpx.AsyncClient) -> None:
    body = orjson.dumps(query_body(user("x" * (5 * 1024 * 1024))))
    detail = assert_clear_refusal(await post(poe, body), 413)
    assert "too large" in detail


async def test_body_over_the_limit_without_content_length_is_413(poe: httpx.AsyncClient) -> None:
    async def chunks() -> AsyncIterator[bytes]:
        yield b'{"type": "query", "query": [{"role": "user", "content": "'
        for _ in range(80):
            yield b"x" * 65536  # 5 MiB in all, streamed (chunked, no Content-Length)
        yield b'"}]}'

    response = await poe.post(BOT, content=chunks(), headers=AUTH)
    assert "content-length" not in response.request.headers
    assert_clear_refusal(response, 413)


async def test_lying_content_length_is_refused_before_reading(poe: httpx.AsyncClient) -> None:
    response = await poe.post(BOT, content=b"{}", headers={**AUTH, "Content-Length": str(10**12)})
    assert response.status_code in (400, 413)


async def test_giant_message_is_413(
    gateway_session: GatewaySession, limited: Callable[..., Catalog]
) -> None:
    async with gateway_session(limited(max_message_chars=10_000)) as session:
        response = await post(session, orjson.dumps(query_body(user("y" * 10_001))))
        detail = assert_clear_refusal(response, 413)
        assert "10000 characters" in detail
        reply = await ask(session, "nova-lite", query(("user", "y" * 9_000)))
    assert reply.error is None


async def test_thousands_of_messages_are_413(poe: httpx.AsyncClient) -> None:
    messages = [user(f"message {i}") for i in range(5000)]
    detail = assert_clear_refusal(await post(poe, orjson.dumps(query_body(*messages))), 413)
    assert "Too many messages" in detail


async def test_a_long_conversation_within_the_limit_is_answered(poe: httpx.AsyncClient) -> None:
    roles = ("user", "bot")
    messages = [fp.ProtocolMessage(role=roles[i % 2], content=f"turn {i}") for i in range(1501)]
    reply = await ask(poe, "nova-lite", query(*messages))
    assert reply.error is None
    assert reply.text


@pytest.mark.parametrize("depth", [9, 50, 900])  # 900: under the JSON parser's own limit
async def test_deeply_nested_parameters_are_400(poe: httpx.AsyncClient, depth: int) -> None:
    nested = b'{"a":' * depth + b"1" + b"}" * depth
    body = b'{"type": "query", "version": "1.2", "user_id": "u", "conversation_id": "c", '
    body += b'"message_id": "m", "query": [{"role": "user", "content": "hi", "parameters": '
    body += b'{"temperature": ' + nested + b"}}]}"
    detail = assert_clear_refusal(await post(poe, body), 400)
    assert "nested too deeply" in detail


async def test_nesting_beyond_the_json_parser_limit_is_400(poe: httpx.AsyncClient) -> None:
    inner = b'{"a":' * 5000 + b"1" + b"}" * 5000
    body = b'{"type": "query", "query": [{"role": "user", "content": "hi", "parameters": ' + inner
    body += b"}]}"
    assert_clear_refusal(await post(poe, body), 400)


async def test_huge_attachment_list_is_413(poe: httpx.AsyncClient) -> None:
    attachment = {
        "url": "https://pfst.cf2.poecdn.net/a.txt",
        "content_type": "text/plain",
        "name": "a.txt",
    }
    body = query_body(user("read these", attachments=[attachment] * 1000))
    detail = assert_clear_refusal(await post(poe, orjson.dumps(body)), 413)
    assert "Too many attachments" in detail


async def test_many_attachments_within_the_limit_are_reported_not_fetched(
    poe: httpx.AsyncClient, file_server: FileServer
) -> None:
    files = [
        fp.Attachment(
            url=file_server.url(f"files/notes{i}.txt"), content_type="text/plain", name=f"n{i}.txt"
        )
        for i in range(60)
    ]
    message = fp.ProtocolMessage(role="user", content="Read them all", attachments=files)
    reply = await ask(poe, "nova-lite", query(message))
    assert reply.error is None
    assert reply.text.startswith("_")  # a notice about the files that were not used
    assert file_server.requests == []  # the test server's host is not an allowed host


# -- SSRF through attachment URLs --------------------------------------------------------------

SSRF_URLS = [
    "http://169.254.169.254/latest/meta-data/iam/security-credentials/",
    "http://[fd00:ec2::254]/latest/meta-data/",
    "http://metadata.google.internal/computeMetadata/v1/",
    "http://127.0.0.1:22/",
    "http://localhost/admin",
    "http://[::1]/",
    "http://0.0.0.0/",
    "http://10.0.0.1/",
    "http://192.168.1.1/",
    "http://2130706433/",  # 127.0.0.1 as one decimal number
    "http://0x7f.1/",
    "http://pfst.cf2.poecdn.net@127.0.0.1/",  # userinfo trick
    "http://127.0.0.1#@pfst.cf2.poecdn.net/",
    "file:///etc/passwd",
    "gopher://127.0.0.1:6379/_INFO",
    "ftp://pfst.cf2.poecdn.net/x",
    "https://evil.example.com/x.txt",
    "https://pfst.cf2.poecdn.net.evil.example.com/x.txt",
]


@pytest.mark.parametrize("url", SSRF_URLS)
async def test_attachment_urls_to_internal_or_other_hosts_are_never_fetched(
    poe: httpx.AsyncClient, url: str
) -> None:
    message = fp.ProtocolMessage(
        role="user",
        content="Summarise this file",
        attachments=[fp.Attachment(url=url, content_type="text/plain", name="secret.txt")],
    )
    reply = await ask(poe, "nova-lite", query(message))
    assert reply.error is None
    notice = next(p.text for p in reply.partials if p.text)
    assert notice.startswith("_")
    assert "secret.txt" in notice


async def test_attachment_to_a_live_loopback_server_is_not_fetched(
    poe: httpx.AsyncClient, file_server: FileServer
) -> None:
    """A real server listens on loopback: the gateway must not reach it unless allow-listed."""
    message = fp.ProtocolMessage(
        role="user",
        content="Read",
        attachments=[
            fp.Attachment(
                url=file_server.url("files/notes.txt"), content_type="text/plain", name="notes.txt"
            )
        ],
    )
    reply = await ask(poe, "nova-lite", query(message))
    assert reply.error is None
    assert file_server.requests == []


# -- unusable but well-formed queries ----------------------------------------------------------


@pytest.mark.parametrize(
    "messages",
    [
        [],
        [{"role": "bot", "content": "I am a bot"}],
        [{"role": "system", "content": "only a system message"}],
        [user("   \n\t  ")],
        [{"role": "tool", "content": "tool output"}],
    ],
)
async def test_queries_with_nothing_to_answer_get_a_clear_error_event(
    poe: httpx.AsyncClient, messages: list[dict[str, object]]
) -> None:
    events = await raw_events(poe, "nova-lite", query_body(*messages))
    assert events[0][0] == "meta"
    assert events[-1][0] == "done"
    errors = [data for name, data in events if name == "error"]
    texts = [data for name, data in events if name == "text"]
    assert errors or texts
    for error in errors:
        assert error["allow_retry"] is False
        assert "Traceback" not in json.dumps(error)
