"""``fmgate serve`` as a real process on loopback (embedded emulator, dev key, temp ledger),
and Poe streams against it over real sockets. With ``workers`` > 1 it is a supervisor and its
worker processes; each worker's own metrics URL is known once it serves.

The process runs ``python -m fmgate.cli`` with this interpreter and this environment, so it
imports the same ``fmgate`` as the tests (the one on ``PYTHONPATH``, if set)."""

from __future__ import annotations

import asyncio
import json
import os
import re
import signal
import sqlite3
import sys
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager, closing, suppress
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import httpx_sse

from tests.harness.load import Outcome
from tests.harness.poe_client import query
from tests.harness.servers import SERVER_BOUND_SECONDS, free_port

BOT = "slow-nova"

CATALOG = """
version: 1
gateway:
  shutdown_grace_seconds: {grace}
  emulator: {{enabled: always, profile: fast}}
{gateway_extra}
defaults:
  kind: chat
  aws_region: us-east-1
  max_tokens: 512
bots:
  - bot_name: {bot}
    model_id: amazon.nova-micro-v1:0
"""

EMULATOR_LINE = re.compile(r"embedded Bedrock emulator at (http://127\.0\.0\.1:\d+)")
SERVING_LINE = "fmgate: serving Poe bots at"
WORKER_METRICS_LINE = re.compile(r"worker (\d+) serves its metrics at (http://\S+/metrics)")
#: Logged by ``fmgate.server.serving`` once the listening socket is closed.
DRAINING_LINE = "shutting down: no new connections"

#: Longest a started stream may take to end, however the server behaves.
STREAM_LIMIT_SECONDS = 30.0


@dataclass
class GatewayProcess:
    """A running ``fmgate serve``: its URL, the embedded emulator's, the dev key, the ledger."""

    process: asyncio.subprocess.Process
    url: str
    emulator_url: str
    access_key: str
    ledger: Path
    stderr_path: Path
    stdout_path: Path
    #: With several workers: worker i's own ``/metrics`` URL (the main port's answers 404).
    worker_metrics: tuple[str, ...] = ()

    async def wait_for_log(self, text: str) -> None:
        """Wait (bounded) until the server's log (stderr) has a line containing ``text``."""
        await _read_until(self.stderr_path, text, self.process)

    def send_signal(self, sig: signal.Signals) -> None:
        self.process.send_signal(sig)

    async def exit_code(self) -> int:
        async with asyncio.timeout(SERVER_BOUND_SECONDS + STREAM_LIMIT_SECONDS):
            return await self.process.wait()

    async def pace(self, tokens_per_second: float) -> None:
        """Set the embedded emulator's token rate (control API)."""
        async with httpx.AsyncClient(base_url=self.emulator_url) as control:
            response = await control.put(
                "/_emulator/timing", json={"ttft_ms": 0, "tokens_per_second": tokens_per_second}
            )
            response.raise_for_status()

    def log_lines(self) -> list[dict[str, object]]:
        """The JSON lines the server (every process of it) has written to stderr so far."""
        lines = []
        for line in self.stderr_path.read_text(errors="replace").splitlines():
            if line.startswith("{"):
                lines.append(json.loads(line))
        return lines

    async def wait_for_logs(self, text: str, count: int) -> list[dict[str, object]]:
        """Wait (bounded) until ``count`` JSON log lines have a message containing ``text``."""
        async with asyncio.timeout(SERVER_BOUND_SECONDS):
            while True:
                found = [line for line in self.log_lines() if text in str(line["message"])]
                if len(found) >= count:
                    return found
                if self.process.returncode is not None:
                    raise RuntimeError(f"fmgate serve exited with {self.process.returncode}")
                await asyncio.sleep(0.05)  # polling a file other processes write


async def _read_until(
    path: Path, pattern: re.Pattern[str] | str, process: asyncio.subprocess.Process
) -> str:
    """The first line the process wrote to ``path`` that matches ``pattern`` (waits, bounded)."""
    async with asyncio.timeout(SERVER_BOUND_SECONDS):
        while True:
            text = await asyncio.to_thread(path.read_text, errors="replace")
            for line in text.splitlines():
                if pattern.search(line) if isinstance(pattern, re.Pattern) else pattern in line:
                    return line
            if process.returncode is not None:
                raise RuntimeError(f"fmgate serve exited with {process.returncode}")
            await asyncio.sleep(0.02)  # polling a file another process writes


def catalog_text(grace_seconds: float, gateway_extra: str = "") -> str:
    """The catalog ``gateway_process`` serves: the one bot ``BOT``; append bots to add some.
    ``gateway_extra`` is YAML added to its ``gateway`` section (indented by two spaces)."""
    return CATALOG.format(grace=grace_seconds, bot=BOT, gateway_extra=gateway_extra)


