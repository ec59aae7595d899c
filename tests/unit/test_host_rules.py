"""Host preflight rules: for every rule, a snapshot that passes and one that fails; how the engine
survives a crashing rule; the report's JSON contract; and the capture helpers the rules rely on."""

from __future__ import annotations

import json
import os
import stat
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
import yaml

from kenv.doctor.engine import RULE_CRASHED
from kenv.doctor.findings import Finding
from kenv.doctor.host_rules import (
    HOST_OBJECT,
    PARTS,
    RULE_IDS,
    RULES,
    CheckResult,
    HostReport,
    evaluate,
    missing_no_proxy_entries,
    required_tools,
)
from kenv.doctor.host_snapshot import (
    DiskFacts,
    EnvironmentFacts,
    HostSnapshot,
    NetworkFacts,
    PortFacts,
    ScriptScan,
    mask_proxy_credentials,
    measure_disks,
    read_inotify_limit,
    read_proxy_variables,
    scan_crlf_scripts,
    scan_paths,
)
from kenv.doctor.rules import Rule
from kenv.errors import InvalidInput
from kenv.runtime.process import Runner
from kenv.runtime.tools import DockerEngine, ToolVersion, detect, detect_docker, parse_version

GIB = 1024**3
IN_CLUSTER = ["10.42.0.0/16", "10.43.0.0/16", "10.96.0.0/12", "10.244.0.0/16"]


def tool(name: str, version: str | None = "v1.0.0", *, found: bool = True, supported: bool = True) -> ToolVersion:
    detail = f"{name} {version}" if found else f"{name} is not installed (not found on PATH)"
    return ToolVersion(name, found, version if found else None, supported, detail)


def ports(*, bindable: bool = True, base: int = 18000) -> tuple[PortFacts, ...]:
    return (
        PortFacts("http", base, bindable),
        PortFacts("https", base + 500, True),
        PortFacts("pf", base + 1000, True),
        PortFacts("api", base - 1600, True),
    )


def healthy_snapshot() -> HostSnapshot:
    """A machine with nothing to fix: every rule passes on it (pinned by the first test)."""
    return HostSnapshot(
        tools=(
            tool("docker", "28.2.2"),
            tool("kubectl", "v1.32.2"),
            tool("k3d", "v5.8.3"),
            tool("kind", "v0.27.0"),
            tool("minikube", "v1.35.0"),
        ),
        docker_engine=DockerEngine(True, "28.2.2", True, "engine 28.2.2"),
        docker_networks=(
            NetworkFacts("bridge", ("172.17.0.0/16",)),
            NetworkFacts("host", ()),
            NetworkFacts("k3d-dev", ("10.200.0.0/24",)),
            NetworkFacts("minikube-qa", ("10.200.1.0/24",)),
        ),
        docker_root_dir="/var/lib/docker",
        disks=(DiskFacts("kenv data dir and Docker root", "/", 500 * GIB, 200 * GIB, 60.0),),
        inotify_max_user_watches=524288,
        inotify_max_user_instances=512,
        environments=(
            # dev's own cluster holds its ports: bound is what running looks like.
            EnvironmentFacts("dev", "k3d", "running", "10.200.0.0/24", ports(bindable=False)),
            EnvironmentFacts("minikube-qa", "minikube", "stopped", "10.200.1.0/24", ports(base=18001)),
            EnvironmentFacts("ci", "kind", "stopped", None, ports(base=18002)),
        ),
        inventory_error=None,
        proxy={},
        scripts=ScriptScan("/src/project", 250, False),
        default_provider="k3d",
        subnet_pool="10.200.0.0/16",
        base_domain="localtest.me",
        data_dir="/home/dev/.local/share/kenv",
    )


def with_tool(snapshot: HostSnapshot, replacement: ToolVersion) -> HostSnapshot:
    tools = tuple(replacement if t.name == replacement.name else t for t in snapshot.tools)
    return replace(snapshot, tools=tools)


def check(report: HostReport, rule_id: str) -> CheckResult:
    return next(c for c in report.checks if c.id == rule_id)


def found(report: HostReport, rule_id: str) -> list[Finding]:
    """The findings of one rule, as the engine returned them (worst first)."""
    return [f for f in report.findings if f.rule == rule_id]


def only_findings(snapshot: HostSnapshot, rule_id: str) -> list[Finding]:
    """Run every rule through the engine; assert that no rule other than `rule_id` found anything."""
    report = evaluate(snapshot)
    others = [f for f in report.findings if f.rule != rule_id]
    assert others == [], others
    return found(report, rule_id)


