"""Output people can read: what commands print for the small things that used to be said wrong
(null settings, filter defaults, a directory for --config, empty history, delete's progress, a
stopped environment's health, the advice `kenv up` gives under `make run`)."""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import REPO, run_kenv
from tests.e2e.lifecycle_support import Fleet


@pytest.fixture
def fleet(isolated: Path, tmp_path: Path) -> Iterator[Fleet]:
    world = Fleet(isolated, tmp_path)
    yield world
    world.kill_fakes()


def one_line_error(result: subprocess.CompletedProcess[str], code: int) -> str:
    assert result.returncode == code, (result.returncode, result.stdout, result.stderr)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("kenv: error: "), result.stderr
    return lines[0]


def test_config_show_json_has_null_for_unset_settings() -> None:
    result = run_kenv("config", "show", "-o", "json")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["node_cpus"] is None and data["node_memory"] is None
    assert data["subnet_pool"] == "10.200.0.0/16", "networks and port ranges stay strings"
    table = run_kenv("config", "show").stdout
    assert any(line.split()[:2] == ["node_cpus", "-"] for line in table.splitlines()), table


def test_list_provider_is_a_filter_without_a_default() -> None:
    text = " ".join(run_kenv("list", "--help").stdout.split())
    assert "--provider [k3d|kind|minikube|external] Only this provider's environments. [default: all]" in text
    assert "from config" not in text


def test_config_given_a_directory_says_it_is_a_directory(tmp_path: Path) -> None:
    line = one_line_error(run_kenv("--config", str(tmp_path), "config", "show"), 2)
    assert f"config file {tmp_path} is a directory, not a file" in line
    assert "does not exist" not in line


def test_empty_history_says_no_operations() -> None:
    assert run_kenv("history").stdout == "No operations recorded.\n"
    assert json.loads(run_kenv("history", "-o", "json").stdout) == []


def test_make_run_passes_args_to_kenv_up() -> None:
    plan = subprocess.run(
        ["make", "-n", "-C", str(REPO), "run", "ARGS=--skip-preflight --dry-run", "PYTHON=true"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert plan.returncode == 0, plan.stderr
    assert "KENV_RUN_BY='make run' .venv/bin/kenv up --skip-preflight --dry-run" in plan.stdout


@pytest.mark.parametrize(
    ("run_by", "advice"),
    [
        ("make run", "or rerun with `make run ARGS=--skip-preflight` (or `.venv/bin/kenv up --skip-preflight`)"),
        ("", "or rerun with `kenv up --skip-preflight`"),
    ],
)
def test_up_stopped_by_a_host_error_says_how_to_skip_from_where_it_ran(
    fleet: Fleet, tmp_path: Path, run_by: str, advice: str
) -> None:
    bare = tmp_path / "bin"
    bare.mkdir()
    result = fleet.run("up", PATH=f"{bare}:/usr/bin:/bin", KENV_RUN_BY=run_by)
    assert one_line_error(result, 3).endswith(advice)


def test_delete_says_already_gone_and_leaves_no_kind_config_or_lock(fleet: Fleet) -> None:
    data = fleet.home / "data"
    fleet.ok("create", "qa", "--provider", "kind")
    assert (data / "kind" / "qa.yaml").exists() and (data / "locks" / "qa.lock").exists()
    # The cluster is removed behind kenv's back: delete finds it already gone.
    subprocess.run(["kind", "delete", "cluster", "--name", "qa"], env=fleet.env, capture_output=True, check=True)
    deleted = fleet.run("delete", "qa", "-o", "json")
    assert deleted.returncode == 0, deleted.stderr
    assert "cluster: ok (" in deleted.stderr and "— already gone" in deleted.stderr, deleted.stderr
    assert "already there" not in deleted.stderr
    steps = {s["name"]: s for s in json.loads(deleted.stdout)["steps"]}
    assert steps["cluster"]["detail"] == "already gone"
    assert steps["kind-config"]["result"] == "done"
    assert not (data / "kind" / "qa.yaml").exists()
    assert not (data / "locks" / "qa.lock").exists()
    # A delete of what was never there leaves no lock file either.
    fleet.ok("delete", "never")
    assert os.listdir(data / "locks") == []
    # The name can be used again: a new lock file is made.
    fleet.ok("create", "qa", "--provider", "kind")
    assert fleet.clusters()["kind"] == ["qa"]
    fleet.ok("delete", "qa")


def test_verify_of_a_stopped_environment_says_to_start_it(fleet: Fleet) -> None:
    fleet.ok("create", "dev", "--subnet", "none")
    fleet.ok("stop", "dev")
    result = fleet.run("verify", "dev", "-o", "json")
    assert result.returncode == 3
    (report,) = json.loads(result.stdout)
    assert report["checks"] == [{"check": "api", "ok": False, "detail": "stopped: run `kenv start dev`"}]
    table = fleet.run("verify", "dev")
    assert "stopped: run `kenv start dev`" in table.stdout
    assert "refused" not in table.stdout + table.stderr
    fleet.ok("delete", "dev")
