"""`kenv doctor host` as users run it: a subprocess with stub tools on a minimal PATH, a project
directory as the working directory, and the exit code that says whether anything needs fixing."""

from __future__ import annotations

import json
import os
import socket
import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import KENV

DAEMON_DOWN = "Cannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker daemon running?"
CLIENT_JSON = '{"Client":{"Version":"28.2.2","ApiVersion":"1.50","Os":"linux","Arch":"amd64","Context":"default"}'
REQUIRED_NO_PROXY = (
    "localhost,127.0.0.1,10.200.0.0/16,10.42.0.0/16,10.43.0.0/16,10.96.0.0/12,10.244.0.0/16,localtest.me"
)
# Host facts these tests cannot control: the kernel's inotify limits and this machine's free disk.
HOST_DEPENDENT = ("--skip", "host.inotify-low", "--skip", "host.disk-pressure")

# Each stub accepts only the exact command kenv runs and fails on anything else, like a real CLI
# given flags it does not know.
K3D = """case "$*" in
  "version") printf 'k3d version v5.8.3\\nk3s version v1.31.5-k3s1 (default)\\n' ;;
  *) echo "Error: unknown command \\"$1\\" for \\"k3d\\"" >&2; exit 1 ;;
esac"""
KIND = """case "$*" in
  "version") echo 'kind v0.27.0 go1.23.6 linux/amd64' ;;
  *) echo "ERROR: unknown command \\"$1\\" for \\"kind\\"" >&2; exit 1 ;;
esac"""
KUBECTL = """case "$*" in
  "version --client -o json") cat <<'EOF'
{
  "clientVersion": {
    "major": "1",
    "minor": "32",
    "gitVersion": "v1.32.2",
    "gitCommit": "67a30c0adcf52bd3f56ff0893ce19966be12991f",
    "gitTreeState": "clean",
    "buildDate": "2025-02-12T21:26:09Z",
    "goVersion": "go1.23.6",
    "compiler": "gc",
    "platform": "linux/amd64"
  },
  "kustomizeVersion": "v5.5.0"
}
EOF
  ;;
  *) echo "error: unknown command \\"$1\\" for \\"kubectl\\"" >&2; exit 1 ;;
esac"""
DOCKER_DOWN = f"""case "$*" in
  "version --format {{{{json .}}}}") echo '{CLIENT_JSON},"Server":null}}'; echo '{DAEMON_DOWN}' >&2; exit 1 ;;
  *) echo '{DAEMON_DOWN}' >&2; exit 1 ;;
esac"""
NETWORKS = {
    "bridge": "172.17.0.0/16",
    "k3d-dev": "10.200.0.0/24",
    "corp-vpn": "10.200.0.0/16",
}


def docker_up(root_dir: Path, networks: dict[str, str]) -> str:
    inspect = json.dumps(
        [
            {
                "Name": name,
                "Id": f"{index:064x}",
                "Driver": "bridge",
                "IPAM": {"Driver": "default", "Options": None, "Config": [{"Subnet": subnet}]},
            }
            for index, (name, subnet) in enumerate(networks.items(), start=1)
        ]
    )
    ids = "\\n".join(f"{index:064x}" for index in range(1, len(networks) + 1))
    server = '"Server":{"Platform":{"Name":"Docker Engine - Community"},"Version":"27.5.1","ApiVersion":"1.47"}'
    return f"""case "$*" in
  "version --format {{{{json .}}}}") echo '{CLIENT_JSON},{server}}}' ;;
  "info --format {{{{.DockerRootDir}}}}") echo '{root_dir}' ;;
  "network ls --quiet --no-trunc") printf '{ids}\\n' ;;
  "network inspect "*) echo '{inspect}' ;;
  *) echo "docker: unknown command: docker $*" >&2; exit 1 ;;
esac"""


def install(bin_dir: Path, name: str, body: str) -> None:
    path = bin_dir / name
    path.write_text(f"#!/bin/sh\n{body}\n", encoding="utf-8")
    path.chmod(path.stat().st_mode | stat.S_IXUSR)


@pytest.fixture
def stubs(tmp_path: Path) -> Path:
    bin_dir = tmp_path / "stub-bin"
    bin_dir.mkdir()
    install(bin_dir, "k3d", K3D)
    install(bin_dir, "kind", KIND)
    install(bin_dir, "kubectl", KUBECTL)
    return bin_dir


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = tmp_path / "project"
    (root / "bin").mkdir(parents=True)
    (root / "ok.sh").write_bytes(b"#!/bin/sh\necho fine\n")
    return root


