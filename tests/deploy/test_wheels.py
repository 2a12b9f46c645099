"""What the wheels hold: the gateway's without the emulator, bench or tests; the emulator's own.

Each wheel is built as pip builds it, offline: ``pip wheel --no-deps --no-build-isolation`` with
the setuptools the dev extras pin (the build backend both pyproject.toml files name). The build
runs on a copy of the checkout, so build/ and *.egg-info never land in the tree.
"""

from __future__ import annotations

import configparser
import shutil
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
#: What is in a checkout but not its source: history, virtualenvs, caches, build output, state.
NOT_SOURCE = shutil.ignore_patterns(
    ".git",
    ".venv*",
    "__pycache__",
    "*.pyc",
    ".mypy_cache",
    ".ruff_cache",
    ".pytest_cache",
    ".hypothesis",
    "build",
    "dist",
    "*.egg-info",
    "var",
    "test-artifacts",
)


def build_wheel(project: Path, out: Path) -> zipfile.ZipFile:
    """Build ``project``'s wheel into ``out`` without the network; the wheel, opened."""
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "--no-index",
            "--disable-pip-version-check",
            "--quiet",
            "-w",
            str(out),
            str(project),
        ],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    [wheel] = out.glob("*.whl")
    return zipfile.ZipFile(wheel)


def version_of(project: Path) -> str:
    version: str = tomllib.loads((project / "pyproject.toml").read_text())["project"]["version"]
    return version


def top_level(names: list[str]) -> set[str]:
    return {name.split("/", 1)[0] for name in names}


def sources(package: Path) -> set[str]:
    """The ``.py`` files of ``package`` as a wheel names them (``package/sub/module.py``)."""
    return {
        path.relative_to(package.parent).as_posix()
        for path in package.rglob("*.py")
        if "__pycache__" not in path.parts
    }


@pytest.fixture(scope="module")
def checkout(tmp_path_factory: pytest.TempPathFactory) -> Path:
    copy = tmp_path_factory.mktemp("checkout") / "fmgate"
    shutil.copytree(ROOT, copy, ignore=NOT_SOURCE)
    return copy


@pytest.fixture(scope="module")
def gateway_wheel(checkout: Path, tmp_path_factory: pytest.TempPathFactory) -> zipfile.ZipFile:
    return build_wheel(checkout, tmp_path_factory.mktemp("gateway-wheel"))


@pytest.fixture(scope="module")
def emulator_wheel(checkout: Path, tmp_path_factory: pytest.TempPathFactory) -> zipfile.ZipFile:
    return build_wheel(checkout / "emulator", tmp_path_factory.mktemp("emulator-wheel"))


def test_gateway_wheel_holds_fmgate_only(gateway_wheel: zipfile.ZipFile) -> None:
    names = gateway_wheel.namelist()
    version = version_of(ROOT)
    assert top_level(names) == {"fmgate", f"fmgate-{version}.dist-info"}
    for foreign in ("fmgate_emulator", "emulator", "bench", "tests"):  # nor nested anywhere
        assert not [name for name in names if f"/{foreign}/" in f"/{name}"], foreign


def test_gateway_wheel_has_every_module_and_data_file(gateway_wheel: zipfile.ZipFile) -> None:
    names = set(gateway_wheel.namelist())
    assert sources(ROOT / "src" / "fmgate") <= names  # no sub-package lost (no __init__.py)
    for data in ("fmgate/catalog.yaml", "fmgate/model_table/model_table.yaml", "fmgate/py.typed"):
        assert data in names
    bundled = gateway_wheel.read("fmgate/catalog.yaml")
    assert bundled == (ROOT / "src" / "fmgate" / "catalog.yaml").read_bytes()


def test_gateway_wheel_installs_the_fmgate_command(gateway_wheel: zipfile.ZipFile) -> None:
    version = version_of(ROOT)
    entry_points = configparser.ConfigParser()
    entry_points.read_string(
        gateway_wheel.read(f"fmgate-{version}.dist-info/entry_points.txt").decode()
    )
    assert dict(entry_points["console_scripts"]) == {"fmgate": "fmgate.cli:main"}


def test_emulator_wheel_holds_the_emulator_and_its_assets(
    emulator_wheel: zipfile.ZipFile,
) -> None:
    names = set(emulator_wheel.namelist())
    package = ROOT / "emulator" / "src" / "fmgate_emulator"
    version = version_of(ROOT / "emulator")
    assert top_level(sorted(names)) == {"fmgate_emulator", f"fmgate_emulator-{version}.dist-info"}
    assert sources(package) <= names
    assert "fmgate_emulator/py.typed" in names
    sample = emulator_wheel.read("fmgate_emulator/assets/sample.mp4")
    assert sample == (package / "assets" / "sample.mp4").read_bytes()
