"""The fakes' registry configuration and proxy behaviour (sources in tests/fakes/README.md): k3d
`--registry-config` and `-e KEY=VALUE@filter`, kind extraMounts, containerdConfigPatches and
proxy variables, read back through the fake docker as kenv reads them."""

from __future__ import annotations

from pathlib import Path

import yaml
from tests.fakes_selftest.conftest import Runner

REGISTRIES = "mirrors:\n  docker.io:\n    endpoint:\n    - https://mirror.example\n"


def test_k3d_refuses_a_missing_registry_config_file(run: Runner, tmp_path: Path) -> None:
    missing = tmp_path / "nope.yaml"
    result = run("k3d", "cluster", "create", "dev", "--registry-config", str(missing))
    assert result.returncode == 1
    assert f"failed to open registry config file at {missing}: open {missing}: no such file or directory" in (
        result.stdout + result.stderr
    )
    assert run("k3d", "cluster", "list", "-o", "json").stdout.strip() == "[]"


def test_k3d_refuses_a_registry_config_that_is_not_yaml(run: Runner, tmp_path: Path) -> None:
    broken = tmp_path / "registries.yaml"
    broken.write_text("mirrors: [\n")
    result = run("k3d", "cluster", "create", "dev", "--registry-config", str(broken))
    assert result.returncode == 1
    assert "failed to read registry configuration" in result.stdout + result.stderr


def test_k3d_copies_the_registries_file_into_servers_and_agents(run: Runner, tmp_path: Path) -> None:
    config = tmp_path / "registries.yaml"
    config.write_text(REGISTRIES)
    created = run(
        "k3d", "cluster", "create", "dev", "--agents", "1", "--registry-config", str(config),
        "-e", "HTTP_PROXY=http://u\\@proxy.example:3128@agent:*",
    )  # fmt: skip
    assert created.returncode == 0, created.stderr
    for node in ("k3d-dev-server-0", "k3d-dev-agent-0"):
        shown = run("docker", "exec", node, "cat", "/etc/rancher/k3s/registries.yaml")
        assert shown.returncode == 0, shown.stderr
        assert yaml.safe_load(shown.stdout)["mirrors"] == {"docker.io": {"endpoint": ["https://mirror.example"]}}
    lb = run("docker", "exec", "k3d-dev-serverlb", "cat", "/etc/rancher/k3s/registries.yaml")
    assert lb.returncode == 1 and "No such file or directory" in lb.stderr


def test_k3d_env_with_two_unescaped_at_signs_is_refused(run: Runner) -> None:
    result = run("k3d", "cluster", "create", "dev", "-e", "HTTP_PROXY=http://u@proxy.example@server:*")
    assert result.returncode == 1
    assert "only one unescaped '@' allowed for node filter(s)" in result.stdout + result.stderr


def test_kind_mounts_are_read_live_and_a_patch_must_be_toml(run: Runner, tmp_path: Path) -> None:
    hosts = tmp_path / "certs.d" / "docker.io"
    hosts.mkdir(parents=True)
    (hosts / "hosts.toml").write_text('server = "https://registry-1.docker.io"\n')
    config = {
        "kind": "Cluster",
        "apiVersion": "kind.x-k8s.io/v1alpha4",
        "nodes": [
            {
                "role": "control-plane",
                "extraMounts": [
                    {
                        "hostPath": str(tmp_path / "certs.d"),
                        "containerPath": "/etc/containerd/certs.d",
                        "readOnly": True,
                    }
                ],
            }
        ],
        "containerdConfigPatches": ['[plugins."io.containerd.grpc.v1.cri".registry]\n  config_path = "/x"'],
    }
    path = tmp_path / "kind.yaml"
    path.write_text(yaml.safe_dump(config))
    created = run("kind", "create", "cluster", "--config", str(path), extra={"HTTPS_PROXY": "http://p.example:3128"})
    assert created.returncode == 0, created.stderr
    listed = run("docker", "exec", "kind-control-plane", "ls", "-1", "/etc/containerd/certs.d")
    assert listed.stdout.split() == ["docker.io"]
    shown = run("docker", "exec", "kind-control-plane", "cat", "/etc/containerd/certs.d/docker.io/hosts.toml")
    assert shown.stdout == 'server = "https://registry-1.docker.io"\n'

    config["containerdConfigPatches"] = ["[plugins\n"]
    path.write_text(yaml.safe_dump(config))
    broken = run("kind", "create", "cluster", "--name", "other", "--config", str(path))
    assert broken.returncode == 1
    assert "ERROR: failed to create cluster: failed to patch containerd config:" in broken.stderr
