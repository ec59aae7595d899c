"""Lifecycle overhead with the fake cluster tools from tests/fakes on PATH.

1. kenv's own time per `create`: wall time of `kenv create` (a cold process) minus the time
   spent inside the tools it ran (summed from kenv's --debug log), zero-latency fakes.
2. `apply --parallel 8` with fakes whose create takes 2 s, beside one create with the same delay.

Usage: .venv/bin/python bench/lifecycle.py [--runs 5]
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import machine

REPO = Path(__file__).resolve().parent.parent
FAKES = REPO / "tests" / "fakes" / "bin"
CHILD_TIME = re.compile(r"exit -?\d+ after ([0-9.]+)s")


def world(tmp: str) -> dict[str, str]:
    state = Path(tmp) / "fake-state"
    state.mkdir(exist_ok=True)
    return {
        **os.environ,
        # The fakes run on this interpreter (a version-manager shim would add ~100 ms per call).
        "PATH": os.pathsep.join([str(FAKES), str(Path(sys.executable).parent), os.environ["PATH"]]),
        "KENV_HOME": str(Path(tmp) / "home"),
        "KENV_FAKE_STATE": str(state),
        "KUBECONFIG": str(Path(tmp) / "user-kubeconfig"),
    }


def kenv(env: dict[str, str], *args: str) -> tuple[float, str]:
    started = time.perf_counter()
    result = subprocess.run(
        [str(Path(sys.executable).with_name("kenv")), *args], env=env, capture_output=True, text=True, check=False
    )
    elapsed = time.perf_counter() - started
    if result.returncode != 0:
        raise SystemExit(f"kenv {' '.join(args)} failed: {result.stderr[-500:]}")
    return elapsed, result.stderr


def create_overhead(runs: int) -> tuple[list[float], list[float]]:
    totals, own = [], []
    with tempfile.TemporaryDirectory() as tmp:
        env = world(tmp)
        for i in range(runs):
            elapsed, log = kenv(env, "--debug", "create", f"b{i}", "--subnet", "none")
            children = sum(float(m) for m in CHILD_TIME.findall(log))
            totals.append(elapsed)
            own.append(elapsed - children)
    return totals, own


def parallel_apply(delay: float) -> tuple[float, float]:
    slow = f"k3d:cluster-create={delay},kind:create-cluster={delay}"
    with tempfile.TemporaryDirectory() as tmp:
        env = {**world(tmp), "KENV_FAKE_DELAY": slow}
        single, _ = kenv(env, "create", "solo", "--subnet", "none")
    with tempfile.TemporaryDirectory() as tmp:
        env = {**world(tmp), "KENV_FAKE_DELAY": slow}
        spec = Path(tmp) / "fleet.yaml"
        spec.write_text(
            "".join(
                f"- name: p{i}\n  provider: {'kind' if i % 2 else 'k3d'}\n" + ("" if i % 2 else "  subnet: none\n")
                for i in range(8)
            )
        )
        parallel, _ = kenv(env, "apply", "-f", str(spec), "--parallel", "8")
    return single, parallel


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    totals, own = create_overhead(args.runs)
    print(f"machine: {machine()}")
    print(
        f"create with zero-latency fakes ({args.runs} runs): median wall {statistics.median(totals) * 1000:.0f} ms, "
        f"of which kenv itself {statistics.median(own) * 1000:.0f} ms (target <= 500 ms)"
    )
    single, parallel = parallel_apply(2.0)
    print(
        f"one create with 2 s fakes: {single:.2f} s; apply --parallel 8: {parallel:.2f} s; "
        f"ratio {parallel / single:.2f} (target <= 1.5)"
    )


if __name__ == "__main__":
    main()
