"""`kenv postgres backup|backups|restore|status|psql|port-forward` as a subprocess: refusals are
one line with exit 2 before anything runs, dry runs print the exact command lines (passwords
masked), and the help documents the JSON keys. The operations against a real server are in
tests/integration/test_postgres_real.py."""

from __future__ import annotations

import re
import shlex
import subprocess
from pathlib import Path

import pytest

from tests.conftest import run_kenv


def _one_line_error(result: subprocess.CompletedProcess[str], code: int, text: str) -> None:
    assert result.returncode == code, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, lines
    assert text in lines[0]
    assert "Traceback" not in lines[0]


@pytest.mark.parametrize(
    ("args", "text"),
    [
        (["status", "--env", "nosuch"], "environment 'nosuch' has no kubeconfig"),
        (["status", "--env", "a", "--local", "postgresql://x@h/db"], "give either --env or --local"),
        (["backup", "--local", "mysql://x@h/db", "--bin-dir", "/nonexistent"], "is not a PostgreSQL URL"),
        (["backups", "--local", "postgresql://x@h/db", "--bin-dir", "/nonexistent"], "holds no psql"),
        (
            ["restore", "--to-time", "yesterday", "--backup-dir", "/b", "--archive-dir", "/a", "--data-dir", "/d"],
            "'yesterday' is not a time",
        ),
        (
            ["restore", "--to-time", "2999-01-01T00:00:00Z", "--backup-dir", "/b", "--archive-dir", "/a"],
            "is in the future",
        ),
        (["port-forward", "--port", "70000"], "is not a TCP port"),
    ],
)
def test_refusals_are_one_line_with_exit_2(args: list[str], text: str) -> None:
    if args[0] == "restore" and "--data-dir" not in args:
        args = [*args, "--data-dir", "/d", "--port", "5433"]
    elif args[0] == "restore":
        args = [*args, "--port", "5433"]
    _one_line_error(run_kenv("postgres", *args), 2, text)


def test_psql_dry_run_prints_the_command_without_the_password(tmp_path: Path) -> None:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "psql").write_text("")
    url = "postgresql://postgres:S3cret@localhost:5432/postgres"
    result = run_kenv(
        "postgres", "psql", "--local", url, "--bin-dir", str(bin_dir), "--dry-run", "--", "-c", "select 1"
    )
    assert result.returncode == 0, result.stderr
    assert shlex.split(result.stdout.strip()) == [
        f"{bin_dir}/psql",
        "-d",
        "postgresql://postgres@localhost:5432/postgres",  # the password travels in PGPASSWORD
        "-c",
        "select 1",
    ]
    assert "S3cret" not in result.stdout + result.stderr


def test_port_forward_dry_run_names_the_service_and_prints_the_url(isolated: Path) -> None:
    missing = run_kenv("postgres", "port-forward", "--env", "devops", "--dry-run")
    match = re.search(r"\((/[^)]+devops\.yaml)\)", missing.stderr)
    assert missing.returncode == 2 and match, missing.stderr
    kubeconfig = Path(match.group(1))
    kubeconfig.parent.mkdir(parents=True, exist_ok=True)
    kubeconfig.write_text("apiVersion: v1\nkind: Config\n")
    result = run_kenv("postgres", "port-forward", "--port", "15432", "--dry-run")
    assert result.returncode == 0, result.stderr
    first, plan = result.stdout.strip().splitlines()
    assert first.startswith("postgresql://postgres@localhost:15432/postgres")
    assert shlex.split(plan) == [
        "kubectl",
        "--kubeconfig",
        str(kubeconfig),
        "port-forward",
        "-n",
        "infra",
        "svc/postgres",
        "15432:5432",
    ]


def test_status_help_documents_the_json_keys() -> None:
    from kenv.platform.postgres.ops_status import ARCHIVING_KEYS, STATUS_JSON_KEYS

    result = run_kenv("postgres", "status", "--help")
    assert result.returncode == 0
    for key in (*STATUS_JSON_KEYS, *ARCHIVING_KEYS):
        assert key in result.stdout, key
    backups_help = run_kenv("postgres", "backups", "--help").stdout
    from kenv.platform.postgres.ops_backup import BACKUP_JSON_KEYS

    assert all(key in backups_help for key in BACKUP_JSON_KEYS)