def environment(bin_dir: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.lower().endswith("_proxy") and not k.startswith("DOCKER_")}
    env["PATH"] = os.pathsep.join([str(bin_dir), str(Path(sys.executable).parent), "/usr/bin", "/bin"])
    env.update(extra)
    return env


def kenv(*args: str, cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*KENV, *args], capture_output=True, text=True, cwd=cwd, env=env, timeout=60, check=False)


def doctor_json(*args: str, cwd: Path, env: dict[str, str], code: int) -> dict[str, Any]:
    result = kenv("doctor", "host", "-o", "json", *args, cwd=cwd, env=env)
    assert result.returncode == code, (result.returncode, result.stdout, result.stderr)
    assert "Traceback" not in result.stderr
    data = json.loads(result.stdout)
    assert isinstance(data, dict)
    return data


def findings(data: dict[str, Any], rule_id: str) -> list[dict[str, Any]]:
    return [f for f in data["findings"] if f["rule"] == rule_id]


def statuses(data: dict[str, Any]) -> dict[str, str]:
    return {c["id"]: c["status"] for c in data["checks"]}


def statuses_summary(data: dict[str, Any], rule_id: str) -> str:
    return str(next(c["summary"] for c in data["checks"] if c["id"] == rule_id))


@pytest.fixture
def held_port() -> Iterator[int]:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        yield int(sock.getsockname()[1])


def test_unreachable_docker_crlf_scripts_and_proxy_without_no_proxy_exit_3(stubs: Path, project: Path) -> None:
    install(stubs, "docker", DOCKER_DOWN)
    (project / "deploy.sh").write_bytes(b"#!/bin/bash\r\nset -eu\r\necho deploy\r\n")
    (project / "bin" / "run").write_bytes(b"#!/usr/bin/env bash\r\nexec make run\r\n")
    env = environment(stubs, HTTP_PROXY="http://alice:s3cret@proxy.corp:3128")

    data = doctor_json("--scan", ".", cwd=project, env=env, code=3)

    # the cluster diagnosis's kenv.doctor/v1 keys first, then the host's own
    assert list(data) == ["schema", "findings", "skipped", "checks", "summary", "snapshot"]
    assert data["schema"] == "kenv.doctor/v1"
    assert all(list(check) == ["id", "title", "status", "summary"] for check in data["checks"])
    keys = ["id", "rule", "severity", "object", "summary", "evidence", "fix", "caused_by", "symptoms"]
    assert all(list(f) == keys for f in data["findings"])
    assert all(f["object"] == "Host//localhost" and f["fix"]["automatic"] is False for f in data["findings"])
    ids = [f["id"] for f in data["findings"]]
    assert len(set(ids)) == len(ids)
    # skipped the way a cluster rule is: the parts it lacks
    assert {"rule": "host.subnet-clash", "needs": ["docker-networks"]} in data["skipped"]
    assert (
        statuses_summary(data, "host.subnet-clash") == "no Docker engine answered, so there are no networks to compare"
    )
    assert list(data["summary"]) == ["critical", "errors", "warnings", "info"]
    assert data["summary"]["critical"] >= 1

    (docker,) = findings(data, "host.docker-unreachable")
    assert docker["severity"] == "critical"
    assert data["findings"][0] == docker  # worst first
    assert DAEMON_DOWN in docker["summary"]
    assert docker["fix"]["commands"] == ["sudo systemctl start docker"]
    (crlf,) = findings(data, "host.crlf-script")
    assert crlf["summary"].endswith(": deploy.sh, bin/run")
    assert crlf["fix"]["commands"] == ["sed -i 's/\\r$//' deploy.sh bin/run"]
    (proxy,) = findings(data, "host.proxy-no-proxy")
    assert proxy["summary"] == "HTTP_PROXY is set but NO_PROXY is not set"
    assert proxy["fix"]["commands"] == [f"export NO_PROXY={REQUIRED_NO_PROXY} no_proxy={REQUIRED_NO_PROXY}"]
    assert "s3cret" not in json.dumps(data)
    assert statuses(data)["host.subnet-clash"] == "skipped"
    assert statuses(data)["host.tool-unsupported"] == "ok"
    assert "kubectl v1.32.2" in next(c for c in data["checks"] if c["id"] == "host.tool-unsupported")["summary"]


