"""The command without its development-only parts: fmgate-emulator and moto are optional.

The production install has neither. Each case runs ``fmgate`` in a fresh interpreter where the
package cannot be imported (``sys.modules[name] = None``: Python's own way of saying "no such
module") and checks what a person sees: what to do, a non-zero exit, never a traceback.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from fmgate.config.bot_config import VideoBotConfig
from fmgate.config.loader import load_catalog
from fmgate.server.bedrock_target import embedded_backend
from fmgate_emulator.content import reply_text

#: ``python -c`` program: block the packages named in argv[1] (comma-separated), run fmgate.
WITHOUT = """
import sys
for name in sys.argv[1].split(","):
    sys.modules[name] = None
from fmgate.cli import main
raise SystemExit(main(sys.argv[2:]))
"""

INSTALL_HINT = "pip install -e ./emulator"


def fmgate_without(blocked: str, *args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("POE_ACCESS_KEY", "FMGATE_CONFIG")}
    return subprocess.run(
        [sys.executable, "-c", WITHOUT, blocked, *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_emulator_command_without_the_emulator_package_says_how_to_install_it(
    tmp_path: Path,
) -> None:
    done = fmgate_without("fmgate_emulator", "emulator", "--port", "0", cwd=tmp_path)
    assert done.returncode == 1
    assert INSTALL_HINT in done.stderr
    assert "fmgate-emulator" in done.stderr
    assert "Traceback" not in done.stderr
    assert done.stdout == ""  # nothing claims to be serving


def test_serve_on_the_embedded_emulator_without_the_package_says_what_to_do(
    tmp_path: Path,
) -> None:
    done = fmgate_without(
        "fmgate_emulator", "serve", "--emulator", "always", "--port", "0", cwd=tmp_path
    )
    assert done.returncode == 1
    assert INSTALL_HINT in done.stderr
    assert "AWS credentials" in done.stderr
    assert "gateway.bedrock_endpoint_url" in done.stderr
    assert "Traceback" not in done.stderr
    assert "serving" not in done.stdout
    assert not (tmp_path / "var").exists()  # no dev key, no ledger: it never started


def test_chat_in_process_without_the_emulator_package_points_to_url(tmp_path: Path) -> None:
    done = fmgate_without("fmgate_emulator", "chat", "nova-micro", "hello", cwd=tmp_path)
    assert done.returncode == 1
    assert INSTALL_HINT in done.stderr
    assert "--url" in done.stderr
    assert "Traceback" not in done.stderr


def test_chat_in_process_without_moto_still_answers(tmp_path: Path) -> None:
    done = fmgate_without("moto,moto.server", "chat", "nova-micro", "hello sans moto", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert reply_text("hello sans moto", 2048)[0] in done.stdout
    assert "Traceback" not in done.stderr


def test_embedded_backend_without_moto_says_video_results_have_no_s3(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(sys.modules, "moto", None)
    monkeypatch.setitem(sys.modules, "moto.server", None)
    catalog = load_catalog(None)  # the bundled catalog has video bots
    assert any(isinstance(bot, VideoBotConfig) for bot in catalog.bots)
    with embedded_backend(catalog) as backend:
        assert backend.embedded
        assert backend.aws.s3_endpoint_url is None
        assert "moto is not installed" in backend.description


def test_help_imports_no_command_machinery() -> None:
    """``fmgate --help`` (and parsing any command line) imports the command modules only."""
    program = (
        "import sys\n"
        "from fmgate.cli import main\n"
        "try:\n"
        "    main(['--help'])\n"
        "except SystemExit:\n"
        "    pass\n"
        "print(' '.join(sorted(sys.modules)), file=sys.stderr)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", program], capture_output=True, text=True, timeout=60, check=True
    )
    loaded = set(done.stderr.split())
    fmgate = {name for name in loaded if name.split(".")[0] == "fmgate"}
    assert fmgate <= {"fmgate"} | {name for name in loaded if name.startswith("fmgate.cli")}
    heavy = {"pydantic", "fastapi_poe", "httpx", "botocore", "aiobotocore", "yaml", "rich"}
    assert not heavy & {name.split(".")[0] for name in loaded}
    assert "fmgate_emulator" not in loaded
