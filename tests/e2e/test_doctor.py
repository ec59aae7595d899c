"""`kenv doctor [ENV] [--snapshot FILE]` as users run it: a subprocess, snapshot files (kenv's and
a kubectl List), the live path through the fake k3d and kubectl, exit codes, and the forms of the
command line (`kenv doctor ENV`, `kenv doctor rules`, `kenv doctor host`)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import run_kenv
from tests.doctor_cases import DOCTOR_FIXTURES, load_rule_cases
from tests.e2e import dev_fleet
from tests.e2e.kubeseed import seed_from_fixture
from tests.e2e.lifecycle_support import Fleet

fleet = dev_fleet.fleet  # the fixture: one k3d environment `dev` on the fakes

cases: Any = load_rule_cases("doctor_rule_cases")

FINDING_KEYS = ["id", "rule", "severity", "object", "summary", "evidence", "fix", "caused_by", "symptoms"]
FIX_KEYS = ["summary", "commands", "risk", "automatic"]


def write(tmp_path: Path, document: dict[str, Any], name: str = "snap.json") -> str:
    path = tmp_path / name
    path.write_text(json.dumps(document))
    return str(path)


def test_a_broken_snapshot_prints_the_cause_tree_and_exits_3(tmp_path: Path) -> None:
    result = run_kenv("doctor", "--snapshot", write(tmp_path, cases.pvc_chain()))
    assert result.returncode == 3, result.stderr
    lines = result.stdout.splitlines()
    heads = [line for line in lines if "[" in line and line.rstrip().endswith("]")]
    assert heads[0].startswith("ERROR") and "[image.registry-unreachable]" in heads[0]
    assert heads[1].startswith("    \u2514\u2500 ERROR") and "[storage.pvc-pending-provisioner]" in heads[1]
    assert heads[2].startswith("        \u2514\u2500 ERROR") and "[pod.unschedulable]" in heads[2]
    assert "$ kenv images sync devops rancher/mirrored-library-busybox:1.36.1" in result.stdout
    assert "\x1b[" not in result.stdout  # a pipe gets no colour
    assert result.stderr.strip() == "kenv: error: 3 finding(s) at or above warning"


def test_json_contract(tmp_path: Path) -> None:
    result = run_kenv("doctor", "--snapshot", write(tmp_path, cases.dns(True)), "-o", "json")
    assert result.returncode == 3
    data = json.loads(result.stdout)
    assert list(data) == ["schema", "findings", "skipped"]
    assert data["schema"] == "kenv.doctor/v1"
    ids = {f["id"] for f in data["findings"]}
    for item in data["findings"]:
        assert list(item) == FINDING_KEYS
        assert list(item["fix"]) == FIX_KEYS
        assert item["severity"] in ("info", "warning", "error", "critical")
        assert item["fix"]["risk"] in ("low", "medium", "high")
        assert isinstance(item["fix"]["automatic"], bool)
        assert item["caused_by"] is None or item["caused_by"] in ids
        assert all(isinstance(s, str) and s.count("/") >= 2 for s in item["symptoms"])
    root = data["findings"][0]
    assert root["rule"] == "dns.coredns-bind-denied" and root["caused_by"] is None
    assert all(f["caused_by"] == root["id"] for f in data["findings"][1:])


def test_healthy_snapshot_exits_0(tmp_path: Path) -> None:
    result = run_kenv("doctor", "--snapshot", write(tmp_path, cases.healthy()))
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.startswith("No problems found (18 rules).")


def test_fail_on_and_rule_select(tmp_path: Path) -> None:
    path = write(tmp_path, cases.dns(True))
    assert (
        run_kenv("doctor", "--snapshot", path, "--fail-on", "critical", "--rule", "service.no-endpoints").returncode
        == 0
    )
    only = run_kenv("doctor", "--snapshot", path, "--rule", "dns.coredns-bind-denied", "-o", "json")
    assert only.returncode == 3
    assert {f["rule"] for f in json.loads(only.stdout)["findings"]} == {"dns.coredns-bind-denied"}


def test_a_kubectl_list_says_which_rules_it_cannot_run(tmp_path: Path) -> None:
    result = run_kenv("doctor", "--snapshot", str(DOCTOR_FIXTURES / "kubectl-list-image-only-on-host.json"))
    assert result.returncode == 3
    assert "skipped: dns.coredns-bind-denied needs logs" in result.stdout
    assert "[image.not-in-cluster]" in result.stdout


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ('{"schema": "kenv.doctor.snapshot/v1", "objects": {"pods": [', "not valid JSON"),
        ("[1, 2]", "not an object"),
        ('{"kind": "Secret"}', "neither a kenv snapshot nor a kubectl List"),
        ("", "empty"),
    ],
)
def test_unreadable_snapshot_is_one_line_and_exit_2(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "bad.json"
    path.write_text(content)
    result = run_kenv("doctor", "--snapshot", str(path))
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr.startswith("kenv: error: snapshot ") and message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert "Traceback" not in result.stderr


def test_bad_input_exits_2(tmp_path: Path) -> None:
    missing = run_kenv("doctor", "--snapshot", str(tmp_path / "nope.json"))
    assert missing.returncode == 2 and "no such file" in missing.stderr
    unknown = run_kenv("doctor", "--snapshot", write(tmp_path, cases.healthy()), "--rule", "no.such-rule")
    assert unknown.returncode == 2 and "unknown rule no.such-rule" in unknown.stderr
    nothing = run_kenv("doctor", "-o", "json")
    assert nothing.returncode == 2 and "nothing to diagnose" in nothing.stderr
    severity = run_kenv("doctor", "--snapshot", write(tmp_path, cases.healthy()), "--fail-on", "fatal")
    assert severity.returncode == 2


def test_rules_lists_every_rule() -> None:
    table = run_kenv("doctor", "rules")
    assert table.returncode == 0
    assert "storage.pvc-pending-provisioner" in table.stdout and "critical" in table.stdout
    data = json.loads(run_kenv("doctor", "rules", "-o", "json").stdout)
    assert len([rule for rule in data if rule["scope"] == "cluster"]) == 18  # then the host rules
    assert set(data[0]) == {"id", "scope", "severity", "summary", "doc", "bad", "good", "needs"}


def test_help_shows_both_forms_with_examples() -> None:
    group = run_kenv("doctor", "--help")
    assert group.returncode == 0
    assert "Usage: kenv doctor [ENV] [--snapshot FILE] [OPTIONS]" in group.stdout
    assert "or: kenv doctor COMMAND [ARGS]..." in group.stdout
    for word in ("host", "rules", "snapshot", "kenv doctor dev", "kenv doctor --snapshot dev.json"):
        assert word in group.stdout
    commands = group.stdout.split("Commands:")[1].split()
    assert "diagnose" not in commands  # hidden: the ENV form is how it is used
    diagnosis = run_kenv("doctor", "dev", "--help")
    assert diagnosis.returncode == 0
    assert "--fail-on" in diagnosis.stdout and '"schema": "kenv.doctor/v1"' in diagnosis.stdout


def test_live_environment_through_the_fakes(fleet: Fleet) -> None:
    """The fake kubectl serves a claim Pending behind the local-path helper's pull."""
    seed_from_fixture(fleet.state, "k3d-pvc-pending-helper-image.json")
    result = fleet.run("doctor", "dev", "-o", "json")
    assert result.returncode == 3, result.stderr
    findings = json.loads(result.stdout)["findings"]
    claim = next(f for f in findings if f["rule"] == "storage.pvc-pending-provisioner")
    assert claim["object"] == "PersistentVolumeClaim/paas/data-postgresql-0"
    assert "rancher/mirrored-library-busybox:1.36.1" in claim["summary"] + " ".join(claim["fix"]["commands"])
    assert any(command.startswith("kenv images sync dev ") for command in claim["fix"]["commands"])


def test_an_environment_named_like_a_command_is_reached_through_diagnose(tmp_path: Path) -> None:
    result = run_kenv("doctor", "diagnose", "host", "--snapshot", write(tmp_path, cases.healthy()))
    assert result.returncode == 0, result.stderr


def test_live_unknown_environment_exits_2(fleet: Fleet) -> None:
    result = fleet.run("doctor", "nope")
    assert result.returncode == 2
    assert "nope" in result.stderr and "Traceback" not in result.stderr


def test_env_with_a_snapshot_names_that_environment_in_the_fixes(tmp_path: Path) -> None:
    document = cases.image_not_in_cluster(True)
    document["environment"] = None
    result = run_kenv("doctor", "qa", "--snapshot", write(tmp_path, document), "-o", "json")
    assert result.returncode == 3
    (finding,) = [f for f in json.loads(result.stdout)["findings"] if f["rule"] == "image.not-in-cluster"]
    assert "kenv images sync qa myapp:1.0" in finding["fix"]["commands"]
