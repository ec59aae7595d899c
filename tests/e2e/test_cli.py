"""The CLI as users run it: a subprocess, real databases, exit codes and one-line errors."""

from __future__ import annotations

import ipaddress
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import KENV, run_kenv
from tests.e2e.cli_errors import assert_one_line_error

JSON_KEYS = [
    "name",
    "provider",
    "role",
    "status",
    "desired_state",
    "subnet",
    "http_port",
    "https_port",
    "pf_port",
    "api_port",
    "node_port",
    "servers",
    "agents",
    "labels",
    "last_error",
    "created_at",
    "updated_at",
    "k8s_version",
    "register_portainer",
    "haproxy_route",
    "last_step",
]


def kenv_ok(*args: str, env: dict[str, str] | None = None) -> str:
    result = run_kenv(*args, env=env)
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_version_and_help_with_examples() -> None:
    assert kenv_ok("--version").strip().startswith("kenv 0.")
    text = kenv_ok("--help")
    assert "Examples:" in text
    assert "register" in text
    assert "Exit codes" in text
    assert "Examples:" in kenv_ok("register", "--help")


def test_help_imports_no_database_or_yaml_module() -> None:
    probe = (
        "import sys\nfrom kenv.cli.main import main\n"
        "try:\n    main(['--help'])\nexcept SystemExit:\n    pass\n"
        "heavy = [m for m in ('sqlite3', 'psycopg', 'yaml', 'kenv.inventory.repository') if m in sys.modules]\n"
        "sys.stderr.write(repr(heavy))\n"
    )
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert result.stderr.strip() == "[]"


def test_register_list_get_json_contract() -> None:
    created = json.loads(kenv_ok("register", "dev", "--label", "team=a", "-o", "json"))
    assert list(created) == JSON_KEYS
    assert created["subnet"] == "10.200.0.0/24"
    assert created["labels"] == {"team": "a"}
    kenv_ok("register", "qa", "--provider", "kind")
    listed = json.loads(kenv_ok("list", "-o", "json"))
    assert [e["name"] for e in listed] == ["dev", "qa"]
    assert all(list(e) == JSON_KEYS for e in listed)
    assert json.loads(kenv_ok("get", "dev", "-o", "json")) == listed[0]
    assert "qa" in kenv_ok("list", "-o", "yaml")
    csv_lines = kenv_ok("list", "-o", "csv").splitlines()
    assert csv_lines[0].split(",") == JSON_KEYS
    assert len(csv_lines) == 3
    table = kenv_ok("list")
    assert table.splitlines()[0].split()[:4] == ["NAME", "PROVIDER", "ROLE", "STATUS"]
    assert json.loads(kenv_ok("list", "-o", "json", "--provider", "kind"))[0]["name"] == "qa"
    assert [e["name"] for e in json.loads(kenv_ok("list", "-o", "json", "--label", "team=a"))] == ["dev"]


def test_unregister_frees_ports_and_dry_runs_change_nothing() -> None:
    planned = run_kenv("register", "dev", "--dry-run", "-o", "json")
    assert planned.returncode == 0
    assert "dry-run" in planned.stderr
    assert json.loads(kenv_ok("list", "-o", "json")) == []
    kenv_ok("register", "dev")
    kenv_ok("unregister", "dev", "--dry-run")
    assert len(json.loads(kenv_ok("list", "-o", "json"))) == 1
    kenv_ok("unregister", "dev")
    again = json.loads(kenv_ok("register", "dev2", "-o", "json"))
    assert again["http_port"] == 18000
    history = json.loads(kenv_ok("history", "-o", "json"))
    assert [h["operation"] for h in history] == ["register", "unregister", "register"]


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["register", "Bad_Name"], "not a DNS-1123 label"),
        (["register", "a" * 33], "33 characters long"),
        (["register", "devops"], "reserved for the management cluster"),
        (["register", "x'); DROP TABLE environments;--"], "not a DNS-1123 label"),
        (["register", "dev", "--http-port", "80"], "privileged port"),
        (["register", "dev", "--http-port", "70000"], "out of range"),
        (["register", "dev", "--http-port", "abc"], "not a port number"),
        (["register", "dev", "--http-port", "18100", "--https-port", "18100"], "given twice"),
        (["register", "dev", "--subnet", "10.0.0.300/24"], "not a CIDR"),
        (["register", "dev", "--subnet", "10.200.0.1/24"], "host bits set"),
        (["register", "dev", "--provider", "kind", "--subnet", "10.200.0.0/24"], "kind"),
        (["register", "dev", "--provider", "docker"], "'docker' is not one of"),
        (["register", "dev", "--node-port", "80"], "NodePort range"),
        (["register", "dev", "--label", "novalue"], "has no '='"),
        (["register", "dev", "--bogus"], "No such option"),
        (["get", "ghost"], "not in the inventory"),
        (["list", "-o", "xml"], "'xml' is not one of"),
        (["nosuchcommand"], "No such command"),
        (["--db-url", "mysql://x/y", "list"], "unsupported database URL scheme"),
        (["--db-url", "sqlite://", "list"], "no file path"),
        (["--db-url", "postgresql://u:secret@127.0.0.1:notaport/db", "list"], "invalid port"),
        (["--db-url", "postgresql://u:secret@127.0.0.1:5432", "list"], "names no database"),
        (["import-csv", "/nonexistent.csv"], "does not exist"),
        (["db", "restore", "/nonexistent.json"], "does not exist"),
    ],
)
def test_bad_input_is_one_line_exit_2_and_writes_nothing(args: list[str], fragment: str, isolated: Path) -> None:
    kenv_ok("register", "keep")
    before = kenv_ok("list", "-o", "json")
    result = run_kenv(*args)
    assert_one_line_error(result, 2, fragment)
    assert "secret" not in result.stderr
    assert kenv_ok("list", "-o", "json") == before


