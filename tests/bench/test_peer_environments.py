"""The peers' environments and start commands: built right, and running for real.

The pure parts (argv, headers, config, the CPU-pinning launcher, an install step's failure
reason) are checked without the network. Then Portkey and TensorZero are installed on first use
from their registries (npm, PyPI: about 15 s each here, once per checkout; CI reaches both) and
started with the benchmark's own start commands against a real emulator: each must listen on
loopback only and stream through the bench's OpenAI client, and a tiny interleaved run with
both must report them with figures and Bifrost as unavailable. LiteLLM is left out here: its
install takes minutes (``bench.run`` covers it).
"""

from __future__ import annotations

import math
import os
import subprocess
import sys
import tomllib
from contextlib import AsyncExitStack
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from bench.paths import BIFROST_UNAVAILABLE, LivePath, PathSetup, start_path
from bench.peer_install import PeerInstall, run_steps
from bench.portkey_env import (
    LOOPBACK_PRELOAD,
    PORTKEY_VERSION,
    SIGNED_PORT,
    ensure_portkey,
    portkey_argv,
    portkey_headers,
)
from bench.processes import pinned, port_problem
from bench.report_json import report_json
from bench.run import RunOptions, run_benchmark
from bench.servers import MODEL_ID, BenchCredentials, emulator_server
from bench.tensorzero_env import (
    GATEWAY_SCRIPT,
    MODEL_NAME,
    TENSORZERO_VERSION,
    ensure_tensorzero,
    tensorzero_argv,
    tensorzero_config,
)

from tests.bench.test_bench_smoke import TINY_PLAN, logs_without

#: Installs on first use (npm, pip), then starts servers: more than the suite's default limit.
SLOW = pytest.mark.timeout(600)


def test_portkey_starts_headless_on_the_given_port_with_the_loopback_preload() -> None:
    entry = Path("/x/node_modules/@portkey-ai/gateway/build/start-server.js")
    argv = portkey_argv(entry, 4242)
    assert Path(argv[0]).name == "node"
    assert argv[1:] == [
        "--import",
        LOOPBACK_PRELOAD.as_uri(),
        str(entry),
        "--port=4242",
        "--headless",
    ]
    assert LOOPBACK_PRELOAD.exists()
    assert "127.0.0.1" in LOOPBACK_PRELOAD.read_text()


def test_portkey_requests_name_the_provider_the_emulator_and_the_keys() -> None:
    assert portkey_headers("http://127.0.0.1", "AKID", "secret", "us-east-1") == {
        "x-portkey-provider": "bedrock",
        "x-portkey-custom-host": "http://127.0.0.1",
        "x-portkey-aws-access-key-id": "AKID",
        "x-portkey-aws-secret-access-key": "secret",
        "x-portkey-aws-region": "us-east-1",
    }


def test_tensorzero_config_is_one_bedrock_model_at_the_emulator_without_observability() -> None:
    config = tomllib.loads(tensorzero_config("http://127.0.0.1:8123", MODEL_ID, "us-east-1"))
    assert config["gateway"] == {"observability": {"enabled": False}}
    model = config["models"][MODEL_NAME]
    assert model["routing"] == ["emulator"]
    assert model["providers"]["emulator"] == {
        "type": "aws_bedrock",
        "model_id": MODEL_ID,
        "region": "us-east-1",
        "endpoint_url": "http://127.0.0.1:8123",
    }
    python = Path("/venv/bin/python")
    argv = tensorzero_argv(python, Path("/logs/t.toml"), Path("/logs/t.url"))
    assert argv == [
        str(python),
        str(GATEWAY_SCRIPT),
        "--config",
        "/logs/t.toml",
        "--url-file",
        "/logs/t.url",
    ]
    assert GATEWAY_SCRIPT.exists()


def test_a_pinned_server_is_on_its_cpus_from_its_first_instruction() -> None:
    cpu = min(os.sched_getaffinity(0))
    argv = pinned(
        [sys.executable, "-c", "import os; print(sorted(os.sched_getaffinity(0)))"],
        frozenset({cpu}),
    )
    done = subprocess.run(argv, capture_output=True, text=True, check=True, timeout=60)
    assert done.stdout.strip() == f"[{cpu}]"
    assert pinned(["x", "y"], None) == ["x", "y"]


def test_an_install_step_that_fails_says_why() -> None:
    fail = [
        sys.executable,
        "-c",
        "import sys; print('WARNING: Location x'); sys.exit('no such version')",
    ]
    reason = run_steps([[sys.executable, "-c", "pass"], fail])
    assert reason is not None
    assert reason.endswith("-c: no such version")
    assert run_steps([[sys.executable, "-c", "pass"]]) is None
    assert run_steps([["/nonexistent/tool", "install"]]) == "tool: FileNotFoundError"