@asynccontextmanager
async def gateway_process(
    workdir: Path,
    *,
    grace_seconds: float,
    workers: int = 1,
    gateway_extra: str = "",
    env_extra: Mapping[str, str] | None = None,
) -> AsyncIterator[GatewayProcess]:
    """Start ``fmgate serve`` in ``workdir`` on a free port; kill it afterwards if still running
    (with ``workers`` > 1, its workers too). Returns once every worker serves.
    ``gateway_extra``: see :func:`catalog_text`; ``env_extra``: the environment its references
    read."""
    catalog = workdir / "catalog.yaml"
    catalog.write_text(catalog_text(grace_seconds, gateway_extra))
    port = free_port()
    stdout_path, stderr_path = workdir / "stdout.log", workdir / "stderr.log"
    env = {k: v for k, v in os.environ.items() if k not in ("POE_ACCESS_KEY", "FMGATE_CONFIG")}
    env.update(env_extra or {})
    several = ["--workers", str(workers), "--metrics-port", "0"] if workers > 1 else []
    with stdout_path.open("wb") as stdout, stderr_path.open("wb") as stderr:
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "fmgate.cli",
            "serve",
            "--config",
            str(catalog),
            "--port",
            str(port),
            "--emulator",
            "always",
            "--ledger",
            str(workdir / "usage.sqlite3"),
            "--reload-interval",
            "0",
            "--log-json",
            *several,
            cwd=workdir,
            env=env,
            stdout=stdout,
            stderr=stderr,
        )
    try:
        match = EMULATOR_LINE.search(await _read_until(stdout_path, EMULATOR_LINE, process))
        assert match is not None
        await _read_until(stdout_path, SERVING_LINE, process)
        worker_metrics: list[str] = []
        if workers > 1:
            await _read_until(stdout_path, f"worker {workers} serves its metrics", process)
            found = (
                WORKER_METRICS_LINE.search(line) for line in stdout_path.read_text().split("\n")
            )
            worker_metrics = [m.group(2) for m in found if m is not None]
        url = f"http://127.0.0.1:{port}"
        for ready_url in (url + "/healthz", *worker_metrics):
            await _wait_ready(ready_url, process)
        yield GatewayProcess(
            process=process,
            url=url,
            emulator_url=match.group(1),
            access_key=(workdir / "var" / "dev-access-key").read_text().strip(),
            ledger=workdir / "usage.sqlite3",
            stderr_path=stderr_path,
            stdout_path=stdout_path,
            worker_metrics=tuple(worker_metrics),
        )
    finally:
        if process.returncode is None:
            kill_with_workers(process, stderr_path)
            await process.wait()


def kill_with_workers(process: asyncio.subprocess.Process, stderr_path: Path) -> None:
    """SIGKILL the server and every worker it logged starting (their pids are in the log)."""
    pids = {process.pid}
    for line in stderr_path.read_text(errors="replace").splitlines():
        if line.startswith("{") and "pid" in (fields := json.loads(line)):
            pids.add(int(fields["pid"]))
    for pid in pids:
        with suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)


async def _wait_ready(url: str, process: asyncio.subprocess.Process) -> None:
    """Wait (bounded) until ``url`` answers 200."""
    async with asyncio.timeout(SERVER_BOUND_SECONDS), httpx.AsyncClient() as client:
        while True:
            try:
                if (await client.get(url)).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            if process.returncode is not None:
                raise RuntimeError(f"fmgate serve exited with {process.returncode}")
            await asyncio.sleep(0.05)


@dataclass(slots=True)
class Stream(Outcome):
    """One Poe stream as its client saw it, filled in while it runs."""

    first_text: asyncio.Event = field(default_factory=asyncio.Event)


async def poe_stream(
    client: httpx.AsyncClient,
    server: GatewayProcess,
    user: str,
    text: str,
    stream: Stream,
    *,
    bot: str = BOT,
) -> Stream:
    """Send one Poe query and record its events into ``stream`` until the server ends it."""
    body = query(("user", text), user_id=user, conversation_id=f"c-{user}", bot_query_id="")
    async with (
        asyncio.timeout(STREAM_LIMIT_SECONDS),
        httpx_sse.aconnect_sse(
            client,
            "POST",
            f"{server.url}/bot/{bot}",
            json=body.model_dump(),
            headers={"Authorization": f"Bearer {server.access_key}"},
        ) as source,
    ):
        stream.request_id = source.response.headers["x-request-id"]
        async for sse in source.aiter_sse():
            stream.events.append((sse.event, json.loads(sse.data)))
            if sse.event == "text":
                stream.first_text.set()
    return stream


def ledger_rows(path: Path) -> dict[str, str]:
    """request_id -> outcome of every row in a ledger file (read after the server exited)."""
    with closing(sqlite3.connect(path)) as db:
        rows = db.execute("SELECT request_id, outcome FROM usage").fetchall()
    return {request_id: outcome for request_id, outcome in rows}


def integrity(path: Path) -> str:
    with closing(sqlite3.connect(path)) as db:
        return str(db.execute("PRAGMA integrity_check").fetchone()[0])