def test_healthy_snapshot_passes_every_rule() -> None:
    report = evaluate(healthy_snapshot())
    assert [c.status for c in report.checks] == ["ok"] * len(RULES)
    assert report.findings == ()
    assert not report.problems_found
    assert all(c.summary for c in report.checks), "a passed check says what it saw"


# -- host.inventory-unreadable --------------------------------------------------------------


def test_unreadable_inventory_is_an_error_and_skips_the_checks_that_need_it() -> None:
    snapshot = replace(
        healthy_snapshot(),
        environments=(),
        inventory_error="cannot connect to postgresql://kenv:***@db:5432/kenv: connection refused",
    )
    report = evaluate(snapshot)
    assert check(report, "host.inventory-unreadable").status == "problem"
    (finding,) = found(report, "host.inventory-unreadable")
    assert finding.severity == "error"
    assert "connection refused" in finding.summary
    assert "db_url" in finding.fix.summary
    assert check(report, "host.port-taken").status == "skipped"
    assert check(report, "host.subnet-clash").status == "skipped"
    # skipped the engine's way: the rule and the parts it lacks, as for a cluster rule
    assert {(s.rule, s.needs) for s in report.report.skipped} == {
        ("host.port-taken", ("inventory",)),
        ("host.subnet-clash", ("inventory",)),
    }
    assert finding.object == HOST_OBJECT
    assert finding.fix.commands == ("kenv db status",)


# -- host.docker-unreachable ----------------------------------------------------------------


def test_docker_engine_that_does_not_answer_is_an_error_with_the_reason() -> None:
    reason = "Cannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker daemon running?"
    snapshot = replace(healthy_snapshot(), docker_engine=DockerEngine(False, None, False, reason), docker_networks=None)
    report = evaluate(snapshot)
    (finding,) = found(report, "host.docker-unreachable")
    assert finding.severity == "critical"  # nothing can work without an engine
    assert reason in finding.summary
    assert finding.fix.commands == ("sudo systemctl start docker",)
    assert "colima start" in finding.fix.summary
    assert check(report, "host.subnet-clash").status == "skipped"


def test_docker_permission_denied_suggests_the_docker_group() -> None:
    reason = "permission denied while trying to connect to the Docker daemon socket at unix:///var/run/docker.sock"
    snapshot = replace(healthy_snapshot(), docker_engine=DockerEngine(False, None, False, reason))
    (finding,) = found(evaluate(snapshot), "host.docker-unreachable")
    assert finding.fix.commands == ('sudo usermod -aG docker "$USER"',)


def test_missing_docker_is_reported_once_as_missing_not_as_unreachable() -> None:
    snapshot = with_tool(healthy_snapshot(), tool("docker", found=False))
    snapshot = replace(snapshot, docker_engine=DockerEngine(False, None, False, "docker is not installed"))
    report = evaluate(snapshot)
    assert check(report, "host.docker-unreachable").status == "skipped"
    assert [f.rule for f in report.findings if f.severity in ("error", "critical")] == ["host.tool-missing"]
    assert found(report, "host.tool-missing")[0].severity == "critical"
    assert report.report.skipped[0].needs == ("docker-cli",)


# -- host.tool-missing ----------------------------------------------------------------------


def test_missing_kubectl_is_an_error_with_an_install_hint() -> None:
    (finding,) = only_findings(with_tool(healthy_snapshot(), tool("kubectl", found=False)), "host.tool-missing")
    assert finding.severity == "error"
    assert finding.summary.startswith("kubectl is not installed")
    assert "kubernetes.io/docs/tasks/tools" in finding.fix.summary


def test_missing_provider_tool_nobody_uses_is_only_info() -> None:
    snapshot = replace(healthy_snapshot(), environments=())
    snapshot = with_tool(with_tool(snapshot, tool("kind", found=False)), tool("minikube", found=False))
    report = evaluate(snapshot)
    result = check(report, "host.tool-missing")
    assert result.status == "ok"
    findings = found(report, "host.tool-missing")
    assert [(f.severity, f.summary.split()[0]) for f in findings] == [("info", "kind"), ("info", "minikube")]
    assert not report.problems_found


def test_missing_provider_tool_an_environment_uses_is_an_error_naming_it() -> None:
    (finding,) = only_findings(with_tool(healthy_snapshot(), tool("kind", found=False)), "host.tool-missing")
    assert finding.severity == "error"
    assert "ci" in finding.summary


def test_missing_default_provider_tool_is_an_error() -> None:
    snapshot = replace(healthy_snapshot(), environments=(), default_provider="minikube")
    (finding,) = found(evaluate(with_tool(snapshot, tool("minikube", found=False))), "host.tool-missing")
    assert finding.severity == "error"
    assert "default_provider" in finding.summary


