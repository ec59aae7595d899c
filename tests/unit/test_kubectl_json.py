"""Output from kubectl that is not the JSON asked for is an error naming the tool and command."""

from __future__ import annotations

from pathlib import Path

import pytest

from kenv.errors import ExternalCommandError
from kenv.runtime.kubectl import Kubectl
from tests.unit.scripted_runner import ScriptedRunner


def kubectl(stdout: str, *args: str) -> tuple[Kubectl, list[str]]:
    runner = ScriptedRunner()
    client = Kubectl(runner, Path("/tmp/kubeconfig.yaml"))
    argv = client.argv(*args)
    runner.answer(argv, stdout=stdout)
    return client, argv


@pytest.mark.parametrize("stdout", ["<html>502 Bad Gateway</html>", '{"serverVersion": {', ""])
def test_server_version_that_is_not_json(stdout: str) -> None:
    client, _ = kubectl(stdout, "version", "-o", "json")
    with pytest.raises(ExternalCommandError, match=r"`kubectl version -o json` printed something that is not JSON"):
        client.server_version()


def test_json_that_is_not_an_object() -> None:
    client, argv = kubectl("[1, 2]", "get", "nodes", "-o", "json")
    with pytest.raises(ExternalCommandError, match="not an object") as caught:
        client.nodes()
    assert caught.value.argv == argv


def test_server_version_parses() -> None:
    client, _ = kubectl('{"serverVersion": {"gitVersion": "v1.31.2+k3s1"}}', "version", "-o", "json")
    assert client.server_version() == "v1.31.2+k3s1"
