"""Shared fixtures: isolation of every test, a real PostgreSQL server, and the two backends."""

from __future__ import annotations

import itertools
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest

REPO = Path(__file__).resolve().parent.parent
KENV = [sys.executable, "-m", "kenv"]


def docker_reachable() -> bool:
    """Whether a real Docker engine answers (the fakes' `docker` is not on this process's PATH)."""
    if shutil.which("docker") is None:
        return False
    try:
        return subprocess.run(["docker", "info"], capture_output=True, timeout=15, check=False).returncode == 0
    except subprocess.TimeoutExpired:
        return False


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """`-m docker` / `-m postgres` select what needs those servers: tests using a PostgreSQL
    server (directly or as one of the two inventory backends) are marked here, and tests marked
    `docker` skip, saying why, where no engine answers."""
    docker_checked: bool | None = None
    for item in items:
        params = getattr(getattr(item, "callspec", None), "params", {})
        if "postgres_server" in getattr(item, "fixturenames", ()) or "postgres" in params.values():
            item.add_marker(pytest.mark.postgres)
        if item.get_closest_marker("docker") is not None:
            if docker_checked is None:
                docker_checked = docker_reachable()
            if not docker_checked:
                item.add_marker(pytest.mark.skip(reason="needs a Docker engine: none answers `docker info`"))


@pytest.fixture(autouse=True)
def isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Every test gets its own KENV_HOME and a predictable terminal, whatever the host has."""
    home = tmp_path / "kenv-home"
    monkeypatch.setenv("KENV_HOME", str(home))
    monkeypatch.setenv("NO_COLOR", "1")
    monkeypatch.setenv("COLUMNS", "200")
    for variable in list(os.environ):
        if variable.startswith("KENV_") and variable not in ("KENV_HOME", "KENV_TEST_PG_URL"):
            monkeypatch.delenv(variable)
    return home


class PostgresServer:
    """A PostgreSQL server for the test session; each test gets a database of its own."""

    def __init__(self, admin_url: str) -> None:
        self.admin_url = admin_url
        self._counter = itertools.count()

    def new_database_url(self) -> str:
        import psycopg

        name = f"kenv_test_{os.getpid()}_{next(self._counter)}"
        with psycopg.connect(self.admin_url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
            conn.execute(f'CREATE DATABASE "{name}"')
        parts = urlsplit(self.admin_url)
        return urlunsplit(parts._replace(path=f"/{name}"))


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    given = os.environ.get("KENV_TEST_PG_URL")
    if given:
        yield PostgresServer(given)
        return
    import pgserver

    # A short directory: the server's Unix socket path must stay under 107 bytes.
    data_dir = tempfile.mkdtemp(prefix="kenvpg")
    server = pgserver.get_server(data_dir, cleanup_mode="stop")
    try:
        yield PostgresServer(server.get_uri())
    finally:
        server.cleanup()
        shutil.rmtree(data_dir, ignore_errors=True)


@pytest.fixture(params=["sqlite", "postgres"])
def db_url(request: pytest.FixtureRequest, isolated: Path) -> str:
    """The inventory tests run against both backends."""
    if request.param == "sqlite":
        return f"sqlite:///{isolated / 'inventory.db'}"
    server: PostgresServer = request.getfixturevalue("postgres_server")
    return server.new_database_url()


def run_kenv(
    *args: str, env: dict[str, str] | None = None, input_text: str | None = None, timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*KENV, *args],
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        input=input_text,
        timeout=timeout,
        check=False,
    )