def test_required_tools_follow_the_inventory_and_the_default_provider() -> None:
    snapshot = replace(healthy_snapshot(), default_provider="external")
    assert set(required_tools(snapshot)) == {"docker", "kubectl", "k3d", "minikube", "kind"}
    assert set(required_tools(replace(snapshot, environments=()))) == {"docker", "kubectl"}


# -- host.tool-unsupported ------------------------------------------------------------------


def test_tool_outside_the_tested_range_is_a_warning_naming_the_range() -> None:
    old = ToolVersion("k3d", True, "v4.4.8", False, "k3d v4.4.8 is outside the tested range >=5.4 <6")
    (finding,) = only_findings(with_tool(healthy_snapshot(), old), "host.tool-unsupported")
    assert finding.severity == "warning"
    assert "v4.4.8" in finding.summary
    assert ">=5.4 <6" in finding.fix.summary


def test_tool_printing_garbage_is_found_but_unsupported_and_shows_what_it_printed() -> None:
    garbage = ToolVersion("kubectl", True, None, False, "kubectl printed no version kenv understands: 'oops'")
    (finding,) = only_findings(with_tool(healthy_snapshot(), garbage), "host.tool-unsupported")
    assert finding.severity == "warning"
    assert "'oops'" in finding.summary


def test_unsupported_tool_nobody_uses_is_only_info() -> None:
    snapshot = replace(healthy_snapshot(), environments=())
    old_kind = ToolVersion("kind", True, "v0.11.1", False, "kind v0.11.1 is outside the tested range >=0.20 <1")
    report = evaluate(with_tool(snapshot, old_kind))
    assert [f.severity for f in found(report, "host.tool-unsupported")] == ["info"]
    assert not report.problems_found


def test_docker_engine_older_than_tested_is_a_warning() -> None:
    engine = DockerEngine(True, "19.03.8", False, "engine 19.03.8 is outside the tested range >=20.10")
    (finding,) = only_findings(replace(healthy_snapshot(), docker_engine=engine), "host.tool-unsupported")
    assert "19.03.8" in finding.summary


# -- host.disk-pressure ---------------------------------------------------------------------


def disk(used_percent: float) -> tuple[DiskFacts, ...]:
    total = 100 * GIB
    free = int(total * (100 - used_percent) / 100)
    return (DiskFacts("kenv data dir", "/home", total, free, used_percent),)


@pytest.mark.parametrize(("used", "severity"), [(85.0, None), (85.1, "warning"), (91.0, "warning"), (96.0, "error")])
def test_disk_pressure_warns_above_85_and_errs_above_95_percent(used: float, severity: str | None) -> None:
    result = only_findings(replace(healthy_snapshot(), disks=disk(used)), "host.disk-pressure")
    assert [f.severity for f in result] == ([severity] if severity else [])
    if severity:
        assert f"{used:g}% used" in result[0].summary
        assert result[0].fix.commands == ("docker system prune",)


def test_disk_pressure_is_skipped_when_nothing_could_be_measured() -> None:
    assert check(evaluate(replace(healthy_snapshot(), disks=())), "host.disk-pressure").status == "skipped"


# -- host.inotify-low -----------------------------------------------------------------------


def test_low_inotify_limits_are_a_warning_with_the_sysctl_fix() -> None:
    snapshot = replace(healthy_snapshot(), inotify_max_user_watches=8192, inotify_max_user_instances=128)
    (finding,) = only_findings(snapshot, "host.inotify-low")
    assert finding.severity == "warning"
    now, persist = finding.fix.commands
    assert now == "sudo sysctl fs.inotify.max_user_watches=524288 fs.inotify.max_user_instances=512"
    assert persist.endswith("| sudo tee /etc/sysctl.d/99-kenv-inotify.conf")


def test_inotify_fix_never_lowers_a_limit_that_is_already_high() -> None:
    snapshot = replace(healthy_snapshot(), inotify_max_user_watches=1048576, inotify_max_user_instances=128)
    (finding,) = only_findings(snapshot, "host.inotify-low")
    assert finding.fix.commands[0] == "sudo sysctl fs.inotify.max_user_instances=512"
    assert "max_user_watches" not in " ".join(finding.fix.commands)


def test_inotify_is_skipped_where_the_limits_cannot_be_read() -> None:
    snapshot = replace(healthy_snapshot(), inotify_max_user_watches=None, inotify_max_user_instances=None)
    assert check(evaluate(snapshot), "host.inotify-low").status == "skipped"


# -- host.port-taken ------------------------------------------------------------------------


