"""kenv's Docker parsing against the real docker CLI and engine (the formats the fakes imitate)."""

from __future__ import annotations

import shutil
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from kenv.errors import ExternalCommandError
from kenv.providers.kind import Kind
from kenv.runtime import docker
from kenv.runtime.process import ENGINE_DOWN_HINT, Runner
from tests.local_images import import_file_image

IMAGE = "kenv-test/empty:1"


@pytest.fixture(scope="module")
def empty_image() -> str:
    """An image made locally (no registry can be reached here): one file, no runnable command."""
    return import_file_image(IMAGE, "kenv test image\n")


@pytest.fixture
def kind_like_nodes(empty_image: str) -> Iterator[str]:
    """Two containers labelled the way kind labels its nodes (never started: state "created")."""
    cluster = f"kenvtest-{uuid.uuid4().hex[:6]}"
    names = []
    for role, suffix in (("control-plane", "control-plane"), ("worker", "worker")):
        name = f"{cluster}-{suffix}"
        subprocess.run(
            [
                "docker", "create", "--name", name,
                "--label", f"io.x-k8s.kind.cluster={cluster}", "--label", f"io.x-k8s.kind.role={role}",
                empty_image, "/nothing",
            ],
            check=True,
            capture_output=True,
        )  # fmt: skip
        names.append(name)
    yield cluster
    subprocess.run(["docker", "rm", "-f", *names], check=False, capture_output=True)


@pytest.mark.docker
def test_kind_nodes_and_their_state_come_from_the_real_docker_ps(kind_like_nodes: str, tmp_path: Path) -> None:
    states = {c.name: c for c in Kind(Runner(), tmp_path).list_clusters()}
    cluster = states[kind_like_nodes]
    assert [(n.name, n.role, n.running) for n in cluster.nodes] == [
        (f"{kind_like_nodes}-control-plane", "server", False),
        (f"{kind_like_nodes}-worker", "agent", False),
    ]
    assert cluster.shortfall(1, 1) == f"not running: {kind_like_nodes}-control-plane, {kind_like_nodes}-worker"


@pytest.mark.docker
def test_list_containers_reads_labels_and_state(kind_like_nodes: str) -> None:
    found = [c for c in docker.list_containers(Runner(), "io.x-k8s.kind.cluster") if kind_like_nodes in c.name]
    assert {c.state for c in found} == {"created"}
    assert all(c.labels["io.x-k8s.kind.cluster"] == kind_like_nodes for c in found)


@pytest.mark.skipif(shutil.which("docker") is None, reason="needs the docker CLI (no engine needed)")
def test_an_engine_that_does_not_answer_is_named_with_how_to_start_it() -> None:
    """The real CLI's words when no engine answers are what kenv recognises."""
    runner = Runner(env={"PATH": "/usr/bin:/bin:/usr/local/bin", "DOCKER_HOST": "unix:///nonexistent/docker.sock"})
    with pytest.raises(ExternalCommandError) as caught:
        docker.list_containers(runner, "io.x-k8s.kind.cluster")
    assert caught.value.hint == ENGINE_DOWN_HINT
