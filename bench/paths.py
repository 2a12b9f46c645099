"""The paths of a run: how each one's server starts and how its client is opened.

- ``direct``: aiobotocore ConverseStream straight to the emulator (the floor; no server);
- ``fmgate``: ``fmgate serve``, Poe ``query`` SSE (``POST /bot/<name>``);
- ``fmgate-openai``: ``fmgate serve`` (its own process), ``POST /v1/chat/completions``;
- ``litellm``, ``portkey``, ``tensorzero``: the peers from their own environments, each through
  the same OpenAI streaming client (``bench.streams.OpenAIStream``);
- ``bifrost``: cannot run here (:data:`BIFROST_UNAVAILABLE`), reported as such, never tried.

:func:`start_path` starts a path's server inside the run's exit stack and returns a
:class:`LivePath`, or the :class:`PathOutcome` that says why the path will not run.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from pathlib import Path

from bench.machine import version_of
from bench.peer_install import PeerInstall
from bench.peer_servers import LITELLM_MODEL, litellm_server, portkey_server, tensorzero_server
from bench.portkey_env import CHAT_COMPLETIONS_PATH as PORTKEY_CHAT_PATH
from bench.portkey_env import portkey_headers
from bench.processes import ServerProcess, ServerStartError
from bench.report import PEERS, PathOutcome
from bench.servers import BOT_NAME, MODEL_ID, REGION, BenchCredentials, fmgate_server
from bench.streams import DirectStream, OpenAIStream, PoeStream, StreamClient
from bench.tensorzero_env import CHAT_COMPLETIONS_PATH as TENSORZERO_CHAT_PATH
from bench.tensorzero_env import OPENAI_MODEL as TENSORZERO_MODEL

#: Bifrost's npm package is a launcher that fetches its gateway binary when it runs.
BIFROST_UNAVAILABLE = (
    "its npm package (@maximhq/bifrost) downloads the gateway binary from the network at run "
    "time, and this machine reaches package registries only; not attempted"
)

ClientFactory = Callable[[], Awaitable[StreamClient]]


@dataclass(frozen=True, slots=True)
class PathSetup:
    """What starting any path needs from the run."""

    log_dir: Path
    emulator_url: str
    credentials: BenchCredentials
    max_tokens: int
    max_connections: int
    #: CPUs of the server under test (None: anywhere).
    server_cpus: frozenset[int] | None = None
    #: Each peer's environment (or why it has none); a peer missing here is not requested.
    installs: dict[str, PeerInstall] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class LivePath:
    """A path ready to measure: its server (None for direct) and a way to open a new client."""

    name: str
    server: ServerProcess | None
    open_client: ClientFactory
    version: str | None = None
    #: The larger hold too (fmgate's Poe front: Poe scale in one process).
    large_hold: bool = False


def openai_client(
    name: str, url: str, headers: dict[str, str], model: str, setup: PathSetup
) -> ClientFactory:
    async def open_client() -> StreamClient:
        return OpenAIStream(name, url, headers, model, setup.max_tokens, setup.max_connections)

    return open_client


async def start_direct(setup: PathSetup, stack: AsyncExitStack) -> LivePath:
    creds = setup.credentials

    async def open_client() -> StreamClient:
        return await DirectStream(
            setup.emulator_url,
            MODEL_ID,
            setup.max_tokens,
            creds.access_key_id,
            creds.secret_access_key,
            setup.max_connections,
        ).open()

    return LivePath("direct", None, open_client)


async def start_fmgate(name: str, setup: PathSetup, stack: AsyncExitStack) -> ServerProcess:
    return await stack.enter_async_context(
        fmgate_server(
            setup.log_dir,
            setup.emulator_url,
            setup.credentials,
            setup.max_tokens,
            setup.server_cpus,
            name=name,
        )
    )


async def start_fmgate_poe(setup: PathSetup, stack: AsyncExitStack) -> LivePath:
    server = await start_fmgate("fmgate", setup, stack)

    async def open_client() -> StreamClient:
        return PoeStream(
            server.url, BOT_NAME, setup.credentials.poe_access_key, setup.max_connections
        )

    return LivePath("fmgate", server, open_client, version_of("fmgate"), large_hold=True)


async def start_fmgate_openai(setup: PathSetup, stack: AsyncExitStack) -> LivePath:
    server = await start_fmgate("fmgate-openai", setup, stack)
    headers = {"Authorization": f"Bearer {setup.credentials.api_key}"}
    url = f"{server.url}/v1/chat/completions"
    client = openai_client("fmgate-openai", url, headers, BOT_NAME, setup)
    return LivePath("fmgate-openai", server, client, version_of("fmgate"))


async def start_litellm(setup: PathSetup, stack: AsyncExitStack, install: PeerInstall) -> LivePath:
    assert install.program is not None
    server = await stack.enter_async_context(
        litellm_server(
            install.program,
            setup.log_dir,
            setup.emulator_url,
            setup.credentials,
            setup.server_cpus,
        )
    )
    headers = {"Authorization": f"Bearer {setup.credentials.litellm_master_key}"}
    url = f"{server.url}/v1/chat/completions"
    client = openai_client("litellm", url, headers, LITELLM_MODEL, setup)
    return LivePath("litellm", server, client, install.version)


async def start_portkey(setup: PathSetup, stack: AsyncExitStack, install: PeerInstall) -> LivePath:
    assert install.program is not None
    server = await stack.enter_async_context(
        portkey_server(install.program, setup.log_dir, setup.credentials, setup.server_cpus)
    )
    creds = setup.credentials
    headers = portkey_headers(
        setup.emulator_url, creds.access_key_id, creds.secret_access_key, REGION
    )
    url = f"{server.url}{PORTKEY_CHAT_PATH}"
    client = openai_client("portkey", url, headers, MODEL_ID, setup)
    return LivePath("portkey", server, client, install.version)


async def start_tensorzero(
    setup: PathSetup, stack: AsyncExitStack, install: PeerInstall
) -> LivePath:
    assert install.program is not None
    server = await stack.enter_async_context(
        tensorzero_server(
            install.program,
            setup.log_dir,
            setup.emulator_url,
            setup.credentials,
            setup.server_cpus,
        )
    )
    url = f"{server.url}{TENSORZERO_CHAT_PATH}"
    client = openai_client("tensorzero", url, {}, TENSORZERO_MODEL, setup)
    return LivePath("tensorzero", server, client, install.version)


PeerStarter = Callable[[PathSetup, AsyncExitStack, PeerInstall], Awaitable[LivePath]]
OwnStarter = Callable[[PathSetup, AsyncExitStack], Awaitable[LivePath]]

OWN_STARTERS: dict[str, OwnStarter] = {
    "direct": start_direct,
    "fmgate": start_fmgate_poe,
    "fmgate-openai": start_fmgate_openai,
}
PEER_STARTERS: dict[str, PeerStarter] = {
    "litellm": start_litellm,
    "portkey": start_portkey,
    "tensorzero": start_tensorzero,
}


async def start_path(name: str, setup: PathSetup, stack: AsyncExitStack) -> LivePath | PathOutcome:
    """Path ``name`` started (its server in ``stack``), or why it does not run: a peer that is
    not installed or whose server did not start, Bifrost; a path of fmgate's that did not
    start is a failed outcome too (the run's verdict fails it)."""
    if name == "bifrost":
        return PathOutcome("bifrost", "unavailable", reason=BIFROST_UNAVAILABLE)
    install = setup.installs.get(name) if name in PEERS else None
    try:
        if name in OWN_STARTERS:
            return await OWN_STARTERS[name](setup, stack)
        if install is None:
            return PathOutcome(name, "skipped", reason="not requested")
        if install.program is None:
            return PathOutcome(name, "unavailable", reason=install.reason)
        return await PEER_STARTERS[name](setup, stack, install)
    except ServerStartError as exc:
        version = install.version if install is not None else None
        return PathOutcome(name, "failed", reason=f"server did not start: {exc}", version=version)
    except Exception as exc:  # a path that cannot start must not stop the others
        version = install.version if install is not None else None
        reason = f"did not start: {type(exc).__name__}: {exc}"
        return PathOutcome(name, "failed", reason=reason, version=version)