def test_port_of_a_stopped_environment_held_by_another_process_is_an_error() -> None:
    stopped = EnvironmentFacts("qa", "k3d", "stopped", None, ports(bindable=False, base=18007))
    (finding,) = only_findings(replace(healthy_snapshot(), environments=(stopped,)), "host.port-taken")
    assert finding.severity == "error"
    assert "port 18007" in finding.summary
    assert "http of environment 'qa'" in finding.summary
    assert "--http-port" in finding.fix.summary
    assert finding.fix.commands == ("ss -ltnp 'sport = :18007'",)


def test_port_of_an_environment_in_unknown_state_is_only_a_warning() -> None:
    unknown = EnvironmentFacts("qa", "k3d", "unknown", None, ports(bindable=False))
    (finding,) = found(evaluate(replace(healthy_snapshot(), environments=(unknown,))), "host.port-taken")
    assert finding.severity == "warning"


def test_ports_of_a_running_environment_are_its_own() -> None:
    running = EnvironmentFacts("qa", "k3d", "running", None, ports(bindable=False))
    result = check(evaluate(replace(healthy_snapshot(), environments=(running,))), "host.port-taken")
    assert result.status == "ok"
    assert found(evaluate(replace(healthy_snapshot(), environments=(running,))), "host.port-taken") == []


# -- host.subnet-clash ----------------------------------------------------------------------


def test_subnet_overlapping_a_foreign_docker_network_is_an_error() -> None:
    networks = (*(healthy_snapshot().docker_networks or ()), NetworkFacts("corp-vpn", ("10.200.0.0/22",)))
    result = only_findings(replace(healthy_snapshot(), docker_networks=networks), "host.subnet-clash")
    assert [f.severity for f in result] == ["error", "error"]
    assert "subnet 10.200.0.0/24 of environment 'dev' overlaps Docker network 'corp-vpn'" in result[0].summary
    assert result[0].fix.commands == ("docker network rm corp-vpn",)


def test_an_environments_own_network_is_no_clash_but_another_environments_is() -> None:
    # k3d-dev carries minikube-qa's subnet: that network is not minikube-qa's own.
    networks = (NetworkFacts("k3d-dev", ("10.200.1.0/24",)),)
    (finding,) = found(evaluate(replace(healthy_snapshot(), docker_networks=networks)), "host.subnet-clash")
    assert "environment 'minikube-qa'" in finding.summary


def test_subnet_clash_is_skipped_without_docker_networks() -> None:
    assert check(evaluate(replace(healthy_snapshot(), docker_networks=None)), "host.subnet-clash").status == "skipped"


# -- host.proxy-no-proxy --------------------------------------------------------------------

REQUIRED_NO_PROXY = ["localhost", "127.0.0.1", "10.200.0.0/16", *IN_CLUSTER, "localtest.me"]


def test_proxy_without_no_proxy_is_a_warning_listing_every_entry_to_add() -> None:
    snapshot = replace(healthy_snapshot(), proxy={"HTTPS_PROXY": "http://***@proxy.corp:3128"})
    (finding,) = only_findings(snapshot, "host.proxy-no-proxy")
    assert finding.severity == "warning"
    assert finding.summary == "HTTPS_PROXY is set but NO_PROXY is not set"
    value = ",".join(REQUIRED_NO_PROXY)
    assert finding.fix.commands == (f"export NO_PROXY={value} no_proxy={value}",)


def test_no_proxy_with_covering_cidrs_and_domains_passes() -> None:
    no_proxy = "localhost, 127.0.0.0/8,10.0.0.0/8,.localtest.me,.corp"
    snapshot = replace(healthy_snapshot(), proxy={"http_proxy": "http://proxy:3128", "no_proxy": no_proxy})
    result = check(evaluate(snapshot), "host.proxy-no-proxy")
    assert result.status == "ok"
    assert "no_proxy covers" in result.summary


def test_partial_no_proxy_names_exactly_the_missing_entries_and_keeps_the_rest() -> None:
    no_proxy = "localhost,127.0.0.1,10.200.0.0/16,10.42.0.0/15,.corp"
    snapshot = replace(healthy_snapshot(), proxy={"HTTP_PROXY": "http://proxy:3128", "NO_PROXY": no_proxy})
    (finding,) = found(evaluate(snapshot), "host.proxy-no-proxy")
    assert finding.summary == "HTTP_PROXY is set but NO_PROXY does not cover 10.96.0.0/12, 10.244.0.0/16, localtest.me"
    assert f"NO_PROXY={no_proxy},10.96.0.0/12,10.244.0.0/16,localtest.me " in finding.fix.commands[0]


