"""The Modal deployment: the environment-driven app factory, and deploy/modal_app.py itself.

The factory (:mod:`fmgate.server.app_from_env`) is tested without Modal: it opens a real gateway
on the emulator and answers over ASGI. deploy/modal_app.py is imported from its path with the pinned
``modal`` package: its app, web function, image inputs and Secrets are checked, and the web
function's body is run locally (``Function.local()``) and served. Nothing reaches Modal's
servers: its server URL points at a closed loopback port and no Modal token is set.
"""

from __future__ import annotations

import importlib.util
import os
import re
import tomllib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from types import ModuleType

import httpx
import pytest
from starlette.applications import Starlette

from fmgate.config.loader import CatalogError
from fmgate.server.app_from_env import (
    BEDROCK_ENDPOINT_URL,
    DEFAULT_RELOAD_SECONDS,
    InvalidEnvironment,
    aws_access_from_environment,
    create_app_from_environment,
    reload_interval,
)
from fmgate_emulator import Emulator
from tests.harness.credentials import TEST_ACCESS_KEY_ID, TEST_SECRET_ACCESS_KEY
from tests.harness.poe_client import ask

ROOT = Path(__file__).resolve().parents[2]
MODAL_APP = ROOT / "deploy" / "modal_app.py"
DEPLOYMENT_DOC = ROOT / "docs" / "deployment.md"


def gateway_environment(catalog: Path, emulator: Emulator) -> dict[str, str]:
    """What a deployment's environment holds, pointed at the emulator instead of AWS."""
    return {
        "FMGATE_CONFIG": str(catalog),
        BEDROCK_ENDPOINT_URL: emulator.url,
        "AWS_ACCESS_KEY_ID": TEST_ACCESS_KEY_ID,
        "AWS_SECRET_ACCESS_KEY": TEST_SECRET_ACCESS_KEY,
    }


@asynccontextmanager
async def serving(app: Starlette) -> AsyncIterator[httpx.AsyncClient]:
    """Run the app's lifespan (the gateway opens there) and yield an ASGI session into it."""
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://gateway") as session:
            yield session


async def assert_serves_the_catalog(session: httpx.AsyncClient) -> None:
    health = await session.get("/healthz")
    assert health.json() == {"status": "ok", "bots": 1}
    assert 'data-bot="nova-micro"' in (await session.get("/")).text
    reply = await ask(session, "nova-micro", "hello from the factory")
    assert reply.error is None
    assert reply.text  # signed with the environment's keys, answered by the emulator


# --- the factory, without Modal ------------------------------------------------------------


async def test_factory_serves_the_catalog_the_environment_names(
    catalog_file: Path, emulator: Emulator
) -> None:
    app = create_app_from_environment(gateway_environment(catalog_file, emulator))
    async with serving(app) as session:
        await assert_serves_the_catalog(session)


def test_factory_fails_at_start_up_on_a_broken_catalog(tmp_path: Path) -> None:
    broken = tmp_path / "catalog.yaml"
    broken.write_text("version: 1\nbots:\n  - bot_name: x\n")
    with pytest.raises(CatalogError):
        create_app_from_environment({"FMGATE_CONFIG": str(broken)})


def test_aws_access_uses_explicit_keys_only_as_a_pair() -> None:
    pair = {"AWS_ACCESS_KEY_ID": "AKIDX", "AWS_SECRET_ACCESS_KEY": "s3cr3t-value-x"}
    explicit = aws_access_from_environment({**pair, BEDROCK_ENDPOINT_URL: "http://e"}, None)
    assert (explicit.access_key_id, explicit.secret_access_key) == ("AKIDX", "s3cr3t-value-x")
    assert explicit.endpoint_url == "http://e"
    half = aws_access_from_environment({"AWS_ACCESS_KEY_ID": "AKIDX"}, "http://catalog")
    assert (half.access_key_id, half.secret_access_key) == (None, None)  # default chain
    assert half.endpoint_url == "http://catalog"  # the catalog's endpoint when none is set


def test_reload_interval_is_a_non_negative_number() -> None:
    assert reload_interval({}) == DEFAULT_RELOAD_SECONDS
    assert reload_interval({"FMGATE_RELOAD_INTERVAL": "0"}) == 0.0
    for bad in ("soon", "-1", "nan"):
        with pytest.raises(InvalidEnvironment, match="FMGATE_RELOAD_INTERVAL"):
            reload_interval({"FMGATE_RELOAD_INTERVAL": bad})