def test_taken_values_name_their_holder() -> None:
    kenv_ok("register", "dev", "--http-port", "18100", "--subnet", "10.200.9.0/24")
    assert_one_line_error(run_kenv("register", "qa", "--pf-port", "18100"), 2, "used by environment 'dev' (http_port)")
    assert_one_line_error(run_kenv("register", "qa", "--subnet", "10.200.9.0/25"), 2, "of environment 'dev'")
    assert_one_line_error(run_kenv("register", "dev"), 2, "already exists")


def test_a_database_that_is_down_is_exit_1() -> None:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    result = run_kenv("--db-url", f"postgresql://kenv:hunter2@127.0.0.1:{port}/kenv", "list")
    assert_one_line_error(result, 1, "cannot reach PostgreSQL")
    assert "hunter2" not in result.stderr


def test_a_read_only_postgres_database_is_refused(postgres_server: object) -> None:
    import psycopg

    url = postgres_server.new_database_url()  # type: ignore[attr-defined]
    kenv_ok("--db-url", url, "db", "upgrade")
    from urllib.parse import urlsplit

    name = urlsplit(url).path.lstrip("/")
    with psycopg.connect(postgres_server.admin_url, autocommit=True) as conn:  # type: ignore[attr-defined]
        conn.execute(f'ALTER DATABASE "{name}" SET default_transaction_read_only = on')
    assert_one_line_error(run_kenv("--db-url", url, "register", "dev"), 2, "read-only")
    assert kenv_ok("--db-url", url, "list", "-o", "json").strip() == "[]"


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes read-only files; the PostgreSQL test covers read-only")
def test_a_read_only_sqlite_file_is_refused(isolated: Path) -> None:
    kenv_ok("db", "upgrade")
    data = isolated / "data"
    for path in data.iterdir():
        path.chmod(0o444)
    data.chmod(0o555)
    try:
        assert_one_line_error(run_kenv("register", "dev"), 2, "read-only")
    finally:
        data.chmod(0o755)


def test_a_file_that_is_not_a_database_is_refused(tmp_path: Path) -> None:
    junk = tmp_path / "junk.db"
    junk.write_bytes(b"this is not sqlite" * 100)
    assert_one_line_error(run_kenv("--db-url", f"sqlite:///{junk}", "list"), 2, "not a kenv SQLite database")


def test_config_show_masks_the_password(isolated: Path) -> None:
    shown = kenv_ok("--db-url", "postgresql://kenv:s3cret@db.example:5432/kenv", "config", "show", "-o", "json")
    data = json.loads(shown)
    assert data["db_url"] == "postgresql://kenv:***@db.example:5432/kenv"
    assert data["sources"]["db_url"] == "flag"
    assert "s3cret" not in shown
    assert kenv_ok("config", "path").strip() == str(isolated / "config.toml")


def test_db_upgrade_initialises_an_empty_inventory() -> None:
    assert "upgraded" in kenv_ok("db", "upgrade")
    assert "nothing to apply" in kenv_ok("db", "upgrade")
    assert json.loads(kenv_ok("db", "status", "-o", "json"))["schema_version"] == 2


def test_completion_scripts() -> None:
    assert "_KENV_COMPLETE" in kenv_ok("completion", "bash")
    assert "compdef" in kenv_ok("completion", "zsh")
    kenv_ok("register", "dev")
    env = {"_KENV_COMPLETE": "bash_complete", "COMP_WORDS": "kenv get d", "COMP_CWORD": "2"}
    assert "dev" in kenv_ok(env=env)


CSV = """\
# env,provider,node_port,pf_port,register_portainer,haproxy_route,http_port,https_port,cluster_subnet
devops,k3d,30800,19000,false,false,23800,23843,
dev,k3d,30080,19001,true,true,18090,18443,10.101.0.0/16
dev-a,kind,30081,19011,true,true,18093,18446,
"""


