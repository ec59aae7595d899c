"""`kenv bootstrap --move-inventory` end to end: the platform bootstrapped on the provider fakes, a
real PostgreSQL on a loopback address of its own standing in for the platform's Service at its
NodePort (the fake docker reports that address as the devops node's, KENV_FAKE_NODE_ADDRESS), and
the host's real HAProxy (binary runtime) relaying `haproxy_postgres_port` to it.

What it shows: the plan, the failure while nothing answers, the move (copied, verified, db_url in
the config file without a password, the password in a 0600 libpq file), kenv reading from
PostgreSQL afterwards with the SQLite file left in place, the rerun skipped, the resume after a
kill between copy and config write, and the refusal of a target holding other rows."""

from __future__ import annotations

import json
import random
import shutil
import sqlite3
import stat
import subprocess
import tempfile
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from kenv.platform.postgres.manifests import PLATFORM_NODE_PORT
from kenv.platform.postgres.params import Params
from kenv.platform.postgres.render import render_pg_hba
from tests.e2e.lifecycle_support import needs_docker
from tests.e2e.test_bootstrap import Platform, helper_image
from tests.integration.pg_local import as_user, debian_bin, ensure_user, own
from tests.netutil import free_port

__all__ = ["helper_image"]  # the module-scoped fixture, shared

pytestmark = [
    needs_docker,
    pytest.mark.postgres,
    pytest.mark.skipif(shutil.which("haproxy") is None, reason="needs haproxy (apt-get install haproxy)"),
]

UP_TO_POSTGRES = "network,haproxy,devops,storage,argocd,gitops,postgres"


@dataclass
class NodePostgres:
    """A PostgreSQL listening where the platform's NodePort would: <address>:30432."""

    bin_dir: Path
    base: Path
    address: str
    started: bool = False

    def start(self, admin_password: str) -> None:
        data = self.base / "data"
        password_file = self.base / "pw"
        password_file.write_text(admin_password + "\n")
        own(password_file)
        initdb = [str(self.bin_dir / "initdb"), "-D", str(data), "-U", "postgres", f"--pwfile={password_file}"]
        done = subprocess.run([*as_user(), *initdb, "-E", "UTF8"], capture_output=True, text=True, check=False)
        assert done.returncode == 0, done.stderr
        sockets = self.base / "s"
        sockets.mkdir()
        own(sockets)
        (data / "postgresql.conf").write_text(
            f"listen_addresses = '{self.address}'\nport = {PLATFORM_NODE_PORT}\n"
            f"unix_socket_directories = '{sockets}'\npassword_encryption = 'scram-sha-256'\n"
        )
        (data / "pg_hba.conf").write_text(render_pg_hba(Params()))  # the platform's: scram-sha-256 over TCP
        for name in ("postgresql.conf", "pg_hba.conf"):
            own(data / name)
        ctl = [str(self.bin_dir / "pg_ctl"), "-D", str(data), "start", "-w", "-t", "60", "-l", str(self.base / "log")]
        started = subprocess.run([*as_user(), *ctl], capture_output=True, text=True, check=False)
        assert started.returncode == 0, started.stderr + (self.base / "log").read_text()
        self.started = True

    def admin(self, password: str) -> str:
        return f"postgresql://postgres:{password}@{self.address}:{PLATFORM_NODE_PORT}/kenv"

    def stop(self) -> None:
        if self.started:
            ctl = [str(self.bin_dir / "pg_ctl"), "-D", str(self.base / "data"), "stop", "-m", "immediate"]
            subprocess.run([*as_user(), *ctl], capture_output=True, check=False)
        shutil.rmtree(self.base, ignore_errors=True)


@pytest.fixture
def node_postgres() -> Iterator[NodePostgres]:
    """Set up before the platform, so it is stopped after the platform's teardown has run on it."""
    bin_dir = debian_bin("initdb", "pg_ctl")
    if bin_dir is None:
        pytest.skip("needs PostgreSQL server programs (apt-get install postgresql)")
    ensure_user()
    base = Path(tempfile.mkdtemp(prefix="kmv"))  # short: the socket path must stay under 107 bytes
    base.chmod(0o755)
    own(base)
    # A loopback address of its own: the NodePort is fixed, and nothing else listens there.
    address = f"127.{random.randint(100, 250)}.{random.randint(1, 250)}.{random.randint(2, 250)}"  # noqa: S311
    server = NodePostgres(bin_dir, base, address)
    yield server
    server.stop()


@pytest.fixture
def platform(node_postgres: NodePostgres, isolated: Path, tmp_path: Path) -> Iterator[Platform]:
    world = Platform(isolated, tmp_path)
    world.with_gitops_remote()
    world.env.update(
        KENV_FAKE_NODE_ADDRESS=node_postgres.address,
        KENV_HAPROXY_POSTGRES_PORT=str(free_port()),
    )
    yield world
    world.cleanup()


def _step(result: subprocess.CompletedProcess[str], name: str) -> dict[str, str]:
    return next(s for s in json.loads(result.stdout)["steps"] if s["name"] == name)


def _sqlite_names(path: Path) -> list[str]:
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as conn:
        return sorted(row[0] for row in conn.execute("SELECT name FROM environments"))