def loopback_only(pid: int) -> set[str]:
    """The local addresses of the TCP sockets ``pid`` listens on (hex, as /proc lists them)."""
    inodes = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        target = os.readlink(fd) if fd.is_symlink() else ""
        if target.startswith("socket:["):
            inodes.add(target[len("socket:[") : -1])
    addresses = set()
    for table in ("tcp", "tcp6"):
        for line in Path(f"/proc/{pid}/net/{table}").read_text().splitlines()[1:]:
            fields = line.split()
            if fields[3] == "0A" and fields[9] in inodes:  # 0A: LISTEN
                addresses.add(fields[1].rsplit(":", 1)[0])
    return addresses


def installed(install: PeerInstall) -> PeerInstall:
    assert install.program is not None, install.reason
    return install


def port_80_or_skip() -> None:
    problem = port_problem(SIGNED_PORT)
    if problem is not None:  # Portkey signs the Host without the port: the emulator needs 80
        pytest.skip(problem)


async def streams_through(path: LivePath, count: int) -> None:
    client = await path.open_client()
    try:
        for _ in range(count):
            timing = await client.stream_once()
            assert timing.ok, timing.error
            assert 0 < timing.ttft <= timing.total
    finally:
        await client.aclose()


@SLOW
@pytest.mark.parametrize(
    ("name", "ensure", "version"),
    [
        ("portkey", ensure_portkey, PORTKEY_VERSION),
        ("tensorzero", ensure_tensorzero, TENSORZERO_VERSION),
    ],
)
async def test_each_peer_starts_on_loopback_and_streams(
    tmp_path: Path, name: str, ensure: Any, version: str
) -> None:
    install = installed(ensure())
    assert install.version == version
    if name == "portkey":
        port_80_or_skip()
    credentials = BenchCredentials()
    port = SIGNED_PORT if name == "portkey" else None
    async with (
        emulator_server(tmp_path, credentials, port=port) as emulator,
        AsyncExitStack() as stack,
    ):
        setup = PathSetup(
            log_dir=tmp_path,
            emulator_url=emulator.url,
            credentials=credentials,
            max_tokens=8,
            max_connections=16,
            installs={name: install},
        )
        path = await start_path(name, setup, stack)
        assert isinstance(path, LivePath), path
        assert path.server is not None
        assert path.version == version
        # 0100007F is 127.0.0.1 (IPv4, little-endian hex): nothing listens anywhere else.
        assert loopback_only(path.server.pid) == {"0100007F"}
        await streams_through(path, 3)
    assert logs_without(credentials.secret_access_key, tmp_path)


@SLOW
async def test_a_tiny_interleaved_run_measures_the_peers(tmp_path: Path) -> None:
    port_80_or_skip()
    installs = {
        "portkey": installed(ensure_portkey()),
        "tensorzero": installed(ensure_tensorzero()),
    }
    # Enough streams per visit that a peer's CPU is read above /proc's 10 ms tick (TensorZero
    # spends well under a millisecond per stream).
    plan = replace(TINY_PLAN, rounds=2, requests_per_level=100, large_hold_streams=0)
    paths = ("direct", "portkey", "tensorzero", "bifrost")
    options = RunOptions(plan=plan, paths=paths, installs=installs)

    report = await run_benchmark(options, tmp_path)

    assert list(report.paths) == list(paths)
    assert report.round_orders == [
        ["direct", "portkey", "tensorzero"],
        ["portkey", "tensorzero", "direct"],
    ]
    for name in ("portkey", "tensorzero"):
        outcome = report.paths[name]
        assert outcome.status == "ok", outcome.reason
        assert outcome.figures is not None
        assert len(outcome.figures.rounds) == 2
        for visit in outcome.figures.rounds:
            cpu = visit.cpu_seconds_per_1000_requests
            assert cpu is not None
            assert math.isfinite(cpu)
            assert cpu > 0
            assert all(phase.failed == 0 for phase in visit.levels.values())
        assert outcome.figures.server is not None
        assert outcome.figures.server.hold is not None
        assert outcome.figures.server.hold.dropped == 0
    bifrost = report.paths["bifrost"]
    assert (bifrost.status, bifrost.reason, bifrost.figures) == (
        "unavailable",
        BIFROST_UNAVAILABLE,
        None,
    )
    data: Any = report_json(report)
    assert data["paths"]["portkey"]["version"] == PORTKEY_VERSION
    assert data["peers"]["paths"]["tensorzero"]["figures"]["cpu_seconds_per_1000_requests"]
    assert data["healthy_phase_failures"] == []
    assert data["peer_phase_failures"] == []
    assert data["machine"]["node"].startswith("v")
    assert logs_without(options.credentials.secret_access_key, tmp_path)
