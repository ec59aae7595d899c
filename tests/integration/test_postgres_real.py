"""The operations against a real PostgreSQL (Debian's server package): a server started from the
RENDERED postgresql.conf and pg_hba.conf, a base backup through `kenv postgres backup --local`,
point-in-time recovery that keeps exactly the rows written before the target time, status under
pgbench load, and the one-line refusals (server down, wrong password, not a backup directory,
a time before the oldest backup or in the future, a data directory that is not empty).

PostgreSQL refuses to run as root: when the tests run as root, the servers run as an
unprivileged user (`kenvpg`, made by .ci/install-system-packages, or here when missing) that
owns their directories, and kenv gets `--run-as`.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import run_kenv
from tests.integration.pg_local import as_user, debian_bin, ensure_user, own, psql, run_as
from tests.netutil import free_port

pytestmark = pytest.mark.postgres

PASSWORD = "kenv-test-S3cret"  # noqa: S105 - a throwaway test server's password


@dataclass
class Server:
    bin_dir: Path
    base: Path
    data: Path
    archive: Path
    port: int

    @property
    def url(self) -> str:
        return f"postgresql://postgres:{PASSWORD}@127.0.0.1:{self.port}/postgres"

    def psql(self, sql: str, url: str | None = None) -> str:
        return psql(self.bin_dir, url or self.url, sql, timeout=60)

    def ctl(self, *args: str, data: Path | None = None) -> subprocess.CompletedProcess[str]:
        argv = [*as_user(), str(self.bin_dir / "pg_ctl"), "-D", str(data or self.data), *args]
        return subprocess.run(argv, capture_output=True, text=True, timeout=120, check=False)


@pytest.fixture(scope="module")
def server() -> Iterator[Server]:
    bin_dir = debian_bin("pg_ctl", "pgbench")
    if bin_dir is None:
        pytest.skip("needs PostgreSQL server programs with pgbench (apt-get install postgresql postgresql-contrib)")
    ensure_user()
    from kenv.platform.postgres.params import Params
    from kenv.platform.postgres.render import render_pg_hba, render_postgresql_conf

    # A short path: the Unix socket's path must stay under 107 bytes.
    base = Path(tempfile.mkdtemp(prefix="kpg"))
    base.chmod(0o755)
    data, archive, sockets = base / "data", base / "archive", base / "s"
    for directory in (archive, sockets):
        directory.mkdir()
        own(directory)
    own(base)
    password_file = base / "pw"
    password_file.write_text(PASSWORD + "\n")
    own(password_file)
    initdb = [str(bin_dir / "initdb"), "-D", str(data), "-U", "postgres", f"--pwfile={password_file}", "-E", "UTF8"]
    done = subprocess.run([*as_user(), *initdb], capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    version = int(bin_dir.parent.name)
    params = Params(version=version, archive_dir=str(archive), socket_dir=str(sockets))
    port = free_port()
    # The rendered files as they are, the port aside (the pod's 5432 may be taken here).
    conf = render_postgresql_conf(params).replace("\nport = 5432\n", f"\nport = {port}\n")
    assert f"port = {port}" in conf
    (data / "postgresql.conf").write_text(conf)
    (data / "pg_hba.conf").write_text(render_pg_hba(params))
    for name in ("postgresql.conf", "pg_hba.conf"):
        own(data / name)
    srv = Server(bin_dir, base, data, archive, port)
    started = srv.ctl("start", "-w", "-t", "60", "-l", str(base / "server.log"))
    if started.returncode != 0:
        log = (base / "server.log").read_text() if (base / "server.log").exists() else ""
        pytest.fail(f"the server did not start with the rendered configuration: {started.stderr} {log[-800:]}")
    try:
        yield srv
    finally:
        srv.ctl("stop", "-m", "immediate")
        shutil.rmtree(base, ignore_errors=True)


def kenv_json(*args: str, timeout: float = 300) -> Any:
    result = run_kenv(*args, "-o", "json", timeout=timeout)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_rendered_configuration_is_what_runs(server: Server) -> None:
    assert server.psql("show archive_mode") == "on"
    assert server.psql("show password_encryption") == "scram-sha-256"
    assert server.psql("show shared_preload_libraries") == "pg_stat_statements"


def test_backup_then_point_in_time_restore_keeps_exactly_the_earlier_rows(server: Server, tmp_path: Path) -> None:
    backups = server.base / "backups"
    server.psql("CREATE TABLE IF NOT EXISTS pitr(id int primary key, at timestamptz default clock_timestamp())")
    taken = kenv_json(
        "postgres", "backup", "--local", server.url, "--bin-dir", str(server.bin_dir), "--backup-dir", str(backups)
    )
    assert isinstance(taken, dict)
    backup = taken["backup"]
    assert isinstance(backup, dict)
    assert backup["verified"] is True
    assert backup["start_lsn"] and backup["end_lsn"]
    assert (backups / str(backup["id"]) / "backup_manifest").exists()
    listed = kenv_json(
        "postgres", "backups", "--local", server.url, "--bin-dir", str(server.bin_dir), "--backup-dir", str(backups)
    )
    assert [b["id"] for b in listed if isinstance(b, dict)] == [backup["id"]]
    table = run_kenv(
        "postgres", "backups", "--local", server.url, "--bin-dir", str(server.bin_dir), "--backup-dir", str(backups)
    )
    assert table.returncode == 0 and str(backup["id"]) in table.stdout and "VERIFIED" in table.stdout

    time.sleep(0.2)
    server.psql("INSERT INTO pitr(id) VALUES (1), (2), (3)")
    time.sleep(0.3)
    target = server.psql("SELECT now()")
    time.sleep(0.3)
    server.psql("INSERT INTO pitr(id) VALUES (4), (5)")
    server.psql("SELECT pg_switch_wal()")  # a statement of its own: the commit above is in the segment
    _wait_archived(server)

    restored = server.base / "restored"
    port = free_port()
    answer = kenv_json(
        "postgres", "restore", "--to-time", target, "--backup-dir", str(backups), "--archive-dir", str(server.archive),
        "--data-dir", str(restored), "--port", str(port), "--local", server.url, "--bin-dir", str(server.bin_dir),
        *run_as(),
    )  # fmt: skip
    try:
        assert isinstance(answer, dict)
        url = f"postgresql://postgres:{PASSWORD}@127.0.0.1:{port}/postgres"
        assert server.psql("SELECT string_agg(id::text, ',' ORDER BY id) FROM pitr", url) == "1,2,3"
        assert server.psql("SELECT pg_is_in_recovery()", url) == "f"  # promoted
        assert answer["backup"] == backup["id"]
        assert answer["timeline"] == 2
        reached = datetime.fromisoformat(str(answer["reached_time"]))
        stopped = datetime.fromisoformat(str(answer["stopped_before"]))
        wanted = datetime.fromisoformat(target)
        assert reached <= wanted < stopped
        assert "***" in str(answer["url"]) and PASSWORD not in json.dumps(answer)
    finally:
        server.ctl("stop", "-m", "fast", data=restored)
    # The source is untouched and still has every row.
    assert server.psql("SELECT count(*) FROM pitr") == "5"


def _wait_archived(server: Server) -> None:
    current = server.psql("SELECT pg_walfile_name(pg_current_wal_lsn())")
    for _ in range(100):
        last = server.psql("SELECT coalesce(last_archived_wal, '') FROM pg_stat_archiver")
        if last and last[:24] >= _previous(current):
            return
        time.sleep(0.1)
    pytest.fail("the WAL segment was not archived in 10s")


def _previous(segment: str) -> str:
    return f"{segment[:16]}{int(segment[16:], 16) - 1:08X}"


def test_restore_refusals_are_one_line_and_change_nothing(server: Server) -> None:
    backups = server.base / "backups-refusals"
    kenv_json(
        "postgres", "backup", "--local", server.url, "--bin-dir", str(server.bin_dir), "--backup-dir", str(backups)
    )
    index = json.loads((backups / "kenv-backups.json").read_text())
    finished = datetime.fromisoformat(index["backups"][0]["finished_at"].replace("Z", "+00:00"))
    busy = server.base / "busy"
    busy.mkdir(exist_ok=True)
    (busy / "PG_VERSION").write_text("15\n")
    fresh = server.base / "never-made"
    common = ["--archive-dir", str(server.archive), "--port", str(free_port()), "--bin-dir", str(server.bin_dir)]
    common += run_as()
    not_backups = server.base / "not-backups"
    not_backups.mkdir(exist_ok=True)
    (not_backups / "notes.txt").write_text("hello")
    now = datetime.now(UTC)
    cases = {  # what the one line says: (time, backup directory, data directory)
        "in the future": (now + timedelta(hours=1), backups, fresh),
        "before the oldest backup ended": (finished - timedelta(hours=1), backups, fresh),
        "is not empty": (now, backups, busy),
        "is not a backup directory": (now, not_backups, fresh),
    }
    for expected, (when, backup_dir, data_dir) in cases.items():
        args = ["--to-time", when.isoformat(), "--backup-dir", str(backup_dir), "--data-dir", str(data_dir)]
        result = run_kenv("postgres", "restore", *args, *common)
        assert result.returncode == 2, (expected, result.stderr)
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1 and expected in lines[0], (expected, result.stderr)
        assert "Traceback" not in result.stderr
    assert not fresh.exists()
    assert sorted(p.name for p in busy.iterdir()) == ["PG_VERSION"]


def test_backup_refusals(server: Server, tmp_path: Path) -> None:
    wrong = server.url.replace(PASSWORD, "not-the-password")
    result = run_kenv(
        "postgres", "backup", "--local", wrong, "--bin-dir", str(server.bin_dir), "--backup-dir", str(tmp_path / "b")
    )
    assert result.returncode == 2, result.stderr
    assert "password is wrong" in result.stderr and len(result.stderr.strip().splitlines()) == 1
    assert "not-the-password" not in result.stderr
    assert not (tmp_path / "b").exists()

    down = f"postgresql://postgres:{PASSWORD}@127.0.0.1:{free_port()}/postgres"
    result = run_kenv("postgres", "status", "--local", down, "--bin-dir", str(server.bin_dir))
    assert result.returncode == 1, result.stderr
    assert "not running" in result.stderr and len(result.stderr.strip().splitlines()) == 1
    assert PASSWORD not in result.stderr

    not_backups = tmp_path / "nb"
    not_backups.mkdir()
    (not_backups / "x").write_text("x")
    result = run_kenv(
        "postgres", "backup", "--local", server.url, "--bin-dir", str(server.bin_dir), "--backup-dir", str(not_backups)
    )
    assert result.returncode == 2 and "is not a backup directory" in result.stderr
    assert sorted(p.name for p in not_backups.iterdir()) == ["x"]


def test_status_under_pgbench_load(server: Server) -> None:
    pgbench = [str(server.bin_dir / "pgbench"), "-d", server.url]
    init = subprocess.run([*pgbench, "-i", "-s", "1", "-q"], capture_output=True, text=True, timeout=120, check=False)
    assert init.returncode == 0, init.stderr
    server.psql("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
    load = subprocess.Popen(
        [*pgbench, "-c", "4", "-T", "5"], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
    )
    try:
        time.sleep(1.5)
        status = kenv_json("postgres", "status", "--local", server.url, "--bin-dir", str(server.bin_dir))
    finally:
        _, errors = load.communicate(timeout=60)
    assert load.returncode == 0, errors
    assert isinstance(status, dict)
    from kenv.platform.postgres.ops_status import STATUS_JSON_KEYS

    assert tuple(status) == STATUS_JSON_KEYS
    connections = status["connections"]
    assert isinstance(connections, dict)
    assert connections["used"] > 1
    assert connections["max"] == 200
    archiving = status["archiving"]
    assert isinstance(archiving, dict)
    assert archiving["mode"] == "on" and archiving["archived_count"] >= 1 and archiving["failed_count"] == 0
    slowest = status["slowest_queries"]
    assert isinstance(slowest, dict)
    assert slowest["available"] is True and slowest["queries"]
    database, volume = status["database"], status["volume"]
    assert isinstance(database, dict) and isinstance(volume, dict)
    assert database["size_bytes"] > 1_000_000
    assert volume["path"] == str(server.data) and volume["size_bytes"] > volume["used_bytes"] > 0
    assert 0 < status["cache_hit_ratio"] <= 1
    table = run_kenv("postgres", "status", "--local", server.url, "--bin-dir", str(server.bin_dir))
    assert table.returncode == 0, table.stderr
    assert "of 200" in table.stdout and "archiving:     mode on" in table.stdout and PASSWORD not in table.stdout


def test_retention_removes_the_older_backup_and_keeps_the_index_true(server: Server) -> None:
    backups = server.base / "backups-retention"
    base = ["postgres", "backup", "--local", server.url, "--bin-dir", str(server.bin_dir), "--backup-dir", str(backups)]
    first = kenv_json(*base)["backup"]["id"]
    time.sleep(1.1)  # ids are to the second
    second = kenv_json(*base, "--keep", "1")
    assert second["removed"] == [first]
    assert second["wal_needed_from"] == second["backup"]["wal_start_file"]
    assert not (backups / first).exists()
    assert sorted(p.name for p in backups.iterdir()) == [second["backup"]["id"], "kenv-backups.json"]
    index = json.loads((backups / "kenv-backups.json").read_text())
    assert [b["id"] for b in index["backups"]] == [second["backup"]["id"]]


def test_a_recovery_the_archive_cannot_finish_fails_and_leaves_nothing(server: Server) -> None:
    backups = server.base / "backups-short"
    kenv_json(
        "postgres", "backup", "--local", server.url, "--bin-dir", str(server.bin_dir), "--backup-dir", str(backups)
    )
    server.psql("CREATE TABLE IF NOT EXISTS unarchived(id int)")
    server.psql("INSERT INTO unarchived VALUES (1)")
    target = server.psql("SELECT now()")  # no WAL switch: nothing after this commit reaches the archive
    restored = server.base / "restored-short"
    result = run_kenv(
        "postgres", "restore", "--to-time", target, "--backup-dir", str(backups), "--archive-dir", str(server.archive),
        "--data-dir", str(restored), "--port", str(free_port()), "--local", server.url,
        "--bin-dir", str(server.bin_dir), *run_as(),
    )  # fmt: skip
    assert result.returncode == 1, result.stderr
    errors = [line for line in result.stderr.splitlines() if not line.startswith("postgres: ")]  # progress notes
    assert len(errors) == 1, errors
    assert "recovery ended before configured recovery target was reached" in errors[0]
    assert not restored.exists()


def test_psql_passes_its_arguments_and_exit_code_through(server: Server) -> None:
    base = ["postgres", "psql", "--local", server.url, "--bin-dir", str(server.bin_dir), "--"]
    result = run_kenv(*base, "-XAt", "-c", "SELECT 40 + 2")
    assert (result.returncode, result.stdout.strip()) == (0, "42"), result.stderr
    failed = run_kenv(*base, "-X", "-v", "ON_ERROR_STOP=1", "-c", "SELECT * FROM no_such_table")
    assert failed.returncode == 1 and 'relation "no_such_table" does not exist' in failed.stderr
