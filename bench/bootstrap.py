"""kenv's own time for `kenv bootstrap` with the zero-latency fakes from tests/fakes on PATH.

Wall time of a cold `kenv --debug bootstrap` minus the time spent inside the tools it ran (summed
from kenv's --debug log, as bench/lifecycle.py does), for a first bootstrap (everything made) and
a second one (everything already there: the cost of `kenv up` on a machine with a platform).

Components (default `--components full`): a default `kenv bootstrap`, every component as `kenv up`
runs it: network, haproxy (the host's haproxy binary on free loopback ports), portainer (the fake
docker runs a fake Portainer API), devops, storage (the local-path helper image is made on the
host's engine with `docker import` when missing), argocd, gitops (a local bare repository by
file://), postgres (the fake kubectl's Argo CD controller syncs its Application) and inventory
(advice only). `--components core` bootstraps the older subset network,haproxy,devops,storage.
Time kenv spends waiting on HTTP answers (Portainer's API) is not a child process: it counts as
kenv's own. Needs a Docker engine (the platform network is real).

Usage: .venv/bin/python bench/bootstrap.py [--runs 5] [--components full|core]
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
CORE = "network,haproxy,devops,storage"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def world(tmp: Path, network: str) -> dict[str, str]:
    state = tmp / "fake-state"
    state.mkdir()
    remote = tmp / "gitops.git"  # the GitOps remote: the fake Argo CD controller reads it by file://
    subprocess.run(["git", "init", "--bare", "-q", "-b", "main", str(remote)], check=True)
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
        "KENV_GITOPS_URL": f"file://{remote}",
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
    parser.add_argument(
        "--components", choices=("full", "core"), default="full", help=f"full: every component; core: {CORE}"
    )
    args = parser.parse_args()
    choice = ["--only", CORE] if args.components == "core" else []
    ensure_helper()
    figures: dict[str, list[tuple[float, float]]] = {"first": [], "again": []}
    for _ in range(args.runs):
        with tempfile.TemporaryDirectory() as tmp:
            env = world(Path(tmp), f"kenv-bench-{uuid.uuid4().hex[:8]}")
            try:
                figures["first"].append(kenv(env, "--debug", "bootstrap", *choice))
                figures["again"].append(kenv(env, "--debug", "bootstrap", *choice))
            finally:
                subprocess.run(
                    [sys.executable, "-m", "kenv", "teardown", "--all"], env=env, capture_output=True, check=False
                )
    print(f"# {machine()}; {args.runs} runs, medians; components {CORE if choice else 'all (default bootstrap)'}")
    print(f"{'bootstrap':<34}{'wall':>10}{'kenv own':>12}")
    for label, name in (("first (everything made)", "first"), ("again (everything there)", "again")):
        wall = statistics.median(w for w, _ in figures[name])
        own = statistics.median(o for _, o in figures[name])
        print(f"{label:<34}{wall * 1000:>8.0f} ms{own * 1000:>9.0f} ms")


if __name__ == "__main__":
    main()
