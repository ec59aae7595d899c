"""kenv bootstrap / teardown on the provider fakes: the plan, --only/--skip, a kill -9 in the
middle resumed by a rerun, and teardown --all removing only what kenv made.

The platform network is real (the fake docker hands networks to the host's engine): each test
names its own, so runs sharing the engine never touch each other's."""

from __future__ import annotations

import contextlib
import io
import json
import os
import signal
import socket
import subprocess
import tarfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from kenv.workflows.bootstrap import COMPONENTS, LOCAL_PATH_HELPER
from tests.e2e.lifecycle_support import Fleet, needs_docker
from tests.fakes.fakeclusters.portainer_server import containers


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def platform_env(network: str) -> dict[str, str]:
    """Its own network; HAProxy as the host binary on free loopback ports (no image to pull)."""
    return {
        "KENV_PLATFORM_NETWORK": network,
        "KENV_HAPROXY_RUNTIME": "binary",
        "KENV_HAPROXY_HTTP_PORT": str(free_port()),
        "KENV_HAPROXY_HTTPS_PORT": str(free_port()),
    }


def docker_network_exists(name: str) -> bool:
    return subprocess.run(["docker", "network", "inspect", name], capture_output=True, check=False).returncode == 0


@pytest.fixture(scope="module")
def helper_image() -> str:
    """The local-path helper on the host's engine (Docker Hub is not reachable from the tests):
    one small file made with `docker import`, left in place (other runs may use it meanwhile)."""
    had = subprocess.run(["docker", "image", "inspect", LOCAL_PATH_HELPER], capture_output=True, check=False)
    if had.returncode != 0:
        buffer = io.BytesIO()
        with tarfile.open(fileobj=buffer, mode="w") as tar:
            data = b"kenv test local-path helper\n"
            info = tarfile.TarInfo("README")
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
        subprocess.run(["docker", "import", "-", LOCAL_PATH_HELPER], input=buffer.getvalue(), check=True)
    return LOCAL_PATH_HELPER


class Platform(Fleet):
    """A fleet whose every kenv call sees this test's platform settings."""

    def __init__(self, home: Path, tmp: Path) -> None:
        super().__init__(home, tmp)
        self.tmp = tmp
        self.remote: Path | None = None  # with_gitops_remote
        self.network = f"kenv-test-{uuid.uuid4().hex[:8]}"
        self.env.update(platform_env(self.network))

    def with_gitops_remote(self) -> Path:
        """A configured GitOps remote: a local bare repository the fake controller reads by file://."""
        self.remote = self.tmp / "remote.git"
        subprocess.run(["git", "init", "--bare", "-q", "-b", "main", str(self.remote)], check=True)
        self.env["KENV_GITOPS_URL"] = f"file://{self.remote}"
        return self.remote

    def state_file(self) -> dict[str, object]:
        path = self.home / "data" / "platform.json"
        return json.loads(path.read_text()) if path.exists() else {}

    def components(self) -> list[str]:
        return sorted(self.state_file().get("components", {}))  # type: ignore[arg-type]

    def cleanup(self) -> None:
        self.run("teardown", "--all")
        self.kill_fakes()
        # the fake Portainer's server (not a fake tool's process) when a test stopped half-way
        for record in containers(str(self.state)).values():
            with contextlib.suppress(ProcessLookupError):
                os.kill(record["pid"], signal.SIGKILL)
        subprocess.run(["docker", "network", "rm", self.network], capture_output=True, check=False)


@pytest.fixture
def platform(isolated: Path, tmp_path: Path) -> Iterator[Platform]:
    world = Platform(isolated, tmp_path)
    yield world
    world.cleanup()


CORE = "network,haproxy,devops,storage"


@needs_docker
def test_dry_run_prints_every_step_changes_nothing_and_exits_3(platform: Platform) -> None:
    result = platform.run("bootstrap", "--only", CORE, "--dry-run", "-o", "json")
    assert result.returncode == 3, result.stderr
    report = json.loads(result.stdout)
    assert [s["name"] for s in report["steps"]] == ["network", "haproxy", "devops", "storage"]
    assert all(s["result"] == "planned" for s in report["steps"]), report["steps"]
    network = report["steps"][0]["commands"]
    assert network == [f"docker network create --label io.kenv.platform={platform.network} {platform.network}"]
    devops = " ".join(report["steps"][2]["commands"])
    assert "k3d cluster create devops" in devops and f"docker network connect {platform.network}" in devops
    assert not docker_network_exists(platform.network)
    assert platform.components() == [] and platform.environments() == []


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["--only", "network,nosuch"], "unknown platform component(s): nosuch"),
        (["--skip", "bogus"], "unknown platform component(s): bogus"),
        (["--only", "network", "--skip", "network"], "network both in --only and --skip"),
    ],
)
def test_unknown_or_contradictory_components_exit_2_and_change_nothing(
    platform: Platform, args: list[str], fragment: str
) -> None:
    result = platform.run("bootstrap", *args)
    assert result.returncode == 2, result.stderr
    assert fragment in result.stderr and "Traceback" not in result.stderr
    assert platform.components() == []


