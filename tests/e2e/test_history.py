"""`kenv history`: every command that changes environments leaves who, when, what and how it
ended, failures included; dry runs and refused input (nothing changed) leave nothing."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.lifecycle_support import Fleet


@pytest.fixture
def fleet(isolated: Path, tmp_path: Path) -> Iterator[Fleet]:
    world = Fleet(isolated, tmp_path)
    yield world
    world.kill_fakes()


def history(fleet: Fleet, *args: str) -> list[dict[str, object]]:
    """Oldest first."""
    return list(reversed(json.loads(fleet.ok("history", *args, "-o", "json"))))


def test_lifecycle_commands_are_recorded_with_how_they_ended(fleet: Fleet) -> None:
    fleet.ok("create", "dev", "--subnet", "none")
    fleet.ok("stop", "dev")
    fleet.ok("start", "dev")
    failed = fleet.run("create", "qa", "--subnet", "none", "--timeout", "2s", KENV_FAKE_FAIL="kubectl:*:k3d-qa")
    assert failed.returncode == 1
    fleet.ok("delete", "dev")
    ops = [(o["environment"], o["operation"], o["status"]) for o in history(fleet)]
    assert ops == [
        ("dev", "register", "succeeded"),
        ("dev", "create", "succeeded"),
        ("dev", "stop", "succeeded"),
        ("dev", "start", "succeeded"),
        ("qa", "register", "succeeded"),
        ("qa", "create", "failed"),
        ("dev", "unregister", "succeeded"),  # the record's removal, inside the delete
        ("dev", "delete", "succeeded"),
    ]
    qa = history(fleet, "qa")[-1]
    assert "ready" in str(qa["error"]) and qa["finished_at"] and "@" in str(qa["actor"])
    assert "steps: record, cluster, kubeconfig, ready, running" in str(history(fleet, "dev")[1]["detail"])


def test_dry_runs_and_refused_input_are_not_recorded(fleet: Fleet) -> None:
    fleet.ok("register", "dev", "--subnet", "none")
    fleet.ok("create", "qa", "--subnet", "none", "--dry-run")
    assert fleet.run("start", "dev").returncode == 2
    assert [o["operation"] for o in history(fleet)] == ["register"]


def test_apply_and_sync_are_recorded(fleet: Fleet, tmp_path: Path) -> None:
    spec = tmp_path / "fleet.yaml"
    spec.write_text("- name: a\n  subnet: none\n- name: b\n  subnet: none\n")
    fleet.ok("apply", "-f", str(spec))
    subprocess.run(["k3d", "cluster", "stop", "a"], env=fleet.env, capture_output=True, check=True)
    subprocess.run(["k3d", "cluster", "delete", "b"], env=fleet.env, capture_output=True, check=True)
    fleet.ok("sync")
    ops = [(o["environment"], o["operation"], o["status"]) for o in history(fleet)]
    assert ops[:2] == [("a", "register", "succeeded"), ("b", "register", "succeeded")]
    # The two creates run at once with --parallel; here one after the other, in file order.
    assert ops[2:] == [
        ("a", "create", "succeeded"),
        ("b", "create", "succeeded"),
        (None, "apply", "succeeded"),
        ("b", "create", "succeeded"),
        (None, "sync", "succeeded"),
    ]
    entries = history(fleet)
    assert "fleet.yaml: created 2/2" in str(entries[4]["detail"])
    assert str(entries[5]["detail"]).startswith("sync: recorded, but no cluster runs")
    assert "a status: record-status" in str(entries[6]["detail"]) and "b missing: create" in str(entries[6]["detail"])


def test_a_failed_apply_is_recorded_as_failed(fleet: Fleet, tmp_path: Path) -> None:
    spec = tmp_path / "fleet.yaml"
    spec.write_text("- name: a\n  subnet: none\n")
    result = fleet.run("apply", "-f", str(spec), "--timeout", "2s", KENV_FAKE_FAIL="kubectl:*:k3d-a")
    assert result.returncode == 1
    assert "apply: 1 environment(s) failed: a" in result.stderr
    last = history(fleet)[-1]
    assert (last["operation"], last["status"]) == ("apply", "failed")


def test_an_import_with_refused_rows_and_a_restore_are_recorded(fleet: Fleet, tmp_path: Path) -> None:
    fleet.ok("register", "dev", "--provider", "kind", "--http-port", "18300")
    csv = tmp_path / "environments.csv"
    csv.write_text(
        "# env,provider,node_port,pf_port,register_portainer,haproxy_route,http_port,https_port\n"
        "qa,kind,30080,19300,true,true,18301,18801\n"
        "clash,kind,30080,19301,true,true,18300,18802\n"  # dev holds 18300
    )
    imported = fleet.run("import-csv", str(csv))
    assert imported.returncode != 0, imported.stdout
    backup = tmp_path / "backup.json"
    fleet.ok("db", "backup", str(backup))
    fleet.ok("db", "restore", str(backup), "--force")
    ops = [(o["operation"], o["status"]) for o in history(fleet)]
    assert ("import", "failed") in ops, "an import that left rows out did not succeed"
    assert ops[-1] == ("restore", "succeeded")
    entry = next(o for o in history(fleet) if o["operation"] == "import")
    assert "1 imported" in str(entry["detail"]) and "row(s) not imported" in str(entry["error"])