def test_no_proxy_matching_rules() -> None:
    assert missing_no_proxy_entries("*", REQUIRED_NO_PROXY) == []
    assert missing_no_proxy_entries("10.200.0.0/17", ["10.200.0.0/16"]) == ["10.200.0.0/16"]
    assert missing_no_proxy_entries("me", ["localtest.me"]) == []
    assert missing_no_proxy_entries("test.me,::1", ["localtest.me", "127.0.0.1"]) == ["localtest.me", "127.0.0.1"]


def test_no_proxy_set_without_a_proxy_is_fine() -> None:
    snapshot = replace(healthy_snapshot(), proxy={"NO_PROXY": "localhost"})
    assert check(evaluate(snapshot), "host.proxy-no-proxy").status == "ok"


# -- host.crlf-script -----------------------------------------------------------------------


def test_crlf_scripts_are_a_warning_listing_ten_with_the_sed_fix() -> None:
    files = tuple(f"scripts/s{i:02}.sh" for i in range(12))
    snapshot = replace(healthy_snapshot(), scripts=ScriptScan("/src/project", 250, False, (*files, "bin/run")))
    (finding,) = only_findings(snapshot, "host.crlf-script")
    assert finding.severity == "warning"
    assert "13 shell scripts" in finding.summary
    assert "scripts/s09.sh and 3 more" in finding.summary
    assert "scripts/s10.sh" not in finding.summary
    assert finding.fix.commands[0].startswith("sed -i 's/\\r$//' scripts/s00.sh ")
    assert "'*.sh text eol=lf'" in finding.fix.summary


def test_crlf_script_without_sh_suffix_gets_its_own_gitattributes_line() -> None:
    snapshot = replace(healthy_snapshot(), scripts=ScriptScan("/src/project", 3, False, ("bin/run",)))
    (finding,) = found(evaluate(snapshot), "host.crlf-script")
    assert "'bin/run text eol=lf'" in finding.fix.summary
    assert "*.sh" not in finding.fix.summary


def test_capped_scan_says_so() -> None:
    snapshot = replace(healthy_snapshot(), scripts=ScriptScan("/", 20000, True))
    result = check(evaluate(snapshot), "host.crlf-script")
    assert result.status == "ok"
    assert "20000-file cap" in result.summary


# -- the engine -----------------------------------------------------------------------------


def test_a_crashing_rule_becomes_the_engines_finding_and_the_others_still_run() -> None:
    def broken(snapshot: HostSnapshot) -> Iterator[Finding]:
        yield from ()
        raise KeyError(snapshot.default_provider)

    crashing: Rule[HostSnapshot] = Rule("host.broken", "warning", "never works", "d", "b", "g", broken, (), "host")
    report = evaluate(healthy_snapshot(), rules=[crashing, *RULES])
    assert check(report, "host.broken").status == "problem"
    (finding,) = report.findings
    assert (finding.rule, finding.object) == (RULE_CRASHED, "Rule//host.broken")
    assert "host.broken crashed (KeyError: 'k3d')" in finding.summary
    assert finding.evidence[0].startswith("at test_host_rules.py:")
    assert [c.status for c in report.checks[1:]] == ["ok"] * len(RULES)
    assert report.problems_found
    # kenv's own bug is shown but never stops `kenv up`
    assert report.blocking == 0


def test_skipped_rules_are_reported_and_unknown_ids_refused() -> None:
    snapshot = replace(healthy_snapshot(), inotify_max_user_watches=1)
    report = evaluate(snapshot, skip=["host.inotify-low"])
    assert check(report, "host.inotify-low").status == "skipped"
    assert check(report, "host.inotify-low").summary == "skipped on request (--skip)"
    assert "host.inotify-low" not in report.report.rules
    assert not report.problems_found
    with pytest.raises(InvalidInput, match=r"unknown rule id\(s\): host\.nope"):
        evaluate(snapshot, skip=["host.nope"])


def test_a_rule_whose_part_is_missing_is_skipped_by_the_engine_and_says_why() -> None:
    snapshot = replace(healthy_snapshot(), inotify_max_user_watches=None, inotify_max_user_instances=None, disks=())
    report = evaluate(snapshot)
    assert [(s.rule, s.needs) for s in report.report.skipped] == [
        ("host.disk-pressure", ("disks",)),
        ("host.inotify-low", ("inotify",)),
    ]
    assert check(report, "host.inotify-low").summary == "inotify limits are not readable here (not Linux)"
    assert report.to_dict()["skipped"][0] == {"rule": "host.disk-pressure", "needs": ["disks"]}