@needs_docker
def test_only_and_skip_choose_the_steps_and_a_rerun_skips_what_is_done(platform: Platform, helper_image: str) -> None:
    first = json.loads(platform.ok("bootstrap", "--only", "network,devops", "-o", "json"))
    assert [(s["name"], s["result"]) for s in first["steps"]] == [("network", "done"), ("devops", "done")]
    assert docker_network_exists(platform.network)
    assert platform.env_record("devops")["role"] == "management"  # type: ignore[index]
    again = json.loads(platform.ok("bootstrap", "--skip", "portainer,argocd,gitops,postgres,inventory", "-o", "json"))
    assert [(s["name"], s["result"]) for s in again["steps"]] == [
        ("network", "skipped"),
        ("haproxy", "done"),
        ("devops", "skipped"),
        ("storage", "done"),
    ]
    assert platform.components() == ["devops", "haproxy", "network", "storage"]


@needs_docker
def test_a_bootstrap_killed_while_devops_is_made_is_resumed_by_a_rerun(platform: Platform, helper_image: str) -> None:
    proc = platform.start("bootstrap", "--only", CORE, KENV_FAKE_HANG="k3d:cluster-create")
    platform.wait_for_call("cluster create devops")
    time.sleep(0.3)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=10)
    platform.kill_fakes()
    assert platform.components() == ["haproxy", "network"]  # recorded step by step
    result = platform.run("bootstrap", "--only", CORE, "-o", "json")
    assert result.returncode == 0, result.stderr
    steps = {s["name"]: s["result"] for s in json.loads(result.stdout)["steps"]}
    assert steps == {"network": "skipped", "haproxy": "skipped", "devops": "done", "storage": "done"}
    assert "removing the half-made cluster devops" in result.stderr
    assert platform.env_record("devops")["status"] == "running"  # type: ignore[index]
    assert platform.components() == ["devops", "haproxy", "network", "storage"]


MADE_FIRST = ("network", "haproxy", "portainer", "devops", "storage")


@pytest.mark.slow
@needs_docker
@pytest.mark.parametrize(
    ("before", "call", "left"),
    [
        # killed while Argo CD's server rolls out, Portainer and devops made by the same run
        ((), "rollout status deployment/argocd-server", ("argocd", "gitops", "postgres")),
        # killed while PostgreSQL's StatefulSet rolls out: Application, Secret and commit are there
        (("--skip", "postgres,inventory"), "rollout status statefulset/postgres", ("postgres",)),
    ],
    ids=["argocd", "postgres"],
)
def test_a_full_bootstrap_killed_in_a_later_step_is_resumed_by_a_rerun(
    platform: Platform, helper_image: str, tmp_path: Path, before: tuple[str, ...], call: str, left: tuple[str, ...]
) -> None:
    """Every component (a default bootstrap), killed in the step `call` belongs to. The rerun skips
    what is recorded, makes the rest, and ends with the postgres Application synced by the fake
    Argo CD controller."""
    platform.with_gitops_remote()
    if before:
        platform.ok("bootstrap", *before)
    proc = platform.start("bootstrap", KENV_FAKE_HANG="kubectl:rollout-status:devops")
    platform.wait_for_call(call, timeout=120)
    time.sleep(0.3)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=10)
    platform.kill_fakes()
    everything = sorted(c for c in COMPONENTS if c != "inventory")
    assert platform.components() == sorted(set(everything) - set(left))  # recorded step by step
    result = platform.run("bootstrap", "-o", "json", timeout=300)
    assert result.returncode == 0, result.stderr
    steps = {s["name"]: s["result"] for s in json.loads(result.stdout)["steps"]}
    made = {*left, "inventory"}  # inventory is advice, said every time
    assert steps == {c: "done" if c in made else "skipped" for c in COMPONENTS}, steps
    assert platform.components() == everything
    state = json.loads((platform.state / "state.json").read_text())
    (devops,) = [c for c in state["clusters"].values() if c["name"] == "devops"]
    (app,) = [o for o in devops["applied"] if o["kind"] == "Application" and o["metadata"]["name"] == "postgres"]
    assert app["status"]["health"]["status"] == "Healthy", app["status"]


@needs_docker
def test_a_network_of_that_name_kenv_did_not_make_is_refused_and_survives_teardown(platform: Platform) -> None:
    subprocess.run(["docker", "network", "create", platform.network], capture_output=True, check=True)
    lookalike = platform.network + "-x"
    subprocess.run(
        ["docker", "network", "create", "--label", "io.kenv.platform=other", lookalike], capture_output=True, check=True
    )
    try:
        result = platform.run("bootstrap", "--only", "network")
        assert result.returncode == 2, result.stderr
        assert f"a Docker network named {platform.network!r} exists that kenv did not make" in result.stderr
        assert platform.components() == []
        teardown = platform.run("teardown", "--all")
        assert teardown.returncode == 0, teardown.stderr
        assert docker_network_exists(platform.network) and docker_network_exists(lookalike)
    finally:
        subprocess.run(["docker", "network", "rm", platform.network, lookalike], capture_output=True, check=False)


@needs_docker
def test_teardown_all_removes_the_platform_it_made(platform: Platform, helper_image: str) -> None:
    platform.ok("bootstrap", "--only", CORE)
    platform.ok("create", "dev", "--subnet", "none")
    dry = platform.run("teardown", "--all", "--dry-run")
    assert dry.returncode == 3, dry.stderr
    assert docker_network_exists(platform.network) and platform.env_record("dev") is not None
    done = platform.run("teardown", "--all", "-o", "json")
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert [r["environment"] for r in report["environments"]] == ["dev"]
    assert platform.environments() == [] and platform.clusters()["k3d"] == []
    assert not docker_network_exists(platform.network)
    assert not (platform.home / "data" / "platform.json").exists()
