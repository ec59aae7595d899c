"""What every self-test of the fakes needs: its own state dir and HOME, and a way to run a fake."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

BIN = Path(__file__).resolve().parents[1] / "fakes" / "bin"
Runner = Callable[..., subprocess.CompletedProcess[str]]
ENGINE_DOWN = "Cannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker daemon running?"


def fake_environment(tmp_path: Path, *, host_path: bool = True) -> dict[str, str]:
    """Own state dir and HOME; PATH = the fakes first, then the host's PATH, or (host_path=False)
    only a `python3` link, so that no real docker on this machine takes part."""
    home = tmp_path / "home"
    home.mkdir()
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("KENV_FAKE_", "DOCKER_")) and k not in ("KUBECONFIG", "PATH")
    }
    if host_path:
        rest = os.environ.get("PATH", "")
    else:
        pybin = tmp_path / "pybin"
        pybin.mkdir()
        (pybin / "python3").symlink_to(sys.executable)
        rest = str(pybin)
    env.update({"KENV_FAKE_STATE": str(tmp_path / "state"), "HOME": str(home), "PATH": f"{BIN}{os.pathsep}{rest}"})
    return env


def runner_for(fake_env: dict[str, str]) -> Runner:
    def run(
        tool: str, *args: str, extra: dict[str, str] | None = None, stdin: str | None = None, timeout: float = 60
    ) -> subprocess.CompletedProcess[str]:
        env = dict(fake_env, **(extra or {}))
        return subprocess.run(
            [str(BIN / tool), *args], env=env, input=stdin, capture_output=True, text=True, timeout=timeout, check=False
        )

    return run


@pytest.fixture
def fake_env(tmp_path: Path) -> dict[str, str]:
    return fake_environment(tmp_path)


@pytest.fixture
def run(fake_env: dict[str, str]) -> Runner:
    return runner_for(fake_env)