def test_every_host_rule_is_an_engine_rule_with_a_doc_and_examples() -> None:
    assert len(RULES) == 10
    for host_rule in RULES:
        assert host_rule.scope == "host"
        assert host_rule.severity in ("info", "warning", "error", "critical")
        assert host_rule.doc and host_rule.bad and host_rule.good and host_rule.summary
        assert set(host_rule.needs) <= set(PARTS)
        assert host_rule.to_dict()["scope"] == "host"
    assert {r.id for r in RULES if r.severity == "critical"} == {"host.docker-unreachable", "host.tool-missing"}


@pytest.mark.parametrize(
    ("rule_id", "broken"),
    [
        ("host.inventory-unreadable", {"environments": (), "inventory_error": "database is locked"}),
        ("host.docker-unreachable", {"docker_engine": DockerEngine(False, None, False, "no engine")}),
        ("host.tool-unsupported", {"docker_engine": DockerEngine(True, "19.03.8", False, "engine 19.03.8")}),
        ("host.disk-pressure", {"disks": (DiskFacts("Docker root", "/", 100 * GIB, GIB, 99.0),)}),
        ("host.inotify-low", {"inotify_max_user_instances": 128}),
        ("host.port-taken", {"environments": (EnvironmentFacts("qa", "k3d", "stopped", None, ports(bindable=False)),)}),
        ("host.subnet-clash", {"docker_networks": (NetworkFacts("vpn", ("10.200.0.0/16",)),)}),
        ("host.proxy-no-proxy", {"proxy": {"HTTPS_PROXY": "http://proxy:3128"}}),
        ("host.crlf-script", {"scripts": ScriptScan("/src", 3, False, ("a.sh",))}),
    ],
)
def test_each_host_rule_alone_through_the_engine_passes_healthy_and_fails_broken(
    rule_id: str, broken: dict[str, Any]
) -> None:
    (only,) = [r for r in RULES if r.id == rule_id]
    healthy = evaluate(healthy_snapshot(), rules=[only])
    assert healthy.findings == () and healthy.report.skipped == ()
    failing = evaluate(replace(healthy_snapshot(), **broken), rules=[only])
    assert failing.findings and {f.rule for f in failing.findings} == {rule_id}
    assert all(f.object == HOST_OBJECT and f.evidence and f.fix.summary for f in failing.findings)
    assert failing.problems_found


def test_tool_missing_alone_through_the_engine() -> None:
    (only,) = [r for r in RULES if r.id == "host.tool-missing"]
    assert evaluate(healthy_snapshot(), rules=[only]).findings == ()
    (finding,) = evaluate(with_tool(healthy_snapshot(), tool("docker", found=False)), rules=[only]).findings
    assert (finding.rule, finding.severity) == ("host.tool-missing", "critical")


def test_rule_ids_are_unique_and_namespaced() -> None:
    assert len(set(RULE_IDS)) == len(RULE_IDS)
    assert all(rule_id.startswith("host.") for rule_id in RULE_IDS)


def test_report_json_shape_is_stable_and_yaml_safe() -> None:
    snapshot = replace(healthy_snapshot(), disks=disk(96.0), proxy={"HTTP_PROXY": "http://proxy:3128"})
    data = evaluate(snapshot).to_dict()
    # kenv.doctor/v1, the cluster diagnosis's schema, then the host's checks, counts and facts
    assert list(data) == ["schema", "findings", "skipped", "checks", "summary", "snapshot"]
    assert data["schema"] == "kenv.doctor/v1"
    assert list(data["checks"][0]) == ["id", "title", "status", "summary"]
    assert list(data["findings"][0]) == [
        "id", "rule", "severity", "object", "summary", "evidence", "fix", "caused_by", "symptoms"
    ]  # fmt: skip
    assert list(data["findings"][0]["fix"]) == ["summary", "commands", "risk", "automatic"]
    assert [f["severity"] for f in data["findings"]] == ["error", "warning"]
    assert data["summary"] == {"critical": 0, "errors": 1, "warnings": 1, "info": 0}
    assert data["snapshot"]["tools"][0] == {
        "name": "docker",
        "found": True,
        "version": "28.2.2",
        "supported": True,
        "detail": "docker 28.2.2",
    }
    assert json.loads(json.dumps(data)) == data
    assert yaml.safe_load(yaml.safe_dump(data)) == data


# -- capture: the facts the rules judge -----------------------------------------------------


def write(path: Path, content: bytes, *, executable: bool = False) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content)
    if executable:
        path.chmod(path.stat().st_mode | stat.S_IXUSR)


