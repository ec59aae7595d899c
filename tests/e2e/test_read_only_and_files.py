"""Reads never create an inventory; files kenv writes are refused in one line, leave no temporary
file, and replace an existing file only with --force; an empty CSV is an error."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import run_kenv
from tests.e2e.cli_errors import assert_one_line_error


def temp_files(*directories: Path) -> list[Path]:
    return [p for d in directories for p in d.iterdir() if p.name.endswith(".tmp") or ".tmp." in p.name]


# -- reads against a SQLite path that does not exist ------------------------------------------------

READS = [
    ["list"],
    ["list", "-o", "json"],
    ["get", "dev"],
    ["history"],
    ["db", "status"],
    ["export-csv"],
    ["kubeconfig", "dev"],
    ["verify", "dev"],
]


@pytest.mark.parametrize("args", READS, ids=" ".join)
def test_a_read_does_not_create_the_inventory(tmp_path: Path, args: list[str]) -> None:
    missing = tmp_path / "nonexistent" / "dir" / "x.db"
    result = run_kenv("--db-url", f"sqlite:///{missing}", *args)
    assert_one_line_error(result, 2, f"the inventory {missing} does not exist")
    assert not (tmp_path / "nonexistent").exists()


def test_a_read_through_the_environment_variable_does_not_create_it_either(tmp_path: Path) -> None:
    missing = tmp_path / "x.db"
    result = run_kenv("list", env={"KENV_DB_URL": f"sqlite:///{missing}"})
    assert_one_line_error(result, 2, "does not exist")
    assert not missing.exists()


def test_backup_of_a_missing_inventory_writes_nothing(tmp_path: Path) -> None:
    missing = tmp_path / "x.db"
    result = run_kenv("--db-url", f"sqlite:///{missing}", "db", "backup", str(tmp_path / "b.json"))
    assert_one_line_error(result, 2, "does not exist")
    assert sorted(p.name for p in tmp_path.iterdir()) == []


def test_config_show_does_not_create_it(tmp_path: Path) -> None:
    missing = tmp_path / "nonexistent" / "x.db"
    assert run_kenv("--db-url", f"sqlite:///{missing}", "config", "show").returncode == 0
    assert not (tmp_path / "nonexistent").exists()


def test_a_write_still_creates_a_named_inventory(tmp_path: Path) -> None:
    path = tmp_path / "new" / "x.db"
    url = f"sqlite:///{path}"
    assert run_kenv("--db-url", url, "register", "dev").returncode == 0
    assert path.is_file()
    listed = run_kenv("--db-url", url, "list", "-o", "json")
    assert [e["name"] for e in json.loads(listed.stdout)] == ["dev"]


def test_the_default_location_is_initialised_on_first_read(isolated: Path) -> None:
    result = run_kenv("list", "-o", "json")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == []
    assert (isolated / "data" / "inventory.db").is_file() or list(isolated.rglob("inventory.db"))


# -- files kenv writes -------------------------------------------------------------------------------


@pytest.fixture(params=["export-csv", "backup"])
def writer(request: pytest.FixtureRequest) -> list[str]:
    assert run_kenv("register", "dev").returncode == 0
    return ["export-csv"] if request.param == "export-csv" else ["db", "backup"]


def test_a_directory_target_is_refused(writer: list[str], tmp_path: Path) -> None:
    before = sorted(tmp_path.iterdir())
    assert_one_line_error(run_kenv(*writer, str(tmp_path)), 2, "is a directory")
    assert sorted(tmp_path.iterdir()) == before
    assert temp_files(tmp_path, tmp_path.parent) == []


@pytest.mark.parametrize("target", ["/proc/kenv-out", "/proc", "/sys/kernel/kenv-out"])
def test_a_place_that_takes_no_files_is_refused(writer: list[str], target: str) -> None:
    assert_one_line_error(run_kenv(*writer, target), 2, f"cannot write {target}")
    assert not Path("/.tmp.tmp").exists()


def test_a_missing_directory_is_refused(writer: list[str], tmp_path: Path) -> None:
    assert_one_line_error(run_kenv(*writer, str(tmp_path / "no" / "out")), 2, "does not exist")
    assert not (tmp_path / "no").exists()


def test_an_existing_file_is_replaced_only_with_force(writer: list[str], tmp_path: Path) -> None:
    target = tmp_path / "out"
    target.write_text("keep me\n")
    assert_one_line_error(run_kenv(*writer, str(target)), 2, "already exists")
    assert target.read_text() == "keep me\n"
    result = run_kenv(*writer, str(target), "--force")
    assert result.returncode == 0, result.stderr
    assert "dev" in target.read_text()
    assert temp_files(tmp_path) == []


# -- an empty CSV ------------------------------------------------------------------------------------


HEADER = "env,provider,node_port,pf_port,register_portainer,haproxy_route,http_port,https_port,cluster_subnet\n"


@pytest.mark.parametrize("text", ["", "\n\n", "# a comment\n", HEADER], ids=["empty", "blank", "comment", "header"])
def test_an_empty_csv_is_an_error(tmp_path: Path, text: str) -> None:
    source = tmp_path / "environments.csv"
    source.write_text(text)
    assert_one_line_error(run_kenv("import-csv", str(source)), 2, "holds no environment rows")
    history = run_kenv("history", "-o", "json")
    assert history.returncode == 0, history.stderr
    assert json.loads(history.stdout) == []


def test_an_empty_csv_on_stdin_is_an_error() -> None:
    assert_one_line_error(run_kenv("import-csv", "-", input_text=""), 2, "stdin holds no environment rows")
