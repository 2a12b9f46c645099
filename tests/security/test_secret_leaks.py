"""No configured secret appears in anything the gateway emits.

One run with secrets from every source (AWS secret key, a Poe key from the environment, one
from a file, one from a real moto Secrets Manager JSON secret, plus a sibling value of that
JSON secret that the gateway never asked for), then a representative set of requests:
successes, every kind of upstream error, auth failures, malformed bodies, attachments, an image,
the operational routes and the ``fmgate models`` / ``fmgate validate`` output. Everything
emitted is collected -- every log line at DEBUG through the gateway's own logging setup
(``configure_logging``), every response body and header, exception texts -- and searched for
each secret.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import traceback
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import boto3
import fastapi_poe as fp
import httpx
import pytest

from fmgate import cli
from fmgate.config.catalog import Catalog
from fmgate.config.errors import SecretError
from fmgate.config.loader import parse_catalog
from fmgate.observability.logging import WIRE_BODY_LOGGERS, configure_logging
from fmgate.server.app import build_app
from fmgate.server.gateway import Gateway, GatewayOptions
from fmgate_emulator import AsyncEmulatorClient, Emulator
from tests.fakes.poe_api import FakePoeApi
from tests.harness.attachment_files import FileServer
from tests.harness.credentials import TEST_SECRET_ACCESS_KEY
from tests.harness.emulator import aws_for
from tests.harness.poe_client import TEST_POE_KEY, query
from tests.harness.poe_gateway import CATALOG, pointed_at

SM_SECRET_ID = "fmgate/leak-test"
SM_POE_KEY = "sm-sourced-poe-key-7d41c0a9e2b8f365"
SM_SIBLING = "sm-sibling-value-never-requested-51be"
FILE_POE_KEY = "file-sourced-poe-key-c3a8e0f1d2b7"

EXTRA_BOTS = """
  - bot_name: sm-bot
    template: chat
    model_id: amazon.nova-lite-v1:0
    access_key: aws-secretsmanager:{sm_id}#poe_key
  - bot_name: file-bot
    template: chat
    model_id: amazon.nova-lite-v1:0
    access_key: file:{key_file}
"""

FAULTS = [
    "throttle",
    "server_error",
    "unavailable",
    "model_not_ready",
    "model_timeout",
    "access_denied",
    "validation",
    "mid_stream_exception",
]


class Emitted:
    """Everything the gateway wrote out during the test, as text."""

    def __init__(self) -> None:
        self.parts: list[str] = []

    def add(self, label: str, text: str) -> None:
        self.parts.append(f"--- {label}\n{text}")

    def response(self, label: str, response: httpx.Response) -> None:
        headers = "\n".join(f"{k}: {v}" for k, v in response.headers.items())
        self.add(label, f"{response.status_code}\n{headers}\n{response.text}")

    @property
    def text(self) -> str:
        return "\n".join(self.parts)


class RawRecords(logging.Handler):
    """Every record as logged, before any redaction (stricter than what is written out)."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        text = f"{record.name} {record.getMessage()}"
        if record.exc_info:
            text += "\n" + logging.Formatter().formatException(record.exc_info)
        self.lines.append(text)


@pytest.fixture
def debug_logging() -> Iterator[RawRecords]:
    """The gateway's real logging setup at DEBUG, alone on the root logger, plus a raw capture.

    pytest's own log handlers are set aside meanwhile, so the output is only the gateway's.
    """
    root = logging.getLogger()
    level, handlers = root.level, list(root.handlers)
    wire_levels = {name: logging.getLogger(name).level for name in WIRE_BODY_LOGGERS}
    for handler in handlers:
        root.removeHandler(handler)
    raw = RawRecords()
    root.addHandler(raw)  # first: it sees each record before the redaction filter rewrites it
    configure_logging(level="DEBUG")
    try:
        yield raw
    finally:
        for handler in list(root.handlers):
            root.removeHandler(handler)
        for handler in handlers:
            root.addHandler(handler)
        root.setLevel(level)
        for name, wire_level in wire_levels.items():
            logging.getLogger(name).setLevel(wire_level)


