"""kind provider: the commands and config it builds, and the node containers it reads from Docker.

kind's nodes and whether they run come from `docker ps -a --no-trunc --filter
label=io.x-k8s.kind.cluster --format '{{json .}}'`: one JSON object per line, the keys of docker/cli's
container formatter (`cli/command/formatter/container.go`, v28: Command, CreatedAt, ID, Image,
Labels "k=v,k=v" sorted, LocalVolumes, Mounts, Names, Networks, Platform (v28.2+), Ports,
RunningFor, Size, State, Status). Labels are kind v0.27.0's
(`pkg/cluster/internal/providers/docker/constants.go`, `provision.go`): io.x-k8s.kind.cluster and
io.x-k8s.kind.role = control-plane | worker | external-load-balancer.
"""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
import yaml

from kenv.errors import ExternalCommandError
from kenv.providers.base import CreateOptions
from kenv.providers.kind import RELEASE_IMAGES, Kind, render_config
from kenv.runtime.process import ENGINE_DOWN_HINT
from tests.unit.scripted_runner import ScriptedRunner, environment

DEFAULT_IMAGE = RELEASE_IMAGES["v0.27.0"]
PS = ["docker", "ps", "-a", "--no-trunc", "--filter", "label=io.x-k8s.kind.cluster", "--format", "{{json .}}"]


def ps_line(name: str, cluster: str, role: str, state: str, *, ports: str = "", image: str = DEFAULT_IMAGE) -> str:
    status = {"running": "Up 2 minutes", "exited": "Exited (130) 5 seconds ago", "created": "Created"}[state]
    return (
        '{"Command":"\\"/usr/local/bin/entrypoint /sbin/init\\"","CreatedAt":"2026-12-01 13:03:08 +0000 UTC",'
        f'"ID":"{name.encode().hex()[:64].ljust(64, "0")}","Image":"{image}",'
        f'"Labels":"io.x-k8s.kind.cluster={cluster},io.x-k8s.kind.role={role}","LocalVolumes":"1",'
        f'"Mounts":"/lib/modules,4c2e0d1b7a9f","Names":"{name}","Networks":"kind","Platform":null,'
        f'"Ports":"{ports}","RunningFor":"2 minutes ago","Size":"0B (virtual 1.09GB)",'
        f'"State":"{state}","Status":"{status}"}}'
    )


CP_PORTS = "127.0.0.1:16443-\\u003e6443/tcp, 127.0.0.1:18080-\\u003e80/tcp, 127.0.0.1:18443-\\u003e443/tcp"
# What the real docker CLI 28.2.2 printed for a container labelled like a kind node (findings).
CAPTURED = (
    '{"Command":"\\"/docker login\\"","CreatedAt":"2026-12-01 13:03:12 +0000 UTC","ID":"ab5631bc2cfa",'
    '"Image":"kenvprobe:1","Labels":"io.x-k8s.kind.cluster=probe,io.x-k8s.kind.role=control-plane",'
    '"LocalVolumes":"0","Mounts":"","Names":"kenvprobe-cp","Networks":"bridge","Platform":null,'
    '"Ports":"127.0.0.1:45678-\\u003e6443/tcp","RunningFor":"3 seconds ago","Size":"0B (virtual 42.8MB)",'
    '"State":"running","Status":"Up 2 seconds"}'
)


def ps(*lines: str) -> str:
    return "".join(line + "\n" for line in lines)


def dev_single(state: str = "running") -> list[str]:
    return [
        ps_line("dev-control-plane", "dev", "control-plane", state, ports=CP_PORTS if state == "running" else ""),
        ps_line("dev-worker", "dev", "worker", state),
    ]


def dev_ha(lb_state: str = "running") -> list[str]:
    return [
        ps_line("dev-control-plane", "dev", "control-plane", "running"),
        ps_line("dev-control-plane2", "dev", "control-plane", "running"),
        ps_line("dev-control-plane3", "dev", "control-plane", "running"),
        ps_line(
            "dev-external-load-balancer",
            "dev",
            "external-load-balancer",
            lb_state,
            ports="127.0.0.1:16443-\\u003e6443/tcp",
            image="docker.io/kindest/haproxy:v20241212-9f82dd49",
        ),
        ps_line("dev-worker", "dev", "worker", "running"),
    ]