def test_clean_machine_exits_0_and_says_what_it_checked(stubs: Path, project: Path, tmp_path: Path) -> None:
    install(stubs, "docker", docker_up(tmp_path, {"bridge": "172.17.0.0/16"}))
    env = environment(stubs)

    data = doctor_json(*HOST_DEPENDENT, "--scan", ".", cwd=project, env=env, code=0)

    assert {f["severity"] for f in data["findings"]} <= {"info"}
    ran = {rule_id: status for rule_id, status in statuses(data).items() if rule_id not in HOST_DEPENDENT}
    assert set(ran.values()) == {"ok"}, ran
    assert data["snapshot"]["docker_engine"]["version"] == "27.5.1"
    assert data["snapshot"]["docker_networks"] == [{"name": "bridge", "subnets": ["172.17.0.0/16"]}]

    table = kenv("doctor", "host", *HOST_DEPENDENT, cwd=project, env=env)
    assert table.returncode == 0, table.stderr
    lines = table.stdout.splitlines()
    assert any(line.startswith("ok    host.docker-unreachable") and "27.5.1" in line for line in lines), lines
    assert any(line.startswith("skip  host.inotify-low") for line in lines), lines
    # the findings as `kenv doctor ENV` prints them: an info finding needs nothing done
    assert "INFO     Host//localhost  [host.tool-missing]" in lines
    assert "  minikube is not installed; nothing uses it yet" in lines
    assert lines[-1].startswith("1 finding(s) (1 info)"), lines


def test_subnet_clash_and_port_held_by_another_process(
    stubs: Path, project: Path, tmp_path: Path, held_port: int
) -> None:
    install(stubs, "docker", docker_up(tmp_path, NETWORKS))
    env = environment(stubs)
    for args in (
        ("register", "dev", "--subnet", "10.200.0.0/24", "--skip-host-checks"),
        ("register", "qa", "--http-port", str(held_port), "--skip-host-checks"),
    ):
        registered = kenv(*args, cwd=project, env=env)
        assert registered.returncode == 0, registered.stderr

    data = doctor_json(*HOST_DEPENDENT, cwd=project, env=env, code=3)

    clashes = findings(data, "host.subnet-clash")
    assert "subnet 10.200.0.0/24 of environment 'dev' overlaps Docker network 'corp-vpn'" in clashes[0]["summary"]
    assert not any("'k3d-dev'" in f["summary"] for f in clashes), "an environment's own network is no clash"
    # Only the held port is asserted on: the auto-chosen ports may be busy on a shared machine.
    (port,) = [f for f in findings(data, "host.port-taken") if f"port {held_port} " in f["summary"]]
    assert f"port {held_port} (http of environment 'qa', status unknown)" in port["summary"]
    assert port["fix"]["commands"] == [f"ss -ltnp 'sport = :{held_port}'"]


def test_unknown_rule_id_is_invalid_input(stubs: Path, project: Path) -> None:
    result = kenv("doctor", "host", "--skip", "host.nope", cwd=project, env=environment(stubs))
    assert result.returncode == 2
    assert result.stderr.startswith("kenv: error: unknown rule id(s): host.nope; known ids are host.")
    assert len(result.stderr.strip().splitlines()) == 1


def test_a_fleet_of_200_is_summarised_and_the_table_fits_the_terminal(
    stubs: Path, project: Path, tmp_path: Path
) -> None:
    install(stubs, "docker", docker_up(tmp_path, {"bridge": "172.17.0.0/16"}))
    csv_file = tmp_path / "fleet.csv"
    rows = [f"env{i:03},minikube,,,false,false,," for i in range(200)]
    header = "# env,provider,node_port,pf_port,register_portainer,haproxy_route,http_port,https_port"
    csv_file.write_text("\n".join([header, *rows]) + "\n")
    env = environment(stubs)
    imported = kenv("import-csv", str(csv_file), cwd=project, env=env)
    assert imported.returncode == 0, imported.stderr

    data = doctor_json(*HOST_DEPENDENT, cwd=project, env=env, code=3)
    (missing,) = [f for f in findings(data, "host.tool-missing") if f["summary"].startswith("minikube")]
    assert missing["summary"] == (
        "minikube is not installed (not on PATH), but 200 environments "
        "(env000, env001, env002, env003, env004 and 195 more) use it"
    )

    table = kenv("doctor", "host", *HOST_DEPENDENT, cwd=project, env={**env, "COLUMNS": "80"})
    assert table.returncode == 3, table.stderr
    lines = table.stdout.splitlines()
    assert max(len(line) for line in lines) <= 80, [line for line in lines if len(line) > 80]
    # The finding is wrapped, not cut: every word of it is on screen.
    assert set(missing["summary"].split()) <= set(table.stdout.split()), lines