@pytest.fixture
def secrets_manager_secret(moto_url: str) -> Iterator[None]:
    client = boto3.client(
        "secretsmanager",
        endpoint_url=moto_url,
        region_name="us-east-1",
        aws_access_key_id="moto",
        aws_secret_access_key="moto",
    )
    document = json.dumps({"poe_key": SM_POE_KEY, "unrelated": SM_SIBLING})
    client.create_secret(Name=SM_SECRET_ID, SecretString=document)
    yield
    client.delete_secret(SecretId=SM_SECRET_ID, ForceDeleteWithoutRecovery=True)
    client.close()


def leak_catalog(tmp_path: Path, poe_api: FakePoeApi, *, file_server: FileServer) -> Catalog:
    key_file = tmp_path / "poe_key"
    key_file.write_text(FILE_POE_KEY + "\n")
    text = CATALOG + EXTRA_BOTS.format(sm_id=SM_SECRET_ID, key_file=key_file)
    catalog = pointed_at(parse_catalog(text, "leak-catalog.yaml"), poe_api)
    poe = catalog.gateway.poe.model_copy(update={"attachment_hosts": (file_server.host_port,)})
    return catalog.model_copy(update={"gateway": catalog.gateway.model_copy(update={"poe": poe})})


async def exercise(
    session: httpx.AsyncClient, emu: AsyncEmulatorClient, server: FileServer, out: Emitted
) -> None:
    """The representative request set; every response goes into ``out``."""

    async def send(label: str, bot: str, body: object, key: str = TEST_POE_KEY) -> str:
        content = body if isinstance(body, bytes) else json.dumps(body).encode()
        response = await session.post(
            f"/bot/{bot}", content=content, headers={"Authorization": f"Bearer {key}"}
        )
        out.response(label, response)
        return f"{response.status_code} {response.text}"

    hello = query(("user", "hello there")).model_dump()
    for bot, key in (
        ("nova-lite", TEST_POE_KEY),
        ("sm-bot", SM_POE_KEY),
        ("file-bot", FILE_POE_KEY),
    ):
        answer = await send(f"{bot} success", bot, hello, key=key)
        assert answer.startswith("200")
        assert "event: text" in answer
        assert "event: error" not in answer
    await send("thinking", "claude-thinking", hello)
    await send("unknown model", "missing-model", hello)
    for fault in FAULTS:
        await emu.inject(fault, count=-1, after_tokens=2)
        assert "event: error" in await send(f"fault {fault}", "nova-lite", hello)
        await emu.reset()
    assert (await send("wrong key", "nova-lite", hello, key="wrong-key")).startswith("401")
    assert (await send("other bot's key", "nova-lite", hello, key=SM_POE_KEY)).startswith("401")
    await send("unknown bot", "no-such-bot", hello)
    await send("invalid json", "nova-lite", b"{oops")
    await send("unknown type", "nova-lite", {"version": "1.2", "type": "x"})
    await send("wrong types", "nova-lite", {"type": "query", "query": "x", "temperature": "hot"})
    await send("too large", "nova-lite", b"x" * (5 * 1024 * 1024))
    await send("settings", "sm-bot", {"version": "1.2", "type": "settings"}, key=SM_POE_KEY)
    report = {"version": "1.2", "type": "report_error", "message": "m", "metadata": {}}
    await send("report", "nova-lite", report)
    files = fp.ProtocolMessage(
        role="user",
        content="Read these",
        attachments=[
            fp.Attachment(
                url=server.url("files/notes.txt"), content_type="text/plain", name="n.txt"
            ),
            fp.Attachment(
                url=server.url("files/photo.png"), content_type="image/png", name="p.png"
            ),
            fp.Attachment(
                url="http://169.254.169.254/latest/", content_type="text/plain", name="m"
            ),
        ],
    )
    await send("attachments", "nova-lite", query(files).model_dump())
    assert "event: file" in await send(
        "image", "titan-image", query(("user", "a fox")).model_dump()
    )
    for path in ("/metrics", "/healthz", "/", "/bot/sm-bot"):
        out.response(f"GET {path}", await session.get(path))


