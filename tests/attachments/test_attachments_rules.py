"""The pure parts: file-type table, magic bytes, host rules, address checks, document names."""

from __future__ import annotations

import ipaddress

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st

from fmgate.attachments.document_names import (
    MAX_NAME_CHARS,
    VALID_NAME,
    DocumentNamer,
    sanitize_document_name,
)
from fmgate.attachments.media_types import classify, has_document_signature, sniff_image_format
from fmgate.attachments.text_budget import format_attachment_text
from fmgate.attachments.url_policy import (
    HostPolicy,
    HostRule,
    URLRefused,
    check_addresses,
    is_public_address,
)
from tests.harness.attachment_files import GIF, JPEG, PDF_BYTES, PNG, WEBP


@pytest.mark.parametrize(
    ("name", "content_type", "kind", "image_format", "document_format"),
    [
        ("notes.txt", "text/plain", "text", None, "txt"),
        ("README.md", "application/octet-stream", "text", None, "md"),
        ("data.csv", "text/csv; charset=utf-8", "text", None, "csv"),
        ("main.rs", "text/x-rust", "text", None, None),
        ("query.sql", "", "text", None, None),
        ("Makefile", "application/octet-stream", "text", None, None),
        ("weird.ext", "text/x-something", "text", None, None),
        ("photo.JPG", "", "image", "jpeg", None),
        ("photo", "image/png", "image", "png", None),
        ("scan.heic", "image/heic", "image", None, None),
        ("vector.svg", "image/svg+xml", "image", None, None),
        ("paper.pdf", "application/pdf", "document", None, "pdf"),
        ("sheet.xlsx", "application/octet-stream", "document", None, "xlsx"),
        ("archive.zip", "application/zip", "other", None, None),
    ],
)
def test_classification_table(
    name: str, content_type: str, kind: str, image_format: str | None, document_format: str | None
) -> None:
    file_type = classify(name, content_type)
    assert (file_type.kind, file_type.image_format, file_type.document_format) == (
        kind,
        image_format,
        document_format,
    )


def test_image_formats_come_from_magic_bytes() -> None:
    assert [sniff_image_format(d) for d in (PNG, JPEG, GIF, WEBP)] == ["png", "jpeg", "gif", "webp"]
    assert sniff_image_format(b"RIFF\x00\x00\x00\x00WAVEfmt ") is None
    assert sniff_image_format(b"hello") is None


def test_document_signatures() -> None:
    assert has_document_signature("pdf", PDF_BYTES)
    assert not has_document_signature("pdf", b"<html>")
    assert has_document_signature("csv", b"anything goes for text formats")


@pytest.mark.parametrize(
    ("entry", "rule"),
    [
        ("pfst.cf2.poecdn.net", HostRule("pfst.cf2.poecdn.net")),
        ("Files.Example.COM:8443", HostRule("files.example.com", 8443)),
        ("127.0.0.1:5000", HostRule("127.0.0.1", 5000)),
        ("[::1]:8080", HostRule("::1", 8080)),
        ("[::1]", HostRule("::1")),
    ],
)
def test_host_rules_parse(entry: str, rule: HostRule) -> None:
    assert HostRule.parse(entry) == rule


@pytest.mark.parametrize("entry", ["", ":80", "host:http", "host:70000", "[::1]:x"])
def test_bad_host_rules_fail_fast(entry: str) -> None:
    with pytest.raises(ValueError, match="attachment host entry"):
        HostRule.parse(entry)


def test_policy_checks_scheme_userinfo_and_host() -> None:
    policy = HostPolicy(["cdn.example.com", "127.0.0.1:9000"])
    policy.check_url(httpx.URL("https://cdn.example.com/a.png?token=x"))
    policy.check_url(httpx.URL("http://CDN.example.com:8080/a.png"))
    policy.check_url(httpx.URL("http://127.0.0.1:9000/a.png"))
    for url in (
        "ftp://cdn.example.com/a",
        "https://u:p@cdn.example.com/a",
        "https://cdn.example.com.evil.net/a",
        "https://evil.net/cdn.example.com",
        "http://127.0.0.1/a.png",
        "http://127.0.0.1:9001/a.png",
    ):
        with pytest.raises(URLRefused):
            policy.check_url(httpx.URL(url))
    assert policy.trusts_address_of("127.0.0.1", 9000)
    assert not policy.trusts_address_of("cdn.example.com", 443)


@pytest.mark.parametrize(
    "address",
    [
        "127.0.0.1",
        "10.1.2.3",
        "172.16.0.1",
        "172.31.255.255",
        "192.168.1.1",
        "169.254.169.254",
        "100.100.100.200",
        "0.0.0.0",
        "224.0.0.1",
        "255.255.255.255",
        "::1",
        "::",
        "fd00:ec2::254",
        "fe80::1",
        "::ffff:127.0.0.1",  # IPv4-mapped loopback
        "::ffff:169.254.169.254",
        "64:ff9b::a9fe:a9fe",  # NAT64 form of 169.254.169.254
        "2002:a9fe:a9fe::1",  # 6to4 form of 169.254.169.254
    ],
)
def test_internal_addresses_are_not_public(address: str) -> None:
    assert not is_public_address(ipaddress.ip_address(address))


@pytest.mark.parametrize("address", ["93.184.216.34", "2606:4700::6810:84e5", "8.8.8.8"])
def test_public_addresses_are_public(address: str) -> None:
    assert is_public_address(ipaddress.ip_address(address))


def test_one_internal_answer_refuses_the_host() -> None:
    mixed = [ipaddress.ip_address("8.8.8.8"), ipaddress.ip_address("10.0.0.1")]
    with pytest.raises(URLRefused):
        check_addresses(mixed)
    with pytest.raises(URLRefused):
        check_addresses([])


def test_attachment_names_are_escaped_in_the_wrapper() -> None:
    assert format_attachment_text('a"><x.txt', "t") == (
        '<attachment name="a&quot;&gt;&lt;x.txt">\nt\n</attachment>'
    )


@pytest.mark.parametrize(
    ("file_name", "expected"),
    [
        ("report.pdf", "report"),
        ("Q3   report (final).v2.pdf", "Q3 report (final) v2"),
        ("résumé_2024.docx", "r sum 2024"),
        ("[draft] notes-1.md", "[draft] notes-1"),
        ("...", "document"),
        ("", "document"),
        ("dir/sub/file.txt", "file"),
        (".env", "env"),
    ],
)
def test_document_name_examples(file_name: str, expected: str) -> None:
    assert sanitize_document_name(file_name) == expected


@given(st.text(max_size=300))
def test_sanitized_names_are_always_valid(file_name: str) -> None:
    name = sanitize_document_name(file_name)
    assert VALID_NAME.fullmatch(name)
    assert 0 < len(name) <= MAX_NAME_CHARS
    assert sanitize_document_name(name) == name  # stable once clean


@given(st.lists(st.text(max_size=150), max_size=30))
def test_names_within_a_request_are_unique_and_valid(file_names: list[str]) -> None:
    namer = DocumentNamer()
    names = [namer.name(f) for f in file_names]
    assert len({n.lower() for n in names}) == len(names)
    for name in names:
        assert VALID_NAME.fullmatch(name)
        assert len(name) <= MAX_NAME_CHARS
