"""kenv apply as desired state, through the CLI against the fake tools: differences are changed in
place or reported for a recreate, the file is checked whole before anything changes, and the dry
run shows exactly what the real run allocates."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.lifecycle_support import Fleet


@pytest.fixture
def fleet(isolated: Path, tmp_path: Path) -> Iterator[Fleet]:
    world = Fleet(isolated, tmp_path)
    yield world
    world.kill_fakes()


@pytest.fixture
def spec(tmp_path: Path) -> Path:
    return tmp_path / "fleet.yaml"


def test_a_difference_is_changed_in_place_or_reported_until_recreate(fleet: Fleet, spec: Path) -> None:
    spec.write_text("- name: dev\n  subnet: none\n  labels: {team: a}\n")
    fleet.ok("apply", "-f", str(spec))
    before = fleet.env_record("dev")
    assert before is not None and before["labels"] == {"team": "a"}

    spec.write_text("- name: dev\n  subnet: none\n  agents: 1\n  labels: {team: b}\n")
    check = fleet.run("apply", "-f", str(spec), "--dry-run", "-o", "json")
    assert check.returncode == 3, check.stderr
    entry = json.loads(check.stdout)["entries"][0]
    assert entry["action"] == "needs-recreate"
    assert {(c["field"], c["in_place"]) for c in entry["changes"]} == {("agents", False), ("labels", True)}
    assert fleet.env_record("dev")["labels"] == {"team": "a"}, "a dry run changes nothing"  # type: ignore[index]

    kept = fleet.run("apply", "-f", str(spec))
    assert kept.returncode == 3, "still differs: problems found"
    assert "needs recreate" in kept.stdout and "agents 0 -> 1" in kept.stdout and "--recreate" in kept.stderr
    record = fleet.env_record("dev")
    assert record is not None and record["labels"] == {"team": "b"}, "labels change in place"
    assert record["agents"] == 0, "nothing recreated without --recreate"

    planned = fleet.run("apply", "-f", str(spec), "--recreate", "--dry-run", "-o", "json")
    assert planned.returncode == 3
    [entry] = json.loads(planned.stdout)["entries"]
    assert entry["action"] == "recreate" and entry["ports"]["http"] == before["http_port"]
    fleet.ok("apply", "-f", str(spec), "--recreate")
    record = fleet.env_record("dev")
    assert record is not None and record["agents"] == 1 and record["status"] == "running"
    assert record["http_port"] == before["http_port"], "a recreate keeps the ports it held"
    assert record["labels"] == {"team": "b"}
    assert fleet.clusters()["k3d"] == ["dev"]
    assert fleet.run("apply", "-f", str(spec), "--dry-run").returncode == 0, "nothing left to change"


def test_an_explicit_port_or_provider_difference_needs_a_recreate(fleet: Fleet, spec: Path) -> None:
    spec.write_text("- name: dev\n  provider: kind\n")
    fleet.ok("apply", "-f", str(spec))
    port = int(str(fleet.env_record("dev")["http_port"]))  # type: ignore[index]
    spec.write_text(f"- name: dev\n  provider: k3d\n  subnet: none\n  http_port: {port + 7}\n")
    report = json.loads(fleet.run("apply", "-f", str(spec), "--dry-run", "-o", "json").stdout)
    fields = {c["field"] for c in report["entries"][0]["changes"]}
    assert fields == {"provider", "http_port"}, "kind has no subnet, and the file asks for none"
    assert report["changed"] is True and report["unchanged"] == []


def test_create_with_a_changed_label_changes_it(fleet: Fleet) -> None:
    fleet.ok("create", "dev", "--subnet", "none", "--label", "team=a")
    fleet.ok("create", "dev", "--label", "team=b", "--label", "tier=web")
    assert fleet.env_record("dev")["labels"] == {"team": "b", "tier": "web"}  # type: ignore[index]
    fleet.ok("create", "dev")
    assert fleet.env_record("dev")["labels"] == {"team": "b", "tier": "web"}, "no --label keeps them"  # type: ignore[index]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "- name: a\n  provider: kind\n  http_port: 18300\n- name: b\n  provider: kind\n  http_port: 18300\n",
            "http_port 18300 is also http_port of environments[0] (a)",
        ),
        (
            "- name: a\n  provider: kind\n  http_port: 18300\n- name: b\n  provider: kind\n  pf_port: 18300\n",
            "pf_port 18300 is also http_port of environments[0] (a)",
        ),
        ("- name: a\n- name: a\n", "'a' is listed twice"),
        (
            "- name: a\n  subnet: 10.240.0.0/16\n- name: b\n  subnet: 10.240.8.0/24\n",
            "subnet 10.240.8.0/24 overlaps 10.240.0.0/16 of environments[0] (a)",
        ),
    ],
)
def test_entries_that_clash_with_each_other_change_nothing(fleet: Fleet, spec: Path, text: str, message: str) -> None:
    spec.write_text(text)
    result = fleet.run("apply", "-f", str(spec))
    assert result.returncode == 2, result.stderr
    assert message in result.stderr and result.stderr.count("\n") == 1
    assert fleet.environments() == []
    assert fleet.clusters() == {"k3d": [], "kind": [], "minikube": []}


def test_an_entry_that_clashes_with_the_inventory_changes_nothing(fleet: Fleet, spec: Path) -> None:
    fleet.ok("register", "held", "--provider", "kind", "--http-port", "18301")
    spec.write_text("- name: a\n  provider: kind\n- name: b\n  provider: kind\n  https_port: 18301\n")
    result = fleet.run("apply", "-f", str(spec))
    assert result.returncode == 2, result.stderr
    assert "b: port 18301 is already used by environment 'held'" in result.stderr
    assert [e["name"] for e in fleet.environments()] == ["held"], "not even the valid entry before it"
    assert fleet.clusters()["kind"] == []


def test_the_dry_run_shows_what_the_real_run_allocates(fleet: Fleet, spec: Path) -> None:
    spec.write_text("- name: a\n  provider: kind\n- name: b\n  provider: kind\n- name: c\n  provider: kind\n")
    check = fleet.run("apply", "-f", str(spec), "--dry-run", "-o", "json")
    assert check.returncode == 3, check.stderr
    planned = {e["environment"]: e["ports"] for e in json.loads(check.stdout)["entries"]}
    taken = [port for ports in planned.values() for port in ports.values()]
    assert len(taken) == len(set(taken)) == 12, "each entry gets its own four ports"
    assert fleet.environments() == []

    fleet.ok("apply", "-f", str(spec), "--parallel", "3")
    real = {
        str(e["name"]): {p: e[f"{p}_port"] for p in ("api", "http", "https", "pf") if e[f"{p}_port"] is not None}
        for e in fleet.environments()
    }
    assert real == planned
    again = fleet.run("apply", "-f", str(spec), "--dry-run", "-o", "json")
    assert again.returncode == 0 and json.loads(again.stdout)["changed"] is False


def test_the_dry_run_gives_each_new_entry_its_own_subnet(fleet: Fleet, spec: Path) -> None:
    spec.write_text("- name: a\n- name: b\n")
    check = fleet.run("apply", "-f", str(spec), "--dry-run")
    assert check.returncode == 3, check.stderr
    lines = [line for line in check.stdout.splitlines() if line.startswith("would create ") and "; subnet " in line]
    subnets = {line.split("subnet ")[1] for line in lines}
    assert len(lines) == 2 and len(subnets) == 2, check.stdout
    assert "would record a (" in check.stderr and "would record b (" in check.stderr
    assert fleet.environments() == []