async def test_no_secret_in_anything_the_gateway_emits(
    secrets_manager_secret: None,
    capsys: pytest.CaptureFixture[str],
    debug_logging: RawRecords,
    monkeypatch: pytest.MonkeyPatch,
    emulator: Emulator,
    emu: AsyncEmulatorClient,
    moto_url: str,
    poe_api: FakePoeApi,
    file_server: FileServer,
    tmp_path: Path,
) -> None:
    monkeypatch.setenv("FMGATE_TEST_POE_KEY", TEST_POE_KEY)
    out = Emitted()
    catalog = leak_catalog(tmp_path, poe_api, file_server=file_server)
    aws = replace(
        aws_for(emulator, moto_url),
        secrets_endpoint_url=moto_url,
        secrets_access_key_id="moto",
        secrets_secret_access_key="moto",
    )
    options = GatewayOptions(aws=aws, ledger_path=tmp_path / "usage.db")
    async with Gateway.open(catalog, options) as gateway:
        transport = httpx.ASGITransport(app=build_app(gateway))
        async with httpx.AsyncClient(transport=transport, base_url="http://gateway") as session:
            await exercise(session, emu, file_server, out)
        assert gateway.registry.get("sm-bot").access_key == SM_POE_KEY  # type: ignore[union-attr]

    # A reference to a missing key of the same JSON secret: start-up fails, naming no value.
    broken = catalog.model_copy(
        update={
            "bots": (
                catalog.bot("sm-bot").model_copy(
                    update={"access_key": f"aws-secretsmanager:{SM_SECRET_ID}#missing"}
                ),
            )
        }
    )
    with pytest.raises(SecretError) as failed:  # its text is read for secrets below
        async with Gateway.open(broken, options):
            pass
    out.add("start-up failure", "".join(traceback.format_exception(failed.value)))
    logging.getLogger("fmgate").error("start-up failed", exc_info=failed.value)

    # The CLI: listing and validating catalogs that hold references (and one pasted secret).
    catalog_file = tmp_path / "catalog.yaml"
    catalog_file.write_text(CATALOG + EXTRA_BOTS.format(sm_id=SM_SECRET_ID, key_file="/k"))
    pasted = tmp_path / "pasted.yaml"
    pasted.write_text(CATALOG.replace("env:FMGATE_TEST_POE_KEY", SM_SIBLING))
    for argv in (
        ["models", "--config", str(catalog_file)],
        ["validate", str(catalog_file)],
        ["validate", str(pasted)],
    ):
        with contextlib.suppress(SystemExit):
            await asyncio.to_thread(cli.main, argv)

    captured = capsys.readouterr()
    out.add("stdout", captured.out)
    out.add("stderr (all logging at DEBUG)", captured.err)
    out.add("log records before redaction", "\n".join(debug_logging.lines))
    emitted = out.text
    assert "DEBUG" in captured.err  # the logging really ran at DEBUG
    assert "GET /metrics" in emitted
    for name, secret in {
        "AWS secret access key": TEST_SECRET_ACCESS_KEY,
        "Poe key (env)": TEST_POE_KEY,
        "Poe key (file)": FILE_POE_KEY,
        "Poe key (Secrets Manager)": SM_POE_KEY,
        "unrequested Secrets Manager value": SM_SIBLING,
    }.items():
        assert secret not in emitted, f"{name} leaked:\n" + _around(emitted, secret)


def _around(text: str, secret: str) -> str:
    index = text.index(secret)
    return text[max(0, index - 400) : index + 200]
