"""fmgate on Modal: the gateway as one ASGI web function (every bot at ``/bot/<name>``).

    modal secret create fmgate-aws AWS_ACCESS_KEY_ID=... AWS_SECRET_ACCESS_KEY=... \
        AWS_REGION=us-east-1
    modal secret create fmgate-poe POE_ACCESS_KEY=...
    FMGATE_MODAL_CATALOG=my-catalog.yaml modal deploy deploy/modal_app.py

Run ``modal deploy`` from the repository root in fmgate's dev venv. The image installs fmgate's
runtime dependencies pinned by ``constraints.txt`` (the same pins as the Dockerfile) and ships
the ``fmgate`` package from this checkout, bundled catalog included. ``FMGATE_MODAL_CATALOG``
(optional) names a catalog file to serve instead of the bundled one: it is validated before
anything is deployed, added to the image and passed to the gateway as ``FMGATE_CONFIG``.
The web function's body is :func:`fmgate.server.app_from_env.create_app_from_environment`.
See docs/deployment.md.
"""

from __future__ import annotations

import os
import tomllib
from pathlib import Path
from typing import Any

import modal
from starlette.applications import Starlette

ROOT = Path(__file__).resolve().parents[1]
APP_NAME = "fmgate"
#: Where the constraints file lands in the image (pip reads it while building).
REMOTE_CONSTRAINTS = "/opt/fmgate/constraints.txt"
#: Where a catalog given by ``FMGATE_MODAL_CATALOG`` lands in the image.
REMOTE_CATALOG = "/etc/fmgate/catalog.yaml"
LOCAL_CATALOG_VARIABLE = "FMGATE_MODAL_CATALOG"
#: The Python packages shipped from this checkout (every file: catalog and model table too).
PYTHON_SOURCES = ("fmgate",)

#: Modal Secrets the function reads, and the keys each must hold (Modal checks on deploy).
SECRET_KEYS: dict[str, list[str]] = {
    "fmgate-aws": ["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"],
    "fmgate-poe": ["POE_ACCESS_KEY"],
}

#: Streams in flight per container before Modal starts another one (mostly waiting on Bedrock).
MAX_STREAMS_PER_CONTAINER = 200
#: Longer than Poe's 120 s per answer, so a slow stream is never cut by Modal.
REQUEST_TIMEOUT_SECONDS = 600


def runtime_requirements() -> list[str]:
    """fmgate's runtime dependencies, as pyproject.toml declares them (pinned there)."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    requirements: list[str] = project["project"]["dependencies"]
    return requirements


def local_catalog() -> Path | None:
    """The catalog file named by ``FMGATE_MODAL_CATALOG`` at deploy time, validated; else None.

    Inside a Modal container (not local) this is always None: the image is already built.
    """
    value = os.environ.get(LOCAL_CATALOG_VARIABLE, "").strip()
    if not value or not modal.is_local():
        return None
    from fmgate.config.loader import load_catalog

    path = Path(value).resolve()
    load_catalog(path)  # a broken catalog stops the deploy here, with the problems named
    return path


def build_image(catalog: Path | None) -> modal.Image:
    """Debian slim + Python 3.11, fmgate's pinned dependencies, the fmgate package, a catalog."""
    requirements = runtime_requirements() if modal.is_local() else []
    image = (
        modal.Image.debian_slim(python_version="3.11")
        .add_local_file(ROOT / "constraints.txt", REMOTE_CONSTRAINTS, copy=True)
        .pip_install(*requirements, extra_options=f"--constraint {REMOTE_CONSTRAINTS}")
        .env({"PYTHONUNBUFFERED": "1"})
        .add_local_python_source(*PYTHON_SOURCES, ignore=["**/__pycache__/**", "**/*.pyc"])
    )
    if catalog is not None:
        image = image.add_local_file(catalog, REMOTE_CATALOG)
    return image


def container_environment(catalog: Path | None) -> dict[str, str | None]:
    """Plain (non-secret) settings for the gateway in the container."""
    return {"FMGATE_CONFIG": REMOTE_CATALOG} if catalog is not None else {}


catalog = local_catalog()
image = build_image(catalog)
secrets = [modal.Secret.from_name(name, required_keys=keys) for name, keys in SECRET_KEYS.items()]
app = modal.App(APP_NAME, image=image)

#: Everything the web function is declared with (kept in one place so it can be checked).
FUNCTION_OPTIONS: dict[str, Any] = {
    "image": image,
    "secrets": secrets,
    "env": container_environment(catalog),
    "min_containers": 1,
    "timeout": REQUEST_TIMEOUT_SECONDS,
}


@app.function(**FUNCTION_OPTIONS)
@modal.concurrent(max_inputs=MAX_STREAMS_PER_CONTAINER)
@modal.asgi_app(label=APP_NAME)
def gateway() -> Starlette:
    """The gateway's ASGI app, configured from the container's environment."""
    from fmgate.observability.logging import configure_logging
    from fmgate.server.app_from_env import create_app_from_environment

    configure_logging(json=True, level=os.environ.get("FMGATE_LOG_LEVEL", "INFO"))
    return create_app_from_environment()