def test_scan_finds_crlf_shell_scripts_and_ignores_everything_else(tmp_path: Path) -> None:
    write(tmp_path / "deploy.sh", b"#!/bin/sh\r\necho hi\r\n")
    write(tmp_path / "ok.sh", b"#!/bin/sh\necho hi\n")
    write(tmp_path / "tools" / "bin" / "run", b"#!/usr/bin/env bash\r\nexit 0\r\n", executable=True)
    write(tmp_path / "scripts" / "notes.txt", b"not a script\r\n")
    write(tmp_path / "docs" / "readme.md", b"windows text\r\n")
    write(tmp_path / ".git" / "hooks" / "pre-commit.sh", b"#!/bin/sh\r\n")
    write(tmp_path / "node_modules" / "x" / "bin" / "cli", b"#!/usr/bin/env node\r\n")
    os.mkfifo(tmp_path / "scripts" / "pipe")  # must not block the scan
    scan = scan_crlf_scripts(tmp_path)
    assert scan.crlf_files == ("deploy.sh", os.path.join("tools", "bin", "run"))
    assert not scan.capped
    assert scan.files_seen == 6


def test_scan_stops_at_the_cap_and_says_so(tmp_path: Path) -> None:
    for index in range(5):
        write(tmp_path / f"s{index}.sh", b"#!/bin/sh\r\n")
    scan = scan_crlf_scripts(tmp_path, max_files=3)
    assert scan.capped
    assert scan.files_seen == 3
    assert scan.crlf_files == ("s0.sh", "s1.sh", "s2.sh")


def test_proxy_credentials_never_reach_the_snapshot() -> None:
    assert mask_proxy_credentials("http://alice:s3cr@t@proxy.corp:3128/") == "http://***@proxy.corp:3128/"
    assert mask_proxy_credentials("alice:pw@proxy:3128") == "***@proxy:3128"
    assert mask_proxy_credentials("http://proxy:3128") == "http://proxy:3128"
    environ = {"HTTPS_PROXY": "http://bob:pw@p:1", "no_proxy": "localhost", "HTTP_PROXY": " ", "PATH": "/bin"}
    assert read_proxy_variables(environ) == {"HTTPS_PROXY": "http://***@p:1", "no_proxy": "localhost"}


def test_inotify_limits_read_as_numbers_or_none(tmp_path: Path) -> None:
    (tmp_path / "max_user_watches").write_text("524288\n")
    (tmp_path / "max_user_instances").write_text("garbage\n")
    assert read_inotify_limit("max_user_watches", tmp_path) == 524288
    assert read_inotify_limit("max_user_instances", tmp_path) is None
    assert read_inotify_limit("missing", tmp_path) is None


def test_disks_on_one_filesystem_are_reported_once(tmp_path: Path) -> None:
    facts = measure_disks(
        [
            ("kenv data dir", tmp_path / "not" / "created" / "yet", True),
            ("Docker root", tmp_path, False),
            ("remote engine", tmp_path / "absent", False),
        ]
    )
    (only,) = facts
    assert only.label == "kenv data dir and Docker root"
    assert 0.0 <= only.used_percent <= 100.0
    assert 0 < only.free_bytes <= only.total_bytes


# -- capture: tool versions, from real processes ---------------------------------------------


def stub(bin_dir: Path, name: str, script: str) -> None:
    write(bin_dir / name, f"#!/bin/sh\n{script}\n".encode(), executable=True)


@pytest.fixture
def bin_dir(tmp_path: Path) -> Path:
    path = tmp_path / "bin"
    path.mkdir()
    return path


def runner_for(bin_dir: Path) -> Runner:
    return Runner(env={"PATH": str(bin_dir)})


def test_detect_reads_each_tools_real_output_format(bin_dir: Path) -> None:
    stub(bin_dir, "k3d", "printf 'k3d version v5.8.3\\nk3s version v1.31.5-k3s1 (default)\\n'")
    stub(bin_dir, "kind", "echo 'kind v0.27.0 go1.23.6 linux/amd64'")
    stub(bin_dir, "minikube", '[ "$*" = "version --short" ] || exit 64; echo v1.35.0')
    stub(bin_dir, "kubectl", """echo '{"clientVersion": {"gitVersion": "v1.32.4-dispatcher"}}'""")
    runner = runner_for(bin_dir)
    found = {name: detect(runner, name) for name in ("k3d", "kind", "minikube", "kubectl")}
    assert {name: (t.found, t.version, t.supported) for name, t in found.items()} == {
        "k3d": (True, "v5.8.3", True),
        "kind": (True, "v0.27.0", True),
        "minikube": (True, "v1.35.0", True),
        "kubectl": (True, "v1.32.4-dispatcher", True),
    }


