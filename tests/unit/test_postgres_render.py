"""`kenv postgres render`: golden directories per size and profile, every object valid against
the Kubernetes schemas (offline, kubernetes-validate), `kubectl kustomize` builds it, nothing
secret in it, the pod's security and probes, the output directory's rules and bad input.

Regenerate the golden files after a deliberate change with `python -m tests.unit.test_postgres_render`
and read the diff."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from kenv.errors import InvalidInput
from kenv.platform.postgres.output import write_directory
from kenv.platform.postgres.params import IMAGES, Params
from kenv.platform.postgres.render import config_checksum, render_files, render_pg_hba
from tests.conftest import run_kenv

GOLDEN = Path(__file__).resolve().parents[1] / "fixtures" / "postgres" / "golden"
KUBERNETES_VERSION = "1.31"
CASES = {
    "2gi-web": Params(memory="2Gi", cpu=2, profile="web"),
    "8gi-oltp": Params(memory="8Gi", cpu=4, profile="oltp", storage="100Gi", wal_archive_storage="50Gi"),
    "512mi-mixed": Params(memory="512Mi", cpu=1, profile="mixed", storage="5Gi", wal_archive_storage="2Gi"),
    "2gi-web-tls": Params(memory="2Gi", cpu=2, profile="web", tls=True, namespace="data", version=17),
}


def objects(params: Params) -> dict[str, dict[str, Any]]:
    return {name: yaml.safe_load(text) for name, text in render_files(params).items()}


def pod_spec(params: Params) -> dict[str, Any]:
    spec: dict[str, Any] = objects(params)["statefulset.yaml"]["spec"]["template"]["spec"]
    return spec


@pytest.mark.parametrize("case", sorted(CASES))
def test_golden(case: str) -> None:
    files = render_files(CASES[case])
    directory = GOLDEN / case
    assert sorted(files) == sorted(p.name for p in directory.iterdir())
    for name, text in files.items():
        assert text == (directory / name).read_text(), f"{case}/{name} differs from the golden file"


@pytest.mark.parametrize("case", sorted(CASES))
def test_every_object_validates_against_the_kubernetes_schemas(case: str) -> None:
    import kubernetes_validate

    for name, obj in objects(CASES[case]).items():
        if obj["kind"] == "Kustomization":
            continue
        assert kubernetes_validate.validate(obj, KUBERNETES_VERSION, strict=True) == KUBERNETES_VERSION, name


def test_the_validator_rejects_what_kubernetes_would() -> None:
    """The check above can fail: a misspelt field and a wrong type are both refused."""
    import kubernetes_validate

    sts = objects(CASES["2gi-web"])["statefulset.yaml"]
    sts["spec"]["template"]["spec"]["containers"][0]["securityContext"]["readOnlyRootFileSystem"] = True
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(sts, KUBERNETES_VERSION, strict=True)
    claim = objects(CASES["2gi-web"])["pvc-wal-archive.yaml"]
    claim["spec"]["accessModes"] = "ReadWriteOnce"
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(claim, KUBERNETES_VERSION, strict=True)


@pytest.mark.parametrize("case", ["2gi-web", "2gi-web-tls"])
def test_kubectl_kustomize_builds_it(case: str, tmp_path: Path) -> None:
    if shutil.which("kubectl") is None:
        pytest.skip("kubectl is not installed (.ci/install-system-packages installs it)")
    target = write_directory(render_files(CASES[case]), tmp_path / "postgres")
    built = subprocess.run(["kubectl", "kustomize", str(target)], capture_output=True, text=True, check=False)
    assert built.returncode == 0, built.stderr
    documents = [d for d in yaml.safe_load_all(built.stdout) if d]
    kinds = sorted(d["kind"] for d in documents)
    expected = ["Namespace", "ConfigMap", "Service", "Service", "PersistentVolumeClaim", "StatefulSet"]
    assert kinds == sorted([*expected, "CronJob", "CronJob", "NetworkPolicy", "NetworkPolicy"])
    namespace = CASES[case].namespace
    assert all(d["metadata"].get("namespace") == namespace for d in documents if d["kind"] != "Namespace")


SECRET_KEYS = re.compile(r"^\s*-?\s*(password|passwd|token|stringData|POSTGRES_PASSWORD)\s*:", re.I | re.M)


@pytest.mark.parametrize("case", sorted(CASES))
def test_no_rendered_file_holds_a_secret(case: str) -> None:
    files = render_files(CASES[case])
    for name, text in files.items():
        assert "kind: Secret" not in text, name
        assert not SECRET_KEYS.search(text), (name, SECRET_KEYS.search(text))
    # the password reaches the pod only by reference
    for container in pod_spec(CASES[case])["containers"]:
        for variable in container["env"]:
            if "PASSWORD" in variable["name"]:
                assert "value" not in variable
                assert variable["valueFrom"]["secretKeyRef"] == {"name": "postgres-admin", "key": "password"}


def test_the_pod_is_locked_down() -> None:
    params = CASES["2gi-web"]
    spec = pod_spec(params)
    assert spec["automountServiceAccountToken"] is False
    assert spec["securityContext"]["runAsNonRoot"] is True and spec["securityContext"]["runAsUser"] == 999
    assert spec["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
    (container,) = spec["containers"]
    security = container["securityContext"]
    assert security["readOnlyRootFilesystem"] is True
    assert security["allowPrivilegeEscalation"] is False
    assert security["capabilities"] == {"drop": ["ALL"]}
    assert container["resources"]["requests"]["memory"] == container["resources"]["limits"]["memory"] == "2Gi"
    volumes = {v["name"]: v for v in spec["volumes"]}
    mounts = {m["mountPath"]: m["name"] for m in container["volumeMounts"]}
    assert volumes[mounts["/dev/shm"]]["emptyDir"] == {"medium": "Memory", "sizeLimit": "512Mi"}
    assert "emptyDir" in volumes[mounts["/var/run/postgresql"]] and "emptyDir" in volumes[mounts["/tmp"]]
    assert re.fullmatch(r"postgres:16\.\d+-bookworm", container["image"])
    assert container["lifecycle"]["preStop"]["exec"]["command"][:2] == ["pg_ctl", "stop"]
    assert "fast" in container["lifecycle"]["preStop"]["exec"]["command"]


def test_probes_do_not_kill_a_recovering_server() -> None:
    (container,) = pod_spec(CASES["2gi-web"])["containers"]
    alive = container["startupProbe"]["exec"]["command"]
    assert container["livenessProbe"]["exec"]["command"] == alive
    assert alive[-1].endswith("[ $? -le 1 ]")  # pg_isready 1 = answering but rejecting (recovery)
    assert container["startupProbe"]["failureThreshold"] * container["startupProbe"]["periodSeconds"] >= 3600
    assert container["readinessProbe"]["exec"]["command"][0] == "pg_isready"


def test_every_image_is_pinned_to_a_minor_and_a_distro() -> None:
    for major, image in IMAGES.items():
        assert re.fullmatch(rf"postgres:{major}\.\d+-bookworm", image), image


def test_a_config_change_changes_the_checksum_annotation() -> None:
    def annotation(params: Params) -> str:
        template = objects(params)["statefulset.yaml"]["spec"]["template"]
        value: str = template["metadata"]["annotations"]["kenv.io/config-checksum"]
        return value

    base = CASES["2gi-web"]
    assert annotation(base) == f"sha256:{config_checksum(base)}"
    assert annotation(Params(memory="2Gi", cpu=2, profile="web")) == annotation(base)
    assert annotation(Params(memory="2Gi", cpu=2, profile="web", max_connections=100)) != annotation(base)
    assert annotation(Params(memory="2Gi", cpu=2, profile="web", tls=True)) != annotation(base)


def test_hba_is_scram_over_the_network_and_peer_on_the_socket() -> None:
    for tls in (False, True):
        rows = [line.split() for line in render_pg_hba(Params(tls=tls)).splitlines() if not line.startswith("#")]
        # the socket: peer for databases and for replication (the pod's own pg_basebackup)
        assert rows[:2] == [["local", "all", "all", "peer"], ["local", "replication", "all", "peer"]]
        assert all(row[-1] == "scram-sha-256" for row in rows[2:])
        assert {row[0] for row in rows[2:]} == {"hostssl" if tls else "host"}


def test_the_network_policy_denies_by_default_and_opens_5432_to_labelled_namespaces() -> None:
    found = objects(CASES["2gi-web"])
    deny = found["networkpolicy-deny.yaml"]["spec"]
    assert deny["policyTypes"] == ["Ingress"] and deny["ingress"] == []
    (rule,) = found["networkpolicy-allow.yaml"]["spec"]["ingress"]
    assert rule["ports"] == [{"protocol": "TCP", "port": 5432}]
    assert {"namespaceSelector": {"matchLabels": {"kenv.io/postgres-client": "true"}}} in rule["from"]


def test_output_directory_rules(tmp_path: Path) -> None:
    files = render_files(CASES["2gi-web"])
    target = tmp_path / "out"
    write_directory(files, target)
    assert sorted(p.name for p in target.iterdir()) == sorted(files)
    with pytest.raises(InvalidInput, match=r"is not empty: .* --force"):
        write_directory(files, target)
    (target / "stale.yaml").write_text("kind: Secret\n")
    write_directory(files, target, force=True)
    assert not (target / "stale.yaml").exists()  # --force replaces the whole directory
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]  # no staging left behind
    (tmp_path / "file").write_text("x")
    with pytest.raises(InvalidInput, match="is a file, not a directory"):
        write_directory(files, tmp_path / "file")
    empty = tmp_path / "empty"
    empty.mkdir()
    write_directory(files, empty)
    assert (empty / "kustomization.yaml").exists()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--memory", "2GB"], "--memory '2GB' is not a size"),
        (["--memory", "0"], "--memory '0' is not a size"),
        (["--memory", "128Mi"], "--memory 128Mi is too small"),
        (["--max-connections", "5"], "--max-connections 5 is out of range"),
        (["--version", "12"], "--version 12 is not supported: choose one of 13, 14, 15, 16, 17"),
        (["--namespace", "Infra"], "--namespace 'Infra' is not a valid namespace"),
        (["--storage", "20G"], "--storage '20G' is not a size"),
        (["--cpu", "0"], "--cpu 0 is out of range"),
        (["--profile", "desktop"], "desktop"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(args: list[str], message: str, tmp_path: Path) -> None:
    result = run_kenv("postgres", "render", *args, "-o", str(tmp_path / "out"))
    assert result.returncode == 2, result.stdout + result.stderr
    assert len(result.stderr.strip().splitlines()) == 1 and message in result.stderr
    assert not (tmp_path / "out").exists()


def test_cli_render_and_refusals(tmp_path: Path) -> None:
    target = tmp_path / "postgres"
    result = run_kenv("postgres", "render", "-o", str(target))
    assert result.returncode == 0, result.stderr
    assert "shared_buffers 512MB, effective_cache_size 1536MB, work_mem 2520kB" in result.stdout
    assert (target / "kustomization.yaml").read_text() == (GOLDEN / "2gi-web" / "kustomization.yaml").read_text()
    again = run_kenv("postgres", "render", "-o", str(target))
    assert again.returncode == 2 and "--force" in again.stderr
    assert run_kenv("postgres", "render", "-o", str(target), "--force", "--memory", "4Gi").returncode == 0
    assert "shared_buffers = 1GB" in (target / "configmap.yaml").read_text()
    (tmp_path / "f").write_text("")
    onto_file = run_kenv("postgres", "render", "-o", str(tmp_path / "f"))
    assert onto_file.returncode == 2 and "is a file" in onto_file.stderr


def regenerate() -> None:
    for case, params in CASES.items():
        directory = GOLDEN / case
        if directory.exists():
            shutil.rmtree(directory)
        write_directory(render_files(params), directory)
        print(f"wrote {directory}")


if __name__ == "__main__":
    os.chdir(Path(__file__).resolve().parents[2])
    regenerate()