@pytest.fixture
def runner() -> ScriptedRunner:
    return ScriptedRunner()


@pytest.fixture
def kind(runner: ScriptedRunner, tmp_path: Path) -> Kind:
    return Kind(runner, tmp_path)


# -- config and argv -------------------------------------------------------------------------------


def test_provider_kind_config_typical() -> None:
    env = environment(provider="kind", ports={"http": 18080, "https": 18443, "api": 16443}, agents=2)
    assert render_config(env) == {
        "kind": "Cluster",
        "apiVersion": "kind.x-k8s.io/v1alpha4",
        "name": "dev",
        "networking": {"apiServerAddress": "127.0.0.1", "apiServerPort": 16443},
        "nodes": [
            {
                "role": "control-plane",
                "extraPortMappings": [
                    {"containerPort": 30080, "hostPort": 18080, "listenAddress": "127.0.0.1", "protocol": "TCP"},
                    {"containerPort": 30081, "hostPort": 18443, "listenAddress": "127.0.0.1", "protocol": "TCP"},
                ],
            },
            {"role": "worker"},
            {"role": "worker"},
        ],
    }


def test_provider_kind_config_without_ports_and_with_three_control_planes() -> None:
    config = render_config(environment(provider="kind", servers=3, agents=1))
    assert config["networking"] == {"apiServerAddress": "127.0.0.1"}
    assert config["nodes"] == [{"role": "control-plane"}] * 3 + [{"role": "worker"}]


def test_provider_kind_create_argv_passes_its_own_kubeconfig(
    kind: Kind, runner: ScriptedRunner, tmp_path: Path
) -> None:
    env = environment(provider="kind", ports={"http": 18080}, k8s_version="v1.30.13")
    kubeconfig = tmp_path / "kubeconfig" / "dev.yaml"
    config = tmp_path / "kind" / "dev.yaml"
    runner.expect(
        [
            "kind",
            "create",
            "cluster",
            "--name",
            "dev",
            "--config",
            str(config),
            "--image",
            "kindest/node:v1.30.13",
            "--kubeconfig",
            str(kubeconfig),
            "--wait",
            "300s",
        ],
        stderr='Creating cluster "dev" ...\n',
    )
    kind.create(env, CreateOptions(kubeconfig=kubeconfig))
    runner.assert_done()
    assert yaml.safe_load(config.read_text()) == render_config(env)
    assert stat.S_IMODE(config.stat().st_mode) == 0o600
    assert runner.calls[0].timeout > 300


@pytest.mark.parametrize(
    ("version", "image"),
    [
        ("v1.32.5", "kindest/node:v1.32.5"),
        ("kindest/node:v1.31.9@sha256:b94a3a6c06198d17f59cca8c6f486236fa05e2fb359cbd75dabbfc348a10b211",
         "kindest/node:v1.31.9@sha256:b94a3a6c06198d17f59cca8c6f486236fa05e2fb359cbd75dabbfc348a10b211"),
    ],
)  # fmt: skip
def test_provider_kind_image_from_a_tag_or_a_full_image(version: str, image: str, tmp_path: Path) -> None:
    # An explicit version never asks kind its release (the script has no `kind version`).
    assert Kind(ScriptedRunner(), tmp_path).image(environment(provider="kind", k8s_version=version)) == image


def test_provider_kind_create_in_a_dry_run_plans_and_writes_nothing(tmp_path: Path) -> None:
    runner = ScriptedRunner(dry_run=True).answer(["kind", "version"], stdout="kind v0.27.0 go1.23.6 linux/amd64\n")
    Kind(runner, tmp_path).create(environment(provider="kind"), CreateOptions(kubeconfig=tmp_path / "k.yaml"))
    assert len(runner.planned) == 1 and runner.planned[0][:3] == ("kind", "create", "cluster")
    assert runner.planned[0][runner.planned[0].index("--image") + 1] == DEFAULT_IMAGE
    assert not (tmp_path / "kind").exists()