def test_detect_missing_old_garbage_and_failing_tools(bin_dir: Path) -> None:
    stub(bin_dir, "k3d", "echo 'k3d version v4.4.8'")
    stub(bin_dir, "kind", "echo 'Segmentation fault... or something else'")
    stub(bin_dir, "kubectl", "echo 'error: unknown flag: --client' >&2; exit 1")
    runner = runner_for(bin_dir)
    missing = detect(runner, "minikube")
    assert (missing.found, missing.supported) == (False, False)
    assert "minikube is not installed" in missing.detail
    old = detect(runner, "k3d")
    assert (old.version, old.supported) == ("v4.4.8", False)
    assert "outside the tested range >=5.4 <6" in old.detail
    garbage = detect(runner, "kind")
    assert (garbage.found, garbage.version, garbage.supported) == (True, None, False)
    assert "'Segmentation fault... or something else'" in garbage.detail
    failing = detect(runner, "kubectl")
    assert (failing.found, failing.supported) == (True, False)
    assert "exit code 1: error: unknown flag: --client" in failing.detail


def test_detect_docker_unreachable_engine_keeps_the_client_version_and_the_reason(bin_dir: Path) -> None:
    reason = "Cannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker daemon running?"
    stub(
        bin_dir,
        "docker",
        """echo '{"Client":{"Version":"28.2.2","ApiVersion":"1.50"},"Server":null}'\n"""
        f"echo '{reason}' >&2\nexit 1",
    )
    versions = detect_docker(runner_for(bin_dir))
    assert (versions.client.version, versions.client.supported) == ("28.2.2", True)
    assert versions.engine == DockerEngine(False, None, False, reason)


def test_detect_docker_reachable_engine(bin_dir: Path) -> None:
    stub(bin_dir, "docker", """echo '{"Client":{"Version":"28.2.2"},"Server":{"Version":"20.10.24+dfsg1"}}'""")
    versions = detect_docker(runner_for(bin_dir))
    assert versions.engine == DockerEngine(True, "20.10.24+dfsg1", True, "engine 20.10.24+dfsg1")


def test_parse_version() -> None:
    assert parse_version("v1.32.4-dispatcher") == (1, 32, 4)
    assert parse_version("20.10") == (20, 10)
    assert parse_version("unknown") is None


def test_many_environments_using_a_missing_tool_are_counted_not_listed() -> None:
    fleet = tuple(EnvironmentFacts(f"env{i:03}", "kind", "stopped", None) for i in range(200))
    snapshot = with_tool(replace(healthy_snapshot(), environments=fleet), tool("kind", found=False))
    (finding,) = found(evaluate(snapshot), "host.tool-missing")
    assert finding.summary == (
        "kind is not installed (not on PATH), but 200 environments (env000, env001, env002, env003, env004 "
        "and 195 more) use it"
    )
    one = replace(snapshot, environments=fleet[:1])
    assert required_tools(one)["kind"] == "1 environment (env000) uses it"


def test_scan_paths_names_what_it_found_as_the_paths_were_given(tmp_path: Path) -> None:
    write(tmp_path / "repo" / "deploy.sh", b"#!/bin/sh\r\n")
    write(tmp_path / "repo" / "bin" / "run", b"#!/bin/sh\r\n")
    write(tmp_path / "one.sh", b"#!/bin/sh\r\n")
    write(tmp_path / "fine.sh", b"#!/bin/sh\n")
    scan = scan_paths([tmp_path / "repo", tmp_path / "one.sh", tmp_path / "fine.sh", tmp_path / "gone"])
    repo = tmp_path / "repo"
    assert scan.crlf_files == (str(repo / "deploy.sh"), str(repo / "bin" / "run"), str(tmp_path / "one.sh"))
    assert scan.files_seen == 4
    assert scan.roots == (str(repo), str(tmp_path / "one.sh"), str(tmp_path / "fine.sh"), str(tmp_path / "gone"))
    assert scan.unreadable == (str(tmp_path / "gone"),)
    (finding,) = found(evaluate(replace(healthy_snapshot(), scripts=scan)), "host.crlf-script")
    # .gitattributes lines are relative to the scanned repository, not to where kenv ran.
    assert "'bin/run text eol=lf'" in finding.fix.summary


def test_scan_paths_under_the_working_directory_stay_relative(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write(tmp_path / "deploy.sh", b"#!/bin/sh\r\n")
    monkeypatch.chdir(tmp_path)
    assert scan_paths([Path("."), Path("deploy.sh")]).crlf_files == ("deploy.sh", "deploy.sh")


def test_nothing_to_scan_is_a_skipped_check_saying_how_to_name_paths() -> None:
    assert scan_paths([]) == ScriptScan(None, 0, False)
    result = check(evaluate(replace(healthy_snapshot(), scripts=scan_paths([]))), "host.crlf-script")
    assert result.status == "skipped"
    assert "--scan PATH" in result.summary