# --- deploy/modal_app.py -------------------------------------------------------------------


@pytest.fixture
def offline_modal(monkeypatch: pytest.MonkeyPatch) -> None:
    """Modal installed (pinned dev dependency), and unable to reach its servers."""
    try:
        import modal  # noqa: F401
    except ImportError:
        reason = "modal is not installed (pinned dev dependency: modal==1.6.4)"
        if os.environ.get("CI"):
            pytest.fail(reason)
        pytest.skip(reason)
    monkeypatch.setenv("MODAL_SERVER_URL", "http://127.0.0.1:9")  # discard port: nothing there
    for name in ("MODAL_TOKEN_ID", "MODAL_TOKEN_SECRET", "MODAL_PROFILE"):
        monkeypatch.delenv(name, raising=False)


def import_modal_app() -> ModuleType:
    """deploy/modal_app.py, imported from its path (it is not a package module)."""
    spec = importlib.util.spec_from_file_location("fmgate_modal_app", MODAL_APP)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def modal_app(offline_modal: None, monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    monkeypatch.delenv("FMGATE_MODAL_CATALOG", raising=False)
    return import_modal_app()


def requirement_pins(lines: list[str]) -> dict[str, str]:
    """name -> version of ``name[extras]==version`` lines (names normalised as pip does)."""
    pins = {}
    for line in lines:
        match = re.fullmatch(r"([A-Za-z0-9_.-]+)(\[[^\]]*\])?==(\S+)", line.strip())
        assert match, f"not pinned: {line!r}"
        pins[re.sub(r"[-_.]+", "-", match.group(1)).lower()] = match.group(3)
    return pins


def test_modal_app_declares_one_web_function(modal_app: ModuleType) -> None:
    import modal

    assert isinstance(modal_app.app, modal.App)
    assert modal_app.app.name == "fmgate"
    assert isinstance(modal_app.gateway, modal.Function)
    options = modal_app.FUNCTION_OPTIONS
    assert options["image"] is modal_app.image
    assert isinstance(modal_app.image, modal.Image)
    assert options["secrets"] == modal_app.secrets
    assert len(options["secrets"]) == len(modal_app.SECRET_KEYS)
    assert options["timeout"] > 120  # Poe's longest answer
    assert options["env"] == {}  # the bundled catalog, unless FMGATE_MODAL_CATALOG is set


def test_modal_image_installs_the_pinned_runtime_dependencies(modal_app: ModuleType) -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    requirements = modal_app.runtime_requirements()
    assert requirements == project["project"]["dependencies"]
    constraints = requirement_pins((ROOT / "constraints.txt").read_text().splitlines())
    for name, version in requirement_pins(requirements).items():
        assert constraints[name] == version, name  # the same pins as the Docker image
    assert modal_app.PYTHON_SOURCES == ("fmgate",)


def test_modal_secrets_are_documented(modal_app: ModuleType) -> None:
    doc = DEPLOYMENT_DOC.read_text()
    for name, keys in modal_app.SECRET_KEYS.items():
        assert f"modal secret create {name}" in doc
        for key in keys:
            assert key in doc
    assert "modal deploy deploy/modal_app.py" in doc


def test_deploy_time_catalog_is_validated_and_shipped(
    offline_modal: None, catalog_file: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FMGATE_MODAL_CATALOG", str(catalog_file))
    module = import_modal_app()
    assert module.FUNCTION_OPTIONS["env"] == {"FMGATE_CONFIG": module.REMOTE_CATALOG}
    broken = tmp_path / "broken.yaml"
    broken.write_text("version: 1\nbots: []\nsurprise: true\n")
    monkeypatch.setenv("FMGATE_MODAL_CATALOG", str(broken))
    with pytest.raises(CatalogError):
        import_modal_app()  # nothing deploys with a broken catalog


@pytest.mark.usefixtures("restored_logging")
async def test_web_function_body_serves_the_gateway(
    modal_app: ModuleType,
    catalog_file: Path,
    emulator: Emulator,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name, value in gateway_environment(catalog_file, emulator).items():
        monkeypatch.setenv(name, value)  # what the Modal Secrets and env put in the container
    app = modal_app.gateway.local()
    assert isinstance(app, Starlette)
    async with serving(app) as session:
        await assert_serves_the_catalog(session)
