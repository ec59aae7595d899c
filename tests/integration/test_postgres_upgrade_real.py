"""`kenv postgres upgrade` for real. A major upgrade between two real PostgreSQL versions on this
machine: Debian's server package (15 on Debian 12) as the old server and the pgserver wheel's 16
as the new one.

`kenv postgres upgrade --to 16 --local ...` must leave a second instance that answers as 16 with
exactly the rows (and sequence positions) of the old one, record it as current, keep the old one
running, and remove the old one only at `--cleanup`. A table written to after the dump must be
reported as a mismatch, with both counts, and nothing switched.

PostgreSQL refuses to run as root: when the tests run as root the servers run as `kenvpg` (made
by .ci/install-system-packages, or here when missing), which owns their directories, and kenv
gets `--run-as kenvpg`.

A minor upgrade is a commit to the GitOps repository (real git): the pinned image bumped in every
manifest that runs it, a message naming both versions, nothing else changed, no secret in it.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import run_kenv
from tests.integration.pg_local import as_user, ensure_user, own, psql, run_as, wheel_bin
from tests.netutil import free_port

PASSWORD = "kenv-upgrade-S3cret"  # noqa: S105 - a throwaway test server's password
BIG_ROWS = 200_000


def _version(bin_dir: Path) -> int:
    out = subprocess.run([str(bin_dir / "initdb"), "--version"], capture_output=True, text=True, check=True).stdout
    return int(out.split("(PostgreSQL)")[1].split()[0].split(".")[0])


def _old_bin(newer_than: int) -> Path | None:
    """Debian's server programs of a major older than the wheel's."""
    found = [
        (_version(path), path)
        for path in Path("/usr/lib/postgresql").glob("*/bin")
        if (path / "initdb").exists() and (path / "pg_ctl").exists()
    ]
    older = sorted((v, p) for v, p in found if v < newer_than)
    return older[-1][1] if older else None


def _url(port: int, database: str = "postgres") -> str:
    return f"postgresql://postgres:{PASSWORD}@127.0.0.1:{port}/{database}"


@dataclass
class Versions:
    old_bin: Path
    new_bin: Path
    old_major: int
    new_major: int


@pytest.fixture(scope="module")
def versions() -> Versions:
    new_bin = wheel_bin()
    if new_bin is None:
        pytest.skip("needs the pgserver wheel (pip install -e .[dev])")
    new_major = _version(new_bin)
    old_bin = _old_bin(new_major)
    if old_bin is None:
        pytest.skip(f"needs Debian's PostgreSQL server older than {new_major} (apt-get install postgresql)")
    ensure_user()
    return Versions(old_bin, new_bin, _version(old_bin), new_major)


@dataclass
class OldServer:
    bin_dir: Path
    base: Path
    data: Path
    port: int

    @property
    def url(self) -> str:
        return _url(self.port)

    def ctl(self, *args: str) -> subprocess.CompletedProcess[str]:
        argv = [*as_user(), str(self.bin_dir / "pg_ctl"), "-D", str(self.data), *args]
        return subprocess.run(argv, capture_output=True, text=True, timeout=120, check=False)


SEED = [
    ("postgres", "CREATE ROLE app_owner LOGIN PASSWORD 'app-owner-pw'"),
    ("postgres", "CREATE DATABASE app OWNER app_owner"),
    ("postgres", "CREATE DATABASE shop"),
    (
        "app",
        "CREATE TABLE orders (id bigserial PRIMARY KEY, placed timestamptz NOT NULL DEFAULT now(), note text);"
        "INSERT INTO orders (note) SELECT 'order ' || g FROM generate_series(1, 1000) g;"
        "CREATE SCHEMA audit;"
        'CREATE TABLE audit."Event Log" (at timestamptz, what text);'
        "INSERT INTO audit.\"Event Log\" SELECT now(), 'e' || g FROM generate_series(1, 37) g;"
        "CREATE TABLE empty_one (x int);"
        "CREATE SEQUENCE invoice_numbers START 5000;"
        "SELECT nextval('invoice_numbers') FROM generate_series(1, 12);",
    ),
    (
        "shop",
        "CREATE TABLE items (id int PRIMARY KEY, name text, price numeric(10, 2));"
        f"INSERT INTO items SELECT g, 'item ' || g, g * 0.5 FROM generate_series(1, {BIG_ROWS}) g;",
    ),
]


def _start_old(versions: Versions) -> Iterator[OldServer]:
    # A short path owned by the server's account (a socket path must stay under 107 bytes).
    base = Path(tempfile.mkdtemp(prefix="kup"))
    base.chmod(0o755)
    own(base)
    password_file = base / "pw"
    password_file.write_text(PASSWORD + "\n")
    own(password_file)
    server = OldServer(versions.old_bin, base, base / "old", free_port())
    initdb = subprocess.run(
        [
            *as_user(),
            str(versions.old_bin / "initdb"),
            "-D",
            str(server.data),
            "-U",
            "postgres",
            f"--pwfile={password_file}",
            "--auth=scram-sha-256",
            "--encoding=UTF8",
            "--locale=C.UTF-8",
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert initdb.returncode == 0, initdb.stderr
    options = f"-p {server.port} -c listen_addresses=127.0.0.1 -c unix_socket_directories=''"
    started = server.ctl("-l", str(base / "old.log"), "-o", options, "-w", "start")
    assert started.returncode == 0, started.stderr + (base / "old.log").read_text()
    try:
        for database, sql in SEED:
            psql(versions.old_bin, _url(server.port, database), sql)
        yield server
    finally:
        for data in (server.data, base / "new"):
            if (data / "postmaster.pid").exists():
                subprocess.run(
                    [*as_user(), str(versions.new_bin / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"],
                    capture_output=True,
                    timeout=60,
                    check=False,
                )
        if (server.data / "postmaster.pid").exists():
            server.ctl("-m", "immediate", "stop")
        shutil.rmtree(base, ignore_errors=True)


@pytest.fixture
def old_server(versions: Versions) -> Iterator[OldServer]:
    yield from _start_old(versions)


def _upgrade_args(versions: Versions, server: OldServer, new_bin: Path, port: int) -> list[str]:
    return [
        "postgres",
        "upgrade",
        "--to",
        str(versions.new_major),
        "--local",
        server.url,
        "--bin-dir",
        str(versions.old_bin),
        "--new-bin-dir",
        str(new_bin),
        "--data-dir",
        str(server.base / "new"),
        "--port",
        str(port),
        *run_as(),
    ]


COUNTS = (
    ("app", "SELECT count(*) FROM orders"),
    ("app", 'SELECT count(*) FROM audit."Event Log"'),
    ("app", "SELECT last_value FROM invoice_numbers"),
    ("app", "SELECT last_value FROM orders_id_seq"),
    ("shop", "SELECT count(*), sum(price) FROM items"),
)


@pytest.mark.postgres
@pytest.mark.slow
def test_major_upgrade_moves_every_row_into_a_new_instance_and_cleanup_removes_the_old(
    versions: Versions, old_server: OldServer
) -> None:
    port = free_port()
    before = [psql(versions.old_bin, _url(old_server.port, db), sql) for db, sql in COUNTS]

    planned = run_kenv(*_upgrade_args(versions, old_server, versions.new_bin, port), "--dry-run", timeout=120)
    assert planned.returncode == 3, planned.stderr
    assert "initdb" in planned.stdout
    assert "pg_dumpall" in planned.stdout
    assert PASSWORD not in planned.stdout + planned.stderr
    assert not (old_server.base / "new").exists()

    done = run_kenv(*_upgrade_args(versions, old_server, versions.new_bin, port), "-o", "json", timeout=600)
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["switched"] is True
    assert result["mismatches"] == []
    assert result["from"].startswith(f"{versions.old_major}.")
    assert result["to"].startswith(f"{versions.new_major}.")
    assert result["databases"] == ["app", "postgres", "shop"]
    assert result["tables"] == 4  # orders, audit."Event Log", empty_one, items
    assert result["rows"] == 1000 + 37 + BIG_ROWS
    assert result["new_url"] == f"postgresql://postgres@127.0.0.1:{port}/postgres"
    assert PASSWORD not in done.stdout + done.stderr

    # The new instance is the new major, holds the same data, keeps the roles and their passwords.
    new_url = _url(port)
    assert psql(versions.new_bin, new_url, "SHOW server_version_num").startswith(str(versions.new_major))
    after = [psql(versions.new_bin, _url(port, db), sql) for db, sql in COUNTS]
    assert after == before
    owner_url = f"postgresql://app_owner:app-owner-pw@127.0.0.1:{port}/app"
    assert psql(versions.new_bin, owner_url, "SELECT current_user") == "app_owner"
    # The old one still runs: nothing is removed before --cleanup.
    assert psql(versions.old_bin, old_server.url, "SELECT count(*) FROM pg_database") != ""
    state = json.loads((Path(os.environ["KENV_HOME"]) / "data" / "postgres" / "upgrades.json").read_text())
    record = state[f"127.0.0.1:{old_server.port}"]
    assert record["status"] == "switched"
    assert record["new"]["url"] == result["new_url"]
    assert PASSWORD not in json.dumps(state)

    again = run_kenv(*_upgrade_args(versions, old_server, versions.new_bin, free_port()), timeout=120)
    assert again.returncode == 2
    assert "already upgraded" in again.stderr

    cleaned = run_kenv("postgres", "upgrade", "--cleanup", "--local", old_server.url, *run_as(), timeout=120)
    assert cleaned.returncode == 0, cleaned.stderr
    assert not old_server.data.exists()
    assert psql(versions.new_bin, new_url, "SELECT 1") == "1"


def _dump_then_write(versions: Versions, server: OldServer) -> Path:
    """A copy of the new installation whose pg_dumpall writes one more row into the old server
    after dumping it: the dump misses the row, as it would miss a client still writing."""
    farm = server.base / "bin16"
    farm.mkdir()
    for program in versions.new_bin.iterdir():
        if program.name != "pg_dumpall":
            (farm / program.name).symlink_to(program)
    script = farm / "pg_dumpall"
    script.write_text(
        "#!/bin/sh\n"
        f'"{versions.new_bin}/pg_dumpall" "$@" || exit $?\n'
        f'exec "{versions.new_bin}/psql" -Xq -d "{_url(server.port, "app")}" '
        "-c \"INSERT INTO orders (note) VALUES ('written after the dump')\"\n"
    )
    script.chmod(0o755)
    return farm


@pytest.mark.postgres
@pytest.mark.slow
def test_rows_written_after_the_dump_are_a_mismatch_and_nothing_is_switched(
    versions: Versions, old_server: OldServer
) -> None:
    port = free_port()
    farm = _dump_then_write(versions, old_server)

    failed = run_kenv(*_upgrade_args(versions, old_server, farm, port), timeout=600)

    assert failed.returncode == 1, failed.stderr
    line = failed.stderr.strip().splitlines()[-1]
    assert "table app.public.orders: old 1001 rows, new 1000 rows" in line
    assert "nothing switched" in line
    assert "Traceback" not in failed.stderr
    state = json.loads((Path(os.environ["KENV_HOME"]) / "data" / "postgres" / "upgrades.json").read_text())
    record = state[f"127.0.0.1:{old_server.port}"]
    assert record["status"] == "mismatch"
    assert record["mismatches"] == [
        {"kind": "table", "database": "app", "schema": "public", "name": "orders", "old": 1001, "new": 1000},
        {"kind": "sequence", "database": "app", "schema": "public", "name": "orders_id_seq", "old": 1001, "new": 1000},
    ]
    # The new instance is stopped and kept; the old one keeps serving, and --cleanup refuses.
    assert (old_server.base / "new" / "PG_VERSION").exists()
    assert not (old_server.base / "new" / "postmaster.pid").exists()
    assert psql(versions.old_bin, _url(old_server.port, "app"), "SELECT count(*) FROM orders") == "1001"
    refused = run_kenv("postgres", "upgrade", "--cleanup", "--local", old_server.url, *run_as(), timeout=60)
    assert refused.returncode == 2
    assert "'mismatch', not switched" in refused.stderr
    assert old_server.data.exists()


@pytest.mark.postgres
def test_refusals_change_nothing(versions: Versions, old_server: OldServer) -> None:
    port = free_port()
    base = _upgrade_args(versions, old_server, versions.new_bin, port)

    def refused(*args: str) -> str:
        result = run_kenv(*args, timeout=60)
        assert result.returncode == 2, result.stderr
        assert "Traceback" not in result.stderr
        errors = [line for line in result.stderr.splitlines() if not line.startswith("postgres: ")]  # progress
        assert len(errors) == 1, result.stderr
        return errors[0]

    down_grade = [*base]
    down_grade[down_grade.index("--to") + 1] = str(versions.old_major - 1)
    assert "does not downgrade" in refused(*down_grade)
    same_major = [*base]
    same_major[same_major.index("--to") + 1] = f"{versions.old_major}.99"
    assert "is not a major upgrade" in refused(*same_major)
    wrong_bins = [*base]
    wrong_bins[wrong_bins.index("--to") + 1] = str(versions.new_major + 1)
    assert f"holds PostgreSQL {versions.new_major}" in refused(*wrong_bins)
    taken = [*base]
    taken[taken.index("--port") + 1] = str(old_server.port)
    assert "already answers" in refused(*taken)
    (old_server.base / "new").mkdir()
    (old_server.base / "new" / "something").write_text("x")
    assert "is not empty" in refused(*base)
    if os.geteuid() == 0:
        assert "--run-as" in refused(*base[: base.index("--run-as")])
    assert not (Path(os.environ["KENV_HOME"]) / "data" / "postgres" / "upgrades.json").exists()


# --- the minor upgrade through the GitOps repository ---------------------------------------------


def _git(repo: Path, *args: str) -> str:
    result = subprocess.run(["git", "-C", str(repo), *args], capture_output=True, text=True, timeout=30, check=True)
    return result.stdout


@pytest.fixture
def deployed_16_4(isolated: Path) -> Path:
    """The GitOps repository as a deploy with an older kenv left it: PostgreSQL pinned to 16.4,
    and the admin password kept locally (0600), never in the repository."""
    data = isolated / "data"
    repo = data / "gitops"
    rendered = run_kenv("postgres", "render", "--memory", "4Gi", "-o", str(repo / "postgres"))
    assert rendered.returncode == 0, rendered.stderr
    pinned = rendered.stdout.split("(")[1].split(";")[0]
    assert pinned == "postgres:16.6-bookworm", rendered.stdout
    for manifest in (repo / "postgres").glob("*.yaml"):
        manifest.write_text(manifest.read_text().replace(pinned, "postgres:16.4-bookworm"))
    _git(repo, "init", "-q", "-b", "main")
    _git(repo, "add", "-A")
    _git(repo, "-c", "user.name=kenv", "-c", "user.email=kenv@localhost", "commit", "-q", "-m", "postgres: deploy")
    secret = data / "secrets" / "devops" / "postgres.env"
    secret.parent.mkdir(parents=True)
    secret.write_text("POSTGRES_PASSWORD=never-in-git-8d1f\n")
    secret.chmod(0o600)
    return repo


def test_minor_upgrade_commits_the_bumped_image_and_nothing_else(deployed_16_4: Path) -> None:
    repo = deployed_16_4
    deployed = _git(repo, "rev-parse", "HEAD").strip()

    planned = run_kenv("postgres", "upgrade", "--to", "16.6", "--env", "devops", "--dry-run")
    assert planned.returncode == 3, planned.stderr
    assert "statefulset.yaml: image postgres:16.4-bookworm -> postgres:16.6-bookworm" in planned.stdout
    assert "commit -q -m 'postgres: upgrade 16.4 -> 16.6" in planned.stdout
    assert _git(repo, "rev-parse", "HEAD").strip() == deployed
    assert _git(repo, "status", "--porcelain") == ""

    done = run_kenv("postgres", "upgrade", "--to", "16.6", "--env", "devops", "-o", "json")
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert (result["kind"], result["from"], result["to"], result["switched"]) == ("minor", "16.4", "16.6", True)
    assert _git(repo, "rev-list", "--count", "HEAD").strip() == "2"
    assert _git(repo, "log", "-1", "--format=%s").strip() == "postgres: upgrade 16.4 -> 16.6"
    changed = sorted(_git(repo, "diff", "--name-only", deployed, "HEAD").split())
    assert changed == [
        "postgres/cronjob-base-backup.yaml",
        "postgres/cronjob-wal-retention.yaml",
        "postgres/statefulset.yaml",
    ]
    diff_lines = [
        line
        for line in _git(repo, "diff", "-U0", deployed, "HEAD").splitlines()
        if line[:1] in "+-" and line[:3] not in ("+++", "---")
    ]
    assert {line[1:].strip() for line in diff_lines} == {
        "image: postgres:16.4-bookworm",
        "image: postgres:16.6-bookworm",
    }
    assert len(diff_lines) == 6
    assert "16.4" not in "".join(p.read_text() for p in (repo / "postgres").glob("*.yaml"))
    history = _git(repo, "log", "-p", "--all")
    assert "never-in-git-8d1f" not in history
    assert "kind: Secret" not in history
    assert "memory: 4Gi" in (repo / "postgres" / "statefulset.yaml").read_text()  # the deployed tuning stays

    again = run_kenv("postgres", "upgrade", "--to", "16.6", "--env", "devops")
    assert again.returncode == 0, again.stderr
    assert "nothing to do" in again.stdout
    assert _git(repo, "rev-list", "--count", "HEAD").strip() == "2"


@pytest.mark.parametrize(
    ("to", "says"),
    [
        ("16.2", "kenv does not downgrade"),
        ("17", "environment 'devops' is not in the inventory"),  # a major one runs on the cluster: none here
        ("16.9", "16.9 is not a pinned version"),
        ("16", "already runs PostgreSQL 16"),
    ],
)
def test_minor_upgrade_refusals_leave_the_repository_alone(deployed_16_4: Path, to: str, says: str) -> None:
    before = _git(deployed_16_4, "rev-parse", "HEAD")
    refused = run_kenv("postgres", "upgrade", "--to", to, "--env", "devops")
    assert refused.returncode == 2, refused.stderr
    assert says in refused.stderr
    assert len(refused.stderr.strip().splitlines()) == 1
    assert _git(deployed_16_4, "rev-parse", "HEAD") == before
    assert _git(deployed_16_4, "status", "--porcelain") == ""


def test_minor_upgrade_via_apply_rolls_the_statefulset_in_the_cluster(isolated: Path, tmp_path: Path) -> None:
    """Through the fake k3d and kubectl: the kept copy of what was applied is bumped, applied with
    the environment's kubeconfig, and the rollout waited for."""
    from tests.e2e.lifecycle_support import Fleet

    fleet = Fleet(isolated, tmp_path)
    try:
        fleet.ok("create", "dev", "--subnet", "none")
        fleet.ok("postgres", "deploy", "--env", "dev", "--via", "apply")
        image = f"postgres:16.7-bookworm@sha256:{'5e' * 32}"

        planned = fleet.run(
            "postgres", "upgrade", "--to", "16.7", "--image", image, "--env", "dev", "--via", "apply", "--dry-run"
        )
        assert planned.returncode == 3, planned.stderr
        assert "kubectl" in planned.stdout
        assert "apply -k" in planned.stdout

        done = fleet.run("postgres", "upgrade", "--to", "16.7", "--image", image, "--env", "dev", "--via", "apply")
        assert done.returncode == 0, done.stderr
        assert "PostgreSQL 16.6 -> 16.7" in done.stdout
        state = json.loads((fleet.state / "state.json").read_text())
        statefulsets = [
            o
            for cluster in state["clusters"].values()
            for o in cluster.get("applied") or []
            if o["kind"] == "StatefulSet"
        ]
        assert [s["spec"]["template"]["spec"]["containers"][0]["image"] for s in statefulsets] == [image]
        kept = next(isolated.rglob("platform/dev/postgres/statefulset.yaml")).read_text()
        assert image in kept
        assert "16.6-bookworm" not in kept
    finally:
        fleet.kill_fakes()


def test_a_major_upgrade_of_the_cluster_is_a_plan_that_changes_nothing(deployed_16_4: Path) -> None:
    before = _git(deployed_16_4, "rev-parse", "HEAD")
    planned = run_kenv("postgres", "upgrade", "--to", "17", "--env", "devops", "--dry-run", "-o", "json")
    assert planned.returncode == 3, planned.stderr
    result = json.loads(planned.stdout)
    assert (result["kind"], result["from"], result["to"], result["switched"]) == ("major", "16.4", "17.2", False)
    assert any("move Service infra/postgres's selector to pod postgres-17-0" in step for step in result["plan"])
    assert result["commands"] == []
    assert _git(deployed_16_4, "rev-parse", "HEAD") == before
    assert _git(deployed_16_4, "status", "--porcelain") == ""