def test_provider_kind_delete_passes_its_own_kubeconfig(kind: Kind, runner: ScriptedRunner, tmp_path: Path) -> None:
    kubeconfig = tmp_path / "kubeconfig" / "dev.yaml"
    runner.expect(
        ["kind", "delete", "cluster", "--name", "dev", "--kubeconfig", str(kubeconfig)],
        stderr='Deleting cluster "dev" ...\nDeleted nodes: ["dev-control-plane"]\n',
    )
    kind.delete(environment(provider="kind"))
    runner.assert_done()


def test_provider_kind_kubeconfig_and_image_load(kind: Kind, runner: ScriptedRunner, tmp_path: Path) -> None:
    text = "apiVersion: v1\nclusters:\n- cluster:\n    server: https://127.0.0.1:16443\n  name: kind-dev\n"
    runner.expect(["kind", "get", "kubeconfig", "--name", "dev"], stdout=text)
    runner.expect(["kind", "load", "docker-image", "app:1", "redis:7", "--name", "dev"])
    target = tmp_path / "out" / "dev.yaml"
    env = environment(provider="kind")
    kind.write_kubeconfig(env, target)
    kind.import_images(env, ["app:1", "redis:7"])
    runner.assert_done()
    assert target.read_text() == text
    assert stat.S_IMODE(target.stat().st_mode) == 0o600


def test_provider_kind_kubeconfig_of_a_stopped_cluster_fails(
    kind: Kind, runner: ScriptedRunner, tmp_path: Path
) -> None:
    stderr = (
        'ERROR: failed to get cluster internal kubeconfig: command "docker exec --privileged dev-control-plane '
        'cat /etc/kubernetes/admin.conf" failed with error: exit status 1\n'
        "Command Output: Error response from daemon: Container "
        "4c2e0d1b7a9f3e5d6c8b0a1f2e3d4c5b6a7980f1e2d3c4b5a69788f0e1d2c3b4a is not running\n"
    )
    runner.expect(["kind", "get", "kubeconfig", "--name", "dev"], returncode=1, stderr=stderr)
    with pytest.raises(ExternalCommandError, match="is not running"):
        kind.write_kubeconfig(environment(provider="kind"), tmp_path / "dev.yaml")
    assert not (tmp_path / "dev.yaml").exists()


# -- nodes from docker ps --------------------------------------------------------------------------


def test_provider_kind_reads_running_nodes(kind: Kind, runner: ScriptedRunner) -> None:
    runner.expect(PS, stdout=ps(*dev_single()))
    state = kind.state(environment(provider="kind", agents=1))
    assert state is not None
    assert [(n.name, n.role, n.running) for n in state.nodes] == [
        ("dev-control-plane", "server", True),
        ("dev-worker", "agent", True),
    ]
    assert state.running and state.complete(1, 1)
    assert state.network == "kind"
    assert state.subnet is None and state.node_ip is None and state.api_port is None and state.host_ports == {}
    assert not runner.calls[0].mutating


def test_provider_kind_a_stopped_cluster_is_not_running(kind: Kind, runner: ScriptedRunner) -> None:
    # `kind get nodes` would list these too (docker ps -a): only State tells.
    runner.expect(PS, stdout=ps(*dev_single("exited")))
    state = kind.state(environment(provider="kind", agents=1))
    assert state is not None
    assert not state.running
    assert state.shortfall(1, 1) == "not running: dev-control-plane, dev-worker"


def test_provider_kind_a_half_stopped_cluster_is_incomplete(kind: Kind, runner: ScriptedRunner) -> None:
    lines = dev_single()
    lines[1] = ps_line("dev-worker", "dev", "worker", "exited")
    runner.expect(PS, stdout=ps(*lines))
    state = kind.state(environment(provider="kind", agents=1))
    assert state is not None and state.running
    assert state.shortfall(1, 1) == "not running: dev-worker"


