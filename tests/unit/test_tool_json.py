"""A tool that prints something other than JSON where kenv reads JSON is an external-command
error naming the command, never a raw decoder exception."""

from __future__ import annotations

from pathlib import Path

import pytest

from kenv.errors import ExternalCommandError
from kenv.providers.k3d import K3d
from kenv.providers.kind import Kind
from kenv.runtime import docker
from kenv.runtime.process import parse_json
from tests.unit.scripted_runner import ScriptedRunner


def test_parse_json_names_the_command_and_shows_what_came() -> None:
    with pytest.raises(ExternalCommandError, match=r"`k3d cluster list -o json` printed something that is not JSON: "):
        parse_json(["k3d", "cluster", "list", "-o", "json"], "WARN[0000] something\n[")
    assert parse_json(["x"], "  ", empty=[]) == []
    with pytest.raises(ExternalCommandError, match="not JSON: nothing"):
        parse_json(["x"], "")


def test_k3d_list_that_is_not_json_is_a_tool_error(tmp_path: Path) -> None:
    runner = ScriptedRunner()
    runner.answer(["k3d", "cluster", "list", "-o", "json"], stdout="INFO[0000] no clusters\n")
    with pytest.raises(ExternalCommandError, match="k3d cluster list"):
        K3d(runner, tmp_path).list_clusters()


def test_docker_ps_line_that_is_not_json_is_a_tool_error(tmp_path: Path) -> None:
    runner = ScriptedRunner()
    argv = ["docker", "ps", "-a", "--no-trunc", "--filter", "label=io.x-k8s.kind.cluster", "--format", "{{json .}}"]
    runner.answer(argv, stdout='{"Names":"a","State":"running","Labels":""}\nnot json\n')
    with pytest.raises(ExternalCommandError, match="docker ps"):
        Kind(runner, tmp_path).list_clusters()
    with pytest.raises(ExternalCommandError, match="docker ps"):
        docker.list_containers(runner, "io.x-k8s.kind.cluster")
