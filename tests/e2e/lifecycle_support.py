"""Running kenv against the fake k3d/kind/minikube/kubectl put first on PATH."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import KENV, REPO

FAKES = REPO / "tests" / "fakes" / "bin"


# Tests that need a real Docker engine (conftest skips them, saying why, where none answers).
needs_docker = pytest.mark.docker


class Fleet:
    """One test's world: its KENV_HOME, its fake clusters, its own default kubeconfig."""

    def __init__(self, home: Path, tmp: Path) -> None:
        self.home = home
        self.state = tmp / "fake-state"
        self.state.mkdir()
        self.user_kubeconfig = tmp / "user-kube" / "config"
        self.env = {
            **os.environ,
            # The fakes run on this interpreter (a version-manager shim would add ~100 ms per call).
            "PATH": os.pathsep.join([str(FAKES), str(Path(sys.executable).parent), os.environ["PATH"]]),
            "KENV_FAKE_STATE": str(self.state),
            "KUBECONFIG": str(self.user_kubeconfig),
            "KENV_HOME": str(home),
        }

    def run(self, *args: str, timeout: float = 120, **extra: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [*KENV, *args], capture_output=True, text=True, env={**self.env, **extra}, timeout=timeout, check=False
        )

    def ok(self, *args: str, **extra: str) -> str:
        result = self.run(*args, **extra)
        assert result.returncode == 0, (args, result.stdout, result.stderr)
        return result.stdout

    def start(self, *args: str, **extra: str) -> subprocess.Popen[str]:
        return subprocess.Popen(
            [*KENV, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env={**self.env, **extra}
        )

    def environments(self) -> list[dict[str, object]]:
        return json.loads(self.ok("list", "-o", "json"))

    def env_record(self, name: str) -> dict[str, object] | None:
        return next((e for e in self.environments() if e["name"] == name), None)

    def clusters(self) -> dict[str, list[str]]:
        """Names of the clusters each fake tool says exist."""
        k3d = json.loads(
            subprocess.run(
                ["k3d", "cluster", "list", "-o", "json"], env=self.env, capture_output=True, text=True, check=True
            ).stdout
        )
        kind = subprocess.run(
            ["kind", "get", "clusters"], env=self.env, capture_output=True, text=True, check=True
        ).stdout.split()
        profiles = subprocess.run(
            ["minikube", "profile", "list", "-o", "json"], env=self.env, capture_output=True, text=True, check=False
        ).stdout
        valid = json.loads(profiles or "{}").get("valid") or []
        return {
            "k3d": sorted(c["name"] for c in k3d),
            "kind": sorted(kind),
            "minikube": sorted(p["Name"] for p in valid),
        }

    def calls(self) -> list[dict[str, object]]:
        path = self.state / "calls.jsonl"
        if not path.exists():
            return []
        return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]

    def wait_for_call(self, fragment: str, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if any(fragment in " ".join(map(str, c.get("argv", []))) for c in self.calls()):
                return
            time.sleep(0.05)
        raise AssertionError(f"no call containing {fragment!r}: {self.calls()[-3:]}")

    def fake_processes(self, tool: str = "") -> list[int]:
        """This test's fake tools (or only `tool`) still running, zombies aside."""
        found = []
        for proc in Path("/proc").iterdir():
            if not proc.name.isdigit():
                continue
            try:
                environ = (proc / "environ").read_bytes()
                cmdline = (proc / "cmdline").read_bytes()
                status = (proc / "status").read_text()
            except OSError:
                continue
            mine = str(self.state).encode() in environ and str(FAKES / tool).encode() in cmdline
            if mine and "State:\tZ" not in status:
                found.append(int(proc.name))
        return found

    def kill_fakes(self) -> None:
        """Fakes told to hang keep running after kenv is killed, as real tools would: end them."""
        for pid in self.fake_processes():
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)

    def docker_networks(self) -> list[str]:
        out = subprocess.run(
            ["docker", "network", "ls", "--format", "{{.Name}}"], capture_output=True, text=True, check=True
        ).stdout
        return out.split()