def test_csv_round_trip_through_the_cli(tmp_path: Path) -> None:
    source = tmp_path / "environments.csv"
    source.write_text(CSV)
    summary = json.loads(kenv_ok("import-csv", str(source), "-o", "json"))
    assert (summary["imported"], summary["skipped"]) == (2, 1)
    exported = tmp_path / "out.csv"
    kenv_ok("export-csv", str(exported))
    assert json.loads(kenv_ok("import-csv", str(exported), "-o", "json"))["skipped"] == 2
    source.write_text(CSV.replace("18093", "18094"))
    conflict = run_kenv("import-csv", str(source))
    assert conflict.returncode == 3
    assert "conflicts 1" in conflict.stdout
    assert run_kenv("import-csv", str(source), "--update").returncode == 0


def test_an_unparseable_csv_changes_nothing(tmp_path: Path) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text(CSV + "broken,k3d,30080,notaport,true,true,1,2,\n")
    assert_one_line_error(run_kenv("import-csv", str(bad)), 2, "bad.csv:5: pf_port 'notaport'")
    assert json.loads(kenv_ok("list", "-o", "json")) == []
    binary = tmp_path / "bin.csv"
    binary.write_bytes(b"\xff\xfe\x00garbage")
    assert_one_line_error(run_kenv("import-csv", str(binary)), 2, "not UTF-8")


def test_db_copy_backup_restore_through_the_cli(tmp_path: Path, postgres_server: object) -> None:
    kenv_ok("register", "dev")
    kenv_ok("register", "qa", "--provider", "kind")
    pg = postgres_server.new_database_url()  # type: ignore[attr-defined]
    copied = json.loads(kenv_ok("db", "copy", "--to", pg, "-o", "json"))
    assert copied["verified"] is True
    assert copied["environments"] == 2
    assert json.loads(kenv_ok("--db-url", pg, "list", "-o", "json")) == json.loads(kenv_ok("list", "-o", "json"))
    assert_one_line_error(run_kenv("db", "copy", "--to", pg), 2, "already holds 2")
    own = json.loads(kenv_ok("db", "status", "-o", "json"))["database"]
    assert_one_line_error(run_kenv("db", "copy", "--to", own), 2, "the target is the inventory itself")
    backup = tmp_path / "inv.json"
    kenv_ok("db", "backup", str(backup))
    assert_one_line_error(run_kenv("db", "restore", str(backup)), 2, "--force")
    kenv_ok("db", "restore", str(backup), "--force")
    status = json.loads(kenv_ok("db", "status", "-o", "json"))
    assert status["environments"] == 2
    assert status["up_to_date"] is True
    backup.write_text(backup.read_text()[:-20])
    assert_one_line_error(run_kenv("db", "restore", str(backup), "--force"), 2, "not valid JSON")


# -- many kenv processes at once ---------------------------------------------------------------------

CONCURRENT = 24


@pytest.mark.slow
@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
def test_concurrent_registrations_never_double_allocate(
    backend: str, isolated: Path, request: pytest.FixtureRequest
) -> None:
    if backend == "postgres":
        url = request.getfixturevalue("postgres_server").new_database_url()
    else:
        url = f"sqlite:///{isolated / 'concurrent.db'}"
    env = {**os.environ, "KENV_DB_URL": url}
    procs = [
        subprocess.Popen(
            [*KENV, "register", f"env{i:02d}", "-o", "json"] + (["--provider", "kind"] if i % 3 == 0 else []),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        for i in range(CONCURRENT)
    ]
    results = [(p.wait(timeout=120), *p.communicate()) for p in procs]
    failures = [(code, err) for code, _, err in results if code != 0]
    assert not failures, failures
    assert not any("locked" in err for _, _, err in results)
    envs = json.loads(
        subprocess.run([*KENV, "list", "-o", "json"], env=env, capture_output=True, text=True, check=True).stdout
    )
    assert len(envs) == CONCURRENT
    ports = [e[k] for e in envs for k in ("http_port", "https_port", "pf_port", "api_port")]
    assert len(ports) == len(set(ports)) == CONCURRENT * 4
    subnets = [ipaddress.IPv4Network(e["subnet"]) for e in envs if e["subnet"]]
    assert len(subnets) == CONCURRENT - CONCURRENT // 3
    assert not any(a.overlaps(b) for i, a in enumerate(subnets) for b in subnets[i + 1 :])


def test_a_database_of_something_else_is_refused_and_left_untouched(tmp_path: Path) -> None:
    import sqlite3

    legacy = tmp_path / "kindler.db"
    with sqlite3.connect(legacy) as conn:
        conn.execute("CREATE TABLE clusters (name TEXT PRIMARY KEY)")
    result = run_kenv("--db-url", f"sqlite:///{legacy}", "list")
    assert_one_line_error(result, 2, "holds tables that are not a kenv inventory")
    assert "import-legacy" in result.stderr
    with sqlite3.connect(legacy) as conn:
        tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert tables == {"clusters"}
