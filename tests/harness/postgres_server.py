"""A real PostgreSQL server for tests: initdb into a temporary directory, listen on 127.0.0.1.

:func:`postgres_server` starts one (fsync on, password authentication with scram-sha-256 over
TCP only, no Unix socket) and stops it with ``pg_ctl stop -m fast`` when the block ends, however
it ends. :class:`PostgresServer` creates and drops databases and can restart the server (for the
reconnect tests). PostgreSQL refuses to run as root, so when the tests run as root (CI) initdb
and the server run as the ``postgres`` OS user through ``runuser``, in a directory it owns.

Fixtures (a plugin of ``tests/conftest.py``): ``postgres`` (session-scoped: the server) and
``postgres_dsn`` (a fresh, empty database per test, dropped afterwards).

The binaries are found under ``/usr/lib/postgresql/*/bin`` (``scripts/system-packages.sh``
installs them). When they are missing, :func:`require_postgres` fails the test run under CI and
skips with the reason elsewhere.
"""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Final

import psycopg
import pytest
from psycopg import sql
from psycopg.conninfo import make_conninfo

from tests.harness.servers import SERVER_BOUND_SECONDS, free_port

#: Where Debian's postgresql packages put the server programs (one folder per major version).
POSTGRES_BIN_GLOB: Final = "/usr/lib/postgresql/*/bin"

#: The superuser the tests connect as, and its password (a real one: it travels in the DSN).
TEST_POSTGRES_USER: Final = "fmgate"
TEST_POSTGRES_PASSWORD: Final = "fmgate-pg-test-password-do-not-leak-4d9a"

#: The OS user that runs PostgreSQL when the tests run as root.
POSTGRES_OS_USER: Final = "postgres"


def find_postgres_bin() -> Path | None:
    """The newest ``/usr/lib/postgresql/<major>/bin`` holding initdb and pg_ctl, if any."""
    candidates = [
        folder
        for folder in Path("/").glob(POSTGRES_BIN_GLOB.lstrip("/"))
        if (folder / "initdb").is_file() and (folder / "pg_ctl").is_file()
    ]
    return max(candidates, key=lambda folder: _major_version(folder.parent.name), default=None)


def _major_version(name: str) -> int:
    return int(name) if name.isdigit() else -1


def require_postgres() -> Path:
    """The PostgreSQL bin folder; fails under CI (``CI`` set) and skips elsewhere when missing."""
    found = find_postgres_bin()
    if found is not None:
        return found
    reason = (
        f"PostgreSQL server programs not found under {POSTGRES_BIN_GLOB} "
        "(run scripts/system-packages.sh)"
    )
    if os.environ.get("CI"):
        pytest.fail(reason, pytrace=False)
    pytest.skip(reason)


@dataclass
class PostgresServer:
    """A running test PostgreSQL: its port, data directory and the programs that control it."""

    bin_dir: Path
    data_dir: Path
    port: int
    #: Command prefix that runs a program as the server's OS user (empty: as ourselves).
    run_as: tuple[str, ...]

    def dsn(self, dbname: str = "postgres") -> str:
        """A libpq connection string for ``dbname`` (it holds the password)."""
        return make_conninfo(
            host="127.0.0.1",
            port=self.port,
            user=TEST_POSTGRES_USER,
            password=TEST_POSTGRES_PASSWORD,
            dbname=dbname,
            connect_timeout=10,
        )

    def create_database(self) -> str:
        """Create an empty database with a fresh name; returns the name."""
        name = f"ledger_{uuid.uuid4().hex[:16]}"
        with psycopg.connect(self.dsn(), autocommit=True) as admin:
            admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        return name

    def drop_database(self, name: str) -> None:
        """Drop ``name``, ending any session still connected to it."""
        with psycopg.connect(self.dsn(), autocommit=True) as admin:
            admin.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )

    def start(self) -> None:
        """Start the server and wait until it accepts connections."""
        options = (
            f"-c listen_addresses=127.0.0.1 -c port={self.port} "
            "-c unix_socket_directories='' -c fsync=on -c synchronous_commit=on"
        )
        self._pg_ctl(
            "start",
            "-w",
            "-t",
            str(int(SERVER_BOUND_SECONDS)),
            "-l",
            str(self.data_dir / "server.log"),
            "-o",
            options,
        )

    def stop(self) -> None:
        """Stop the server (fast shutdown: sessions are ended, nothing committed is lost)."""
        self._pg_ctl("stop", "-m", "fast", "-w", "-t", str(int(SERVER_BOUND_SECONDS)))

    def restart(self) -> None:
        """Stop then start the server: every open connection breaks."""
        self.stop()
        self.start()

    def _pg_ctl(self, *arguments: str) -> None:
        command = [*self.run_as, str(self.bin_dir / "pg_ctl"), "-D", str(self.data_dir / "data")]
        subprocess.run(
            [*command, *arguments],
            check=True,
            stdout=subprocess.DEVNULL,
            timeout=SERVER_BOUND_SECONDS * 2,
        )


@contextmanager
def postgres_server() -> Iterator[PostgresServer]:
    """Initialise, start and (whatever happens) stop and delete a PostgreSQL on 127.0.0.1."""
    bin_dir = require_postgres()
    run_as, owner = _server_identity()
    root = Path(tempfile.mkdtemp(prefix="fmgate-postgres-"))
    try:
        password_file = root / "password"
        password_file.write_text(TEST_POSTGRES_PASSWORD + "\n")
        if owner is not None:
            for path in (root, password_file):
                os.chown(path, owner.pw_uid, owner.pw_gid)
        subprocess.run(
            [
                *run_as,
                str(bin_dir / "initdb"),
                "-D",
                str(root / "data"),
                "-U",
                TEST_POSTGRES_USER,
                f"--pwfile={password_file}",
                "--auth=scram-sha-256",
                "--encoding=UTF8",
                "--locale=C",
            ],
            check=True,
            stdout=subprocess.DEVNULL,
            timeout=SERVER_BOUND_SECONDS * 3,
        )
        password_file.unlink()
        server = PostgresServer(bin_dir=bin_dir, data_dir=root, port=free_port(), run_as=run_as)
        server.start()
        try:
            yield server
        finally:
            server.stop()
    finally:
        shutil.rmtree(root, ignore_errors=True)


def _server_identity() -> tuple[tuple[str, ...], pwd.struct_passwd | None]:
    """How to run the server programs: as ourselves, or (as root) as the postgres OS user."""
    if os.geteuid() != 0:
        return (), None
    try:
        owner = pwd.getpwnam(POSTGRES_OS_USER)
    except KeyError:
        reason = f"running as root and there is no {POSTGRES_OS_USER!r} OS user to run PostgreSQL"
        if os.environ.get("CI"):
            pytest.fail(reason, pytrace=False)
        pytest.skip(reason)
    return ("runuser", "-u", POSTGRES_OS_USER, "--"), owner


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresServer]:
    """One real PostgreSQL for the whole test session."""
    with postgres_server() as server:
        yield server


@pytest.fixture
def postgres_dsn(postgres: PostgresServer) -> Iterator[str]:
    """The DSN of a fresh, empty database of the session's PostgreSQL (dropped afterwards)."""
    name = postgres.create_database()
    try:
        yield postgres.dsn(name)
    finally:
        postgres.drop_database(name)
