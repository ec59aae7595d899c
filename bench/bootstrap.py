"""kenv's own time for `kenv bootstrap` with the zero-latency fakes from tests/fakes on PATH.

Wall time of a cold `kenv --debug bootstrap` minus the time spent inside the tools it ran (summed
from kenv's --debug log, as bench/lifecycle.py does), for a first bootstrap (everything made) and
a second one (everything already there: the cost of `kenv up` on a machine with a platform).

Components: network, haproxy (the host's haproxy binary on free loopback ports), devops, storage
(the local-path helper image is made on the host's engine with `docker import` when missing).
Portainer and Argo CD need their images or a cluster that syncs, which the fakes do not give.
Needs a Docker engine (the platform network is real).

Usage: .venv/bin/python bench/bootstrap.py [--runs 5]
"""

from __future__ import annotations

import argparse
import io
import os
import re
import socket
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import machine, user_environment

REPO = Path(__file__).resolve().parent.parent
CHILD_TIME = re.compile(r"exit -?\d+ after ([0-9.]+)s")
HELPER = "rancher/mirrored-library-busybox:1.36.1"
COMPONENTS = "network,haproxy,devops,storage"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def world(tmp: Path, network: str) -> dict[str, str]:
    state = tmp / "fake-state"
    state.mkdir()
    return {
        **user_environment(),
        "PATH": os.pathsep.join(
            [str(REPO / "tests" / "fakes" / "bin"), str(Path(sys.executable).parent), os.environ["PATH"]]
        ),
        "PYTHONPATH": str(REPO / "src"),
        "KENV_HOME": str(tmp / "home"),
        "KENV_FAKE_STATE": str(state),
        "KUBECONFIG": str(tmp / "user-kubeconfig"),
        "KENV_PLATFORM_NETWORK": network,
        "KENV_HAPROXY_RUNTIME": "binary",
        "KENV_HAPROXY_HTTP_PORT": str(free_port()),
        "KENV_HAPROXY_HTTPS_PORT": str(free_port()),
    }


def kenv(env: dict[str, str], *args: str) -> tuple[float, float]:
    """(wall seconds, kenv's own seconds)."""
    started = time.perf_counter()
    result = subprocess.run([sys.executable, "-m", "kenv", *args], env=env, capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - started
    if result.returncode != 0:
        raise SystemExit(f"kenv {' '.join(args)} failed: {result.stderr[-800:]}")
    return elapsed, elapsed - sum(float(m) for m in CHILD_TIME.findall(result.stderr))


def ensure_helper() -> None:
    if subprocess.run(["docker", "image", "inspect", HELPER], capture_output=True, check=False).returncode == 0:
        return
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        info = tarfile.TarInfo("README")
        info.size = 5
        tar.addfile(info, io.BytesIO(b"kenv\n"))
    subprocess.run(["docker", "import", "-", HELPER], input=buffer.getvalue(), check=True, capture_output=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    ensure_helper()
    figures: dict[str, list[tuple[float, float]]] = {"first": [], "again": []}
    for _ in range(args.runs):
        with tempfile.TemporaryDirectory() as tmp:
            env = world(Path(tmp), f"kenv-bench-{uuid.uuid4().hex[:8]}")
            try:
                figures["first"].append(kenv(env, "--debug", "bootstrap", "--only", COMPONENTS))
                figures["again"].append(kenv(env, "--debug", "bootstrap", "--only", COMPONENTS))
            finally:
                subprocess.run(
                    [sys.executable, "-m", "kenv", "teardown", "--all"], env=env, capture_output=True, check=False
                )
    print(f"# {machine()}; {args.runs} runs, medians; components {COMPONENTS}")
    print(f"{'bootstrap':<34}{'wall':>10}{'kenv own':>12}")
    for label, name in (("first (everything made)", "first"), ("again (everything there)", "again")):
        wall = statistics.median(w for w, _ in figures[name])
        own = statistics.median(o for _, o in figures[name])
        print(f"{label:<34}{wall * 1000:>8.0f} ms{own * 1000:>9.0f} ms")


if __name__ == "__main__":
    main()