def test_the_inventory_moves_into_the_platforms_postgresql_through_haproxy(
    node_postgres: NodePostgres, platform: Platform, helper_image: str
) -> None:
    import psycopg

    built = platform.run("bootstrap", "--only", UP_TO_POSTGRES, "--timeout", "60s", "-o", "json", timeout=300)
    assert built.returncode == 0, built.stderr
    data = platform.home / "data"
    config = platform.home / "config.toml"
    sqlite_file = data / "inventory.db"
    port = platform.env["KENV_HAPROXY_POSTGRES_PORT"]
    passfile = data / "secrets" / "devops" / "inventory.pgpass"
    url = f"postgresql://kenv@127.0.0.1:{port}/kenv?passfile={passfile}&sslmode=disable"
    config.write_text('# mine\nbase_domain = "localtest.me"  # kept\n\n[images]\nno_proxy = ["corp.example"]\n')

    # The plan: source, target (no password) and the config file; nothing written.
    dry = platform.run("bootstrap", "--move-inventory", "--dry-run", "-o", "json")
    assert dry.returncode == 3, dry.stderr
    planned = _step(dry, "inventory")
    assert planned["result"] == "planned"
    assert f"from sqlite:///{sqlite_file}" in planned["detail"] and url in planned["detail"]
    assert str(config) in planned["detail"] and "db_url" not in config.read_text()

    # Nothing answers at the NodePort yet: the step names the address and the fix; nothing moved.
    down = platform.run("bootstrap", "--move-inventory", "--timeout", "2s")
    assert down.returncode == 1, down.stderr
    assert f"PostgreSQL does not answer at 127.0.0.1:{port}" in down.stderr
    assert f"{node_postgres.address}:{PLATFORM_NODE_PORT}" in down.stderr and "NodePort" in down.stderr
    assert "Traceback" not in down.stderr and "db_url" not in config.read_text() and not (data / "x").exists()
    live = (data / "haproxy" / "haproxy.cfg").read_text()
    assert f"bind 127.0.0.1:{port}" in live
    assert f"server postgres {node_postgres.address}:{PLATFORM_NODE_PORT} " in live

    admin_password = (data / "secrets" / "devops" / "postgres.env").read_text().strip().partition("=")[2]
    node_postgres.start(admin_password)
    moved = platform.run("bootstrap", "--move-inventory", "-o", "json")
    assert moved.returncode == 0, moved.stderr
    step = _step(moved, "inventory")
    assert step["result"] == "done" and "inventory copied: 1 environment(s)" in step["detail"], step
    report = json.loads(moved.stdout)
    assert report["credentials"]["inventory"] == str(passfile)

    # db_url in the config file, the rest of it kept; the password only in the 0600 file.
    text = config.read_text()
    assert tomllib.loads(text)["db_url"] == url
    assert text.startswith('# mine\nbase_domain = "localtest.me"  # kept\n') and "[images]" in text
    password = passfile.read_text().rstrip("\n").rsplit(":", 1)[1]
    assert password not in text and admin_password not in text and admin_password not in moved.stdout
    assert stat.S_IMODE(config.stat().st_mode) == 0o600 and stat.S_IMODE(passfile.stat().st_mode) == 0o600

    # kenv now reads PostgreSQL, through HAProxy; the SQLite file is still there, as it was.
    status = json.loads(platform.ok("db", "status", "-o", "json"))
    assert status["backend"] == "postgresql" and status["database"] == url and status["environments"] == 1
    assert [e["name"] for e in platform.environments()] == ["devops"] == _sqlite_names(sqlite_file)
    with psycopg.connect(node_postgres.admin(admin_password)) as conn:
        assert conn.execute("SELECT rolsuper, rolcreatedb FROM pg_roles WHERE rolname = 'kenv'").fetchone() == (
            False,
            False,
        )
        assert conn.execute("SELECT name FROM environments").fetchall() == [("devops",)]

    # Done is done.
    again = platform.run("bootstrap", "--move-inventory", "-o", "json")
    assert again.returncode == 0, again.stderr
    assert _step(again, "inventory")["result"] == "skipped"
    assert json.loads(again.stdout)["credentials"]["inventory"] == str(passfile)

    # Killed after the copy, before the config was written: the rerun finds the same rows and
    # finishes (no second copy).
    config.write_text(text.replace(f'db_url = "{url}"\n', ""))
    resumed = platform.run("bootstrap", "--move-inventory", "-o", "json")
    assert resumed.returncode == 0, resumed.stderr
    assert "already there (same environments)" in _step(resumed, "inventory")["detail"]
    assert tomllib.loads(config.read_text())["db_url"] == url

    # A target holding other rows is refused, and the config file keeps pointing where it did.
    config.write_text(text.replace(f'db_url = "{url}"\n', ""))
    with psycopg.connect(node_postgres.admin(admin_password)) as conn:
        conn.execute("UPDATE environments SET k8s_version = 'v1.0.0' WHERE name = 'devops'")
    refused = platform.run("bootstrap", "--move-inventory")
    assert refused.returncode == 2, refused.stderr
    assert "already holds 1 environment(s) that differ" in refused.stderr and "Traceback" not in refused.stderr
    assert "db_url" not in config.read_text()