def test_provider_kind_counts_the_external_load_balancer_only_with_several_control_planes(
    kind: Kind, runner: ScriptedRunner
) -> None:
    runner.answer(PS, stdout=ps(*dev_ha()))
    state = kind.state(environment(provider="kind", servers=3, agents=1))
    assert state is not None
    assert [(n.name, n.role) for n in state.nodes] == [
        ("dev-control-plane", "server"),
        ("dev-control-plane2", "server"),
        ("dev-control-plane3", "server"),
        ("dev-external-load-balancer", "loadbalancer"),
        ("dev-worker", "agent"),
    ]
    assert state.complete(3, 1)
    # Without the load balancer, an HA cluster is short of a node...
    without_lb = [line for line in dev_ha() if "external-load-balancer" not in line]
    runner.expect(PS, stdout=ps(*without_lb))
    state = kind.state(environment(provider="kind", servers=3, agents=1))
    assert state is not None and state.shortfall(3, 1) == "4 of 5 node(s) exist"
    # ...a stopped one is a node that does not run...
    runner.expect(PS, stdout=ps(*dev_ha(lb_state="exited")))
    state = kind.state(environment(provider="kind", servers=3, agents=1))
    assert state is not None and state.shortfall(3, 1) == "not running: dev-external-load-balancer"
    # ...and a single control plane never has one.
    runner.expect(PS, stdout=ps(*dev_single()))
    state = kind.state(environment(provider="kind", agents=1))
    assert state is not None and state.shortfall(1, 1) is None


def test_provider_kind_a_killed_create_shows_what_exists(kind: Kind, runner: ScriptedRunner) -> None:
    # kind runs every node at once (docker run --detach); killed before the worker's run, only the
    # control plane exists.
    runner.expect(PS, stdout=ps(dev_single()[0]))
    state = kind.state(environment(provider="kind", agents=1))
    assert state is not None and state.shortfall(1, 1) == "1 of 2 node(s) exist"


def test_provider_kind_groups_nodes_by_cluster(kind: Kind, runner: ScriptedRunner) -> None:
    other = [
        ps_line("other-control-plane", "other", "control-plane", "exited"),
    ]
    # docker ps lists newest first, clusters interleaved.
    runner.expect(PS, stdout=ps(dev_single()[1], other[0], dev_single()[0], CAPTURED))
    clusters = kind.list_clusters()
    assert [(c.name, c.node_names) for c in clusters] == [
        ("dev", ("dev-control-plane", "dev-worker")),
        ("other", ("other-control-plane",)),
        ("probe", ("kenvprobe-cp",)),
    ]
    assert [c.running for c in clusters] == [True, False, True]


def test_provider_kind_no_clusters(kind: Kind, runner: ScriptedRunner) -> None:
    runner.expect(PS, stdout="")
    assert kind.list_clusters() == []
    runner.expect(PS, stdout="")
    assert kind.state(environment(provider="kind")) is None


def test_provider_kind_list_with_the_engine_down_fails_with_the_hint(kind: Kind, runner: ScriptedRunner) -> None:
    runner.expect(
        PS,
        returncode=1,
        stderr="Cannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker daemon running?\n",
    )
    with pytest.raises(ExternalCommandError) as caught:
        kind.list_clusters()
    assert caught.value.hint == ENGINE_DOWN_HINT


def test_provider_kind_start_and_stop_every_node_container(kind: Kind, runner: ScriptedRunner) -> None:
    env = environment(provider="kind", servers=3, agents=1)
    nodes = [
        "dev-control-plane",
        "dev-control-plane2",
        "dev-control-plane3",
        "dev-external-load-balancer",
        "dev-worker",
    ]
    runner.answer(PS, stdout=ps(*dev_ha()))
    runner.expect(["docker", "stop", *nodes], stdout="".join(n + "\n" for n in nodes))
    runner.expect(["docker", "start", *nodes], stdout="".join(n + "\n" for n in nodes))
    kind.stop(env)
    kind.start(env)
    runner.assert_done()
    assert [c.mutating for c in runner.calls] == [False, True, False, True]


def test_provider_kind_start_in_a_dry_run_reads_and_plans(tmp_path: Path) -> None:
    runner = ScriptedRunner(dry_run=True).answer(PS, stdout=ps(*dev_single("exited")))
    Kind(runner, tmp_path).start(environment(provider="kind", agents=1))
    assert runner.planned == [("docker", "start", "dev-control-plane", "dev-worker")]


def test_provider_kind_node_names_leave_out_the_load_balancer(kind: Kind, runner: ScriptedRunner) -> None:
    runner.expect(PS, stdout=ps(*dev_ha()))
    assert kind.node_names(environment(provider="kind", servers=3, agents=1)) == [
        "dev-control-plane",
        "dev-control-plane2",
        "dev-control-plane3",
        "dev-worker",
    ]