def test_scripts_are_looked_for_only_where_asked_never_in_the_working_directory(
    stubs: Path, project: Path, tmp_path: Path
) -> None:
    install(stubs, "docker", docker_up(tmp_path, {"bridge": "172.17.0.0/16"}))
    (project / "deploy.sh").write_bytes(b"#!/bin/bash\r\necho deploy\r\n")
    env = environment(stubs)

    data = doctor_json(*HOST_DEPENDENT, cwd=project, env=env, code=0)
    assert statuses(data)["host.crlf-script"] == "skipped"
    assert not findings(data, "host.crlf-script")
    assert data["snapshot"]["scripts"]["files_seen"] == 0

    other = tmp_path / "elsewhere"
    other.mkdir()
    data = doctor_json(*HOST_DEPENDENT, "--scan", str(project), cwd=other, env=env, code=3)
    (crlf,) = findings(data, "host.crlf-script")
    target = str(project / "deploy.sh")
    assert crlf["summary"].endswith(f": {target}")
    assert crlf["fix"]["commands"] == [f"sed -i 's/\\r$//' {target}"]
    assert data["snapshot"]["scripts"]["roots"] == [str(project)]

    missing = kenv("doctor", "host", "--scan", str(tmp_path / "nope"), cwd=other, env=env)
    assert missing.returncode == 2
    assert len(missing.stderr.strip().splitlines()) == 1 and "nope" in missing.stderr


def test_the_table_is_the_doctors_renderer(stubs: Path, project: Path) -> None:
    install(stubs, "docker", DOCKER_DOWN)
    table = kenv("doctor", "host", *HOST_DEPENDENT, cwd=project, env=environment(stubs))
    assert table.returncode == 3, table.stderr
    lines = table.stdout.splitlines()
    head = lines.index("CRITICAL Host//localhost  [host.docker-unreachable]")
    assert lines[head + 1] == f"  the Docker engine does not answer: {DAEMON_DOWN}"
    assert lines[head + 2].startswith("  - Every cluster kenv runs is a set of Docker containers")
    assert any(line.startswith("  fix (low risk, by hand): start the engine") for line in lines[head:])
    assert "    $ sudo systemctl start docker" in lines
    assert "skipped: host.subnet-clash needs no Docker engine answered, so there are no networks to compare" in lines
    assert "skipped: host.crlf-script needs nothing to scan: name the paths you deploy from with --scan PATH" in lines
    assert lines[-1].startswith("2 finding(s) (1 critical, ")
    assert "\x1b[" not in table.stdout
    assert table.stderr == "kenv: error: the host check found problems (see above)\n"


def test_rules_lists_the_host_rules_beside_the_cluster_rules(stubs: Path, project: Path) -> None:
    env = environment(stubs)
    everything = json.loads(kenv("doctor", "rules", "-o", "json", cwd=project, env=env).stdout)
    scopes = {rule["id"]: rule["scope"] for rule in everything}
    assert scopes["host.docker-unreachable"] == "host" and scopes["image.not-in-cluster"] == "cluster"
    host = json.loads(kenv("doctor", "rules", "--scope", "host", "-o", "json", cwd=project, env=env).stdout)
    assert [rule["id"] for rule in host] == [rule_id for rule_id, scope in scopes.items() if scope == "host"]
    assert len(host) == 10
    assert all(rule["doc"] and rule["bad"] and rule["good"] for rule in host)
    assert {r["id"]: r["needs"] for r in host}["host.subnet-clash"] == ["inventory", "docker-networks"]
    table = kenv("doctor", "rules", cwd=project, env=env)
    assert table.returncode == 0
    header, *rows = table.stdout.splitlines()
    assert header.split() == ["ID", "SCOPE", "SEVERITY", "CHECKS"]
    assert any(row.split()[:3] == ["host.docker-unreachable", "host", "critical"] for row in rows), rows
    bad = kenv("doctor", "rules", "--scope", "nope", cwd=project, env=env)
    assert bad.returncode == 2
